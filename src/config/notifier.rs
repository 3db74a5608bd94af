//! Notifier settings: what each `[[notifier]]` table means once validated.
//!
//! Secrets are never part of the config: a notifier names an environment variable or a file,
//! and the value is read when the notifier is built (see [`Secret::read`]).

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;

/// Alerts for one notifier due at once beyond which they go as one digest.
pub const DEFAULT_BURST: usize = 20;
/// How long an alert is retried before it is given up (dead).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Subject of a single-alert email unless the notifier sets one.
pub const DEFAULT_SUBJECT: &str = "[wirewatch] {watch}: {title}";
/// Placeholders a subject template may use.
pub const SUBJECT_FIELDS: &[&str] = &["watch", "title", "feed"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifier {
    pub name: String,
    pub kind: NotifierKind,
    pub delivery: Delivery,
    /// Where its `name` stands in the config file (line, column); `None` for the default one.
    pub position: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifierKind {
    /// One human-readable block per alert on standard output.
    Stdout,
    /// One JSON object per line, appended to a file.
    Jsonl {
        path: PathBuf,
    },
    Email(Email),
    Webhook(Webhook),
    Telegram(Telegram),
    Matrix(Matrix),
}

impl NotifierKind {
    pub const TYPES: &'static [&'static str] = &["stdout", "jsonl", "email", "webhook", "telegram", "matrix"];

    /// Whether several alerts may be sent as one digest message.
    pub fn batches(&self) -> bool {
        !matches!(self, NotifierKind::Stdout | NotifierKind::Jsonl { .. })
    }
}

/// A Telegram bot posting to one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telegram {
    pub token: Secret,
    /// A chat's numeric id (`-1001234567890`) or a channel's `@name`.
    pub chat_id: String,
    /// The Bot API server ([`crate::config::TELEGRAM_API`] unless set).
    pub api: url::Url,
}

/// A Matrix user posting to one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub homeserver: url::Url,
    pub token: Secret,
    /// The room's id (`!abcdefgh:example.org`).
    pub room: String,
}

/// When and how alerts leave the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub mode: Mode,
    /// More alerts than this due at once go as one digest.
    pub burst: usize,
    pub max_age: Duration,
    /// Zone for digest times and for dates shown in messages.
    pub timezone: Tz,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery { mode: Mode::Immediate, burst: DEFAULT_BURST, max_age: DEFAULT_MAX_AGE, timezone: Tz::UTC }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Each alert as soon as it is queued (bursts still become digests).
    Immediate,
    /// Alerts gathered and sent together on a schedule.
    Digest(Schedule),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every interval, counted from the last digest.
    Every(Duration),
    /// At these wall-clock times in the notifier's time zone, sorted.
    At(Vec<NaiveTime>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Mailboxes, already checked to parse.
    pub to: Vec<String>,
    pub from: String,
    pub transport: EmailTransport,
    /// Subject template for a single alert, with `{watch}`, `{title}`, `{feed}`.
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    Smtp(Smtp),
    /// A local sendmail program (`None`: `sendmail` from `PATH`).
    Sendmail {
        program: Option<PathBuf>,
    },
    /// One `.eml` file per message in this folder.
    File {
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Extra root certificate (PEM) to trust, for relays with a private CA.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP, no TLS (`smtp://host`): only sensible on loopback or a trusted network.
    None,
    /// STARTTLS when offered (`?tls=opportunistic`).
    Opportunistic,
    /// STARTTLS or fail (`?tls=required`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
}

impl SmtpSecurity {
    pub fn port(self) -> u16 {
        match self {
            SmtpSecurity::None | SmtpSecurity::Opportunistic => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Wrapper => 465,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: WebhookUrl,
    pub format: WebhookFormat,
    /// Key for the `X-Wirewatch-Signature` HMAC-SHA256 header.
    pub secret: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Generic,
    Slack,
    Discord,
    Ntfy,
}

impl WebhookFormat {
    pub const NAMES: &'static [&'static str] = &["generic", "slack", "discord", "ntfy"];

    pub fn parse(s: &str) -> Option<WebhookFormat> {
        Some(match s {
            "generic" => WebhookFormat::Generic,
            "slack" => WebhookFormat::Slack,
            "discord" => WebhookFormat::Discord,
            "ntfy" => WebhookFormat::Ntfy,
            _ => return None,
        })
    }
}

/// A webhook's URL: written in the config, or a secret (a Slack or Discord webhook's path is
/// its token) read when the notifier is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookUrl {
    Given(url::Url),
    Secret(Secret),
}

impl WebhookUrl {
    /// The URL, reading and checking it if it is a secret; errors never show it.
    pub fn resolve(&self) -> Result<url::Url, String> {
        match self {
            WebhookUrl::Given(url) => Ok(url.clone()),
            WebhookUrl::Secret(secret) => {
                let what = match secret {
                    Secret::Env(var) => format!("the webhook URL in {var}"),
                    Secret::File(path) => format!("the webhook URL in {}", path.display()),
                };
                webhook_url(secret.read()?.trim()).map_err(|e| format!("{what}: {e}"))
            }
        }
    }
}

/// Parses a webhook URL: http or https, with a host, and no user or password (a secret goes
/// in `secret_env`, or the whole URL in `url_env`). The error never repeats the URL.
pub fn webhook_url(raw: &str) -> Result<url::Url, String> {
    http_url(raw, "webhook URL")
}

/// Parses an HTTP endpoint: http or https, with a host, and no user or password. Errors name it
/// by `label` ("webhook URL", "homeserver") and never repeat the URL, which may hold a token.
pub(super) fn http_url(raw: &str, label: &str) -> Result<url::Url, String> {
    match url::Url::parse(raw) {
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            Err(format!("the {label} must not carry a user or password"))
        }
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        Ok(url) => Err(format!("{label} must be http:// or https://, not {}://", url.scheme())),
        Err(e) => Err(format!("invalid {label}: {e}")),
    }
}

/// Where a secret lives; the config holds only this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Env(String),
    File(PathBuf),
}

impl Secret {
    /// Reads the secret; the error names where it was looked for, never the value.
    pub fn read(&self) -> Result<String, String> {
        match self {
            Secret::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(v),
                _ => Err(format!("environment variable {var} is not set")),
            },
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display())),
        }
    }
}
