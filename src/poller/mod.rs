//! Polling one feed: fetch its bytes, then parse them off the async threads.
//!
//! Owns HTTP and file reads of feeds; never touches the database (the ingest writer does).
//! Parsing runs on the blocking pool, at most one parse per core at a time, each within
//! [`PARSE_BUDGET`]; a body identical to the last one parsed is not parsed again.

mod fetch;
pub mod hosts;
pub mod schedule;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

pub use fetch::{Fetch, FetchError, Fetched, Fetcher, MAX_REDIRECTS, USER_AGENT, Validators};
pub use hosts::FetchLimits;

use crate::config::Feed;
use crate::feed::{self, ParsedFeed};

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
    /// New validators (and the body's hash) with the stories.
    Parsed {
        feed: ParsedFeed,
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
    fn failed(reason: impl Into<String>) -> PollOutcome {
        PollOutcome::Failed { reason: reason.into(), retry_after: None }
    }
}

/// Fetches (holding a slot from `limits` only while fetching) and parses one feed. Failures
/// come back as outcomes with the reason.
pub async fn poll_feed(fetcher: &Fetcher, limits: &FetchLimits, feed: &Feed, validators: &Validators) -> Polled {
    let fetched = {
        let host = match &feed.location {
            crate::config::FeedLocation::Http(url) => validators.moved_to.as_ref().unwrap_or(url).host_str(),
            crate::config::FeedLocation::File(_) => None,
        };
        let _permit = limits.acquire(host).await;
        fetcher.fetch(&feed.location, validators).await
    };
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
    let hash = format!("{:x}", Sha256::digest(&bytes));
    if validators.content_hash.as_deref() == Some(hash.as_str()) {
        return Polled { outcome: PollOutcome::Unchanged { etag, last_modified }, moved_to, hint: fresh_for };
    }
    let base = feed.url();
    let outcome = match parse(bytes, charset, base).await {
        Ok(parsed) => {
            let hint = parsed.refresh.into_iter().chain(fresh_for).max();
            let validators = Validators { etag, last_modified, content_hash: Some(hash), moved_to: moved_to.clone() };
            return Polled { outcome: PollOutcome::Parsed { feed: parsed, validators }, moved_to, hint };
        }
        Err(reason) => PollOutcome::failed(reason),
    };
    Polled { outcome, moved_to, hint: fresh_for }
}

/// Parses on the blocking pool, one parse per core at a time, within [`PARSE_BUDGET`].
async fn parse(bytes: Vec<u8>, charset: Option<String>, base: String) -> Result<ParsedFeed, String> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get)))
    });
    let permit = Arc::clone(slots).acquire_owned().await.map_err(|_| "parser pool closed".to_string())?;
    let task = tokio::task::spawn_blocking(move || {
        // The permit lives as long as the parse, even one that outruns its budget.
        let _permit = permit;
        let bytes = feed::apply_http_charset(&bytes, charset.as_deref());
        feed::parse(&bytes, Some(&base))
    });
    match tokio::time::timeout(PARSE_BUDGET, task).await {
        Ok(Ok(Ok(feed))) => Ok(feed),
        Ok(Ok(Err(e))) => Err(e.to_string()),
        Ok(Err(join)) => Err(format!("parser crashed: {join}")),
        Err(_) => Err(format!("parsing took longer than {}s; skipped", PARSE_BUDGET.as_secs())),
    }
}
