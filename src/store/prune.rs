//! Retention: old stories lose their text or their row, without ever causing a re-alert.
//!
//! A story first seen before the cutoff is deleted with its matches and finished outbox rows,
//! unless its feed still lists it (`feeds.listed`, the ids of the latest document) or listed it
//! within the retention period (`stories.last_listed`, so that one short document does not
//! doom the rest): then only its text goes and its keys stay, so the next poll still knows it.
//! A story with an alert still waiting for delivery is left alone.

use rusqlite::params;

use super::{Store, StoreError};

/// What one pruning pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Stories deleted.
    pub deleted: usize,
    /// Stories still listed by their feed, kept as keys without text.
    pub emptied: usize,
    /// Similarity features dropped (too old for any new story to join).
    pub sketches: usize,
}

impl Store {
    /// Prunes stories first seen more than `retain` seconds before `now`, and similarity
    /// features placed more than `keep_sketches` seconds before it. Never inside a batch.
    pub fn prune(&mut self, now: i64, retain: i64, keep_sketches: i64) -> Result<Pruned, StoreError> {
        // In this process's turn at the write lock, as every write (after the integrity check).
        let _turn = self.turns.take()?;
        let sketches = self.prune_sketches(now - keep_sketches)?;
        let cutoff = now - retain;
        let tx = self.conn.transaction()?;
        // Old, no longer listed, nothing waiting: the same condition for every table (a temporary
        // table would be a schema change each hour, which resets SQLite's page cache).
        let doomed = "SELECT id FROM stories s WHERE first_seen < ?1 AND COALESCE(last_listed, first_seen) < ?1
            AND id NOT IN (SELECT value FROM feeds, json_each(feeds.listed) WHERE feeds.listed IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = s.id AND o.state IN ('queued', 'sending'))";
        for table in ["outbox", "matches", "sketches"] {
            tx.execute(&format!("DELETE FROM {table} WHERE story_id IN ({doomed})"), [cutoff])?;
        }
        let deleted = tx.execute(&format!("DELETE FROM stories WHERE id IN ({doomed})"), [cutoff])?;
        let emptied = tx.execute(
            "UPDATE stories SET title = '', body = '', author = '', categories = '[]', article = NULL, pruned_at = ?2
             WHERE first_seen < ?1 AND pruned_at IS NULL",
            params![cutoff, now],
        )?;
        tx.execute("DELETE FROM outbox WHERE created < ?1 AND state IN ('sent', 'dead')", [cutoff])?;
        tx.commit()?;
        Ok(Pruned { deleted, emptied, sketches })
    }
}
