//! Draining the outbox: claim due rows, deliver each to its notifier, record the outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tracing::{info, warn};

use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use crate::config::Config;
use crate::store::{OutboxRow, Store, StoreError, unix_now};

/// Rows claimed per round: enough to batch, small enough that a shutdown is never far away.
const CLAIM_BATCH: usize = 100;
/// First retry delay after a transient failure; doubles per attempt.
const RETRY_BASE: Duration = Duration::from_secs(30);
/// Longest wait between two attempts.
const RETRY_CAP: Duration = Duration::from_secs(3600);
/// After this long in the outbox an undeliverable alert is given up (dead).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

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
    notifiers: HashMap<String, Notifier>,
}

impl Dispatcher {
    pub fn new(config: &Config) -> Result<Dispatcher, StoreError> {
        let store = Store::open(&config.storage.path)?;
        let requeued = store.requeue_sending()?;
        if requeued > 0 {
            info!(alerts = requeued, "requeued alerts left in sending by an earlier run");
        }
        let notifiers = config.notifiers.iter().map(|n| (n.name.clone(), Notifier::new(n))).collect();
        Ok(Dispatcher { store: Arc::new(Mutex::new(store)), notifiers })
    }

    /// Delivers every due alert; returns how many were delivered.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut delivered = 0;
        loop {
            let rows = self.with_store(|s| s.claim_due(unix_now(), CLAIM_BATCH)).await?;
            if rows.is_empty() {
                return Ok(delivered);
            }
            for row in rows {
                delivered += usize::from(self.deliver(row).await?);
            }
        }
    }

    async fn deliver(&self, row: OutboxRow) -> Result<bool, StoreError> {
        let result = match (self.notifiers.get(&row.notifier), serde_json::from_str::<Alert>(&row.payload)) {
            (None, _) => Err(DeliveryError::Transient(format!(
                "notifier {:?} is not in the config; the alert waits until it is back",
                row.notifier
            ))),
            (_, Err(e)) => Err(DeliveryError::Permanent(format!("unreadable alert payload: {e}"))),
            (Some(n), Ok(alert)) => n.deliver(&alert).await,
        };
        let id = row.id;
        match result {
            Ok(()) => {
                self.with_store(move |s| s.mark_sent(id, unix_now())).await?;
                Ok(true)
            }
            Err(e) => {
                let now = unix_now();
                let next = match &e {
                    DeliveryError::Transient(_) if now - row.created < MAX_AGE.as_secs() as i64 => {
                        Some(now + backoff(row.attempts as u32).as_secs() as i64)
                    }
                    _ => None,
                };
                let state = if next.is_some() { "queued" } else { "dead" };
                warn!(alert = id, notifier = %row.notifier, watch = %row.watch, error = %e, state, "alert delivery failed");
                let msg = e.to_string();
                self.with_store(move |s| s.mark_failed(id, &msg, next)).await?;
                Ok(false)
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
