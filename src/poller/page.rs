//! Fetching a web page that is not a feed (an article, a robots.txt) with the feed client:
//! the same proxy, user agent and connection pool, a deadline and a size cap of the page's
//! own, redirects followed as for a feed, 429 and 503 reported with their `Retry-After`. A 410
//! is an error like any other status here: only a feed is dropped for good by it.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

use super::fetch::{Followed, charset, header, success};
use super::{FetchError, Fetcher};

/// A page as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub bytes: Vec<u8>,
    /// Where the page was found, after redirects.
    pub url: url::Url,
    /// The `charset` of its `Content-Type` header, if any.
    pub charset: Option<String>,
}

impl Fetcher {
    /// GETs `url` within `deadline` (connection and redirects included), reading at most
    /// `max_body` bytes after decompression.
    pub async fn fetch_page(&self, url: &url::Url, deadline: Duration, max_body: u64) -> Result<Page, FetchError> {
        let work = async {
            let Followed { mut resp, url, .. } = self.follow(url, |url| self.client.get(url).timeout(deadline)).await?;
            success(resp.status(), resp.headers())?;
            let charset = header(resp.headers(), CONTENT_TYPE).and_then(charset);
            let bytes = self.read_body(&mut resp, max_body).await?;
            Ok(Page { bytes, url, charset })
        };
        tokio::time::timeout(deadline, work).await.unwrap_or(Err(FetchError::Timeout(deadline)))
    }
}
