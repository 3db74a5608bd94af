//! Chat notifiers: a Telegram bot (`sendMessage`) and a Matrix user (`m.room.message` events),
//! each one message per story or digest, in plain text cut to the service's limit. Rate limits
//! (429 with `retry_after`) pause the notifier until the time the service names.
//!
//! Tokens never appear in errors or logs: the Bot API puts the token in the URL path, so errors
//! name only the server, and reqwest's errors are stripped of their URL.

use serde_json::json;

use super::webhook::{client, endpoint, post};
use super::{BuildError, DeliveryError, Outgoing, render};
use crate::config;

/// Telegram refuses a message longer than this (characters, after entity parsing).
pub const TELEGRAM_LIMIT: usize = 4096;
/// Matrix events are at most 64 KiB in all; a message of this many characters leaves room for
/// the event's other fields even in multi-byte scripts.
pub const MATRIX_LIMIT: usize = 16_000;

pub struct TelegramNotifier {
    client: reqwest::Client,
    /// `{api}/bot{token}/sendMessage`: holds the token, never shown.
    send: url::Url,
    at: String,
    chat_id: String,
    timezone: chrono_tz::Tz,
}

impl std::fmt::Debug for TelegramNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramNotifier").field("at", &self.at).field("chat_id", &self.chat_id).finish_non_exhaustive()
    }
}

impl TelegramNotifier {
    pub fn new(spec: &config::Telegram, timezone: chrono_tz::Tz) -> Result<TelegramNotifier, BuildError> {
        let token = spec.token.read().map_err(BuildError::Secret)?;
        let mut send = spec.api.clone();
        let base = send.path().trim_end_matches('/').to_string();
        send.set_path(&format!("{base}/bot{token}/sendMessage"));
        let at = format!("telegram {}", endpoint(&spec.api));
        Ok(TelegramNotifier { client: client()?, send, at, chat_id: spec.chat_id.clone(), timezone })
    }

    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let text = render::chat(out, self.timezone, TELEGRAM_LIMIT);
        let body = json!({ "chat_id": self.chat_id, "text": text, "link_preview_options": { "is_disabled": true } });
        post(json_body(self.client.post(self.send.clone()), &body), &self.at).await
    }
}

pub struct MatrixNotifier {
    client: reqwest::Client,
    homeserver: url::Url,
    token: String,
    room: String,
    at: String,
    timezone: chrono_tz::Tz,
}

impl std::fmt::Debug for MatrixNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixNotifier").field("at", &self.at).field("room", &self.room).finish_non_exhaustive()
    }
}

impl MatrixNotifier {
    pub fn new(spec: &config::Matrix, timezone: chrono_tz::Tz) -> Result<MatrixNotifier, BuildError> {
        let token = spec.token.read().map_err(BuildError::Secret)?;
        let at = format!("matrix {}", endpoint(&spec.homeserver));
        Ok(MatrixNotifier {
            client: client()?,
            homeserver: spec.homeserver.clone(),
            token,
            room: spec.room.clone(),
            at,
            timezone,
        })
    }

    /// Sends one `m.room.message` event. Its transaction id is the message's idempotency key,
    /// so the homeserver itself drops a resend of the same message.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let text = render::chat(out, self.timezone, MATRIX_LIMIT);
        let mut url = self.homeserver.clone();
        {
            let mut path = url.path_segments_mut().expect("an http URL has a path");
            path.pop_if_empty().extend(["_matrix", "client", "v3", "rooms", &self.room, "send", "m.room.message"]);
            path.push(&out.id());
        }
        let body = json!({ "msgtype": "m.text", "body": text });
        post(json_body(self.client.put(url).bearer_auth(&self.token), &body), &self.at).await
    }
}

fn json_body(req: reqwest::RequestBuilder, body: &serde_json::Value) -> reqwest::RequestBuilder {
    req.header("content-type", "application/json").body(serde_json::to_vec(body).expect("JSON values serialise"))
}
