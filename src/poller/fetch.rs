//! Fetching feed bytes: the one place that builds an HTTP client.
//!
//! Conditional GET with the stored validators, a total deadline that a slow server cannot
//! stretch, and a body cap counted after decompression. Redirects are followed here (at most
//! [`MAX_REDIRECTS`]) so that a chain of only permanent ones (301, 308) can move the feed.
//! Local files are read with the same cap.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, EXPIRES, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use tokio::io::AsyncReadExt;

use crate::config::{FeedLocation, Poll};

/// The User-Agent every request carries.
pub const USER_AGENT: &str = concat!("wirewatch/", env!("CARGO_PKG_VERSION"), " (+", env!("CARGO_PKG_REPOSITORY"), ")");
/// Redirects followed before a fetch fails.
pub const MAX_REDIRECTS: usize = 5;

/// What a fetch brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub body: Fetched,
    /// Where the feed now lives, when every redirect on the way was permanent (301, 308).
    pub moved_to: Option<url::Url>,
    /// How long the server says the answer stays fresh (`Cache-Control: max-age`, `Expires`).
    pub fresh_for: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// HTTP 304: nothing changed since the validators were stored.
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
        /// The `charset` of the `Content-Type` header, if any.
        charset: Option<String>,
    },
}

/// What the last polls left for the next one: HTTP validators, the body's hash, a new address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the last body parsed: an identical body is not parsed again.
    pub content_hash: Option<String>,
    /// Where the feed moved (a permanent redirect), fetched instead of the configured URL.
    pub moved_to: Option<url::Url>,
}

/// Why a fetch failed. Each kind keeps its cause as its source; the message shows the whole
/// chain, so a log line says what really failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    /// 429 or 503, with how long the server asked us to wait.
    #[error("HTTP status {status}{}", retry_after.map(|d| format!(" (Retry-After: {}s)", d.as_secs())).unwrap_or_default())]
    Busy { status: u16, retry_after: Option<Duration> },
    #[error("HTTP status 410 Gone: the feed was removed for good; it is no longer polled")]
    Gone,
    #[error(transparent)]
    Redirect(#[from] RedirectError),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("body larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("connection failed: {}", crate::error_chain(.0))]
    Connect(#[source] reqwest::Error),
    #[error("request failed: {}", crate::error_chain(.0))]
    Request(#[source] reqwest::Error),
    /// The HTTP client could not be built (the proxy URL, the TLS setup).
    #[error("cannot build the HTTP client: {}", crate::error_chain(.0))]
    Client(#[source] reqwest::Error),
    #[error("cannot read file {}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    /// How long the server asked us to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Why a chain of redirects led nowhere.
#[derive(Debug, thiserror::Error)]
pub enum RedirectError {
    #[error("more than {MAX_REDIRECTS} redirects (last to {0})")]
    TooMany(url::Url),
    #[error("redirect from {0} without a Location header")]
    NoLocation(url::Url),
    #[error("bad redirect Location {location:?}: {source}")]
    BadLocation {
        location: String,
        #[source]
        source: url::ParseError,
    },
    #[error("redirect to a non-HTTP URL: {0}")]
    NotHttp(url::Url),
}

/// One HTTP client shared by every fetch.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(super) client: reqwest::Client,
    timeout: Duration,
    max_body: u64,
}

impl Fetcher {
    pub fn new(poll: &Poll) -> Result<Fetcher, FetchError> {
        crate::install_crypto();
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(poll.connect_timeout)
            .timeout(poll.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(proxy) = &poll.proxy {
            builder = builder.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(FetchError::Client)?);
        }
        let client = builder.build().map_err(FetchError::Client)?;
        Ok(Fetcher { client, timeout: poll.timeout, max_body: poll.max_body })
    }

    /// Fetches the feed at `location` (or at `moved_to`, where it has moved).
    pub async fn fetch(&self, location: &FeedLocation, validators: &Validators) -> Result<Fetch, FetchError> {
        let work = async {
            match location {
                FeedLocation::Http(url) => {
                    self.fetch_http(validators.moved_to.as_ref().unwrap_or(url), validators).await
                }
                FeedLocation::File(path) => self.read_file(path).await,
            }
        };
        tokio::time::timeout(self.timeout, work).await.unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    async fn fetch_http(&self, start: &url::Url, v: &Validators) -> Result<Fetch, FetchError> {
        let conditional = |url| {
            let mut req = self.client.get(url);
            if let Some(etag) = &v.etag {
                req = req.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(IF_MODIFIED_SINCE, lm);
            }
            req
        };
        let Followed { resp, url, permanent } = self.follow(start, conditional).await?;
        let moved_to = (permanent && url != *start).then_some(url);
        self.answer(resp, moved_to).await
    }

    /// Sends the request `request` builds for `start`, and for each redirect's target in turn
    /// (at most [`MAX_REDIRECTS`]), up to the first answer that is not a redirect (304 is one).
    pub(super) async fn follow(
        &self,
        start: &url::Url,
        request: impl Fn(url::Url) -> reqwest::RequestBuilder,
    ) -> Result<Followed, FetchError> {
        let mut url = start.clone();
        let mut permanent = true;
        for _ in 0..=MAX_REDIRECTS {
            let resp = request(url.clone()).send().await.map_err(|e| self.classify(e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                permanent &= matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT);
                url = next_location(&url, resp.headers())?;
                continue;
            }
            return Ok(Followed { resp, url, permanent });
        }
        Err(RedirectError::TooMany(url).into())
    }

    async fn answer(&self, mut resp: reqwest::Response, moved_to: Option<url::Url>) -> Result<Fetch, FetchError> {
        let status = resp.status();
        let headers = resp.headers();
        let fresh_for = freshness(headers);
        match status {
            StatusCode::NOT_MODIFIED => return Ok(Fetch { body: Fetched::NotModified, moved_to, fresh_for }),
            StatusCode::GONE => return Err(FetchError::Gone),
            _ => success(status, headers)?,
        }
        let (etag, last_modified) = validators(headers);
        let charset = header(headers, CONTENT_TYPE).and_then(charset);
        let bytes = self.read_body(&mut resp, self.max_body).await?;
        Ok(Fetch { body: Fetched::Body { bytes, etag, last_modified, charset }, moved_to, fresh_for })
    }

    /// The body of `resp`, at most `max_body` bytes after decompression.
    pub(super) async fn read_body(&self, resp: &mut reqwest::Response, max_body: u64) -> Result<Vec<u8>, FetchError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(e))? {
            if (bytes.len() + chunk.len()) as u64 > max_body {
                return Err(FetchError::TooLarge(max_body));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    async fn read_file(&self, path: &Path) -> Result<Fetch, FetchError> {
        let file_err = |source| FetchError::File { path: path.to_path_buf(), source };
        let file = tokio::fs::File::open(path).await.map_err(file_err)?;
        let mut bytes = Vec::new();
        file.take(self.max_body.saturating_add(1)).read_to_end(&mut bytes).await.map_err(file_err)?;
        if bytes.len() as u64 > self.max_body {
            return Err(FetchError::TooLarge(self.max_body));
        }
        let body = Fetched::Body { bytes, etag: None, last_modified: None, charset: None };
        Ok(Fetch { body, moved_to: None, fresh_for: None })
    }

    pub(super) fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_connect() {
            FetchError::Connect(e)
        } else {
            FetchError::Request(e)
        }
    }
}

/// The answer a chain of redirects ended at.
pub(super) struct Followed {
    pub resp: reqwest::Response,
    /// The URL that gave the answer.
    pub url: url::Url,
    /// Whether every redirect on the way was permanent (301, 308); true when there was none.
    pub permanent: bool,
}

/// `Ok` for a success; 429 and 503 as [`FetchError::Busy`] with their `Retry-After`, any
/// other status as [`FetchError::Status`].
pub(super) fn success(status: StatusCode, headers: &HeaderMap) -> Result<(), FetchError> {
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            let retry_after = header(headers, RETRY_AFTER).and_then(retry_after);
            Err(FetchError::Busy { status: status.as_u16(), retry_after })
        }
        s if !s.is_success() => Err(FetchError::Status(s.as_u16())),
        _ => Ok(()),
    }
}

/// The absolute URL a redirect points to.
fn next_location(from: &url::Url, headers: &HeaderMap) -> Result<url::Url, RedirectError> {
    let location =
        headers.get(LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| RedirectError::NoLocation(from.clone()))?;
    let next =
        from.join(location).map_err(|source| RedirectError::BadLocation { location: location.to_string(), source })?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RedirectError::NotHttp(next));
    }
    Ok(next)
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub(crate) fn retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    Some(Duration::from_secs(seconds_until(v)?.max(0) as u64))
}

/// Seconds from now until an HTTP date (negative when it has passed).
fn seconds_until(http_date: &str) -> Option<i64> {
    let at = chrono::DateTime::parse_from_rfc2822(http_date.trim()).ok()?;
    Some(at.timestamp() - chrono::Utc::now().timestamp())
}

/// A header's value, when it is text.
pub(super) fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How long the answer stays fresh: `Cache-Control: max-age`, else `Expires`.
fn freshness(headers: &HeaderMap) -> Option<Duration> {
    let max_age = header(headers, CACHE_CONTROL).and_then(|cc| {
        cc.split(',')
            .find_map(|d| d.trim().strip_prefix("max-age=").and_then(|n| n.trim_matches('"').parse::<u64>().ok()))
    });
    if let Some(secs) = max_age {
        return Some(Duration::from_secs(secs));
    }
    let secs = seconds_until(header(headers, EXPIRES)?)?;
    (secs > 0).then(|| Duration::from_secs(secs as u64))
}

/// The charset parameter of a `Content-Type` value.
pub(super) fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    })
}

fn validators(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let get = |name| header(headers, name).map(str::to_string);
    (get(ETAG), get(LAST_MODIFIED))
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    async fn fetch(location: FeedLocation) -> FetchError {
        let fetcher = Fetcher::new(&Poll::default()).expect("a default client builds");
        fetcher.fetch(&location, &Validators::default()).await.expect_err("nothing to fetch")
    }

    #[tokio::test]
    async fn a_refused_connection_keeps_reqwests_error_as_its_source() {
        // A port just freed: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/feed.xml")).unwrap();
        let e = fetch(FeedLocation::Http(url)).await;
        assert!(matches!(e, FetchError::Connect(_)), "{e:?}");
        assert!(e.source().and_then(|s| s.downcast_ref::<reqwest::Error>()).is_some_and(reqwest::Error::is_connect));
        assert!(e.to_string().starts_with("connection failed: "), "{e}");
    }

    #[tokio::test]
    async fn a_missing_file_keeps_its_io_error_and_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.xml");
        let e = fetch(FeedLocation::File(path.clone())).await;
        let io = e.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("the io error is kept");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }

    #[test]
    fn a_bad_redirect_location_keeps_the_url_parse_error() {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, "http://[::1".parse().unwrap());
        let from = url::Url::parse("http://127.0.0.1/feed").unwrap();
        let e = FetchError::from(next_location(&from, &headers).unwrap_err());
        assert!(e.source().and_then(|s| s.downcast_ref::<url::ParseError>()).is_some(), "{e:?}");
        assert!(e.to_string().starts_with("bad redirect Location \"http://[::1\""), "{e}");
    }
}
