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

/// What a message's `Message-ID` is derived from: the notifier and the alerts it carries (each
/// alert's feed, story and watch, plus the outbox row for a single alert), so the same alerts
/// sent again give the same id, and different alerts, even in another database, never do.
fn message_key(notifier: &str, alerts: &[(OutboxRow, Alert)], digest: bool) -> String {
    let ids: Vec<String> =
        alerts.iter().map(|(row, a)| format!("{}|{}|{}|{}", row.id, a.feed, a.id, a.watch)).collect();
    format!("{}/{notifier}/{}", if digest { "digest" } else { "alert" }, ids.join("\n"))
}

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
    /// Whether what an earlier run left behind has been put right ([`Dispatcher::recover`]).
    recovered: tokio::sync::OnceCell<()>,
}

/// Why the dispatcher cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Notifier(crate::config::ConfigErrors),
}

impl Dispatcher {
    pub fn new(config: &Config) -> Result<Dispatcher, DispatchError> {
        let notifiers = Notifier::all(config).map_err(DispatchError::Notifier)?;
        let store = Store::open(&config.storage.path)?;
        Ok(Dispatcher { store: Arc::new(Mutex::new(store)), notifiers, recovered: Default::default() })
    }

    /// Before the first delivery: queues again what an earlier run left in `sending`, and
    /// buries what waits for a notifier no longer configured. Not at start-up, which writes
    /// nothing before the integrity check has passed.
    async fn recover(&self) -> Result<(), StoreError> {
        let names: Vec<String> = self.notifiers.iter().map(|n| n.name.clone()).collect();
        let (requeued, buried) = self
            .with_store(move |s| {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                Ok((s.requeue_sending(unix_now())?, s.bury_orphans(&names)?))
            })
            .await?;
        if requeued > 0 {
            info!(alerts = requeued, "requeued alerts left in sending by an earlier run");
        }
        for (notifier, alerts) in buried {
            warn!(%notifier, alerts, "queued alerts for a notifier no longer in the config are dead; \
                `wirewatch outbox retry` sends them once it is back");
        }
        Ok(())
    }

    /// Delivers every due alert; returns how many were delivered.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        self.recovered.get_or_try_init(|| self.recover()).await?;
        let mut delivered = 0;
        for n in &self.notifiers {
            delivered += self.drain_retries(n).await?;
            delivered += match &n.delivery.mode {
                Mode::Immediate => self.drain_fresh(n).await?,
                Mode::Digest(_) => self.drain_scheduled(n).await?,
            };
        }
        Ok(delivered)
    }

    /// Alerts being retried. The rows of one failed message share their next attempt, so they
    /// come due together and go out together again: a failed digest is retried as a digest
    /// (with the same Message-ID), and so is a message a crash interrupted.
    async fn drain_retries(&self, n: &Notifier) -> Result<usize, StoreError> {
        let limit = if n.batches() { DIGEST_MAX } else { CLAIM_BATCH };
        self.drain_claims(n, limit, true, |rows| n.batches() && rows > 1).await
    }

    /// Claims up to `limit` due rows (retries or fresh ones) at a time and delivers each claim
    /// as one message, a digest when `digest(rows)` says so, until none is left.
    async fn drain_claims(
        &self,
        n: &Notifier,
        limit: usize,
        retries: bool,
        digest: impl Fn(usize) -> bool,
    ) -> Result<usize, StoreError> {
        let mut delivered = 0;
        loop {
            let rows = self.claim(n, limit, retries).await?;
            let (count, as_digest) = (rows.len(), digest(rows.len()));
            if count == 0 {
                return Ok(delivered);
            }
            delivered += self.deliver(n, rows, as_digest).await?;
            if count < limit {
                return Ok(delivered);
            }
        }
    }

    /// New alerts of an immediate notifier. Email and webhooks: one message each, claimed one
    /// at a time (so a crash interrupts at most one), unless more than `burst` are due, in
    /// which case they go as digests. Standard output and jsonl files: up to [`CLAIM_BATCH`]
    /// alerts per write and per transaction (a crash can repeat at most one batch's lines).
    async fn drain_fresh(&self, n: &Notifier) -> Result<usize, StoreError> {
        let name = n.name.clone();
        let due = self.with_store(move |s| s.fresh_due(&name, unix_now())).await?;
        let bursting = n.batches() && due > n.delivery.burst;
        if bursting {
            info!(notifier = %n.name, alerts = due, burst = n.delivery.burst, "burst of alerts sent as one digest");
        }
        let limit = match (n.batches(), bursting) {
            (true, true) => DIGEST_MAX,
            (true, false) => 1,
            (false, _) => CLAIM_BATCH,
        };
        self.drain_claims(n, limit, false, |_| bursting).await
    }

    /// New alerts of a digest notifier, all together when the schedule says so.
    async fn drain_scheduled(&self, n: &Notifier) -> Result<usize, StoreError> {
        let Mode::Digest(sched) = &n.delivery.mode else { return Ok(0) };
        let (name, now) = (n.name.clone(), unix_now());
        let last = self.with_store(move |s| s.digest_last(&name)).await?;
        let due = match last {
            Some(last) => schedule::next_digest(sched, last, n.delivery.timezone) <= now,
            None => false,
        };
        if !due {
            if last.is_none() {
                // First start: the schedule begins now.
                let name = n.name.clone();
                self.with_store(move |s| s.set_digest_last(&name, now)).await?;
            }
            return Ok(0);
        }
        let delivered = self.drain_claims(n, DIGEST_MAX, false, |_| true).await?;
        let name = n.name.clone();
        self.with_store(move |s| s.set_digest_last(&name, now)).await?;
        Ok(delivered)
    }

    async fn claim(&self, n: &Notifier, limit: usize, retries: bool) -> Result<Vec<OutboxRow>, StoreError> {
        let name = n.name.clone();
        self.with_store(move |s| s.claim_due(&name, unix_now(), limit, retries)).await
    }

    /// Delivers `rows` as one message (a digest when `digest`); returns how many were delivered.
    async fn deliver(&self, n: &Notifier, rows: Vec<OutboxRow>, digest: bool) -> Result<usize, StoreError> {
        let mut alerts = Vec::with_capacity(rows.len());
        for row in rows {
            match serde_json::from_str::<Alert>(&row.payload) {
                Ok(a) => {
                    let a = Alert { also_reported_by: row.also.clone(), ..a };
                    alerts.push((row, a));
                }
                Err(e) => {
                    let (id, msg) = (row.id, format!("unreadable alert payload: {e}"));
                    warn!(alert = id, notifier = %n.name, error = %msg, "alert is dead");
                    self.with_store(move |s| s.mark_failed(&[(id, None)], &msg)).await?;
                }
            }
        }
        if alerts.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = alerts.iter().map(|(r, _)| r.id).collect();
        let batch: Vec<Alert> = alerts.iter().map(|(_, a)| a.clone()).collect();
        let key = message_key(&n.name, &alerts, digest);
        let result = n.send(&Outgoing { alerts: &batch, key, digest }).await;
        let now = unix_now();
        match result {
            Ok(_) => {
                let count = ids.len();
                self.with_store(move |s| s.mark_sent(&ids, now)).await?;
                crate::metrics::get().alerts("sent", count);
                Ok(count)
            }
            Err(e) => {
                // One next attempt for the whole message, so its rows come due together again.
                let attempts = alerts.iter().map(|(r, _)| r.attempts).max().unwrap_or(0);
                let next = now + backoff(attempts as u32).as_secs() as i64;
                let max_age = n.delivery.max_age.as_secs() as i64;
                let failures: Vec<(i64, Option<i64>)> = alerts
                    .iter()
                    .map(|(row, _)| {
                        let retry = matches!(e, DeliveryError::Transient(_)) && now - row.since < max_age;
                        (row.id, retry.then_some(next))
                    })
                    .collect();
                let dead = failures.iter().filter(|(_, next)| next.is_none()).count();
                crate::metrics::get().alerts("dead", dead);
                crate::metrics::get().alerts("retried", failures.len() - dead);
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
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut store).inspect_err(|e| {
                store.met(e);
            })
        })
        .await
        .expect("database calls do not panic")
    }
}
