//! The article fetcher: takes the pending article steps from the ingest writer, fetches each
//! page under its own limits, extracts it off the async threads, and hands the outcome back to
//! the writer, which re-matches the story and stores both in one transaction.
//!
//! It never takes a feed poll's slot: its fetches have their own global limit
//! (`article_concurrency`) and per-host slots (`per_host` to a host, beside the feed fetches),
//! and its extraction runs on tokio's blocking threads, not the feed parse pool. Each step ends
//! by its deadline (`article_wait` after the poll). A step stays pending (a row) until the
//! writer has committed its outcome, so a restart takes it up again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::{Extracted, Robots, adds_words, extract};
use crate::config::{ArticleSelector, Config};
use crate::ingest::Job;
use crate::poller::{FetchError, FetchLimits, Fetcher};
use crate::store::{ArticleOutcome, PendingArticle, unix_now};

/// How often pending steps are looked for when nothing wakes the fetcher: steps left by an
/// earlier run, and steps whose deadline passed while they waited.
const SWEEP: Duration = Duration::from_secs(30);
/// Steps taken on at once, per allowed fetch: enough to keep every slot busy while the
/// writer answers, few enough that a backlog stays in the database, not in memory.
const BACKLOG_PER_SLOT: usize = 4;
/// The first pause after a host answered 429 or 503 without `Retry-After`; doubled per answer.
const BACKOFF_START: Duration = Duration::from_secs(30);
/// The longest pause a host's answers impose.
const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// The end of one article step, for the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDone {
    pub story_id: i64,
    pub outcome: ArticleOutcome,
    /// The article's text, when it was fetched.
    pub text: Option<String>,
}

/// Why a page gave no article.
#[derive(Debug, thiserror::Error)]
pub enum NoArticle {
    #[error("robots.txt disallows it for {}", super::ROBOTS_AGENT)]
    Refused,
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("extraction crashed: {0}")]
    Crashed(#[source] tokio::task::JoinError),
}

impl NoArticle {
    fn outcome(&self) -> ArticleOutcome {
        match self {
            NoArticle::Refused => ArticleOutcome::Refused,
            NoArticle::Fetch(FetchError::Timeout(_)) => ArticleOutcome::Timeout,
            NoArticle::Fetch(_) | NoArticle::Crashed(_) => ArticleOutcome::Failed,
        }
    }
}

/// Fetches `url` (asking `robots` first, when given) within `deadline` and extracts it on a
/// blocking thread.
pub async fn fetch_and_extract(
    fetcher: &Fetcher,
    robots: Option<&Robots>,
    url: &url::Url,
    deadline: Duration,
    max_body: u64,
    selector: Option<ArticleSelector>,
) -> Result<Extracted, NoArticle> {
    let started = Instant::now();
    if let Some(robots) = robots
        && !robots.allowed(fetcher, url, deadline).await
    {
        return Err(NoArticle::Refused);
    }
    let left = deadline.saturating_sub(started.elapsed());
    let page = fetcher.fetch_page(url, left, max_body).await.map_err(NoArticle::Fetch)?;
    let work = move || extract(&page.bytes, Some(page.url.as_str()), page.charset.as_deref(), selector.as_ref());
    tokio::task::spawn_blocking(work).await.map_err(NoArticle::Crashed)
}

/// What every step shares.
struct Ctx {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    robots: Robots,
    /// `article_concurrency` fetches in all and `per_host` to a host, taken as a feed poll
    /// takes its own; no body is held after its step, so memory is not budgeted here.
    limits: FetchLimits,
    /// Per host, when it may be asked again and how many busy answers in a row it gave.
    backoff: Mutex<HashMap<String, (Instant, u32)>>,
}

/// The running fetcher of `run`, stopped by [`Worker::stop`].
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts fetching pending articles, woken by `wake` when the writer records new ones.
    pub fn start(config: Arc<Config>, fetcher: Arc<Fetcher>, jobs: mpsc::Sender<Job>, wake: Arc<Notify>) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(ctx(config, fetcher), jobs, Some(wake), stopped));
        Worker { stop, task }
    }

    /// Takes up every pending step and returns once none is left (`once`).
    pub async fn drain(config: Arc<Config>, fetcher: Arc<Fetcher>, jobs: mpsc::Sender<Job>) {
        let (_stop, stopped) = watch::channel(false);
        run(ctx(config, fetcher), jobs, None, stopped).await;
    }

    /// Abandons the fetches in flight (their steps stay pending for the next start) and waits
    /// until every sender of writer jobs it held is gone.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            warn!(error = %e, "the article fetcher crashed");
        }
    }
}

fn ctx(config: Arc<Config>, fetcher: Arc<Fetcher>) -> Arc<Ctx> {
    let a = &config.poll.article;
    Arc::new(Ctx {
        limits: FetchLimits::new(a.concurrency, config.poll.per_host, u64::MAX),
        robots: Robots::default(),
        backoff: Mutex::default(),
        config,
        fetcher,
    })
}

/// The loop: keep up to a backlog of steps in flight; with no `wake`, stop once none is left.
async fn run(ctx: Arc<Ctx>, jobs: mpsc::Sender<Job>, wake: Option<Arc<Notify>>, mut stop: watch::Receiver<bool>) {
    let backlog = ctx.config.poll.article.concurrency * BACKLOG_PER_SLOT;
    let mut tasks = JoinSet::new();
    let mut in_flight = HashSet::new();
    // Steps taken since the last sweep: one whose outcome the database refused is taken again
    // at the next sweep (by `once`, not at all), never in a tight loop.
    let mut tried = HashSet::new();
    let mut sweep = tokio::time::interval(SWEEP);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    sweep.tick().await;
    loop {
        if in_flight.len() < backlog {
            let Some(pending) = pending(&jobs, backlog).await else { break };
            for p in pending {
                if tried.insert(p.story_id) {
                    in_flight.insert(p.story_id);
                    tasks.spawn(step(Arc::clone(&ctx), jobs.clone(), p));
                }
            }
        }
        if wake.is_none() && tasks.is_empty() {
            break;
        }
        let woken = async {
            match &wake {
                Some(w) => w.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            _ = woken => {}
            _ = sweep.tick() => {
                if wake.is_some() {
                    tried.retain(|id| in_flight.contains(id));
                }
            }
            Some(done) = tasks.join_next(), if !tasks.is_empty() => match done {
                Ok(id) => { in_flight.remove(&id); }
                Err(e) => warn!(error = %e, "an article step crashed; its story is taken up again after a restart"),
            },
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

/// Up to `limit` pending steps, from the writer; `None` once the writer has stopped.
async fn pending(jobs: &mpsc::Sender<Job>, limit: usize) -> Option<Vec<PendingArticle>> {
    let (reply, rx) = oneshot::channel();
    jobs.send(Job::Articles { limit, reply }).await.ok()?;
    rx.await.ok()
}

/// One story's step, ended by its deadline; returns the story's id once the writer has the
/// outcome.
async fn step(ctx: Arc<Ctx>, jobs: mpsc::Sender<Job>, p: PendingArticle) -> i64 {
    let left = p.due - unix_now();
    let (outcome, text) = if left <= 0 {
        (ArticleOutcome::Expired, None)
    } else {
        let deadline = Duration::from_secs(left as u64);
        tokio::time::timeout(deadline, ctx.fetch(&p)).await.unwrap_or((ArticleOutcome::Timeout, None))
    };
    crate::metrics::get().article(outcome.label());
    debug!(story = p.story_id, url = %p.url, outcome = outcome.label(), "article step ended");
    let (reply, rx) = oneshot::channel();
    let done = ArticleDone { story_id: p.story_id, outcome, text };
    if jobs.send(Job::Article { done, reply }).await.is_ok() {
        let _ = rx.await;
    }
    p.story_id
}

impl Ctx {
    async fn fetch(&self, p: &PendingArticle) -> (ArticleOutcome, Option<String>) {
        let Ok(url) = url::Url::parse(&p.url) else { return (ArticleOutcome::Failed, None) };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let selector = self.config.feed(&p.feed).and_then(|f| f.article_selector.clone());
        // A host's pause is waited out holding no slot; one set while this step waited for
        // its slots is waited out too, the slots given back meanwhile.
        let _permit = loop {
            if let Some(until) = self.paused(&host) {
                tokio::time::sleep_until(until).await;
            }
            let permit = self.limits.acquire(Some(&host)).await;
            if self.paused(&host).is_none() {
                break permit;
            }
        };
        let a = &self.config.poll.article;
        match fetch_and_extract(&self.fetcher, Some(&self.robots), &url, a.timeout, a.max_body, selector).await {
            Ok(found) => {
                self.answered(&host, None);
                if adds_words(&found.body, p.feed_words) {
                    (ArticleOutcome::Fetched, Some(found.body))
                } else {
                    (ArticleOutcome::Short, None)
                }
            }
            Err(why) => {
                if let NoArticle::Fetch(FetchError::Busy { retry_after, .. }) = &why {
                    self.answered(&host, Some(*retry_after));
                }
                debug!(url = %p.url, error = %why, "no article");
                (why.outcome(), None)
            }
        }
    }

    /// When `host` may be asked again, if it asked for a pause.
    fn paused(&self, host: &str) -> Option<Instant> {
        let backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        backoff.get(host).map(|(until, _)| *until).filter(|until| *until > Instant::now())
    }

    /// Records a host's answer: `None` a normal one, `Some(retry_after)` a busy one.
    fn answered(&self, host: &str, busy: Option<Option<Duration>>) {
        let mut backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        let Some(retry_after) = busy else {
            backoff.remove(host);
            return;
        };
        let streak = backoff.get(host).map_or(0, |(_, n)| *n) + 1;
        let doubled = BACKOFF_START.saturating_mul(1 << (streak - 1).min(16));
        let pause = retry_after.unwrap_or(doubled).min(BACKOFF_MAX);
        backoff.insert(host.to_string(), (Instant::now() + pause, streak));
    }
}
