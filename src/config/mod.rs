//! Configuration: one TOML file, parsed into [`raw::RawConfig`] and validated into [`Config`].
//!
//! This module owns every default and every check on the file. Nothing past it sees a raw string
//! it has to re-check: durations are `Duration`s, feed locations are parsed, queries are compiled.
//! It does no network or database IO.

mod article;
mod bounds;
mod error;
mod notifier;
mod raw;
mod toml_error;
mod validate;
mod validate_chat;
mod validate_notifier;
mod validate_web;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use article::{
    ArticleMode, ArticleSelector, Articles, DEFAULT_ARTICLE_CONCURRENCY, DEFAULT_ARTICLE_MAX_BODY,
    DEFAULT_ARTICLE_MIN_WORDS, DEFAULT_ARTICLE_TIMEOUT, DEFAULT_ARTICLE_WAIT,
};
pub use bounds::{MAX_POLL_INTERVAL, show_duration};
pub use error::{ConfigError, ConfigErrors, line_col};
pub use notifier::*;
pub use validate_chat::TELEGRAM_API;

use crate::matcher::{Matcher, WatchDef};

/// Default interval between two polls of one feed.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Default number of fetches in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Shortest interval between two polls of one feed, whatever hints or adaptivity say.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(60);
/// Longest interval: no hint, backoff or quiet feed stretches a feed's polls beyond it.
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Default concurrent fetches to one host.
pub const DEFAULT_PER_HOST: usize = 2;
/// Default total deadline of one fetch, connect included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connect timeout of one fetch; never longer than the total deadline.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default budget for bodies fetched and parsed but not yet applied by the writer.
pub const DEFAULT_POLL_MEMORY: u64 = 256 * 1024 * 1024;
/// Default cap on a feed body, counted after decompression.
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;
/// Default age limit for alerting on a feed's first sight.
pub const DEFAULT_BACKFILL: Duration = Duration::from_secs(24 * 3600);
/// Default database file name, beside the config file.
pub const DEFAULT_DB_FILE: &str = "wirewatch.db";
/// How long a feed fails before a health alert, by default.
pub const DEFAULT_ALERT_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long stories keep their text by default.
pub const DEFAULT_RETAIN: Duration = Duration::from_secs(90 * 24 * 3600);
/// The longest the database goes without an integrity check, by default.
pub const DEFAULT_CHECK_EVERY: Duration = Duration::from_secs(24 * 3600);
/// How far apart two reports of the same news may be, by default.
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(72 * 3600);
/// How much memory the cross-feed candidate index may hold, by default.
pub const DEFAULT_DEDUPE_MEMORY: u64 = 128 << 20;
/// Environment variable naming the config file when `--config` is absent.
pub const CONFIG_ENV: &str = "WIREWATCH_CONFIG";
/// Config file used when neither `--config` nor `$WIREWATCH_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// `value` resolved against `base` when relative, and made absolute so that it means the same
/// thing whatever the working directory later is.
fn resolve(base: &Path, value: &str) -> PathBuf {
    let p = base.join(value);
    std::path::absolute(&p).unwrap_or(p)
}

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The file this was read from.
    pub source: PathBuf,
    pub storage: Storage,
    pub dedupe: Dedupe,
    pub log: Log,
    /// Notifiers that get feed health alerts (none: no health alerts).
    pub health_notify: Vec<String>,
    /// Where to serve `/metrics` and `/healthz` (none: no metrics server).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The web view (none: not served).
    pub web: Option<Web>,
    pub poll: Poll,
    pub feeds: Vec<Feed>,
    /// The configured entities and whether the gazetteer is on, for compiling other queries
    /// against the same names (`backtest --query`, the web view's "try a query").
    pub entities: Vec<crate::matcher::EntityDef>,
    pub builtin_entities: bool,
    pub watches: Vec<Watch>,
    pub notifiers: Vec<Notifier>,
    /// Every watch compiled into one matcher.
    pub matcher: Matcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    pub path: PathBuf,
    /// How long stories keep their text; the keys of stories still listed are kept longer.
    pub retain: Duration,
    /// The largest the database may grow (bytes); past it, polls fail as on a full disk.
    pub max_size: Option<u64>,
    /// The longest the file goes without `PRAGMA quick_check` (`run` checks it again then).
    pub check_every: Duration,
}

/// The web view (`[web]`): where it listens and the secret that guards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Web {
    pub listen: std::net::SocketAddr,
    /// A bearer token or basic password; required unless `listen` is a loopback address.
    pub token: Option<Secret>,
    /// Where `[web]` stands in the file, for an error reading the token at start.
    pub position: Option<(usize, usize)>,
}

/// How log lines are written (`[log] format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dedupe {
    /// How far apart in time two stories may be and still be the same news.
    pub window: Duration,
    /// Whether the same news from several feeds is one cluster, alerted once per watch.
    pub cross_feed: bool,
    /// Bytes the in-memory candidate index may hold; past it the oldest stories leave it.
    pub memory: u64,
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe { window: DEFAULT_DEDUPE_WINDOW, cross_feed: true, memory: DEFAULT_DEDUPE_MEMORY }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub interval: Duration,
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// Whether a feed's interval follows how often it publishes.
    pub adaptive: bool,
    pub concurrency: usize,
    /// Concurrent fetches to one host, on top of `concurrency`.
    pub per_host: usize,
    /// Proxy for every fetch; `None`: the standard environment variables apply.
    pub proxy: Option<url::Url>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    /// Bytes of bodies (and the stories parsed from them) held until the writer applies them.
    pub memory: u64,
    pub backfill: Duration,
    /// A feed failing this long raises a health alert (to `[health] notify`).
    pub alert_after: Duration,
    /// When and how politely stories' article pages are fetched.
    pub article: Articles,
}

impl Default for Poll {
    fn default() -> Self {
        Poll {
            interval: DEFAULT_POLL_INTERVAL,
            min_interval: DEFAULT_MIN_INTERVAL,
            max_interval: DEFAULT_MAX_INTERVAL,
            adaptive: true,
            concurrency: DEFAULT_CONCURRENCY,
            per_host: DEFAULT_PER_HOST,
            proxy: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            memory: DEFAULT_POLL_MEMORY,
            backfill: DEFAULT_BACKFILL,
            alert_after: DEFAULT_ALERT_AFTER,
            article: Articles::default(),
        }
    }
}

/// Where a feed's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedLocation {
    Http(url::Url),
    File(PathBuf),
}

impl FeedLocation {
    /// Reads a feed source as written in the config or on the command line: an http(s) URL, a
    /// `file://` URL, or a path (relative ones resolved against `base`, then made absolute).
    pub fn parse(text: &str, base: &Path) -> Result<FeedLocation, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("feed url must not be empty; write an http(s) URL, a file:// URL or a path".into());
        }
        if !text.contains("://") {
            return Ok(FeedLocation::File(resolve(base, text)));
        }
        match url::Url::parse(text) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(FeedLocation::Http(u)),
            Ok(u) if u.scheme() == "file" => u
                .to_file_path()
                .map(FeedLocation::File)
                .map_err(|()| format!("file URL {text:?} does not name a local file")),
            Ok(u) => Err(format!("unsupported URL scheme {:?} in {text:?}; use http, https or file", u.scheme())),
            Err(e) => Err(format!("invalid feed URL {text:?}: {e}")),
        }
    }

    /// The stable text that identifies this feed in the database and in logs.
    pub fn key(&self) -> String {
        match self {
            FeedLocation::Http(url) => url.to_string(),
            FeedLocation::File(path) => {
                url::Url::from_file_path(path).map(|u| u.to_string()).unwrap_or_else(|()| path.display().to_string())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub location: FeedLocation,
    /// The configured name; the feed's own title is used when absent.
    pub name: Option<String>,
    pub interval: Duration,
    pub tags: Vec<String>,
    /// When this feed's stories have their article page fetched.
    pub article: ArticleMode,
    /// Replaces extraction: the article is the text of the elements this selects.
    pub article_selector: Option<ArticleSelector>,
}

impl Feed {
    /// The feed's URL as stored and logged.
    pub fn url(&self) -> String {
        self.location.key()
    }
}

/// The name alerts and pages give the feed at `url`: its `configured` name, else its own
/// `title`, else the URL, redacted because alerts are sent and pages shown.
pub fn feed_name(configured: Option<&Feed>, title: Option<&str>, url: &str) -> String {
    match configured.and_then(|f| f.name.as_deref()).or(title) {
        Some(name) => name.to_string(),
        None => crate::redact::redact(url),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub name: String,
    pub query: String,
    /// Names of the notifiers this watch alerts; never empty after validation.
    pub notify: Vec<String>,
    /// ISO 639-1 codes of the languages it is limited to; empty for every language.
    pub languages: Vec<String>,
}

impl Watch {
    /// What the matcher compiles of the watch: its name, query and languages.
    pub fn def(&self) -> WatchDef {
        WatchDef { name: self.name.clone(), query: self.query.clone(), languages: self.languages.clone() }
    }
}

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_CONFIG_FILE) {
                format!("; name the config file with --config PATH or ${CONFIG_ENV}")
            } else {
                String::new()
            };
            ConfigError::whole_file(path, format!("cannot read config file: {e}{hint}"))
        })?;
        Config::from_str(&text, path)
    }

    /// Refuses a config with nothing to do: no `[[feed]]` or no `[[watch]]` (an empty file has
    /// neither). `check`, `once` and `run` (at start and on reload) call it; the commands that
    /// only read or edit the file do not.
    pub fn require_work(&self) -> Result<(), ConfigErrors> {
        const FEED: &str = "add one, e.g. [[feed]] url = \"https://example.org/feed.xml\"";
        const WATCH: &str = "add one, e.g. [[watch]] name = \"sanctions\" query = \"sanction*\"";
        let mut errors = Vec::new();
        if self.feeds.is_empty() {
            errors.push(ConfigError::whole_file(&self.source, format!("no [[feed]] to poll: {FEED}")));
        }
        if self.watches.is_empty() {
            errors.push(ConfigError::whole_file(&self.source, format!("no [[watch]] to match: {WATCH}")));
        }
        if errors.is_empty() { Ok(()) } else { Err(ConfigErrors(errors)) }
    }

    /// Validates config text; `path` names it in errors and anchors relative paths.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| toml_error::config_error(path, text, &e))?;
        validate::validate(raw, text, path)
    }

    /// The config file to use: `--config`, else `$WIREWATCH_CONFIG`, else `./config.toml`.
    pub fn resolve_path(flag: Option<&Path>) -> PathBuf {
        if let Some(p) = flag {
            return p.to_path_buf();
        }
        match std::env::var_os(CONFIG_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(DEFAULT_CONFIG_FILE),
        }
    }

    /// Looks up a feed by its key (see [`FeedLocation::key`]).
    pub fn feed(&self, key: &str) -> Option<&Feed> {
        self.feeds.iter().find(|f| f.url() == key)
    }
}
