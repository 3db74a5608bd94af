//! The config file exactly as written: serde structs with `deny_unknown_fields`.
//!
//! Nothing here checks meaning; `validate` turns these into [`super::Config`]. Values that can be
//! wrong in ways serde cannot see (durations, sizes, URLs, queries) stay text in a `Spanned` so
//! that validation can point at the exact line and column; durations and sizes are text types
//! of their own, so that a value of another type says what it should look like.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Error, Visitor};
use toml::Spanned;

/// A duration as written (`"24h"`); validation parses it.
#[derive(Debug)]
pub struct DurationText(pub String);

/// A size as written (`"10MiB"`); validation parses it.
#[derive(Debug)]
pub struct SizeText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Quoted("a duration in quotes such as \"24h\"")).map(DurationText)
    }
}

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Quoted("a size in quotes such as \"10MiB\"")).map(SizeText)
    }
}

/// Reads a string, saying what it should look like when the value is of another type, so that
/// `backfill = 100` is reported as "expected a duration in quotes such as "24h"".
struct Quoted(&'static str);

impl Visitor<'_> for Quoted {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub poll: RawPoll,
    #[serde(default)]
    pub dedupe: RawDedupe,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub health: RawHealth,
    #[serde(default)]
    pub metrics: RawMetrics,
    #[serde(default)]
    pub web: RawWeb,
    #[serde(default)]
    pub matcher: RawMatcher,
    #[serde(default, rename = "feed")]
    pub feeds: Vec<Spanned<RawFeed>>,
    #[serde(default, rename = "entity")]
    pub entities: Vec<RawEntity>,
    #[serde(default, rename = "watch")]
    pub watches: Vec<RawWatch>,
    #[serde(default, rename = "notifier")]
    pub notifiers: Vec<RawNotifier>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<Spanned<String>>,
    pub retain: Option<Spanned<DurationText>>,
    pub max_size: Option<Spanned<SizeText>>,
    pub check_every: Option<Spanned<DurationText>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<super::LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDedupe {
    pub window: Option<Spanned<DurationText>>,
    pub cross_feed: Option<bool>,
    pub memory: Option<Spanned<SizeText>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    pub interval: Option<Spanned<DurationText>>,
    pub min_interval: Option<Spanned<DurationText>>,
    pub max_interval: Option<Spanned<DurationText>>,
    pub adaptive: Option<bool>,
    pub concurrency: Option<Spanned<i64>>,
    pub per_host: Option<Spanned<i64>>,
    pub proxy: Option<Spanned<String>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub max_body: Option<Spanned<SizeText>>,
    pub memory: Option<Spanned<SizeText>>,
    pub backfill: Option<Spanned<DurationText>>,
    pub alert_after: Option<Spanned<DurationText>>,
    pub article: Option<Spanned<String>>,
    pub article_min_words: Option<Spanned<i64>>,
    pub article_timeout: Option<Spanned<DurationText>>,
    pub article_max_body: Option<Spanned<SizeText>>,
    pub article_wait: Option<Spanned<DurationText>>,
    pub article_concurrency: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    pub listen: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    #[serde(default)]
    pub notify: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatcher {
    pub builtin_entities: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// Exactly one of `url`, `url_env` and `url_file` is set (validation checks).
    pub url: Option<Spanned<String>>,
    pub url_env: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    pub name: Option<String>,
    pub interval: Option<Spanned<DurationText>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub article: Option<Spanned<String>>,
    pub article_selector: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    pub name: Spanned<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatch {
    pub name: Spanned<String>,
    pub query: Spanned<String>,
    pub notify: Option<Spanned<Vec<String>>>,
    /// ISO 639-1 codes; each spanned, so an unknown one is pointed at.
    pub languages: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifier {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub path: Option<Spanned<String>>,
    pub to: Option<Spanned<Vec<String>>>,
    pub from: Option<Spanned<String>>,
    pub smtp: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub transport: Option<Spanned<String>>,
    pub subject: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub url_env: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub secret_env: Option<Spanned<String>>,
    pub secret_file: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
    pub chat_id: Option<Spanned<String>>,
    pub api_url: Option<Spanned<String>>,
    pub homeserver: Option<Spanned<String>>,
    pub room_id: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub digest: Option<Spanned<DurationText>>,
    pub at: Option<Spanned<Vec<String>>>,
    pub timezone: Option<Spanned<String>>,
    pub burst: Option<Spanned<i64>>,
    pub max_age: Option<Spanned<DurationText>>,
}

impl RawNotifier {
    /// The optional keys that are set, by name, with the span of their value.
    pub fn keys_set(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        fn span<T>(v: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        [
            ("path", span(&self.path)),
            ("to", span(&self.to)),
            ("from", span(&self.from)),
            ("smtp", span(&self.smtp)),
            ("password_env", span(&self.password_env)),
            ("password_file", span(&self.password_file)),
            ("ca_file", span(&self.ca_file)),
            ("transport", span(&self.transport)),
            ("subject", span(&self.subject)),
            ("url", span(&self.url)),
            ("url_env", span(&self.url_env)),
            ("url_file", span(&self.url_file)),
            ("format", span(&self.format)),
            ("secret_env", span(&self.secret_env)),
            ("secret_file", span(&self.secret_file)),
            ("token_env", span(&self.token_env)),
            ("token_file", span(&self.token_file)),
            ("chat_id", span(&self.chat_id)),
            ("api_url", span(&self.api_url)),
            ("homeserver", span(&self.homeserver)),
            ("room_id", span(&self.room_id)),
            ("mode", span(&self.mode)),
            ("digest", span(&self.digest)),
            ("at", span(&self.at)),
            ("timezone", span(&self.timezone)),
            ("burst", span(&self.burst)),
            ("max_age", span(&self.max_age)),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
    }
}
