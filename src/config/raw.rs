//! The config file exactly as written: serde structs with `deny_unknown_fields`.
//!
//! Nothing here checks meaning; `validate` turns these into [`super::Config`]. Values that can be
//! wrong in ways serde cannot see (durations, sizes, URLs, queries) stay `Spanned<String>` so that
//! validation can point at the exact line and column.

use serde::Deserialize;
use toml::Spanned;

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
    pub matcher: RawMatcher,
    #[serde(default, rename = "feed")]
    pub feeds: Vec<RawFeed>,
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
    pub retain: Option<Spanned<String>>,
    pub max_size: Option<Spanned<String>>,
    pub check_every: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<super::LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDedupe {
    pub window: Option<Spanned<String>>,
    pub cross_feed: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    pub interval: Option<Spanned<String>>,
    pub min_interval: Option<Spanned<String>>,
    pub max_interval: Option<Spanned<String>>,
    pub adaptive: Option<bool>,
    pub concurrency: Option<Spanned<i64>>,
    pub per_host: Option<Spanned<i64>>,
    pub proxy: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_body: Option<Spanned<String>>,
    pub backfill: Option<Spanned<String>>,
    pub alert_after: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    pub listen: Option<Spanned<String>>,
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
    pub url: Spanned<String>,
    pub name: Option<String>,
    pub interval: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
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
    pub format: Option<Spanned<String>>,
    pub secret_env: Option<Spanned<String>>,
    pub secret_file: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub digest: Option<Spanned<String>>,
    pub at: Option<Spanned<Vec<String>>>,
    pub timezone: Option<Spanned<String>>,
    pub burst: Option<Spanned<i64>>,
    pub max_age: Option<Spanned<String>>,
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
            ("format", span(&self.format)),
            ("secret_env", span(&self.secret_env)),
            ("secret_file", span(&self.secret_file)),
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
