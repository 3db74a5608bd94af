//! Retention: old stories lose their text or their row, without ever causing a re-alert.
//!
//! A story first seen before the cutoff is deleted with its matches and finished outbox rows,
//! unless its feed still lists it (`feeds.listed`, the ids of the latest document) or listed it
//! within the retention period (`stories.last_listed`, so that one short document does not
//! doom the rest): then only its text goes and its keys stay, so the next poll still knows it.
//! A story with an alert still waiting for delivery is left alone. Pruning runs in steps of a
//! bounded size, each its own transaction, so that a large prune never holds the writer for
//! long.

use rusqlite::params;

use super::{Store, StoreError};

/// Stories one pruning step deletes or empties at most: about a tenth of a second of the
/// writer's time (measured by the dedupe bench), so the watchdog's pings are answered between
/// steps however much a lowered `retain` leaves to prune.
pub const PRUNE_STEP: usize = 5_000;

/// What one pruning step removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Stories deleted.
    pub deleted: usize,
    /// Stories still listed by their feed, kept as keys without text.
    pub emptied: usize,
    /// Similarity features dropped (too old for any new story to join).
    pub sketches: usize,
    /// Whether the step stopped at its limit: there may be more to prune.
    pub more: bool,
}

impl Pruned {
    /// This step's counts added to `self`'s.
    pub fn plus(self, step: Pruned) -> Pruned {
        Pruned {
            deleted: self.deleted + step.deleted,
            emptied: self.emptied + step.emptied,
            sketches: self.sketches + step.sketches,
            more: step.more,
        }
    }
}

/// Old, no longer listed, nothing waiting: the stories a step may delete, at most `?2` (a
/// temporary table would be a schema change each step, which resets SQLite's page cache).
const DOOMED: &str = "SELECT id FROM stories s WHERE first_seen < ?1 AND COALESCE(last_listed, first_seen) < ?1
    AND id NOT IN (SELECT value FROM feeds, json_each(feeds.listed) WHERE feeds.listed IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = s.id AND o.state IN ('queued', 'sending'))
    LIMIT ?2";

impl Store {
    /// One step of pruning, in one transaction: at most `limit` stories first seen more than
    /// `retain` seconds before `now` deleted or emptied, at most `limit` finished outbox rows
    /// and similarity features placed more than `keep_sketches` seconds before it dropped.
    /// `more` says whether to call again: a large prune (after `retain` was lowered) is many
    /// short steps, between which the writer answers the watchdog. Never inside a batch.
    pub fn prune(&mut self, now: i64, retain: i64, keep_sketches: i64, limit: usize) -> Result<Pruned, StoreError> {
        // In this process's turn at the write lock, as every write (after the integrity check).
        let _turn = self.turns.take()?;
        let sketches = self.prune_sketches(now - keep_sketches, limit)?;
        let (cutoff, limit_sql) = (now - retain, limit as i64);
        let tx = self.conn.transaction()?;
        let doomed: Vec<i64> =
            tx.prepare(DOOMED)?.query_map(params![cutoff, limit_sql], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let ids = serde_json::to_string(&doomed).expect("ids serialise");
        for table in ["outbox", "matches", "sketches"] {
            tx.execute(&format!("DELETE FROM {table} WHERE story_id IN (SELECT value FROM json_each(?1))"), [&ids])?;
        }
        let deleted = tx.execute("DELETE FROM stories WHERE id IN (SELECT value FROM json_each(?1))", [&ids])?;
        let emptied = tx.execute(
            "UPDATE stories SET title = '', body = '', author = '', categories = '[]', article = NULL, pruned_at = ?2
             WHERE id IN (SELECT id FROM stories WHERE first_seen < ?1 AND pruned_at IS NULL LIMIT ?3)",
            params![cutoff, now, limit_sql],
        )?;
        let finished = tx.execute(
            "DELETE FROM outbox WHERE id IN
                (SELECT id FROM outbox WHERE created < ?1 AND state IN ('sent', 'dead') LIMIT ?2)",
            params![cutoff, limit_sql],
        )?;
        tx.commit()?;
        let more = [doomed.len(), emptied, finished, sketches].iter().any(|&n| n >= limit);
        Ok(Pruned { deleted, emptied, sketches, more })
    }

    /// [`Store::prune`] in steps of at most `limit` until nothing is left; returns what they
    /// removed together, and shows `each` every step as it ends. The ingest writer takes one step
    /// at a time instead, to answer the watchdog between them.
    pub fn prune_all(
        &mut self,
        now: i64,
        retain: i64,
        keep_sketches: i64,
        limit: usize,
        mut each: impl FnMut(&Pruned),
    ) -> Result<Pruned, StoreError> {
        let mut total = Pruned::default();
        loop {
            let step = self.prune(now, retain, keep_sketches, limit)?;
            each(&step);
            total = total.plus(step);
            if !step.more {
                return Ok(total);
            }
        }
    }
}
