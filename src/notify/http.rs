//! What every HTTP notifier (webhooks, Telegram, Matrix) shares: one way to build the client,
//! to send a request and read the answer, and to name the server in errors.
//!
//! It never shows a URL's path or query: a chat webhook's path and the Bot API's are secret
//! tokens, so errors name the origin only, and reqwest's errors are stripped of their URL.

use std::time::Duration;

use serde_json::Value;

use super::{BuildError, DeliveryError};

/// Longest wait for one whole request.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client every HTTP notifier uses: a total deadline per request, our user agent.
pub(super) fn client() -> Result<reqwest::Client, BuildError> {
    crate::install_crypto();
    reqwest::Client::builder().timeout(TIMEOUT).user_agent(crate::poller::USER_AGENT).build().map_err(BuildError::Http)
}

/// The URL as errors and logs show it: scheme, host and port only, since the path of a chat
/// webhook is often its secret token.
pub(super) fn endpoint(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Sends `req` to `at` (how errors name it); success is any 2xx, answered with its status.
pub(super) async fn post(req: reqwest::RequestBuilder, at: &str) -> Result<String, DeliveryError> {
    let resp = req.send().await.map_err(|e| DeliveryError::Http { at: at.to_string(), source: e.without_url() })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(format!("{at}: HTTP {status}"));
    }
    let header = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::poller::retry_after);
    let text = resp.text().await.unwrap_or_default();
    let retry_after = header.or_else(|| retry_after_in_body(&text));
    let detail: String = text.trim().chars().take(200).collect();
    Err(DeliveryError::Status { at: at.to_string(), status, detail, retry_after })
}

/// The wait a chat API names in its JSON error: Telegram's `parameters.retry_after` (seconds),
/// Matrix's `retry_after_ms`.
fn retry_after_in_body(body: &str) -> Option<Duration> {
    let v: Value = serde_json::from_str(body).ok()?;
    if let Some(secs) = v.pointer("/parameters/retry_after").and_then(Value::as_u64) {
        return Some(Duration::from_secs(secs));
    }
    v.get("retry_after_ms").and_then(Value::as_u64).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_the_server_and_never_the_path() {
        let cases = [
            ("https://hooks.slack.com/services/T0/B0/SECRET", "https://hooks.slack.com"),
            ("https://api.telegram.org:443/bot1:SECRET/sendMessage", "https://api.telegram.org"),
            ("http://127.0.0.1:8448/_matrix?access_token=SECRET", "http://127.0.0.1:8448"),
            ("http://[::1]:8080/hook", "http://[::1]:8080"),
        ];
        for (url, shown) in cases {
            assert_eq!(endpoint(&url::Url::parse(url).unwrap()), shown, "{url}");
        }
    }
}
