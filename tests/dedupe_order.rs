//! The same stories give the same alerts whatever order the polls finish in: a labelled stream
//! of reports from many feeds (the same-news and template pairs of `tests/fixtures/dedupe/`) is
//! ingested feed by feed, in shuffled orders, each into a fresh SQLite file, and every order
//! must make the same clusters and queue one alert per cluster.

#[path = "common/labelled.rs"]
mod labelled;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use wirewatch::feed::Story;
use wirewatch::store::{FetchMeta, Store};

/// The default `[dedupe] window`.
const WINDOW: i64 = 72 * 3600;

/// The stream: every item of the same-news pairs and of the template pairs, grouped by feed
/// (each feed's items make one document).
fn documents() -> Vec<(String, Vec<Story>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dedupe/pairs.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut feeds: BTreeMap<String, Vec<Story>> = BTreeMap::new();
    for line in text.lines() {
        let pair: Value = serde_json::from_str(line).unwrap();
        if !matches!(pair["kind"].as_str().unwrap(), "cross-outlet" | "republication" | "template") {
            continue;
        }
        for side in ["a", "b"] {
            let feed = pair[side]["feed"].as_str().unwrap().to_string();
            feeds.entry(feed).or_default().push(labelled::story(&pair, side));
        }
    }
    feeds.into_iter().collect()
}

/// What a stream gave: its clusters (each a set of story keys) and the alerts queued.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    clusters: BTreeSet<BTreeSet<String>>,
    alerts: i64,
}

/// Ingests the documents in `order` into a fresh database; every story matches one watch.
fn ingest(documents: &[(String, Vec<Story>)], order: &[usize]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut store = Store::open(&path).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z").unwrap().timestamp();
    for &i in order {
        let (feed, stories) = &documents[i];
        let id = store.feed_state(&format!("https://{i}.example/{feed}")).unwrap().id;
        store.ingest(id, &FetchMeta::default(), stories, now, WINDOW, |_, _| labelled::one_alert("all", feed)).unwrap();
    }
    drop(store);
    let db = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = db.prepare("SELECT m.cluster_id, s.key FROM matches m JOIN stories s ON s.id = m.story_id").unwrap();
    let mut clusters: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap() {
        let (cluster, key) = row.unwrap();
        clusters.entry(cluster).or_default().insert(key);
    }
    let alerts = db.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)).unwrap();
    Outcome { clusters: clusters.into_values().collect(), alerts }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_same_stories_give_the_same_alerts_whatever_order_the_polls_finish_in(
        order in Just((0..documents().len()).collect::<Vec<_>>()).prop_shuffle()
    ) {
        let documents = documents();
        let reference = ingest(&documents, &(0..documents.len()).collect::<Vec<_>>());
        prop_assert_eq!(reference.alerts as usize, reference.clusters.len(), "one alert per cluster");
        let shuffled = ingest(&documents, &order);
        prop_assert_eq!(&shuffled, &reference, "order {:?}", order);
    }
}
