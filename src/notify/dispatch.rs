//! Draining the outbox: per notifier, claim due rows, deliver them one by one or as a digest,
//! record the outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tracing::{info, warn};

use super::{DeliveryError, Notifier, Outgoing, schedule};
use crate::alert::Alert;
use crate::config::{Config, Mode};
use crate::store::{OutboxRow, Store, StoreError, unix_now};

/// Rows claimed per round of single deliveries: a shutdown is never far away.
const CLAIM_BATCH: usize = 100;
/// Most alerts in one digest message.
const DIGEST_MAX: usize = 500;
/// First retry delay after a transient failure; doubles per attempt.
const RETRY_BASE: Duration = Duration::from_secs(30);
/// Longest wait between two attempts.
const RETRY_CAP: Duration = Duration::from_secs(3600);

/// Exponential backoff with full jitter in its upper half: `attempts` failures so far.
pub fn backoff(attempts: u32) -> Duration {
    let exp = RETRY_BASE.saturating_mul(1u32 << attempts.min(16));
    let capped = exp.min(RETRY_CAP);
    let half = capped / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

/// Delivers queued alerts. Owns its own database connection.
pub struct Dispatcher {
    store: Arc<Mutex<Store>>,
    notifiers: Vec<Notifier>,
}

/// Why the dispatcher cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Notifier(String),
}

impl Dispatcher {
    pub fn new(config: &Config) -> Result<Dispatcher, DispatchError> {
        let notifiers = Notifier::all(config).map_err(DispatchError::Notifier)?;
        let store = Store::open(&config.storage.path)?;
        let requeued = store.requeue_sending()?;
        if requeued > 0 {
            info!(alerts = requeued, "requeued alerts left in sending by an earlier run");
        }
        Ok(Dispatcher { store: Arc::new(Mutex::new(store)), notifiers })
    }

    /// Delivers every due alert; returns how many were delivered.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut delivered = 0;
        for n in &self.notifiers {
            delivered += match &n.delivery.mode {
                Mode::Immediate => self.drain_immediate(n).await?,
                Mode::Digest(_) => self.drain_digest(n).await?,
            };
        }
        Ok(delivered)
    }

    async fn drain_immediate(&self, n: &Notifier) -> Result<usize, StoreError> {
        let mut delivered = 0;
        loop {
            let limit = if n.batches() { DIGEST_MAX } else { CLAIM_BATCH };
            let rows = self.claim(n, limit).await?;
            if rows.len() > n.delivery.burst && n.batches() {
                info!(notifier = %n.name, alerts = rows.len(), burst = n.delivery.burst, "burst of alerts sent as one digest");
                delivered += self.deliver(n, rows, true).await?;
                continue;
            }
            let done = rows.len() < limit;
            for row in rows {
                delivered += self.deliver(n, vec![row], false).await?;
            }
            if done {
                return Ok(delivered);
            }
        }
    }

    /// A scheduled digest: everything due goes out when the schedule says so, or when earlier
    /// failed rows are due for a retry.
    async fn drain_digest(&self, n: &Notifier) -> Result<usize, StoreError> {
        let Mode::Digest(sched) = &n.delivery.mode else { return Ok(0) };
        let (name, now) = (n.name.clone(), unix_now());
        let last = self.with_store(move |s| s.digest_last(&name)).await?;
        let Some(last) = last else {
            // First start: the schedule begins now.
            let name = n.name.clone();
            self.with_store(move |s| s.set_digest_last(&name, now)).await?;
            return Ok(0);
        };
        let slot = schedule::next_digest(sched, last, n.delivery.timezone) <= now;
        let name = n.name.clone();
        if !slot && !self.with_store(move |s| s.retry_due(&name, now)).await? {
            return Ok(0);
        }
        if slot {
            let name = n.name.clone();
            self.with_store(move |s| s.set_digest_last(&name, now)).await?;
        }
        let mut delivered = 0;
        loop {
            let rows = self.claim(n, DIGEST_MAX).await?;
            if rows.is_empty() {
                return Ok(delivered);
            }
            let full = rows.len() == DIGEST_MAX;
            delivered += self.deliver(n, rows, true).await?;
            if !full {
                return Ok(delivered);
            }
        }
    }

    async fn claim(&self, n: &Notifier, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let name = n.name.clone();
        self.with_store(move |s| s.claim_due(&name, unix_now(), limit)).await
    }

    /// Delivers `rows` as one message (a digest when `digest`); returns how many were delivered.
    async fn deliver(&self, n: &Notifier, rows: Vec<OutboxRow>, digest: bool) -> Result<usize, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut alerts = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in &rows {
            match serde_json::from_str::<Alert>(&row.payload) {
                Ok(a) => alerts.push((row, a)),
                Err(e) => unreadable.push((row.id, format!("unreadable alert payload: {e}"))),
            }
        }
        for (id, msg) in unreadable {
            warn!(alert = id, notifier = %n.name, error = %msg, "alert is dead");
            self.with_store(move |s| s.mark_failed(&[(id, None)], &msg)).await?;
        }
        let ids: Vec<i64> = alerts.iter().map(|(r, _)| r.id).collect();
        let key = match alerts.as_slice() {
            [(row, a)] if !digest => format!("{}/{}/{}/{}/{}", n.name, row.id, a.feed, a.id, a.watch),
            _ => format!("digest/{}/{}", n.name, ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
        };
        let batch: Vec<Alert> = alerts.iter().map(|(_, a)| a.clone()).collect();
        let result = n.send(&Outgoing { alerts: &batch, key, digest }).await;
        let now = unix_now();
        match result {
            Ok(_) => {
                let count = ids.len();
                self.with_store(move |s| s.mark_sent(&ids, now)).await?;
                Ok(count)
            }
            Err(e) => {
                let max_age = n.delivery.max_age.as_secs() as i64;
                let failures: Vec<(i64, Option<i64>)> = alerts
                    .iter()
                    .map(|(row, _)| {
                        let next = match &e {
                            DeliveryError::Transient(_) if now - row.since < max_age => {
                                Some(now + backoff(row.attempts as u32).as_secs() as i64)
                            }
                            _ => None,
                        };
                        (row.id, next)
                    })
                    .collect();
                let dead = failures.iter().filter(|(_, next)| next.is_none()).count();
                warn!(notifier = %n.name, alerts = failures.len(), dead, error = %e, "alert delivery failed");
                let msg = e.to_string();
                self.with_store(move |s| s.mark_failed(&failures, &msg)).await?;
                Ok(0)
            }
        }
    }

    /// Runs a database call off the async threads.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&mut store.lock().unwrap_or_else(|p| p.into_inner())))
            .await
            .expect("database calls do not panic")
    }
}
