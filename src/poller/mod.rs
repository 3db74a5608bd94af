//! Polling one feed: fetch its bytes, then parse them off the async threads.
//!
//! Owns HTTP and file reads of feeds; never touches the database (the ingest writer does).
//! Parsing runs on the blocking pool, at most one parse per core at a time, each within
//! [`PARSE_BUDGET`]; a body identical to the last one parsed is not parsed again.

mod fetch;
pub mod hosts;
mod page;
pub mod schedule;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::digest::hex;
use tokio::sync::Semaphore;

pub(crate) use fetch::retry_after;
pub use fetch::{Fetch, FetchError, Fetched, Fetcher, MAX_REDIRECTS, USER_AGENT, Validators};
pub use hosts::{FetchLimits, FetchPermit};
pub use page::Page;

use crate::alert::story_alerts;
use crate::config::Config;
use crate::feed::{self, ParsedFeed};
use crate::store::Raised;

/// Longest a single parse may take before the poll is reported failed.
pub const PARSE_BUDGET: Duration = Duration::from_secs(20);

/// The result of polling one feed, ready for the ingest writer.
#[derive(Debug)]
pub struct Polled {
    pub outcome: PollOutcome,
    /// Where the feed has moved for good (301 or 308 all the way).
    pub moved_to: Option<url::Url>,
    /// The longest freshness the feed or its server claimed (a floor for the next poll).
    pub hint: Option<Duration>,
}

#[derive(Debug)]
pub enum PollOutcome {
    /// HTTP 304.
    NotModified,
    /// A body byte-identical to the last one parsed; validators as now served.
    Unchanged {
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// New validators (and the body's hash) with the stories. For a feed never parsed before,
    /// where every story is new, `raised` holds what each story would raise (its alerts),
    /// worked out here on the parse pool, except for stories too old to
    /// alert on first sight. For a feed parsed before it is empty: most of its stories are
    /// known. The writer works out [`raised`] for any new story left without it.
    Parsed {
        /// Boxed: a parsed feed is far larger than the other outcomes.
        feed: Box<ParsedFeed>,
        raised: Vec<Option<Raised>>,
        validators: Validators,
    },
    Failed {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// HTTP 410: the feed is removed for good.
    Gone(String),
}

impl PollOutcome {
    /// Whether this outcome holds a parsed feed (and so memory worth bounding).
    pub fn is_parsed(&self) -> bool {
        matches!(self, PollOutcome::Parsed { .. })
    }

    fn failed(reason: impl Into<String>) -> PollOutcome {
        PollOutcome::Failed { reason: reason.into(), retry_after: None }
    }
}

/// The host a feed is fetched from (its new address, once moved); `None` for a local file.
pub fn host_of<'a>(feed: &'a crate::config::Feed, validators: &'a Validators) -> Option<&'a str> {
    match &feed.location {
        crate::config::FeedLocation::Http(url) => validators.moved_to.as_ref().unwrap_or(url).host_str(),
        crate::config::FeedLocation::File(_) => None,
    }
}

/// Fetches and parses one feed, under a `permit` from [`FetchLimits::acquire`]: its host slot
/// is released once the fetch is done; the caller keeps the global slot until the result is
/// handed on. Failures come back as outcomes with the reason.
pub async fn poll_feed(
    fetcher: &Fetcher,
    permit: &mut FetchPermit,
    config: &Arc<Config>,
    index: usize,
    validators: &Validators,
) -> Polled {
    let feed = &config.feeds[index];
    let started = std::time::Instant::now();
    let fetched = fetcher.fetch(&feed.location, validators).await;
    permit.release_host();
    let outcome = match &fetched {
        Ok(Fetch { body: Fetched::NotModified, .. }) => "not_modified",
        Ok(_) => "ok",
        Err(FetchError::Gone) => "gone",
        Err(_) => "failed",
    };
    crate::metrics::get().fetched(outcome, started.elapsed());
    let fetched = match fetched {
        Ok(f) => f,
        Err(FetchError::Gone) => {
            return Polled { outcome: PollOutcome::Gone(FetchError::Gone.to_string()), moved_to: None, hint: None };
        }
        Err(e) => {
            let retry_after = match &e {
                FetchError::Busy { retry_after, .. } => *retry_after,
                _ => None,
            };
            let outcome = PollOutcome::Failed { reason: e.to_string(), retry_after };
            return Polled { outcome, moved_to: None, hint: None };
        }
    };
    let Fetch { body, moved_to, fresh_for } = fetched;
    let (bytes, etag, last_modified, charset) = match body {
        Fetched::NotModified => return Polled { outcome: PollOutcome::NotModified, moved_to, hint: fresh_for },
        Fetched::Body { bytes, etag, last_modified, charset } => (bytes, etag, last_modified, charset),
    };
    // Charged before parsing, released when the permit goes (once the writer has applied the
    // feed): `[poll] memory` bounds what waits, whatever `concurrency` is.
    permit.hold_body(bytes.len()).await;
    let hash = hex(&Sha256::digest(&bytes));
    if validators.content_hash.as_deref() == Some(hash.as_str()) {
        return Polled { outcome: PollOutcome::Unchanged { etag, last_modified }, moved_to, hint: fresh_for };
    }
    let first_sight = validators.content_hash.is_none();
    let outcome = match parse(bytes, charset, Arc::clone(config), index, first_sight).await {
        Ok((parsed, raised)) => {
            for repair in &parsed.repairs {
                tracing::warn!(feed = %feed.url(), "{repair}");
            }
            let hint = parsed.refresh.into_iter().chain(fresh_for).max();
            let validators = Validators { etag, last_modified, content_hash: Some(hash), moved_to: moved_to.clone() };
            return Polled {
                outcome: PollOutcome::Parsed { feed: Box::new(parsed), raised, validators },
                moved_to,
                hint,
            };
        }
        Err(reason) => PollOutcome::failed(reason),
    };
    Polled { outcome, moved_to, hint: fresh_for }
}

/// Parses on the blocking pool, one parse per core at a time, within [`PARSE_BUDGET`]. On a
/// feed's `first_sight` the stories' dedupe keys and matches are worked out there too, so the
/// writer only stores them; otherwise the writer works them out for the stories it needs them
/// for.
async fn parse(
    bytes: Vec<u8>,
    charset: Option<String>,
    config: Arc<Config>,
    index: usize,
    first_sight: bool,
) -> Result<(ParsedFeed, Vec<Option<Raised>>), String> {
    let base = config.feeds[index].url();
    let parsed = blocking(PARSE_BUDGET, move || {
        let bytes = feed::apply_http_charset(&bytes, charset.as_deref());
        feed::parse(&bytes, Some(&base)).map_err(|e| e.to_string())
    })
    .await??;
    if !first_sight {
        return Ok((parsed, Vec::new()));
    }
    let (parsed, raised) = blocking(Duration::MAX, move || {
        // Every story is new: its dedupe keys will be stored, so work them out here too.
        for s in &parsed.stories {
            s.canon_key();
            s.text_key();
        }
        let f = &config.feeds[index];
        let name = feed_name(f, &parsed);
        let cutoff = backfill_cutoff(&config, crate::store::unix_now());
        let raised =
            parsed.stories.iter().map(|s| within_backfill(s, cutoff).then(|| raised(&config, f, &name, s))).collect();
        (parsed, raised)
    })
    .await?;
    Ok((parsed, raised))
}

/// Stories published before this (Unix seconds) do not alert on a feed's first sight.
pub fn backfill_cutoff(config: &Config, now: i64) -> i64 {
    now - config.poll.backfill.as_secs() as i64
}

/// Whether `story` may alert on its feed's first sight: dated, and not before `cutoff`.
pub fn within_backfill(story: &feed::Story, cutoff: i64) -> bool {
    story.published.is_some_and(|p| p.timestamp() >= cutoff)
}

/// The name alerts give `feed` as `parsed` titles it (see [`crate::config::feed_name`]).
pub fn feed_name(feed: &crate::config::Feed, parsed: &ParsedFeed) -> String {
    crate::config::feed_name(Some(feed), parsed.title.as_deref(), &feed.url())
}

/// What a story would raise: its alerts, whether they are clustered across feeds, and when its
/// article step ends if it has one.
pub fn raised(config: &Config, feed: &crate::config::Feed, name: &str, story: &feed::Story) -> Raised {
    let alerts = story_alerts(config, feed, name, story);
    let article_due = crate::article::wanted(&config.poll.article, feed, story)
        .then(|| crate::store::unix_now() + config.poll.article.wait.as_secs() as i64);
    Raised { alerts, cluster: config.dedupe.cross_feed, article_due }
}

/// Runs `work` on the blocking pool holding one of the per-core slots, waiting at most `budget`.
async fn blocking<T: Send + 'static>(budget: Duration, work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get)))
    });
    let permit = Arc::clone(slots).acquire_owned().await.map_err(|_| "parser pool closed".to_string())?;
    let task = tokio::task::spawn_blocking(move || {
        // The permit lives as long as the work, even work that outruns its budget.
        let _permit = permit;
        work()
    });
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(join)) => Err(format!("parser crashed: {join}")),
        Err(_) => Err(format!("parsing took longer than {}s; skipped", budget.as_secs())),
    }
}
