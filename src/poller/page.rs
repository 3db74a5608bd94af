//! Fetching a web page that is not a feed (an article, a robots.txt) with the feed client:
//! the same proxy, user agent and connection pool, a deadline and a size cap of the page's
//! own, redirects followed here, 429 and 503 reported with their `Retry-After`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::fetch::{charset, header, next_location, retry_after};
use super::{FetchError, Fetcher, MAX_REDIRECTS};

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
            let mut url = url.clone();
            for _ in 0..=MAX_REDIRECTS {
                let mut resp =
                    self.client.get(url.clone()).timeout(deadline).send().await.map_err(|e| self.classify(e))?;
                let status = resp.status();
                if status.is_redirection() {
                    url = next_location(&url, resp.headers())?;
                    continue;
                }
                match status {
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                        let retry_after = header(resp.headers(), RETRY_AFTER).and_then(retry_after);
                        return Err(FetchError::Busy { status: status.as_u16(), retry_after });
                    }
                    s if !s.is_success() => return Err(FetchError::Status(s.as_u16())),
                    _ => {}
                }
                let charset = header(resp.headers(), CONTENT_TYPE).and_then(charset);
                let bytes = self.read_body(&mut resp, max_body).await?;
                return Ok(Page { bytes, url, charset });
            }
            Err(FetchError::Redirect(format!("more than {MAX_REDIRECTS} redirects (last to {url})")))
        };
        tokio::time::timeout(deadline, work).await.unwrap_or(Err(FetchError::Timeout(deadline)))
    }
}
