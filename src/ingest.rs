//! The ingest writer: one thread that owns the writing database connection and applies every
//! poll outcome to it in order.
//!
//! Poll tasks send [`Job`]s over a bounded channel and get a [`FeedReport`] back once the
//! outcome is committed, so a feed's validators are only ever advanced together with its stories.

mod articles;

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{error, info, warn};

use std::time::{Duration, Instant};

use crate::alert::Alert;
use crate::article::ArticleDone;
use crate::config::{Config, Feed};
use crate::poller::schedule::{self, Seen};
use crate::poller::{FetchError, PollError, PollOutcome, Polled, Validators};
use crate::redact::Redacted;
use crate::store::{
    FeedState, FetchMeta, IngestStats, PRUNE_STEP, PendingArticle, Pruned, Raised, Store, StoreError, unix_now,
};

/// Why a poll stored nothing: the feed, or the database that could not store it.
#[derive(Debug, thiserror::Error)]
pub enum PollFailure {
    #[error(transparent)]
    Feed(#[from] PollError),
    /// HTTP 410: the feed is removed for good.
    #[error("{}", FetchError::Gone)]
    Gone,
    /// Shared: one failed commit fails every poll of its batch.
    #[error("cannot store poll result: {0}")]
    Store(#[source] Arc<StoreError>),
}

/// What the writer did with one poll.
#[derive(Debug)]
pub struct FeedReport {
    pub url: String,
    pub result: Result<IngestStats, PollFailure>,
    /// Whether the poll failed because the database could not store it (full, read-only,
    /// damaged), not because of the feed.
    pub unstored: bool,
    /// The validators now stored for the feed, for its next fetch.
    pub validators: Validators,
    /// How long until the feed's next poll (jittered); `None` once the feed is gone.
    pub next: Option<Duration>,
}

/// What the scheduler needs to know of a feed when it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedStart {
    pub validators: Validators,
    pub gone: bool,
    /// When the next poll was planned by an earlier run (Unix seconds).
    pub next_poll: Option<i64>,
}

pub enum Job {
    /// Look up the stored state of every configured feed, in config order.
    Start {
        reply: oneshot::Sender<Vec<FeedStart>>,
    },
    Ingest {
        feed: usize,
        polled: Box<Polled>,
        reply: oneshot::Sender<FeedReport>,
    },
    /// Answer as soon as the jobs before this one are done: the watchdog's proof of progress.
    Ping {
        reply: oneshot::Sender<()>,
    },
    /// Up to `limit` pending article steps, the earliest deadline first.
    Articles {
        limit: usize,
        reply: oneshot::Sender<Vec<PendingArticle>>,
    },
    /// The end of an article step: stored, re-matched and alerted; answered once committed
    /// (true) or not stored (false: the step stays pending).
    Article {
        done: ArticleDone,
        reply: oneshot::Sender<bool>,
    },
}

/// Who the writer tells about what it committed: `alerts` after each commit that queued
/// alerts, `articles` after each that recorded pending article steps.
pub struct Wakes {
    pub alerts: Arc<Notify>,
    pub articles: Arc<Notify>,
}

/// Starts the writer thread.
pub fn spawn(
    config: Arc<Config>,
    mut store: Store,
    mut jobs: mpsc::Receiver<Job>,
    wakes: Wakes,
) -> std::thread::JoinHandle<()> {
    store.limit_sketch_memory(config.dedupe.memory);
    store.preload_sketch_index();
    std::thread::Builder::new()
        .name("wirewatch-ingest".into())
        .spawn(move || {
            // The first pruning waits a minute, so that start-up (and READY) never waits for it.
            let next_prune = Instant::now() + Duration::from_secs(60);
            let mut w = Writer {
                config,
                store,
                next_prune,
                pruning: None,
                storage_failures: 0,
                articles: Arc::clone(&wakes.articles),
            };
            let committed = wakes.alerts;
            let mut next = None;
            loop {
                let job = match next.take() {
                    Some(job) => job,
                    // Between the steps of a prune, jobs (and the watchdog's pings) go first.
                    None if w.pruning.is_some() => match jobs.try_recv() {
                        Ok(job) => job,
                        Err(mpsc::error::TryRecvError::Empty) => {
                            w.prune_when_due();
                            continue;
                        }
                        Err(mpsc::error::TryRecvError::Disconnected) => break,
                    },
                    None => match jobs.blocking_recv() {
                        Some(job) => job,
                        None => break,
                    },
                };
                w.prune_when_due();
                match job {
                    Job::Start { reply } => {
                        let _ = reply.send(w.starts());
                    }
                    Job::Ping { reply } => {
                        let _ = reply.send(());
                    }
                    Job::Ingest { feed, polled, reply } => {
                        next = w.ingest_batch((feed, polled, reply), &mut jobs, &committed);
                    }
                    Job::Articles { limit, reply } => {
                        let _ = reply.send(w.pending_articles(limit));
                    }
                    Job::Article { done, reply } => {
                        next = w.article_batch((done, reply), &mut jobs, &committed);
                    }
                }
            }
            // Copy the WAL into the database now, beside the last deliveries, rather than
            // when the last connection closes, after them.
            w.store.checkpoint();
        })
        .expect("the OS can start a thread")
}

/// Polls applied in one transaction at most: the ones waiting in the queue when the writer
/// gets to them. One commit (and one page-cache reset in SQLite) for many feeds is what keeps
/// the writer ahead of the fetchers on a first poll of thousands of feeds.
const BATCH: usize = 32;

type IngestJob = (usize, Box<Polled>, oneshot::Sender<FeedReport>);

/// How often the writer prunes old stories.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

struct Writer {
    config: Arc<Config>,
    store: Store,
    next_prune: Instant,
    /// What the prune under way has removed so far, while it has steps left.
    pruning: Option<Pruned>,
    /// Consecutive polls the database refused (full disk, I/O error), logged once.
    storage_failures: u32,
    /// Notified after a commit that recorded pending article steps.
    articles: Arc<Notify>,
}

impl Writer {
    /// Applies `first` and the ingest jobs queued behind it (up to [`BATCH`]) in one
    /// transaction, then answers them; returns a job of another kind taken from the queue on the
    /// way. If the batch cannot be committed, none of its polls is stored and each is answered
    /// as failed.
    fn ingest_batch(&mut self, first: IngestJob, jobs: &mut mpsc::Receiver<Job>, committed: &Notify) -> Option<Job> {
        let config = Arc::clone(&self.config);
        // Without a batch (the database is busy beyond the timeout), each poll commits alone;
        // a file that failed its integrity check is not written at all.
        let batched = match self.store.begin_batch() {
            Err(e) if !self.store.met(&e) => {
                let (feed, _, reply) = first;
                let _ = reply.send(self.failed(&config.feeds[feed], Arc::new(e)));
                return None;
            }
            began => began.is_ok(),
        };
        let mut done = Vec::new();
        let mut other = None;
        let (mut trouble, mut wrote) = (false, false);
        let mut job = Some(first);
        while let Some((feed, polled, reply)) = job.take() {
            let episode = self.storage_failures;
            let (report, before) = self.apply(&config.feeds[feed], *polled);
            wrote |= before.is_some();
            let health = before.is_some_and(|state| self.health(&config.feeds[feed], &state, &report));
            // Past storage trouble SQLite may have rolled the batch back: commit what is left.
            trouble = self.storage_failures > episode || self.store.batch_lost();
            done.push((feed, report, health, reply));
            if !batched || trouble || done.len() == BATCH {
                break;
            }
            match jobs.try_recv() {
                Ok(Job::Ingest { feed, polled, reply }) => job = Some((feed, polled, reply)),
                Ok(job) => other = Some(job),
                Err(_) => {}
            }
        }
        let lost = if batched { self.store.commit_batch().err().map(Arc::new) } else { None };
        if lost.is_none() && !trouble && wrote && std::mem::take(&mut self.storage_failures) > 0 {
            info!("the database can be written again; polls resume their schedule");
        }
        for (feed, mut report, health, reply) in done {
            match &lost {
                // A failed poll stays failed; one that was stored is not any more.
                Some(e) if report.result.is_ok() => report = self.failed(&config.feeds[feed], Arc::clone(e)),
                Some(_) => {}
                None => {
                    if health || matches!(report.result, Ok(s) if s.alerts > 0) {
                        committed.notify_one();
                    }
                    if matches!(report.result, Ok(s) if s.articles > 0) {
                        self.articles.notify_one();
                    }
                }
            }
            let _ = reply.send(report);
        }
        other
    }

    /// Queues a health alert when `feed` has now failed for `[poll] alert_after` (once per
    /// failure streak), or when it works again after one; true when one was queued. `before`
    /// is the feed's state as the poll found it: the streak began at its `failing_since`, or
    /// with this poll.
    fn health(&mut self, feed: &Feed, before: &FeedState, report: &FeedReport) -> bool {
        if self.config.health_notify.is_empty() {
            return false;
        }
        let now = unix_now();
        let name = feed.name.as_deref().unwrap_or(&report.url);
        let since = before.failing_since.unwrap_or(now);
        let (alert, alerted_at) = match (&report.result, before.health_alerted_at) {
            (Err(error), None) if now - since >= self.config.poll.alert_after.as_secs() as i64 => {
                (Alert::health(name, &report.url, since, Some(&error.to_string()), now), Some(now))
            }
            (Ok(_), Some(_)) => (Alert::health(name, &report.url, since, None, now), None),
            _ => return false,
        };
        match self.store.queue_health(before.id, &self.config.health_notify, &alert.to_json(), alerted_at, now) {
            Ok(()) => {
                info!(feed = %Redacted(&report.url), title = %alert.title, "feed health alert queued");
                true
            }
            Err(e) => {
                if self.store.met(&e) {
                    warn!(feed = %Redacted(&report.url), error = %e, "cannot queue a feed health alert; trying after the next poll");
                }
                false
            }
        }
    }

    /// Applies `[storage] retain` (and drops similarity features too old to matter) at most
    /// once per [`PRUNE_EVERY`], one step of at most [`PRUNE_STEP`] stories per call while
    /// there is more; a failure is logged and retried next time.
    fn prune_when_due(&mut self) {
        if self.pruning.is_none() {
            if Instant::now() < self.next_prune {
                return;
            }
            self.next_prune = Instant::now() + PRUNE_EVERY;
        }
        let retain = self.config.storage.retain.as_secs() as i64;
        let keep_sketches = 2 * self.config.dedupe.window.as_secs() as i64;
        match self.store.prune(unix_now(), retain, keep_sketches, PRUNE_STEP) {
            Ok(step) => {
                let so_far = self.pruning.take().unwrap_or_default().plus(step);
                if step.more {
                    self.pruning = Some(so_far);
                } else if so_far.deleted + so_far.emptied > 0 {
                    info!(
                        deleted = so_far.deleted,
                        kept_as_keys = so_far.emptied,
                        "pruned stories older than storage.retain"
                    );
                }
            }
            Err(e) => {
                self.pruning = None;
                if self.store.met(&e) {
                    warn!(error = %e, "cannot prune old stories; trying again in an hour");
                }
            }
        }
    }

    /// Every feed's stored state, read in one transaction; feed by feed if that fails, so that
    /// one feed's trouble costs only that feed its validators.
    fn starts(&self) -> Vec<FeedStart> {
        let start = |s: &FeedState| FeedStart { validators: validators(s), gone: s.gone, next_poll: s.next_poll };
        let urls: Vec<String> = self.config.feeds.iter().map(Feed::url).collect();
        match self.store.feed_states(&urls) {
            Ok(states) => return states.iter().map(start).collect(),
            // Nothing can be polled into a damaged file: the engine reports it and stops.
            Err(e) if !self.store.met(&e) => return vec![FeedStart::default(); urls.len()],
            Err(_) => {}
        }
        urls.iter()
            .map(|url| match self.store.feed_state(url) {
                Ok(s) => start(&s),
                Err(e) => {
                    if self.store.met(&e) {
                        warn!(feed = %Redacted(url), error = %e, "cannot read feed state; fetching unconditionally");
                    }
                    FeedStart::default()
                }
            })
            .collect()
    }

    /// Applies one poll; returns what the poll task needs, and the feed's state as the poll
    /// found it (`None` when the database could not be read).
    fn apply(&mut self, feed: &Feed, polled: Polled) -> (FeedReport, Option<FeedState>) {
        let url = feed.url();
        let applied = self.store.feed_state(&url).and_then(|state| Ok((self.try_apply(feed, &state, polled)?, state)));
        let ((result, validators, next), before) = match applied {
            Ok(applied) => applied,
            Err(e) => return (self.failed(feed, Arc::new(e)), None),
        };
        if let Err(reason) = &result {
            warn!(feed = %Redacted(&url), error = %Redacted(&reason.to_string()), "feed poll failed");
        }
        (FeedReport { url, result, unstored: false, validators, next }, Some(before))
    }

    /// The report of a poll the database did not store (rolled back): its stories stay unseen
    /// and its next fetch is unconditional; the feed backs off like a failing one. Storage
    /// trouble is logged once per episode, anything else once per feed.
    fn failed(&mut self, feed: &Feed, e: Arc<StoreError>) -> FeedReport {
        let url = feed.url();
        let unstored = Store::may_be_damaged(&e);
        let reason = PollFailure::Store(Arc::clone(&e));
        if !self.store.met(&e) {
            // A damaged file: the engine reports it and stops.
        } else if Store::is_storage_trouble(&e) {
            self.storage_failures += 1;
            if self.storage_failures == 1 {
                error!(error = %e, "cannot write the database; polls back off and nothing is marked seen until it can be written again");
            }
        } else {
            warn!(feed = %Redacted(&url), error = %Redacted(&reason.to_string()), "feed poll failed");
        }
        let failures = self.storage_failures.clamp(1, 64);
        let seen = Seen::Failure { failures, retry_after: None };
        let next = schedule::plan(&self.config.poll, feed.interval, None, seen).delay;
        FeedReport { url, result: Err(reason), unstored, validators: Validators::default(), next: Some(next) }
    }

    #[allow(clippy::type_complexity)]
    fn try_apply(
        &mut self,
        feed: &Feed,
        state: &FeedState,
        polled: Polled,
    ) -> Result<(Result<IngestStats, PollFailure>, Validators, Option<Duration>), StoreError> {
        let url = feed.url();
        let now = unix_now();
        let mut kept = validators(state);
        if let Some(to) = &polled.moved_to {
            if state.moved_to.as_deref() != Some(to.as_str()) {
                info!(feed = %Redacted(&url), moved_to = %Redacted(to.as_str()), "feed moved permanently; polling its new address from now on");
                self.store.record_moved(state.id, to.as_str())?;
            }
            kept.moved_to = Some(to.clone());
        }
        let hint = polled.hint;
        let (result, validators, seen) = match polled.outcome {
            PollOutcome::NotModified => {
                self.store.record_unchanged(state.id, now, None, None)?;
                (Ok(IngestStats::default()), kept, Seen::Success { gap: None, hint })
            }
            PollOutcome::Unchanged { etag, last_modified } => {
                self.store.record_unchanged(state.id, now, etag.as_deref(), last_modified.as_deref())?;
                let kept = Validators {
                    etag: etag.or(kept.etag),
                    last_modified: last_modified.or(kept.last_modified),
                    ..kept
                };
                (Ok(IngestStats::default()), kept, Seen::Success { gap: None, hint })
            }
            PollOutcome::Failed(e) => {
                let failures = self.store.record_failure(state.id, &e.to_string(), now)?;
                let retry_after = e.retry_after();
                (Err(e.into()), kept, Seen::Failure { failures: failures.clamp(1, 64) as u32, retry_after })
            }
            PollOutcome::Gone => {
                warn!(feed = %Redacted(&url), "feed answered 410 Gone; it is no longer polled (see `wirewatch feeds`)");
                self.store.record_gone(state.id, &PollFailure::Gone.to_string(), now)?;
                return Ok((Err(PollFailure::Gone), kept, None));
            }
            PollOutcome::Parsed { feed: parsed, raised, validators } => {
                let stats = self.ingest(feed, state, &parsed, raised, &validators, now)?;
                let dates: Vec<i64> =
                    parsed.stories.iter().filter_map(|s| s.published.map(|p| p.timestamp())).collect();
                let seen = Seen::Success { gap: schedule::publishing_gap(&dates, now), hint };
                (Ok(stats), Validators { moved_to: kept.moved_to, ..validators }, seen)
            }
        };
        let current = state.interval_secs.map(|s| Duration::from_secs(s.max(0) as u64));
        let plan = schedule::plan(&self.config.poll, feed.interval, current, seen);
        let delay = schedule::jittered(plan.delay);
        self.store.record_plan(state.id, plan.interval.as_secs() as i64, now + delay.as_secs() as i64)?;
        Ok((result, validators, Some(delay)))
    }

    fn ingest(
        &mut self,
        feed: &Feed,
        state: &FeedState,
        parsed: &crate::feed::ParsedFeed,
        mut raised: Vec<Option<Raised>>,
        v: &Validators,
        now: i64,
    ) -> Result<IngestStats, StoreError> {
        let url = feed.url();
        let meta = FetchMeta {
            title: parsed.title.as_deref(),
            etag: v.etag.as_deref(),
            last_modified: v.last_modified.as_deref(),
            content_hash: v.content_hash.as_deref(),
            skipped_items: parsed.skipped(),
        };
        // On a feed's first sight, stories older than the backfill cutoff, or undated, are
        // stored without alerting.
        let backfill_cutoff = (!state.seen_before).then(|| crate::raise::backfill_cutoff(&self.config, now));
        let window = self.config.dedupe.window.as_secs() as i64;
        let config = &self.config;
        let mut name = None;
        let mut outside_backfill = 0usize;
        // Matching here is matching on the parse pool: a panic in it (a bug) fails this poll,
        // whose savepoint unwinding rolls back, and never the writer.
        let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.store.ingest(state.id, &meta, &parsed.stories, now, window, |i, story| {
                if backfill_cutoff.is_some_and(|cut| !crate::raise::within_backfill(story, cut)) {
                    outside_backfill += 1;
                    return Raised::default();
                }
                // Worked out on the parse pool for a feed's first document, and here for any
                // other new story.
                let raised = raised.get_mut(i).and_then(Option::take).unwrap_or_else(|| {
                    let name = name.get_or_insert_with(|| crate::raise::feed_name(feed, parsed));
                    crate::raise::new_story(config, feed, name, story, now)
                });
                counted(raised)
            })
        }));
        let stats = stored.map_err(|_| StoreError::MatchCrashed)??;
        crate::metrics::get().stored(stats.new_stories);
        if backfill_cutoff.is_some() && outside_backfill > 0 {
            let backfill = humantime::format_duration(self.config.poll.backfill);
            info!(
                feed = %Redacted(&url),
                outside_backfill,
                backfill = %backfill,
                "first poll: {outside_backfill} stories older than backfill ({backfill}) or undated were stored without alerting"
            );
        }
        if stats.new_stories > 0 {
            info!(
                feed = %Redacted(&url),
                new_stories = stats.new_stories,
                alerts = stats.alerts,
                already_alerted_in_cluster = stats.clustered,
                "feed polled"
            );
        }
        Ok(stats)
    }
}

/// What the next fetch of a feed needs from its stored state.
fn validators(s: &FeedState) -> Validators {
    Validators {
        etag: s.etag.clone(),
        last_modified: s.last_modified.clone(),
        content_hash: s.content_hash.clone(),
        moved_to: s.moved_to.as_deref().and_then(|u| url::Url::parse(u).ok()),
    }
}

/// `raised`, its matches counted in the metrics (per watch) as the writer stores them.
fn counted(raised: Raised) -> Raised {
    for alert in &raised.alerts {
        crate::metrics::get().matched(&alert.watch);
    }
    raised
}
