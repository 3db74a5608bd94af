//! Batches: the polls waiting in the ingest writer's queue are applied in one transaction,
//! each in a savepoint of its own, so that a first poll of thousands of feeds commits dozens of
//! times instead of thousands.

use rusqlite::Connection;

use super::{Store, StoreError};

/// One unit of work: its own immediate transaction, or a savepoint inside an open batch.
pub(super) enum Work<'c> {
    Alone(rusqlite::Transaction<'c>),
    InBatch(rusqlite::Savepoint<'c>),
}

impl Work<'_> {
    /// A savepoint when the store has a batch open, else a transaction of its own. A batch
    /// that SQLite rolled back on its own (as some I/O errors make it do) is an error, never a
    /// silent fall back to committing alone.
    pub(super) fn begin(conn: &mut Connection, batch: bool) -> Result<Work<'_>, StoreError> {
        Ok(match (batch, conn.is_autocommit()) {
            (true, true) => return Err(StoreError::BatchRolledBack),
            (true, false) => Work::InBatch(conn.savepoint()?),
            (false, _) => Work::Alone(conn.transaction()?),
        })
    }

    pub(super) fn commit(self) -> rusqlite::Result<()> {
        match self {
            Work::Alone(tx) => tx.commit(),
            Work::InBatch(sp) => sp.commit(),
        }
    }
}

impl std::ops::Deref for Work<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Work::Alone(tx) => tx,
            Work::InBatch(sp) => sp,
        }
    }
}

impl Store {
    /// Opens a batch: what is written until [`Store::commit_batch`] commits at once, each
    /// ingest in a savepoint of its own. The ingest writer applies the polls waiting in its
    /// queue this way, one commit for many feeds.
    pub fn begin_batch(&mut self) -> Result<(), StoreError> {
        if self.batch || self.turn.is_some() || !self.conn.is_autocommit() {
            // Left open by a failed commit whose rollback failed too, or never committed after
            // SQLite rolled it back: not ours to keep (and its turn must go before the next).
            self.abandon_batch();
        }
        let turn = self.turns.take()?;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let e = e.into();
            self.met(&e);
            return Err(e);
        }
        self.batch = true;
        self.turn = Some(turn);
        Ok(())
    }

    /// Whether the open batch is gone: SQLite rolled it back after an error.
    pub fn batch_lost(&self) -> bool {
        self.batch && self.conn.is_autocommit()
    }

    /// Commits the open batch. When that fails, or SQLite already rolled the batch back (as a
    /// full disk or an I/O error makes it do), nothing of the batch is stored, and the
    /// candidate index, which learnt its stories, is rebuilt from the database on next use
    /// (SQLite reuses the ids of rolled-back rows).
    pub fn commit_batch(&mut self) -> Result<(), StoreError> {
        let done = if self.batch_lost() {
            Err(StoreError::BatchRolledBack)
        } else {
            // A check while running may have found the file damaged since the batch began:
            // then the batch is rolled back, not committed.
            self.integrity().and_then(|()| self.conn.execute_batch("COMMIT").map_err(StoreError::from))
        };
        self.batch = false;
        if let Err(e) = &done {
            self.met(e);
            self.abandon_batch();
        }
        self.turn = None;
        done
    }

    fn abandon_batch(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.batch = false;
        self.sketches = None;
        self.turn = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::LookupKeys;
    use crate::feed::Story;
    use crate::store::{FetchMeta, NewAlert, Raised};

    fn story(key: &str, title: &str) -> Story {
        Story {
            key: key.into(),
            url: Some(format!("https://example.org/{key}")),
            title: title.into(),
            body: "Pyongyang fired a ballistic missile into the East Sea, Seoul's Joint Chiefs of Staff said.".into(),
            author: String::new(),
            categories: Vec::new(),
            published: chrono::DateTime::from_timestamp(1_000, 0),
            keys: LookupKeys::with_lang(Some("en".into())),
        }
    }

    /// Ingests `stories` for feed `url`; those with "Korea" in the title match a watch.
    fn ingest(store: &mut Store, url: &str, stories: &[Story]) -> Result<(), StoreError> {
        let feed = store.feed_state(url)?.id;
        store.ingest(feed, &FetchMeta::default(), stories, 1_000, 3_600, |_, s| {
            if !s.title.contains("Korea") {
                return Raised::default();
            }
            let alert = NewAlert {
                watch: "korea".into(),
                feed: url.into(),
                matched: "[]".into(),
                notifiers: vec!["log".into()],
                payload: "{}".into(),
            };
            Raised { alerts: vec![alert], cluster: true, article_due: None }
        })?;
        Ok(())
    }

    /// A fresh database's path, in a folder that lives as long as the returned guard.
    fn db() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        (dir, path)
    }

    fn count(path: &std::path::Path, sql: &str) -> i64 {
        Connection::open(path).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_batch_stores_its_polls_in_one_commit() {
        let (_dir, path) = db();
        let mut store = Store::open(&path).unwrap();
        store.begin_batch().unwrap();
        ingest(&mut store, "https://a.example/rss", &[story("a1", "North Korea fires missile")]).unwrap();
        ingest(&mut store, "https://b.example/rss", &[story("b1", "Seoul says North Korea fired missile")]).unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 0, "nothing visible before the commit");
        store.commit_batch().unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 2);
        assert_eq!(count(&path, "SELECT COUNT(DISTINCT cluster_id) FROM matches"), 1, "the second joined the first");
    }

    #[test]
    fn a_first_document_listing_one_story_twice_stores_it_once() {
        let (_dir, path) = db();
        let mut store = Store::open(&path).unwrap();
        let (mut a, mut b) = (story("guid-1", "Floods close schools"), story("guid-2", "Floods close schools"));
        (a.url, b.url) =
            (Some("https://example.org/floods".into()), Some("https://example.org/floods?utm_source=rss".into()));
        let c = story("guid-3", "Talks resume");
        ingest(&mut store, "https://a.example/rss", &[a, b, c]).unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 2, "guid-2 is guid-1 under another guid");
    }

    #[test]
    fn a_preloaded_index_knows_the_stories_stored_by_an_earlier_process() {
        let (_dir, path) = db();
        ingest(&mut Store::open(&path).unwrap(), "https://a.example/rss", &[story("a1", "North Korea fires missile")])
            .unwrap();
        let mut store = Store::open(&path).unwrap();
        store.preload_sketch_index();
        store.sketches = store.join_preload();
        assert!(store.sketches.is_some(), "the preload read the index");
        ingest(&mut store, "https://b.example/rss", &[story("b1", "Seoul says North Korea fired missile")]).unwrap();
        assert_eq!(count(&path, "SELECT COUNT(DISTINCT cluster_id) FROM matches"), 1, "b1 joined a1's cluster");
    }

    #[test]
    fn a_claim_waiting_for_the_write_lock_goes_before_the_writers_next_batch() {
        let (_dir, path) = db();
        let mut writer = Store::open(&path).unwrap();
        writer
            .conn
            .execute_batch(
                "INSERT INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
                 VALUES (NULL, 'health', 'log', '{}', 'queued', 0, 0)",
            )
            .unwrap();
        let dispatcher = Store::open(&path).unwrap();
        writer.begin_batch().unwrap();
        let claim = std::thread::spawn(move || dispatcher.claim_due("log", 1, 10, false, false).unwrap().len());
        // The claim has drawn its ticket and waits behind the open batch.
        while writer.turns.queued() < 2 {
            std::thread::yield_now();
        }
        writer.commit_batch().unwrap();
        // The next batch waits for the claim: once it holds the lock, the claim has committed.
        writer.begin_batch().unwrap();
        let state: String = writer.conn.query_row("SELECT state FROM outbox", [], |r| r.get(0)).unwrap();
        writer.commit_batch().unwrap();
        assert_eq!(claim.join().unwrap(), 1);
        assert_eq!(state, "sending", "the claim went first");
    }

    /// A store whose open batch, holding one matched story of feed a, SQLite rolled back (as it
    /// does on some I/O errors); feed b was stored before.
    fn lost_batch(path: &std::path::Path) -> Store {
        let mut store = Store::open(path).unwrap();
        store.feed_state("https://b.example/rss").unwrap();
        store.begin_batch().unwrap();
        ingest(&mut store, "https://a.example/rss", &[story("a1", "North Korea fires missile")]).unwrap();
        store.conn.execute_batch("ROLLBACK").unwrap();
        store
    }

    #[test]
    fn a_batch_the_database_rolled_back_is_reported_and_its_clusters_forgotten() {
        let (_dir, path) = db();
        let mut store = lost_batch(&path);
        assert!(matches!(store.commit_batch(), Err(StoreError::BatchRolledBack)));
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 0);
        // The same news from another feed starts its own cluster: the lost story is not in the
        // index (its id now belongs to the first story here, which matches nothing).
        let mut other = story("b0", "Floods close schools in the capital");
        other.body = "Heavy rain flooded roads across the capital overnight.".into();
        ingest(&mut store, "https://b.example/rss", &[other, story("b1", "Seoul says North Korea fired missile")])
            .unwrap();
        let clusters = count(&path, "SELECT COUNT(*) FROM matches WHERE cluster_id != story_id");
        assert_eq!(clusters, 0, "joined the cluster of a story that was never stored");
    }

    #[test]
    fn a_batch_begun_after_a_lost_one_was_never_committed_neither_waits_nor_keeps_it() {
        let (_dir, path) = db();
        let mut store = lost_batch(&path);
        store.begin_batch().unwrap();
        ingest(&mut store, "https://b.example/rss", &[story("b1", "Seoul says North Korea fired missile")]).unwrap();
        store.commit_batch().unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 1);
    }

    #[test]
    fn after_the_database_rolled_a_batch_back_nothing_more_commits_alone() {
        let (_dir, path) = db();
        let mut store = lost_batch(&path);
        assert!(store.batch_lost());
        let later = ingest(&mut store, "https://b.example/rss", &[story("b1", "Seoul says North Korea fired missile")]);
        assert!(matches!(later, Err(StoreError::BatchRolledBack)), "{later:?}");
        assert!(store.commit_batch().is_err());
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 0);
        // The next batch works.
        store.begin_batch().unwrap();
        ingest(&mut store, "https://b.example/rss", &[story("b1", "Seoul says North Korea fired missile")]).unwrap();
        store.commit_batch().unwrap();
        assert_eq!(count(&path, "SELECT COUNT(*) FROM stories"), 1);
    }
}
