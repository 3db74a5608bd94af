//! Versioned schema migrations, tracked in `PRAGMA user_version`.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

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
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, known: VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
