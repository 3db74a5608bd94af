//! Backtesting: what a watch (configured, edited, or a bare query) would have alerted over the
//! stories already stored. Shared by `wirewatch backtest` and the web view's "try a query".
//!
//! It reads the database and never writes to it or sends anything. Each stored story is matched
//! exactly as `match` matches a parsed one (same document, same alert shape), so the two agree
//! story for story.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;

use crate::alert::Alert;
use crate::config::{self, Config, Feed};
use crate::matcher::{Document, Matcher, QueryError, WatchDef, WatchMatch};
use crate::store::{Store, StoreError, StoryRow};

/// The watch name a bare `--query` is reported under.
pub const QUERY_WATCH: &str = "query";

const DAY: i64 = 86_400;

/// One story that would have alerted.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub alert: Alert,
    /// The stored story's id (the web view links to it).
    pub story: i64,
    /// When wirewatch first saw the story (Unix seconds).
    pub first_seen: i64,
    /// Its cluster when a watch filed it in one, else the story itself.
    pub cluster: i64,
}

impl Hit {
    /// The `match --json` object plus `first_seen` (RFC 3339).
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            alert: &'a Alert,
            first_seen: String,
        }
        let first_seen = crate::commands::rfc3339(self.first_seen);
        serde_json::to_string(&Line { alert: &self.alert, first_seen }).expect("an alert always serialises")
    }
}

/// What a backtest found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Oldest first.
    pub hits: Vec<Hit>,
    /// Stories evaluated.
    pub evaluated: usize,
    pub clusters: usize,
    /// The window's start (Unix seconds) and its length.
    pub since: i64,
    pub window: Duration,
    /// When the oldest story whose text is still stored was first seen, when the window
    /// reaches further back than that (retention bounds what can be looked at).
    pub text_starts: Option<i64>,
}

impl Outcome {
    /// `would have alerted N stories in M clusters over D days (R a day)`.
    pub fn summary(&self) -> String {
        let days = self.window.as_secs_f64() / DAY as f64;
        let rate = if days > 0.0 { self.hits.len() as f64 / days } else { 0.0 };
        format!(
            "would have alerted {} stories in {} clusters over {} days ({} a day)",
            self.hits.len(),
            self.clusters,
            number(days),
            number(rate)
        )
    }

    /// When the window reaches past the oldest stored text, a line saying how far back text
    /// goes; `None` otherwise.
    pub fn retention_note(&self, retain: Duration) -> Option<String> {
        let starts = self.text_starts?;
        let retain = config::show_duration(retain);
        Some(match starts {
            i64::MAX => format!("note: no story text is stored (retain = {retain}): nothing to evaluate"),
            _ => format!(
                "note: the window reaches back to {} but the oldest stored story text is from {} \
                 (retain = {retain}): nothing earlier is evaluated",
                crate::commands::rfc3339(self.since),
                crate::commands::rfc3339(starts),
            ),
        })
    }
}

/// A count or rate as the summary writes it: whole numbers bare, others with one decimal (two
/// below 0.1, so a rare watch does not read as zero).
fn number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else if x < 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.1}")
    }
}

/// The watch a backtest evaluates.
pub enum Tested<'c> {
    /// A configured watch as configured: the config's own matcher, whose matches are kept for
    /// this watch alone. Compiling the gazetteer again for it would cost every request.
    Configured { matcher: &'c Matcher, watch: &'c str },
    /// An edited or bare query, compiled on its own with the config's entities.
    Compiled(Box<Matcher>),
}

impl Tested<'_> {
    /// The matches of `doc` for the watch tested.
    fn matches(&self, doc: &Document) -> Vec<WatchMatch> {
        match self {
            Tested::Configured { matcher, watch } => {
                let mut found = matcher.match_document(doc);
                found.retain(|m| &*m.watch == *watch);
                found
            }
            Tested::Compiled(matcher) => matcher.match_document(doc),
        }
    }
}

/// What to test: the configured watch `name` (as configured, or with `query` in place of its
/// own), or `query` under [`QUERY_WATCH`].
pub fn matcher<'c>(config: &'c Config, watch: Option<&str>, query: Option<&str>) -> Result<Tested<'c>, BacktestError> {
    let configured = watch.and_then(|name| config.watches.iter().find(|w| w.name == name));
    let def = match (watch, query, configured) {
        (_, None, Some(w)) => return Ok(Tested::Configured { matcher: &config.matcher, watch: &w.name }),
        (_, Some(q), Some(w)) if q == w.query => {
            return Ok(Tested::Configured { matcher: &config.matcher, watch: &w.name });
        }
        // An edited query keeps the rest of its watch (its languages).
        (_, Some(q), Some(w)) => WatchDef { query: q.to_string(), ..w.def() },
        (_, Some(q), None) => {
            WatchDef { name: watch.unwrap_or(QUERY_WATCH).to_string(), query: q.to_string(), ..Default::default() }
        }
        (Some(name), None, None) => {
            let known: Vec<&str> = config.watches.iter().map(|w| w.name.as_str()).collect();
            return Err(BacktestError::UnknownWatch { name: name.to_string(), known: known.join(", ") });
        }
        (None, None, _) => return Err(BacktestError::NothingToTest),
    };
    let compiled = Matcher::compile(&config.entities, &[def], config.builtin_entities)
        .map_err(|mut e| BacktestError::Query(Box::new(e.remove(0))))?;
    Ok(Tested::Compiled(Box::new(compiled)))
}

#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("no watch named {name:?} in the config; configured: {known}")]
    UnknownWatch { name: String, known: String },
    #[error("give a watch or a query to test")]
    NothingToTest,
    #[error("{0}")]
    Query(Box<QueryError>),
}

/// Evaluates `tested` over the stories of `store` first seen within `window` before `now`.
pub fn run(
    config: &Config,
    store: &Store,
    tested: &Tested<'_>,
    window: Duration,
    now: i64,
) -> Result<Outcome, StoreError> {
    let since = now.saturating_sub(window.as_secs().min(i64::MAX as u64) as i64);
    let mut names = FeedNames::new(config);
    let mut hits = Vec::new();
    let evaluated = store.stories_since(since, |stored| {
        let (name, tags) = names.of(&stored);
        hits.extend(evaluate(tested, &stored, &name, tags));
    })?;
    let clusters = hits.iter().map(|h| h.cluster).collect::<HashSet<_>>().len();
    let text_starts = match store.oldest_text()? {
        None => Some(i64::MAX),
        Some(oldest) if oldest > since => Some(oldest),
        Some(_) => None,
    };
    Ok(Outcome { hits, evaluated, clusters, since, window, text_starts })
}

/// The alerts one stored story raises under `tested`.
fn evaluate(tested: &Tested<'_>, stored: &StoryRow, name: &str, tags: &[String]) -> Vec<Hit> {
    let doc = stored.document(name, tags);
    tested
        .matches(&doc)
        .into_iter()
        .map(|m| Hit {
            alert: Alert::new(name, &stored.story, &doc, m),
            story: stored.id,
            first_seen: stored.first_seen,
            cluster: stored.cluster.unwrap_or(stored.id),
        })
        .collect()
}

/// Feed names and tags as alerts show them ([`config::feed_name`], what ingest uses), with the
/// configured feeds indexed by URL once and each stored feed's name worked out once.
pub struct FeedNames<'c> {
    configured: HashMap<String, &'c Feed>,
    known: HashMap<i64, (String, &'c [String])>,
}

impl<'c> FeedNames<'c> {
    pub fn new(config: &'c Config) -> FeedNames<'c> {
        FeedNames { configured: config.feeds.iter().map(|f| (f.url(), f)).collect(), known: HashMap::new() }
    }

    /// The name of the feed at `url` whose own title is `title`.
    pub fn name(&self, url: &str, title: Option<&str>) -> String {
        config::feed_name(self.configured.get(url).copied(), title, url)
    }

    /// The name and tags of the feed `stored` came from.
    pub fn of(&mut self, stored: &StoryRow) -> (String, &'c [String]) {
        let configured = &self.configured;
        self.known
            .entry(stored.feed_id)
            .or_insert_with(|| {
                let feed = configured.get(&stored.feed_url).copied();
                let name = config::feed_name(feed, stored.feed_title.as_deref(), &stored.feed_url);
                (name, feed.map_or(&[][..], |f| f.tags.as_slice()))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(hits: usize, clusters: usize, days: u64) -> Outcome {
        let hit = Hit { alert: Alert::health("f", "u", 0, None, 0), story: 1, first_seen: 0, cluster: 1 };
        Outcome {
            hits: vec![hit; hits],
            evaluated: 0,
            clusters,
            since: 0,
            window: Duration::from_secs(days * DAY as u64),
            text_starts: None,
        }
    }

    #[test]
    fn summary_reads_as_the_contract_says() {
        assert_eq!(
            outcome(12, 9, 30).summary(),
            "would have alerted 12 stories in 9 clusters over 30 days (0.4 a day)"
        );
        assert_eq!(
            outcome(60, 40, 30).summary(),
            "would have alerted 60 stories in 40 clusters over 30 days (2 a day)"
        );
        assert_eq!(outcome(1, 1, 30).summary(), "would have alerted 1 stories in 1 clusters over 30 days (0.03 a day)");
        assert_eq!(outcome(0, 0, 7).summary(), "would have alerted 0 stories in 0 clusters over 7 days (0 a day)");
    }

    #[test]
    fn the_json_line_is_the_alert_plus_first_seen() {
        let mut h = outcome(1, 1, 1).hits.remove(0);
        h.first_seen = 1_796_000_000;
        let v: serde_json::Value = serde_json::from_str(&h.to_json()).unwrap();
        assert_eq!(v["first_seen"], "2026-11-30T00:53:20Z");
        assert_eq!(v["watch"], "feed-health");
    }
}
