//! Fetching feed bytes: the one place that builds an HTTP client.
//!
//! Conditional GET with the stored validators, a total deadline that a slow server cannot
//! stretch, and a body cap counted after decompression. Local files are read with the same cap.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use tokio::io::AsyncReadExt;

use crate::config::{FeedLocation, Poll};

/// The User-Agent every request carries.
pub const USER_AGENT: &str = concat!("wirewatch/", env!("CARGO_PKG_VERSION"), " (+", env!("CARGO_PKG_REPOSITORY"), ")");
/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

/// What a fetch brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// HTTP 304: nothing changed since the validators were stored.
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Validators from the last successful fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("body larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("cannot read file {path}: {reason}")]
    File { path: String, reason: String },
}

/// One HTTP client shared by every fetch.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body: u64,
}

impl Fetcher {
    pub fn new(poll: &Poll) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(poll.connect_timeout)
            .timeout(poll.timeout)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))?;
        Ok(Fetcher { client, timeout: poll.timeout, max_body: poll.max_body })
    }

    pub async fn fetch(&self, location: &FeedLocation, validators: &Validators) -> Result<Fetched, FetchError> {
        let work = async {
            match location {
                FeedLocation::Http(url) => self.fetch_http(url, validators).await,
                FeedLocation::File(path) => self.read_file(path).await,
            }
        };
        tokio::time::timeout(self.timeout, work).await.unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    async fn fetch_http(&self, url: &url::Url, v: &Validators) -> Result<Fetched, FetchError> {
        let mut req = self.client.get(url.clone());
        if let Some(etag) = &v.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &v.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
        let mut resp = req.send().await.map_err(|e| self.classify(e))?;
        let status = resp.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let (etag, last_modified) = validators(resp.headers());
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(e))? {
            if (bytes.len() + chunk.len()) as u64 > self.max_body {
                return Err(FetchError::TooLarge(self.max_body));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, etag, last_modified })
    }

    async fn read_file(&self, path: &Path) -> Result<Fetched, FetchError> {
        let file_err = |e: std::io::Error| FetchError::File { path: path.display().to_string(), reason: e.to_string() };
        let file = tokio::fs::File::open(path).await.map_err(file_err)?;
        let mut bytes = Vec::new();
        file.take(self.max_body + 1).read_to_end(&mut bytes).await.map_err(file_err)?;
        if bytes.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge(self.max_body));
        }
        Ok(Fetched::Body { bytes, etag: None, last_modified: None })
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_connect() {
            FetchError::Connect(error_chain(&e))
        } else {
            FetchError::Request(error_chain(&e))
        }
    }
}

fn validators(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let get = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string);
    (get(ETAG), get(LAST_MODIFIED))
}

/// An error with its causes, `outer: inner: innermost`, so a log line says what really failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
