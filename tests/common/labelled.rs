//! The dedupe tests' shared pieces: a story of the labelled pairs (`tests/fixtures/dedupe/`),
//! and what a poll raises when every story matches one watch. Included on its own by the tests
//! that need nothing else of `common` (`#[path]`), and as `common::labelled` by the others.

use serde_json::Value;
use wirewatch::dedupe::LookupKeys;
use wirewatch::feed::Story;
use wirewatch::store::{NewAlert, Raised};

/// The story of one side (`"a"` or `"b"`) of a labelled pair: its key is the pair's id and side.
pub fn story(pair: &Value, side: &str) -> Story {
    let item = &pair[side];
    Story {
        key: format!("{}-{side}", pair["id"].as_str().unwrap()),
        url: None,
        title: item["title"].as_str().unwrap().into(),
        body: item["body"].as_str().unwrap().into(),
        author: String::new(),
        categories: Vec::new(),
        published: Some(chrono::DateTime::parse_from_rfc3339(item["published"].as_str().unwrap()).unwrap().to_utc()),
        keys: LookupKeys::with_lang(None),
    }
}

/// What a story matching `watch` of feed `feed` raises: one alert, to one notifier, clustered
/// across feeds.
pub fn one_alert(watch: &str, feed: &str) -> Raised {
    let alert = NewAlert {
        watch: watch.into(),
        feed: feed.into(),
        matched: "[]".into(),
        notifiers: vec!["log".into()],
        payload: "{}".into(),
    };
    Raised { alerts: vec![alert], cluster: true, ..Raised::default() }
}
