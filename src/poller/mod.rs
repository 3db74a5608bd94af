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

use crate::config::Config;
use crate::feed::{self, ParsedFeed};
use crate::raise;
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
    /// known. The writer works out [`crate::raise::new_story`] for any new story left without it.
    Parsed {
        /// Boxed: a parsed feed is far larger than the other outcomes.
        feed: Box<ParsedFeed>,
        raised: Vec<Option<Raised>>,
        validators: Validators,
    },
    Failed(PollError),
    /// HTTP 410: the feed is removed for good.
    Gone,
}

/// Why a poll failed: the fetch, or the document it brought.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Parse(#[from] feed::ParseError),
    #[error("parsing took longer than {}s; skipped", .0.as_secs())]
    ParseTimeout(Duration),
    #[error("parser crashed: {0}")]
    ParserCrashed(#[source] tokio::task::JoinError),
}

impl PollError {
    /// How long the server asked us to wait before polling again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Fetch(e) => e.retry_after(),
            _ => None,
        }
    }
}

impl PollOutcome {
    /// Whether this outcome holds a parsed feed (and so memory worth bounding).
    pub fn is_parsed(&self) -> bool {
        matches!(self, PollOutcome::Parsed { .. })
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
        Err(FetchError::Gone) => return Polled { outcome: PollOutcome::Gone, moved_to: None, hint: None },
        Err(e) => return Polled { outcome: PollOutcome::Failed(e.into()), moved_to: None, hint: None },
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
        Err(e) => PollOutcome::Failed(e),
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
) -> Result<(ParsedFeed, Vec<Option<Raised>>), PollError> {
    let base = config.feeds[index].url();
    let parsed = blocking(PARSE_BUDGET, move || {
        let bytes = feed::apply_http_charset(&bytes, charset.as_deref());
        feed::parse(&bytes, Some(&base))
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
        let name = raise::feed_name(f, &parsed);
        let now = crate::store::unix_now();
        let cutoff = raise::backfill_cutoff(&config, now);
        let raised = parsed
            .stories
            .iter()
            .map(|s| raise::within_backfill(s, cutoff).then(|| raise::new_story(&config, f, &name, s, now)))
            .collect();
        (parsed, raised)
    })
    .await?;
    Ok((parsed, raised))
}

/// Runs `work` on the blocking pool holding one of the per-core slots, waiting at most `budget`.
async fn blocking<T: Send + 'static>(
    budget: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PollError> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get)))
    });
    let permit = Arc::clone(slots).acquire_owned().await.expect("the parse slots are never closed");
    let task = tokio::task::spawn_blocking(move || {
        // The permit lives as long as the work, even work that outruns its budget.
        let _permit = permit;
        work()
    });
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(join)) => Err(PollError::ParserCrashed(join)),
        Err(_) => Err(PollError::ParseTimeout(budget)),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::path::Path;

    use super::*;

    fn config() -> Arc<Config> {
        let text = "[[feed]]\nurl = \"https://a.example/rss\"\n";
        Arc::new(Config::from_str(text, Path::new("c.toml")).unwrap())
    }

    #[tokio::test]
    async fn a_page_that_is_no_feed_fails_with_the_parse_error_kept() {
        let page = b"<!doctype html><html><head><title>Home</title></head><body></body></html>".to_vec();
        let e = parse(page, None, config(), 0, true).await.unwrap_err();
        assert!(matches!(e, PollError::Parse(feed::ParseError::Html)), "{e:?}");
        assert_eq!(e.to_string(), feed::ParseError::Html.to_string());
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn a_busy_server_s_wait_survives_into_the_poll_error() {
        let wait = Some(Duration::from_secs(120));
        let e = PollError::from(FetchError::Busy { status: 429, retry_after: wait });
        assert_eq!(e.retry_after(), wait);
        assert!(e.source().is_none(), "a status has no cause beyond itself");
        assert_eq!(e.to_string(), "HTTP status 429 (Retry-After: 120s)");
    }
}
