//! Versioned schema migrations, tracked in `PRAGMA user_version`.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;
use crate::dedupe::lookup_key;

/// Each entry moves the schema from version `i` to `i + 1`. Never edit one that has shipped:
/// add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    title                TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    last_poll            INTEGER,
    last_success         INTEGER,
    last_error           TEXT,
    last_error_at        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE stories (
    id         INTEGER PRIMARY KEY,
    feed_id    INTEGER NOT NULL REFERENCES feeds(id),
    key        TEXT    NOT NULL,
    url        TEXT,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    categories TEXT    NOT NULL,
    published  INTEGER,
    first_seen INTEGER NOT NULL,
    UNIQUE (feed_id, key)
);
CREATE TABLE matches (
    story_id INTEGER NOT NULL REFERENCES stories(id),
    watch    TEXT    NOT NULL,
    matched  TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    PRIMARY KEY (story_id, watch)
);
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    story_id     INTEGER NOT NULL REFERENCES stories(id),
    watch        TEXT    NOT NULL,
    notifier     TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT,
    created      INTEGER NOT NULL,
    sent_at      INTEGER,
    UNIQUE (story_id, watch, notifier)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt);
"#,
    r#"
ALTER TABLE outbox ADD COLUMN retried_at INTEGER;
CREATE INDEX outbox_notifier_due ON outbox (notifier, state, next_attempt);
CREATE TABLE digests (
    notifier  TEXT    PRIMARY KEY,
    last_sent INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE feeds ADD COLUMN moved_to TEXT;
ALTER TABLE feeds ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN content_hash TEXT;
ALTER TABLE feeds ADD COLUMN interval_secs INTEGER;
ALTER TABLE feeds ADD COLUMN next_poll INTEGER;
CREATE INDEX stories_feed_seen ON stories (feed_id, first_seen);
ALTER TABLE outbox ADD COLUMN retrying_since INTEGER;
"#,
    r#"
ALTER TABLE stories ADD COLUMN canon_url TEXT;
ALTER TABLE stories ADD COLUMN fingerprint TEXT;
CREATE INDEX stories_feed_canon ON stories (feed_id, canon_url);
CREATE INDEX stories_feed_fingerprint ON stories (feed_id, fingerprint);
-- Claiming walks a notifier's queued rows in id order and stops at the limit.
CREATE INDEX outbox_claim ON outbox (notifier, state, id);
"#,
    r#"
-- A cluster is named by the id of its first matched story; the feed is the name alerts show.
ALTER TABLE matches ADD COLUMN cluster_id INTEGER;
ALTER TABLE matches ADD COLUMN feed TEXT;
UPDATE matches SET cluster_id = story_id;
CREATE INDEX matches_cluster ON matches (cluster_id, watch);
CREATE INDEX matches_created ON matches (created);
-- Similarity features of recent matched stories (the candidate index over them is built in
-- memory from this table).
CREATE TABLE sketches (
    story_id   INTEGER PRIMARY KEY REFERENCES stories(id),
    feed_id    INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    published  INTEGER,
    features   BLOB    NOT NULL
);
CREATE INDEX sketches_at ON sketches (at);
CREATE INDEX stories_first_seen ON stories (first_seen);
-- The story ids of the feed's latest document, which pruning keeps; when a kept story's text
-- was pruned.
ALTER TABLE feeds ADD COLUMN listed TEXT;
ALTER TABLE stories ADD COLUMN pruned_at INTEGER;
-- When the story's feed last listed it (refreshed at most daily): retention keeps what a feed
-- listed recently even if one document left it out.
ALTER TABLE stories ADD COLUMN last_listed INTEGER;
-- A feed's stories are looked up by 64-bit hashes of their canonical link and text fingerprint:
-- indexes a third the size of the text ones, which a million stories made the bottleneck.
-- Filled for older rows by `backfill_lookup_keys`.
ALTER TABLE stories ADD COLUMN canon_key INTEGER;
ALTER TABLE stories ADD COLUMN text_key INTEGER;
DROP INDEX stories_feed_canon;
DROP INDEX stories_feed_fingerprint;
CREATE INDEX stories_feed_canon_key ON stories (feed_id, canon_key) WHERE canon_key IS NOT NULL;
CREATE INDEX stories_feed_text_key ON stories (feed_id, text_key) WHERE text_key IS NOT NULL;
-- Feed health: when the current failure streak began, and when it was alerted.
ALTER TABLE feeds ADD COLUMN failing_since INTEGER;
ALTER TABLE feeds ADD COLUMN health_alerted_at INTEGER;
-- Outbox rows without a story: feed health alerts. SQLite changes a constraint by rebuilding.
CREATE TABLE outbox_v5 (
    id             INTEGER PRIMARY KEY,
    story_id       INTEGER REFERENCES stories(id),
    watch          TEXT    NOT NULL,
    notifier       TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   INTEGER NOT NULL,
    last_error     TEXT,
    created        INTEGER NOT NULL,
    sent_at        INTEGER,
    retried_at     INTEGER,
    retrying_since INTEGER,
    UNIQUE (story_id, watch, notifier)
);
INSERT INTO outbox_v5 (id, story_id, watch, notifier, payload, state, attempts, next_attempt, last_error, created,
                       sent_at, retried_at, retrying_since)
    SELECT id, story_id, watch, notifier, payload, state, attempts, next_attempt, last_error, created,
           sent_at, retried_at, retrying_since FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt);
CREATE INDEX outbox_notifier_due ON outbox (notifier, state, next_attempt);
CREATE INDEX outbox_claim ON outbox (notifier, state, id);
"#,
    r#"
-- Every story insert updated this index for one query (`wirewatch feeds`, new stories a week),
-- which stories_first_seen answers as well: one index fewer to write per story.
DROP INDEX stories_feed_seen;
"#,
    r#"
-- Each alert changes state twice (queued, sending, sent), and every index holding `state` is
-- written each time. Claiming and counting due rows only ever look at queued ones: a partial
-- index holds just those, and rows leave it when claimed. outbox_due stays for the rest.
DROP INDEX outbox_claim;
DROP INDEX outbox_notifier_due;
CREATE INDEX outbox_queued ON outbox (notifier, id) WHERE state = 'queued';
"#,
    r#"
-- A story's article page: its extracted text (TEXT, or deflated as a BLOB where that is
-- smaller), the outcome of the article step ('pending' until it ends), and when it must end.
ALTER TABLE stories ADD COLUMN article;
ALTER TABLE stories ADD COLUMN article_state TEXT;
ALTER TABLE stories ADD COLUMN article_due INTEGER;
-- Only pending fetches are looked up, oldest deadline first; the index holds just those.
CREATE INDEX stories_article_pending ON stories (article_due) WHERE article_state = 'pending';
-- Per feed, what its article fetches came to (kept when retention removes the stories).
ALTER TABLE feeds ADD COLUMN articles_fetched INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN articles_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN articles_refused INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Items of the feed's latest document that could not be read and were skipped (the others
-- were stored): shown by `wirewatch feeds`, so a partly broken feed is not mistaken for a
-- healthy one.
ALTER TABLE feeds ADD COLUMN skipped_items INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- The language a story is written in (ISO 639-1), told from its text; NULL when it could not
-- be told, and for stories stored before.
ALTER TABLE stories ADD COLUMN lang TEXT;
"#,
    r#"
-- The message a row was last claimed for (`alert:ID` or `digest:ID`, ID its first row): the
-- rows of one message are retried together, as that message, and apart from other messages.
ALTER TABLE outbox ADD COLUMN message TEXT;
-- What stopped delivery in a daemon (a notifier's task panicked or stalled), for `status`.
CREATE TABLE faults (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    component TEXT    NOT NULL,
    message   TEXT    NOT NULL
);
"#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Whether a read-only connection may read a file of schema version `found`: only this
/// build's, since a reader cannot migrate and an older or newer layout would be misread.
pub(super) fn readable(path: &Path, found: i64) -> Result<(), StoreError> {
    let (path, known) = (path.to_path_buf(), VERSION);
    match found {
        0 => Err(StoreError::Empty { path }),
        found if found < VERSION => Err(StoreError::TooOld { path, found, known }),
        found if found > VERSION => Err(StoreError::TooNew { path, found, known }),
        _ => Ok(()),
    }
}

/// Brings the schema up to `VERSION`; `may_write` is asked before the first change.
pub(super) fn migrate(
    conn: &mut Connection,
    path: &Path,
    may_write: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, known: VERSION });
    }
    if found < VERSION {
        may_write()?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if i + 1 == 5 {
            backfill_lookup_keys(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Version 5 looks stories up by hashes of their canonical link and fingerprint: computes them
/// for the rows stored before.
fn backfill_lookup_keys(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut rows = tx.prepare(
        "SELECT id, canon_url, fingerprint FROM stories WHERE canon_url IS NOT NULL OR fingerprint IS NOT NULL",
    )?;
    let mut set = tx.prepare("UPDATE stories SET canon_key = ?2, text_key = ?3 WHERE id = ?1")?;
    let found = rows
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)))?;
    for row in found {
        let (id, canon, fingerprint) = row?;
        set.execute(rusqlite::params![id, canon.as_deref().map(lookup_key), fingerprint.as_deref().map(lookup_key)])?;
    }
    Ok(())
}

/// Creates a database at `path` with the schema of `version`, in WAL mode as wirewatch's
/// files are: an older wirewatch's file.
#[cfg(test)]
pub(super) fn create_at(path: &Path, version: i64) {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    for sql in &MIGRATIONS[..version as usize] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", version).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_5_keeps_rows_and_fills_lookup_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        let mut conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (url) VALUES ('https://example.org/rss');
             INSERT INTO stories (feed_id, key, title, body, author, categories, first_seen, canon_url, fingerprint)
                VALUES (1, 'guid:1', 't', 'b', '', '[]', 1, 'https://example.org/a', 'f00d');
             INSERT INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
                VALUES (1, 'w', 'log', '{}', 'sent', 1, 1);",
        )
        .unwrap();
        migrate(&mut conn, &path, || Ok(())).unwrap();
        let keys: (i64, i64) =
            conn.query_row("SELECT canon_key, text_key FROM stories", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!(keys, (lookup_key("https://example.org/a"), lookup_key("f00d")));
        let outbox: (i64, String) =
            conn.query_row("SELECT story_id, state FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!(outbox, (1, "sent".to_string()));
    }
}
