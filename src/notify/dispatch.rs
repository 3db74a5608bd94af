//! Draining the outbox: per notifier, claim due messages, deliver each, record the outcome.
//!
//! Each notifier is drained on its own ([`Dispatcher::drain`] runs them side by side; `run`
//! gives each a task of its own, see `lanes.rs`), so a slow or silent server holds back only
//! its own notifier. A message is the unit of delivery: one story's alerts for a notifier (a
//! row per watch it matched), or a digest. Its rows are claimed together, labelled with the
//! message, and retried together as that message and apart from every other, so a retry keeps
//! its shape and its key (and so its email `Message-ID`); only when more than `burst` messages
//! are due at once do they go as one digest. A notifier whose server is down (no connection,
//! no answer in time, 429) defers all its other rows to its next attempt.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::task::JoinSet;
use tracing::{info, warn};

use super::{DeliveryError, DeliveryFault, Notifier, Outgoing, schedule};
use crate::alert::Alert;
use crate::config::{Config, Mode};
use crate::store::{OutboxRow, Store, StoreError, unix_now};

/// Rows claimed per write of the line-based notifiers (stdout, jsonl): a crash repeats at most
/// this many lines, and a shutdown is never far away.
const CLAIM_BATCH: usize = 100;
/// Most alerts in one message (a digest).
const DIGEST_MAX: usize = 500;
/// First retry delay after a transient failure; doubles per attempt.
const RETRY_BASE: Duration = Duration::from_secs(30);
/// Longest wait between two attempts, whatever the server asks.
const RETRY_CAP: Duration = Duration::from_secs(3600);

/// What a pass over one notifier's outbox came to: how many alerts it delivered, and whether
/// it stopped early because the notifier's server is down.
#[derive(Debug, Default, Clone, Copy)]
struct Pass {
    delivered: usize,
    paused: bool,
}

impl Pass {
    /// Counts a further step of the pass in; the pass is paused if that step paused.
    fn add(&mut self, step: Pass) {
        self.delivered += step.delivered;
        self.paused = step.paused;
    }
}

/// Which due rows of a notifier one claim takes.
#[derive(Debug, Clone, Copy)]
enum Claim {
    /// Up to `limit` due rows, oldest first: retries, or fresh ones.
    Due { limit: usize, retries: bool },
    /// The first fresh story's rows (one per watch it matched): one message.
    Story,
}

/// What a message's key (and so its `Message-ID` and `Idempotency-Key`) is derived from: the
/// notifier and the alerts it carries (each alert's outbox row, feed, story and watch), so the
/// same alerts sent again give the same key, and different alerts, even in another database,
/// never do.
fn message_key(notifier: &str, rows: &[OutboxRow], alerts: &[Alert], digest: bool) -> String {
    let ids: Vec<String> =
        rows.iter().zip(alerts).map(|(row, a)| format!("{}|{}|{}|{}", row.id, a.feed, a.id, a.watch)).collect();
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
    /// Per notifier: when its running pass last made progress (`None` between passes).
    progress: Vec<Mutex<Option<Instant>>>,
}

/// Why the dispatcher cannot start, or a delivery pass ended in error.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Notifier(crate::config::ConfigErrors),
    #[error(transparent)]
    Fault(#[from] DeliveryFault),
}

impl Dispatcher {
    pub fn new(config: &Config) -> Result<Dispatcher, DispatchError> {
        let notifiers = Notifier::all(config).map_err(DispatchError::Notifier)?;
        let store = Store::open(&config.storage.path)?;
        let progress = notifiers.iter().map(|_| Mutex::new(None)).collect();
        Ok(Dispatcher { store: Arc::new(Mutex::new(store)), notifiers, recovered: Default::default(), progress })
    }

    /// How many notifiers there are (each drained on its own).
    pub fn len(&self) -> usize {
        self.notifiers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.notifiers.is_empty()
    }

    /// The name of notifier `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.notifiers[i].name
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

    /// Delivers every due alert, every notifier side by side; returns how many were delivered.
    /// A notifier's task that panics is reported as a fault once the others are done.
    pub async fn drain(self: &Arc<Self>) -> Result<usize, DispatchError> {
        let mut tasks = JoinSet::new();
        let mut names = std::collections::HashMap::new();
        for i in 0..self.notifiers.len() {
            let me = Arc::clone(self);
            names.insert(tasks.spawn(async move { me.drain_one(i).await }).id(), self.name(i).to_string());
        }
        let (mut delivered, mut failed) = (0, None);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(n)) => delivered += n,
                Ok(Err(e)) => failed = failed.or(Some(DispatchError::Store(e))),
                Err(e) => {
                    let name = names.get(&e.id()).cloned().unwrap_or_default();
                    failed = failed.or(Some(DeliveryFault::ended(name, e).into()));
                }
            }
        }
        failed.map_or(Ok(delivered), Err)
    }

    /// Delivers every due alert of notifier `i`; returns how many were delivered.
    pub async fn drain_one(&self, i: usize) -> Result<usize, StoreError> {
        self.recovered.get_or_try_init(|| self.recover()).await?;
        self.progressed(i);
        crate::fault::delivery_pass().await;
        let pass = async {
            let mut pass = self.drain_retries(i).await?;
            if !pass.paused {
                pass.add(match &self.notifiers[i].delivery.mode {
                    Mode::Immediate => self.drain_fresh(i).await?,
                    Mode::Digest(_) => self.drain_scheduled(i).await?,
                });
            }
            Ok(pass)
        }
        .await;
        *self.progress[i].lock().unwrap_or_else(|p| p.into_inner()) = None;
        pass.map(|p| p.delivered)
    }

    fn progressed(&self, i: usize) {
        *self.progress[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// The first notifier whose running pass has made no progress for longer than `after`.
    pub fn stalled(&self, after: Duration) -> Option<usize> {
        self.progress
            .iter()
            .position(|p| p.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|t| t.elapsed() > after))
    }

    /// Messages being retried, each as it was sent before (its rows, its shape, its key); all
    /// of them as one digest when more than `burst` are due at once.
    async fn drain_retries(&self, i: usize) -> Result<Pass, StoreError> {
        let n = &self.notifiers[i];
        if !n.batches() {
            return self.drain_claims(i, Claim::Due { limit: CLAIM_BATCH, retries: true }, false).await;
        }
        let (name, now) = (n.name.clone(), unix_now());
        let groups = self.with_store(move |s| s.due_retries(&name, now, DIGEST_MAX)).await?;
        if groups.len() > n.delivery.burst {
            info!(notifier = %n.name, messages = groups.len(), burst = n.delivery.burst, "burst of retries sent as one digest");
            let ids: Vec<i64> = groups.into_iter().flat_map(|g| g.ids).collect();
            return self.deliver_ids(i, ids, true).await;
        }
        let mut pass = Pass::default();
        for group in groups {
            pass.add(self.deliver_ids(i, group.ids, group.digest).await?);
            if pass.paused {
                break;
            }
        }
        Ok(pass)
    }

    async fn deliver_ids(&self, i: usize, ids: Vec<i64>, digest: bool) -> Result<Pass, StoreError> {
        let now = unix_now();
        let rows = self.with_store(move |s| s.claim_ids(&ids, now, digest)).await?;
        self.deliver(i, rows, digest).await
    }

    /// Claims due rows as `claim` says and delivers each claim as one message, a digest when
    /// `digest`, until none is left (a claim of [`Claim::Due`] short of its limit is the last)
    /// or the notifier pauses.
    async fn drain_claims(&self, i: usize, claim: Claim, digest: bool) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        loop {
            let name = self.notifiers[i].name.clone();
            let rows = self
                .with_store(move |s| match claim {
                    Claim::Due { limit, retries } => s.claim_due(&name, unix_now(), limit, retries, digest),
                    Claim::Story => s.claim_story(&name, unix_now(), DIGEST_MAX),
                })
                .await?;
            let claimed = rows.len();
            if claimed == 0 {
                return Ok(pass);
            }
            pass.add(self.deliver(i, rows, digest).await?);
            if pass.paused || matches!(claim, Claim::Due { limit, .. } if claimed < limit) {
                return Ok(pass);
            }
        }
    }

    /// New alerts of an immediate notifier. Email and webhooks: one message per story (with a
    /// section per watch it matched), claimed one at a time (so a crash interrupts at most
    /// one), unless more than `burst` stories are due, in which case they go as digests.
    /// Standard output and jsonl files: up to [`CLAIM_BATCH`] alerts per write and per
    /// transaction (a crash can repeat at most one batch's lines).
    async fn drain_fresh(&self, i: usize) -> Result<Pass, StoreError> {
        let n = &self.notifiers[i];
        if !n.batches() {
            return self.drain_claims(i, Claim::Due { limit: CLAIM_BATCH, retries: false }, false).await;
        }
        let name = n.name.clone();
        let due = self.with_store(move |s| s.fresh_due(&name, unix_now())).await?;
        if due > n.delivery.burst {
            info!(notifier = %n.name, messages = due, burst = n.delivery.burst, "burst of alerts sent as one digest");
            return self.drain_claims(i, Claim::Due { limit: DIGEST_MAX, retries: false }, true).await;
        }
        self.drain_claims(i, Claim::Story, false).await
    }

    /// New alerts of a digest notifier, all together when the schedule says so.
    async fn drain_scheduled(&self, i: usize) -> Result<Pass, StoreError> {
        let n = &self.notifiers[i];
        let Mode::Digest(sched) = &n.delivery.mode else { return Ok(Pass::default()) };
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
            return Ok(Pass::default());
        }
        let pass = self.drain_claims(i, Claim::Due { limit: DIGEST_MAX, retries: false }, true).await?;
        let name = n.name.clone();
        self.with_store(move |s| s.set_digest_last(&name, now)).await?;
        Ok(pass)
    }

    /// Delivers `rows` as one message (a digest when `digest`) and records the outcome.
    async fn deliver(&self, i: usize, rows: Vec<OutboxRow>, digest: bool) -> Result<Pass, StoreError> {
        let n = &self.notifiers[i];
        let (mut sending, mut alerts) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        for mut row in rows {
            match serde_json::from_str::<Alert>(&row.payload) {
                Ok(a) => {
                    alerts.push(Alert { also_reported_by: std::mem::take(&mut row.also), ..a });
                    sending.push(row);
                }
                Err(e) => {
                    let (id, msg) = (row.id, DeliveryError::Payload(e).chain());
                    warn!(alert = id, notifier = %n.name, error = %msg, "alert is dead");
                    self.with_store(move |s| s.mark_failed(&[(id, None)], &msg)).await?;
                }
            }
        }
        if alerts.is_empty() {
            return Ok(Pass::default());
        }
        let key = message_key(&n.name, &sending, &alerts, digest);
        let result = n.send(&Outgoing { alerts: &alerts, key, digest }).await;
        self.progressed(i);
        let now = unix_now();
        match result {
            Ok(_) => {
                let ids: Vec<i64> = sending.iter().map(|r| r.id).collect();
                let count = ids.len();
                self.with_store(move |s| s.mark_sent(&ids, now)).await?;
                crate::metrics::get().alerts("sent", count);
                Ok(Pass { delivered: count, paused: false })
            }
            Err(e) => self.failed(n, &sending, &e, now).await,
        }
    }

    /// Records a failed message: its rows share one next attempt, so they come due together
    /// again; a notifier whose server is down defers its other rows to that attempt.
    async fn failed(&self, n: &Notifier, rows: &[OutboxRow], e: &DeliveryError, now: i64) -> Result<Pass, StoreError> {
        let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0);
        let wait = backoff(attempts as u32).max(e.retry_after().unwrap_or_default()).min(RETRY_CAP);
        let next = now + wait.as_secs() as i64;
        let max_age = n.delivery.max_age.as_secs() as i64;
        let failures: Vec<(i64, Option<i64>)> = rows
            .iter()
            .map(|row| {
                let retry = !e.permanent() && now - row.since < max_age;
                (row.id, retry.then_some(next))
            })
            .collect();
        let dead = failures.iter().filter(|(_, next)| next.is_none()).count();
        crate::metrics::get().alerts("dead", dead);
        crate::metrics::get().alerts("retried", failures.len() - dead);
        let msg = e.chain();
        warn!(notifier = %n.name, alerts = failures.len(), dead, error = %msg, "alert delivery failed");
        let pause = e.pauses_notifier();
        let name = n.name.clone();
        let deferred = self
            .with_store(move |s| {
                s.mark_failed(&failures, &msg)?;
                if pause { s.defer(&name, next) } else { Ok(0) }
            })
            .await?;
        if !pause {
            return Ok(Pass::default());
        }
        info!(notifier = %n.name, deferred, retry_in = %humantime::format_duration(wait), "notifier paused until its next attempt");
        Ok(Pass { delivered: 0, paused: true })
    }

    /// Records that delivery stopped on `fault`, for `status`; gives up after `within`.
    pub async fn record_fault(&self, fault: &DeliveryFault, within: Duration) {
        let message = fault.to_string();
        let write = self.with_store(move |s| s.record_fault(unix_now(), &message));
        match tokio::time::timeout(within, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "cannot record the delivery fault"),
            Err(_) => warn!("cannot record the delivery fault: the database did not answer"),
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

    /// Queues every dead alert again, due now, as `outbox retry --all-dead` does; returns how
    /// many. On this dispatcher's connection, in its turn at the write lock.
    pub async fn requeue_dead(&self) -> Result<usize, StoreError> {
        self.with_store(|s| Ok(s.requeue(None, unix_now())?.len())).await
    }

    /// How many alerts failed, or were deferred, and wait for another attempt.
    pub async fn waiting(&self) -> Result<usize, StoreError> {
        self.with_store(|s| s.waiting_for_retry()).await
    }
}
