//! Faults that stopped a daemon (a delivery task that crashed or stalled), recorded so that
//! `status`, another process, can say what happened after the daemon has gone.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    /// Records what stopped a daemon's `component` (delivery), for `status`.
    pub fn record_fault(&self, at: i64, component: &str, message: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO faults (at, component, message) VALUES (?1, ?2, ?3)",
                params![at, component, message],
            )?;
            Ok(())
        })
    }

    /// The latest fault recorded since `since`: when, which component, what.
    pub fn last_fault(&self, since: i64) -> Result<Option<(i64, String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT at, component, message FROM faults WHERE at >= ?1 ORDER BY id DESC LIMIT 1",
                [since],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }
}
