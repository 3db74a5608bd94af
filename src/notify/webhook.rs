//! The webhook notifier: an HTTP POST per alert or digest, as generic JSON or in the shape
//! Slack, Discord or ntfy expect, optionally signed with HMAC-SHA256, always carrying the
//! message's key as `Idempotency-Key` so a receiver can drop a resend after a crash.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::digest::hex;

use super::{BuildError, DeliveryError, Outgoing, render};
use crate::config::{self, WebhookFormat};

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
pub const SIGNATURE_HEADER: &str = "X-Wirewatch-Signature";
/// Header carrying the message's id ([`Outgoing::id`]): the same for a resend of the same
/// alerts.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const TIMEOUT: Duration = Duration::from_secs(30);
/// Discord refuses longer message content.
const DISCORD_LIMIT: usize = 2000;

pub struct WebhookNotifier {
    client: reqwest::Client,
    url: url::Url,
    format: WebhookFormat,
    secret: Option<String>,
    timezone: chrono_tz::Tz,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier").field("endpoint", &endpoint(&self.url)).finish_non_exhaustive()
    }
}

/// The URL as errors and logs show it: scheme, host and port only, since the path of a chat
/// webhook is often its secret token.
pub(super) fn endpoint(url: &url::Url) -> String {
    match url.port() {
        Some(p) => format!("{}://{}:{p}", url.scheme(), url.host_str().unwrap_or_default()),
        None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default()),
    }
}

/// Slack reads `<...>` as links and mentions (`<!channel>`): feed text must not.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl WebhookNotifier {
    pub fn new(spec: &config::Webhook, timezone: chrono_tz::Tz) -> Result<WebhookNotifier, BuildError> {
        let secret = spec.secret.as_ref().map(config::Secret::read).transpose().map_err(BuildError::Secret)?;
        let url = spec.url.resolve().map_err(BuildError::Secret)?;
        Ok(WebhookNotifier { client: client()?, url, format: spec.format, secret, timezone })
    }

    /// Posts one request for `out`; returns the HTTP status line.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let (url, body) = self.request(out);
        let body = serde_json::to_vec(&body).expect("JSON values serialise");
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(IDEMPOTENCY_HEADER, out.id());
        if let Some(secret) = &self.secret {
            req = req.header(SIGNATURE_HEADER, signature(secret.as_bytes(), &body));
        }
        post(req.body(body), &endpoint(&self.url)).await
    }

    fn request(&self, out: &Outgoing<'_>) -> (url::Url, Value) {
        let text = || render::text(out.alerts, self.timezone);
        let title = || out.subject("{watch}: {title}");
        match self.format {
            WebhookFormat::Generic => {
                let kind = if out.digest { "digest" } else { "alert" };
                (self.url.clone(), json!({ "kind": kind, "count": out.alerts.len(), "alerts": out.alerts }))
            }
            WebhookFormat::Slack => (
                self.url.clone(),
                json!({ "text": format!("*{}*\n{}", slack_escape(&title()), slack_escape(&text())) }),
            ),
            WebhookFormat::Discord => {
                let content: String = format!("**{}**\n{}", title(), text()).chars().take(DISCORD_LIMIT).collect();
                // No @everyone, @here, user or role pings from feed text.
                (self.url.clone(), json!({ "content": content, "allowed_mentions": { "parse": [] } }))
            }
            WebhookFormat::Ntfy => {
                // ntfy's JSON publishing: POST to the server root with the topic in the body.
                let mut root = self.url.clone();
                let topic = root.path().trim_matches('/').to_string();
                root.set_path("/");
                let click = out.alerts.first().and_then(|a| a.url.clone());
                let mut body = json!({ "topic": topic, "title": title(), "message": text() });
                if let (Some(url), false) = (click, out.digest) {
                    body["click"] = Value::String(url);
                }
                (root, body)
            }
        }
    }
}

/// The HTTP client every HTTP notifier uses: a total deadline per request, our user agent.
pub(super) fn client() -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder().timeout(TIMEOUT).user_agent(crate::poller::USER_AGENT).build().map_err(BuildError::Http)
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

/// `sha256=<hex>`: HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}
