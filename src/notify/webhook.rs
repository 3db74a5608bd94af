//! The webhook notifier: an HTTP POST per alert or digest, as generic JSON or in the shape
//! Slack, Discord or ntfy expect, optionally signed with HMAC-SHA256.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::digest::hex;

use super::{DeliveryError, Outgoing, render};
use crate::config::{self, WebhookFormat};

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
pub const SIGNATURE_HEADER: &str = "X-Wirewatch-Signature";
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
fn endpoint(url: &url::Url) -> String {
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
    pub fn new(spec: &config::Webhook, timezone: chrono_tz::Tz) -> Result<WebhookNotifier, String> {
        let secret = spec.secret.as_ref().map(config::Secret::read).transpose()?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(crate::poller::USER_AGENT)
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(WebhookNotifier { client, url: spec.url.clone(), format: spec.format, secret, timezone })
    }

    /// Posts one request for `out`; returns the HTTP status line.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let (url, body) = self.request(out);
        let body = serde_json::to_vec(&body).expect("JSON values serialise");
        let mut req = self.client.post(url).header("content-type", "application/json");
        if let Some(secret) = &self.secret {
            req = req.header(SIGNATURE_HEADER, signature(secret.as_bytes(), &body));
        }
        let at = endpoint(&self.url);
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("{at}: {}", crate::error_chain(&e.without_url()))))?;
        let status = resp.status();
        let answer = format!("{at}: HTTP {status}");
        if status.is_success() {
            Ok(answer)
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(DeliveryError::Transient(answer))
        } else {
            let text = resp.text().await.unwrap_or_default();
            let detail: String = text.chars().take(200).collect();
            Err(DeliveryError::Permanent(format!("{answer} {}", detail.trim()).trim_end().to_string()))
        }
    }

    fn request(&self, out: &Outgoing<'_>) -> (url::Url, Value) {
        let text = || render::text(out.alerts, self.timezone);
        let title = || match out.alerts {
            [one] if !out.digest => render::subject("{watch}: {title}", one),
            many => render::digest_subject(many),
        };
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

/// `sha256=<hex>`: HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}
