//! The webhook notifier: an HTTP POST per alert or digest, as generic JSON or in the shape
//! Slack, Discord or ntfy expect, optionally signed with HMAC-SHA256, always carrying the
//! message's key as `Idempotency-Key` so a receiver can drop a resend after a crash.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::digest::hex;

use super::http::{client, endpoint, post};
use super::{BuildError, DeliveryError, Outgoing, render};
use crate::config::{self, WebhookFormat};

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
pub const SIGNATURE_HEADER: &str = "X-Wirewatch-Signature";
/// Header carrying the message's id ([`Outgoing::id`]): the same for a resend of the same
/// alerts.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
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
        let mut req =
            self.client.post(url).header("content-type", "application/json").header(IDEMPOTENCY_HEADER, out.id());
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

/// `sha256=<hex>`: HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}
