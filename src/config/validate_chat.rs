//! Validating the chat notifiers' tables: `telegram` (a bot token by reference and a chat) and
//! `matrix` (a homeserver, an access token by reference and a room).

use toml::Spanned;

use super::notifier::{Matrix, Telegram};
use super::raw::RawNotifier;
use super::validate::Checker;
use super::validate_notifier::secret;

/// Keys each chat notifier type accepts besides `name`, `type` and the delivery keys.
pub(super) const TELEGRAM_KEYS: &[&str] = &["token_env", "token_file", "chat_id", "api_url"];
pub(super) const MATRIX_KEYS: &[&str] = &["homeserver", "token_env", "token_file", "room_id"];
/// The Bot API server unless `api_url` names another (a local Bot API server).
pub const TELEGRAM_API: &str = "https://api.telegram.org";

pub(super) fn telegram(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Telegram> {
    let token = token(c, n, name, "telegram", "a bot token")?;
    let chat_id = required(c, n, &n.chat_id, name, "telegram", "chat_id = \"-1001234567890\" (or \"@channel\")")?;
    let api = match &n.api_url {
        Some(raw) => http_url(c, raw, name, "api_url")?,
        None => url::Url::parse(TELEGRAM_API).expect("a valid URL"),
    };
    Some(Telegram { token, chat_id, api })
}

pub(super) fn matrix(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Matrix> {
    let homeserver = match &n.homeserver {
        Some(raw) => http_url(c, raw, name, "homeserver"),
        None => {
            c.error(
                &n.kind,
                format!("notifier {name:?}: a matrix notifier needs homeserver = \"https://matrix.example.org\""),
            );
            None
        }
    };
    let token = token(c, n, name, "matrix", "an access token");
    let room = required(c, n, &n.room_id, name, "matrix", "room_id = \"!abcdefgh:example.org\"");
    if let Some(room) = &room
        && !room.starts_with('!')
        && let Some(raw) = &n.room_id
    {
        c.error(
            raw,
            format!(
                "notifier {name:?}: room_id is a room's id, starting with ! (\"!abcdefgh:example.org\"), not an alias"
            ),
        );
        return None;
    }
    Some(Matrix { homeserver: homeserver?, token: token?, room: room? })
}

/// The token, named by `token_env` or `token_file`; one of them is required.
fn token(c: &mut Checker, n: &RawNotifier, name: &str, ty: &str, what: &str) -> Option<super::Secret> {
    let found = secret(c, &n.token_env, &n.token_file, name, "token");
    if found.is_none() && n.token_env.is_none() && n.token_file.is_none() {
        c.error(&n.kind, format!("notifier {name:?}: a {ty} notifier needs {what} in token_env or token_file"));
    }
    found
}

fn required(
    c: &mut Checker,
    n: &RawNotifier,
    value: &Option<Spanned<String>>,
    name: &str,
    ty: &str,
    example: &str,
) -> Option<String> {
    match value {
        Some(v) if !v.get_ref().trim().is_empty() => Some(v.get_ref().trim().to_string()),
        Some(v) => {
            c.error(v, format!("notifier {name:?}: must not be empty; for example {example}"));
            None
        }
        None => {
            c.error(&n.kind, format!("notifier {name:?}: a {ty} notifier needs {example}"));
            None
        }
    }
}

/// An `http://` or `https://` URL with a host and no user or password.
fn http_url(c: &mut Checker, raw: &Spanned<String>, name: &str, key: &str) -> Option<url::Url> {
    let url = super::notifier::http_url(raw.get_ref().trim(), key);
    url.map_err(|e| c.error(raw, format!("notifier {name:?}: {e}"))).ok()
}
