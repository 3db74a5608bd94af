//! Wiring: poll tasks, the ingest writer and the dispatcher, for one pass (`once`) or as a
//! daemon (`run`).
//!
//! Stages talk through a bounded channel (poll tasks to the writer) and a `Notify` (writer to
//! dispatcher). Shutdown is an event: the scheduler stops taking work, in-flight polls get a
//! grace period, the writer commits what it has, the dispatcher makes a last pass.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::article::Worker;
use crate::config::Config;
use crate::ingest::{self, FeedReport, FeedStart, Job, Wakes};
use crate::metrics::Liveness;
use crate::notify::{DeliveryFault, Dispatcher, Lanes};
use crate::poller::{FetchLimits, Fetcher, Validators, host_of, poll_feed};
use crate::service;
use crate::store::{IntegrityCheck, Store, StoreError};

/// Parsed feeds waiting for the writer. Each holds a whole parsed feed in memory, so this
/// bounds memory while letting fetches run ahead of a briefly busy disk.
const WRITER_QUEUE: usize = 64;
/// How long in-flight polls may finish after a shutdown signal before they are abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often the scheduler loop checks that the writer answers, without a systemd watchdog.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often `run` asks whether the database is due a check (sooner if `[storage]
/// check_every` is shorter).
const RECHECK_TICK: Duration = Duration::from_secs(600);
/// How long a daemon whose delivery failed keeps answering `/healthz` with 503 before it
/// stops, so a monitor polling it sees why.
const FAULT_LINGER: Duration = Duration::from_secs(3);
/// Longest wait to record a delivery fault in the database for `status`.
const FAULT_RECORD: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Dispatch(#[from] crate::notify::DispatchError),
    #[error(transparent)]
    Client(#[from] crate::poller::FetchError),
    #[error("{0}; stopping so that the service manager restarts wirewatch")]
    Delivery(#[from] DeliveryFault),
    /// The web view's token cannot be read.
    #[error("{0}")]
    Web(crate::config::ConfigErrors),
}

/// Totals of one `once` pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub polled: usize,
    pub failed: usize,
    pub new_stories: usize,
    pub delivered: usize,
    /// Alerts that failed and wait in the outbox for a retry after the pass.
    pub waiting: usize,
    /// Whether a poll failed because the database could not store it.
    pub storage_failed: bool,
}

impl Summary {
    /// Whether the pass failed as a whole: every feed polled failed, or storage did.
    pub fn failed(&self) -> bool {
        self.storage_failed || (self.polled > 0 && self.failed == self.polled)
    }
}

/// The running parts shared by `once` and `run`.
struct Parts {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    jobs: mpsc::Sender<Job>,
    writer: std::thread::JoinHandle<()>,
    committed: Arc<Notify>,
    /// Notified when the writer records new pending article steps.
    articles: Arc<Notify>,
    dispatcher: Arc<Dispatcher>,
    limits: Arc<FetchLimits>,
    /// `PRAGMA quick_check` of the database, running while start-up reads and fetches begin.
    integrity: IntegrityCheck,
}

impl Parts {
    fn start(config: Arc<Config>) -> Result<Parts, EngineError> {
        let store = Store::open_checking(&config.storage.path, config.storage.check_every)?;
        let integrity = store.integrity_check();
        if let Some(bytes) = config.storage.max_size {
            store.limit_size(bytes)?;
        }
        let dispatcher = Arc::new(Dispatcher::new(&config)?);
        let fetcher = Arc::new(Fetcher::new(&config.poll)?);
        let (jobs, rx) = mpsc::channel(WRITER_QUEUE);
        let (committed, articles) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let wakes = Wakes { alerts: Arc::clone(&committed), articles: Arc::clone(&articles) };
        let writer = ingest::spawn(Arc::clone(&config), store, rx, wakes);
        let poll = &config.poll;
        let limits = Arc::new(FetchLimits::new(poll.concurrency, poll.per_host, poll.memory));
        Ok(Parts { config, fetcher, jobs, writer, committed, articles, dispatcher, limits, integrity })
    }

    /// Waits for the database's integrity check to pass.
    fn integrity(&self) -> impl Future<Output = Result<(), EngineError>> + use<> {
        let check = self.integrity.clone();
        async move {
            check.settled().await;
            Ok(check.wait()?)
        }
    }

    async fn starts(&self) -> Vec<FeedStart> {
        let (reply, rx) = oneshot::channel();
        let _ = self.jobs.send(Job::Start { reply }).await;
        rx.await.unwrap_or_else(|_| vec![FeedStart::default(); self.config.feeds.len()])
    }

    /// Polls feed `index` and waits until the writer has applied the outcome.
    fn poll(&self, index: usize, validators: Validators) -> impl Future<Output = (usize, Option<FeedReport>)> + use<> {
        let (config, fetcher, jobs) = (Arc::clone(&self.config), Arc::clone(&self.fetcher), self.jobs.clone());
        let (limits, checked) = (Arc::clone(&self.limits), self.integrity.settled());
        async move {
            // The global slot and the body's share of `[poll] memory` are held until the writer
            // has applied the result, so a writer slower than the network holds at most
            // `concurrency` parsed feeds, and at most `memory` bytes of them.
            let permit = limits.acquire(host_of(&config.feeds[index], &validators)).await;
            // Boxed: a task waiting for its slot holds only the wait, not the poll's state, so
            // every feed due at start waits in little memory (100,000 feeds waited in 2.6 KB
            // each before).
            let report = Box::pin(async move {
                let mut permit = permit;
                let polled = poll_feed(&fetcher, &mut permit, &config, index, &validators).await;
                let mut permit = Some(permit);
                if !polled.outcome.is_parsed() {
                    // A result without stories is small: it frees its slot and waits for the
                    // integrity check here, not in the writer's queue, where it would stall
                    // the fetches behind it.
                    permit = None;
                    checked.await;
                }
                let (reply, rx) = oneshot::channel();
                jobs.send(Job::Ingest { feed: index, polled: Box::new(polled), reply }).await.ok()?;
                let applied = rx.await.ok();
                drop(permit);
                applied
            });
            // The index always comes back, so the scheduler never loses a feed; the report is
            // missing only when the writer has stopped.
            (index, report.await)
        }
    }

    /// Stops the writer after it has committed everything sent to it. Every other sender of
    /// jobs must be gone (poll tasks finished or aborted and awaited), or this waits for them;
    /// the join runs on the blocking pool so the async workers stay free meanwhile.
    async fn stop_writer(self) -> Arc<Dispatcher> {
        drop(self.jobs);
        let writer = self.writer;
        let joined = tokio::task::spawn_blocking(move || writer.join()).await;
        if !matches!(joined, Ok(Ok(()))) {
            warn!("the ingest writer panicked");
        }
        self.dispatcher
    }
}

/// Polls every feed once, then delivers every queued alert: an alert of the pass names every
/// feed of the pass that reported the same news. Fetching begins while the database's
/// integrity check runs; a damaged file ends the pass with nothing written.
pub async fn once(config: Arc<Config>) -> Result<Summary, EngineError> {
    let parts = Parts::start(config)?;
    let mut tasks = JoinSet::new();
    for (i, start) in parts.starts().await.into_iter().enumerate() {
        if !start.gone {
            tasks.spawn(parts.poll(i, start.validators));
        }
    }
    let (mut summary, verdict) = gather(&mut tasks, parts.integrity()).await;
    if let Err(e) = verdict {
        // Nothing was written: stop every part, and let the caller say why, once.
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        parts.stop_writer().await;
        return Err(e);
    }
    // Every poll is answered, so everything is committed: the feed text's alerts are delivered
    // while the articles are fetched, and delivery need not wait for the writer to stop (it
    // checkpoints as it does).
    let (dispatcher, integrity) = (Arc::clone(&parts.dispatcher), parts.integrity.clone());
    let articles = Worker::drain(Arc::clone(&parts.config), Arc::clone(&parts.fetcher), parts.jobs.clone());
    let (_, first) = tokio::join!(articles, dispatcher.drain());
    let (_, delivered) = tokio::join!(parts.stop_writer(), dispatcher.drain());
    summary.delivered = dispatched(first)? + dispatched(delivered)?;
    summary.waiting = dispatcher.waiting().await?;
    drop(dispatcher);
    integrity.closed();
    Ok(summary)
}

/// A delivery pass's count, its database error told as the store's (a damaged file is said
/// once, the same way everywhere).
fn dispatched(pass: Result<usize, crate::notify::DispatchError>) -> Result<usize, EngineError> {
    pass.map_err(|e| match e {
        crate::notify::DispatchError::Store(e) => EngineError::Store(e),
        other => EngineError::Dispatch(other),
    })
}

/// Counts the pass's reports as its polls finish, and the integrity check's verdict; stops at
/// a verdict that the file is damaged.
async fn gather(
    tasks: &mut JoinSet<(usize, Option<FeedReport>)>,
    integrity: impl Future<Output = Result<(), EngineError>>,
) -> (Summary, Result<(), EngineError>) {
    let mut integrity = std::pin::pin!(integrity);
    let mut verdict = None;
    let mut summary = Summary::default();
    loop {
        let done = tokio::select! {
            checked = &mut integrity, if verdict.is_none() => {
                let damaged = checked.is_err();
                verdict = Some(checked);
                if damaged {
                    break;
                }
                continue;
            }
            done = tasks.join_next() => done,
        };
        let Some(done) = done else { break };
        let Ok((_, Some(report))) = done else { continue };
        summary.polled += 1;
        summary.storage_failed |= report.unstored;
        match report.result {
            Ok(stats) => summary.new_stories += stats.new_stories,
            Err(_) => summary.failed += 1,
        }
    }
    let verdict = match verdict {
        Some(checked) => checked,
        None => integrity.await,
    };
    (summary, verdict)
}

/// Polls every feed on its schedule until `shutdown` turns true; requeues every dead alert
/// each time `retry_dead` is notified. The feeds `reschedule` names (a reload changed their
/// interval settings) are polled at once, the others when they were due.
pub async fn run(
    config: Arc<Config>,
    mut shutdown: watch::Receiver<bool>,
    retry_dead: Arc<Notify>,
    reschedule: Vec<usize>,
) -> Result<(), EngineError> {
    // Read before anything starts: a token that cannot be read stops the start like a
    // notifier's secret.
    let site = match config.web {
        Some(_) => Some(crate::web::Site::new(Arc::clone(&config)).map_err(EngineError::Web)?),
        None => None,
    };
    let parts = Parts::start(config)?;
    // A daemon starts once: it simply waits for the check.
    parts.integrity().await?;
    let starts = parts.starts().await;
    // A restart keeps each feed's planned time (so it does not hammer every server at once);
    // gone feeds stay out of the schedule.
    let now = (Instant::now(), crate::store::unix_now());
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = starts
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.gone)
        .map(|(i, s)| {
            let planned = s.next_poll.filter(|_| !reschedule.contains(&i));
            let wait = planned.map_or(0, |t| (t - now.1).clamp(0, parts.config.poll.max_interval.as_secs() as i64));
            Reverse((now.0 + Duration::from_secs(wait as u64), i))
        })
        .collect();
    let mut validators: Vec<Validators> = starts.into_iter().map(|s| s.validators).collect();
    let mut tasks = JoinSet::new();
    let articles = Worker::start(
        Arc::clone(&parts.config),
        Arc::clone(&parts.fetcher),
        parts.jobs.clone(),
        Arc::clone(&parts.articles),
    );
    let mut delivery = Lanes::start(Arc::clone(&parts.dispatcher), Arc::clone(&parts.committed));
    let mut fault = None;
    let requeue = Requeue { dispatcher: Arc::clone(&parts.dispatcher), asked: retry_dead };
    let requeuer = tokio::spawn(requeue.serve(Arc::clone(&parts.committed)));
    info!(feeds = parts.config.feeds.len(), watches = parts.config.watches.len(), "wirewatch running");
    service::ready(parts.config.feeds.len());
    let systemd_watchdog = service::watchdog_period();
    let watchdog = Watchdog::start(systemd_watchdog.unwrap_or(HEARTBEAT), parts.jobs.clone());
    let liveness = Liveness::new(3 * watchdog.period);
    let metrics = parts
        .config
        .metrics_listen
        .map(|listen| tokio::spawn(crate::metrics::serve(listen, parts.config.storage.path.clone(), liveness.clone())));
    let web = parts.config.web.as_ref().zip(site).map(|(w, site)| tokio::spawn(crate::web::serve(w.listen, site)));
    let mut heartbeat = tokio::time::interval(watchdog.period);
    let mut damage = tokio::spawn(recheck(parts.integrity.clone(), parts.config.storage.check_every));
    let mut rechecking = true;
    loop {
        let next = due.peek().map(|Reverse((t, _))| *t);
        tokio::select! {
            _ = shutdown.changed() => break,
            ended = &mut damage, if rechecking => {
                rechecking = false;
                match ended {
                    // The verdict is now that the file is damaged: said below, once.
                    Ok(()) => break,
                    Err(e) => warn!(error = %e, "the database's periodic check stopped"),
                }
            }
            _ = heartbeat.tick() => {
                // A delivery task that crashed or stalled stops the daemon, so the service
                // manager restarts it: no more reports.
                if let Some(found) = delivery.fault().await {
                    fault = Some(found);
                    break;
                }
                // Reported from this loop, so a frozen loop stops the reports; and only while
                // the writer keeps answering, so a stuck writer stops them too.
                if watchdog.writer_answering() {
                    liveness.progressed();
                    if systemd_watchdog.is_some() {
                        service::watchdog_ping();
                    }
                }
            }
            _ = sleep_until(next) => {
                while let Some(Reverse((t, i))) = due.peek().copied() {
                    if t > Instant::now() { break; }
                    due.pop();
                    tasks.spawn(parts.poll(i, validators[i].clone()));
                }
            }
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((i, report)) = done {
                    // No report: the writer has stopped; poll again after the usual interval.
                    let next = match report {
                        Some(report) => {
                            validators[i] = report.validators;
                            report.next
                        }
                        None => Some(parts.config.feeds[i].interval),
                    };
                    if let Some(next) = next {
                        due.push(Reverse((Instant::now() + next, i)));
                    }
                }
            }
        }
    }
    if let Some(fault) = &fault {
        tracing::error!(error = %fault, "delivery failed; stopping");
        liveness.fail(fault.to_string());
        parts.dispatcher.record_fault(fault, FAULT_RECORD).await;
        tokio::time::sleep(FAULT_LINGER).await;
    }
    // Said in neutral words: the caller knows whether this is a shutdown or a reload.
    info!(in_flight = tasks.len(), "polling ends; in-flight polls get the grace period");
    damage.abort();
    requeuer.abort();
    let _ = requeuer.await;
    // The pinger's sender must be gone before the writer can stop.
    watchdog.pinger.abort();
    let _ = watchdog.pinger.await;
    for server in [metrics, web].into_iter().flatten() {
        server.abort();
        let _ = server.await;
    }
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
    // An aborted task drops its sender only when it is polled again: wait for that.
    while tasks.join_next().await.is_some() {}
    // Article fetches in flight are abandoned: their steps stay pending for the next start.
    articles.stop().await;
    let integrity = parts.integrity.clone();
    parts.stop_writer().await;
    // Damage found while running, even by a check that ended as the daemon was stopping.
    if let Some(damaged) = damage_found(&integrity) {
        // Nothing more is written to the file: no last pass, no stamp; the caller says why.
        delivery.abort().await;
        return Err(damaged.into());
    }
    // Each notifier makes a last pass for whatever the writer committed since its previous
    // one, all within one grace period: a silent server is abandoned, not waited for. The
    // tasks are stopped before returning, so a restarted engine (SIGHUP) never runs beside
    // them and two dispatchers never send the same rows.
    let clean = delivery.stop(SHUTDOWN_GRACE).await;
    if let Some(fault) = fault {
        return Err(fault.into());
    }
    if clean {
        integrity.closed();
    }
    info!("engine ended");
    Ok(())
}

/// Keeps asking the writer to answer a ping, and remembers when it last did.
struct Watchdog {
    period: Duration,
    answered: Arc<std::sync::Mutex<Instant>>,
    pinger: tokio::task::JoinHandle<()>,
}

impl Watchdog {
    fn start(period: Duration, jobs: mpsc::Sender<Job>) -> Watchdog {
        let answered = Arc::new(std::sync::Mutex::new(Instant::now()));
        let last = Arc::clone(&answered);
        let pinger = tokio::spawn(async move {
            loop {
                let (reply, rx) = oneshot::channel();
                if jobs.send(Job::Ping { reply }).await.is_err() || rx.await.is_err() {
                    return;
                }
                *last.lock().expect("never poisoned") = Instant::now();
                tokio::time::sleep(period).await;
            }
        });
        Watchdog { period, answered, pinger }
    }

    /// Whether the writer answered within the last two periods.
    fn writer_answering(&self) -> bool {
        self.answered.lock().expect("never poisoned").elapsed() < 2 * self.period
    }
}

/// The error of a verdict that the file is damaged, if that is the verdict.
fn damage_found(integrity: &IntegrityCheck) -> Option<StoreError> {
    match integrity.wait() {
        Err(found @ StoreError::Corrupt { .. }) => Some(found),
        _ => None,
    }
}

/// Checks the database again whenever it is due ([`IntegrityCheck::due`]), while the daemon
/// runs; returns once it finds the file damaged, which is then the verdict.
async fn recheck(integrity: IntegrityCheck, every: Duration) {
    let mut tick = tokio::time::interval(every.min(RECHECK_TICK));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !integrity.due(crate::store::unix_now(), every) {
            continue;
        }
        match integrity.recheck().await {
            Ok(()) => info!("database checked: sound"),
            Err(StoreError::Corrupt { .. }) => return,
            Err(e) => warn!(error = %e, "cannot check the database; trying again later"),
        }
    }
}

/// Where dead alerts are requeued when an operator asks (`outbox retry --all-dead` beside the
/// daemon, or SIGUSR1).
struct Requeue {
    dispatcher: Arc<Dispatcher>,
    asked: Arc<Notify>,
}

impl Requeue {
    /// Queues every dead alert again, due now, as `outbox retry --all-dead` does: on the
    /// dispatcher's connection and in its turn at the write lock, so nothing else writes.
    async fn dead(&self) {
        match self.dispatcher.requeue_dead().await {
            Ok(alerts) => info!(alerts, "requeued the dead alerts, as asked"),
            Err(e) => warn!(error = %e, "cannot requeue the dead alerts"),
        }
    }

    /// Requeues the dead alerts each time an operator asks, then wakes delivery through
    /// `committed`, as a commit of new alerts does.
    async fn serve(self, committed: Arc<Notify>) {
        loop {
            self.asked.notified().await;
            self.dead().await;
            committed.notify_one();
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
