//! The alert outbox: queued alerts are claimed, delivered, and marked sent or failed.
//!
//! States move queued -> sending -> sent, or back to queued with a later `next_attempt`, or to
//! dead. A row left in `sending` by a crash is queued again at startup.

use rusqlite::params;

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Dead,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }
}

/// An alert claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub watch: String,
    pub notifier: String,
    pub payload: String,
    pub attempts: i64,
    pub created: i64,
}

impl Store {
    /// Queues again every row a previous process left in `sending`; returns how many.
    pub fn requeue_sending(&self) -> Result<usize, StoreError> {
        Ok(self.conn.execute("UPDATE outbox SET state = 'queued' WHERE state = 'sending'", [])?)
    }

    /// Marks up to `limit` due rows as sending and returns them, oldest first.
    pub fn claim_due(&mut self, now: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let tx = self.conn.transaction()?;
        let rows = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, watch, notifier, payload, attempts, created FROM outbox
                 WHERE state = 'queued' AND next_attempt <= ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now, limit as i64], |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    watch: r.get(1)?,
                    notifier: r.get(2)?,
                    payload: r.get(3)?,
                    attempts: r.get(4)?,
                    created: r.get(5)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        {
            let mut mark = tx.prepare_cached("UPDATE outbox SET state = 'sending' WHERE id = ?1")?;
            for r in &rows {
                mark.execute([r.id])?;
            }
        }
        tx.commit()?;
        Ok(rows)
    }

    pub fn mark_sent(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// Records a failed attempt: queued again for `next_attempt`, or dead when `None`.
    pub fn mark_failed(&self, id: i64, error: &str, next_attempt: Option<i64>) -> Result<(), StoreError> {
        let (state, next) = match next_attempt {
            Some(t) => ("queued", t),
            None => ("dead", 0),
        };
        self.conn.execute(
            "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3,
                next_attempt = CASE WHEN ?2 = 'queued' THEN ?4 ELSE next_attempt END WHERE id = ?1",
            params![id, state, error, next],
        )?;
        Ok(())
    }

    /// Number of outbox rows in `state`.
    pub fn outbox_count(&self, state: OutboxState) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = ?1", [state.as_str()], |r| r.get(0))?)
    }
}
