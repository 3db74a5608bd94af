//! Chat notifiers: a Telegram bot (`sendMessage`) and a Matrix user (`m.room.message` events),
//! each one message per story or digest, in plain text cut to the service's limit. Rate limits
//! (429 with `retry_after`) pause the notifier until the time the service names.
//!
//! Tokens never appear in errors or logs: the Bot API puts the token in the URL path, so errors
//! name only the server, and reqwest's errors are stripped of their URL.

use serde_json::json;

use super::http::{client, endpoint, post};
use super::{BuildError, DeliveryError, Outgoing, render};
use crate::config;

/// Telegram refuses a message longer than this (characters, after entity parsing).
pub const TELEGRAM_LIMIT: usize = 4096;
/// Matrix events are at most 64 KiB in all; a message of this many characters leaves room for
/// the event's other fields even in multi-byte scripts.
pub const MATRIX_LIMIT: usize = 16_000;

pub struct ChatNotifier {
    client: reqwest::Client,
    api: Api,
    /// How errors name the service: `telegram https://api.telegram.org`.
    at: String,
    timezone: chrono_tz::Tz,
}

/// Where messages go, and what each service needs to take them.
enum Api {
    /// `send` is `{api}/bot{token}/sendMessage`: it holds the token, never shown.
    Telegram {
        send: url::Url,
        chat_id: String,
    },
    Matrix {
        homeserver: url::Url,
        token: String,
        room: String,
    },
}

impl std::fmt::Debug for ChatNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("ChatNotifier");
        d.field("at", &self.at);
        match &self.api {
            Api::Telegram { chat_id, .. } => d.field("chat_id", chat_id),
            Api::Matrix { room, .. } => d.field("room", room),
        };
        d.finish_non_exhaustive()
    }
}

impl ChatNotifier {
    pub fn telegram(spec: &config::Telegram, timezone: chrono_tz::Tz) -> Result<ChatNotifier, BuildError> {
        let token = spec.token.read().map_err(BuildError::Secret)?;
        let mut send = spec.api.clone();
        let base = send.path().trim_end_matches('/').to_string();
        send.set_path(&format!("{base}/bot{token}/sendMessage"));
        let api = Api::Telegram { send, chat_id: spec.chat_id.clone() };
        Ok(ChatNotifier { client: client()?, api, at: format!("telegram {}", endpoint(&spec.api)), timezone })
    }

    pub fn matrix(spec: &config::Matrix, timezone: chrono_tz::Tz) -> Result<ChatNotifier, BuildError> {
        let token = spec.token.read().map_err(BuildError::Secret)?;
        let api = Api::Matrix { homeserver: spec.homeserver.clone(), token, room: spec.room.clone() };
        Ok(ChatNotifier { client: client()?, api, at: format!("matrix {}", endpoint(&spec.homeserver)), timezone })
    }

    /// Sends one message. To Matrix it is an `m.room.message` event whose transaction id is
    /// the message's id, so the homeserver itself drops a resend of the same message.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let req = match &self.api {
            Api::Telegram { send, chat_id } => {
                let text = render::chat(out, self.timezone, TELEGRAM_LIMIT);
                let body = json!({ "chat_id": chat_id, "text": text, "link_preview_options": { "is_disabled": true } });
                json_body(self.client.post(send.clone()), &body)
            }
            Api::Matrix { homeserver, token, room } => {
                let text = render::chat(out, self.timezone, MATRIX_LIMIT);
                let mut url = homeserver.clone();
                {
                    let mut path = url.path_segments_mut().expect("an http URL has a path");
                    path.pop_if_empty().extend(["_matrix", "client", "v3", "rooms", room, "send", "m.room.message"]);
                    path.push(&out.id());
                }
                let body = json!({ "msgtype": "m.text", "body": text });
                json_body(self.client.put(url).bearer_auth(token), &body)
            }
        };
        post(req, &self.at).await
    }
}

fn json_body(req: reqwest::RequestBuilder, body: &serde_json::Value) -> reqwest::RequestBuilder {
    req.header("content-type", "application/json").body(serde_json::to_vec(body).expect("JSON values serialise"))
}
