//! Polling one feed: fetch its bytes, then parse them off the async threads.
//!
//! Owns HTTP and file reads of feeds; never touches the database (the ingest writer does).

mod fetch;

pub use fetch::{FetchError, Fetched, Fetcher, USER_AGENT, Validators};

use crate::config::Feed;
use crate::feed::{self, ParsedFeed};

/// The result of polling one feed, ready for the ingest writer.
#[derive(Debug)]
pub enum PollOutcome {
    NotModified,
    Parsed { feed: ParsedFeed, etag: Option<String>, last_modified: Option<String> },
    Failed(String),
}

/// Fetches and parses one feed. Failures come back as [`PollOutcome::Failed`] with the reason.
pub async fn poll_feed(fetcher: &Fetcher, feed: &Feed, validators: &Validators) -> PollOutcome {
    let fetched = match fetcher.fetch(&feed.location, validators).await {
        Ok(f) => f,
        Err(e) => return PollOutcome::Failed(e.to_string()),
    };
    let (bytes, etag, last_modified) = match fetched {
        Fetched::NotModified => return PollOutcome::NotModified,
        Fetched::Body { bytes, etag, last_modified } => (bytes, etag, last_modified),
    };
    let base = feed.url();
    let parsed = tokio::task::spawn_blocking(move || feed::parse(&bytes, Some(&base))).await;
    match parsed {
        Ok(Ok(feed)) => PollOutcome::Parsed { feed, etag, last_modified },
        Ok(Err(e)) => PollOutcome::Failed(e.to_string()),
        Err(join) => PollOutcome::Failed(format!("parser crashed: {join}")),
    }
}
