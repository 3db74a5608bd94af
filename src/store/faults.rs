//! Faults that stopped a daemon's delivery (a notifier's task that crashed or stalled),
//! recorded so that `status`, another process, can say what happened after the daemon has
//! gone.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// Records what stopped a daemon's delivery, for `status`. (The `component` column names
    /// the part that stopped; delivery is the only one recorded.)
    pub fn record_fault(&self, at: i64, message: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO faults (at, component, message) VALUES (?1, 'delivery', ?2)",
                params![at, message],
            )?;
            Ok(())
        })
    }

    /// The latest fault recorded since `since`: when, and what.
    pub fn last_fault(&self, since: i64) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT at, message FROM faults WHERE at >= ?1 ORDER BY id DESC LIMIT 1", [since], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }
}
