//! Near-duplicate detection measured on the labelled pairs in `tests/fixtures/dedupe/`:
//! precision and recall, with "same story" as the positive class.

#[path = "common/labelled.rs"]
mod labelled;

use std::collections::HashMap;
use std::path::Path;

use labelled::{one_alert, story};
use serde_json::Value;
use wirewatch::dedupe::{Boilerplate, Features, MIN_SHARED_BANDS, similarity, verdict};
use wirewatch::feed::Story;
use wirewatch::store::{FetchMeta, Store};

/// The default `[dedupe] window`.
const WINDOW: i64 = 72 * 3600;

/// Every labelled pair, in file order.
fn pairs() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dedupe/pairs.jsonl");
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Each feed's boilerplate, learnt as the store learns it from a feed's stories: here from all
/// the items of that feed in the labelled set.
fn boilerplate(pairs: &[Value]) -> HashMap<String, Boilerplate> {
    let mut bodies: HashMap<String, Vec<&str>> = HashMap::new();
    for item in pairs.iter().flat_map(|p| [&p["a"], &p["b"]]) {
        bodies.entry(item["feed"].as_str().unwrap().to_string()).or_default().push(item["body"].as_str().unwrap());
    }
    bodies.into_iter().map(|(feed, b)| (feed, Boilerplate::learn(b))).collect()
}

fn features(item: &Value, learnt: &HashMap<String, Boilerplate>) -> Features {
    let published = chrono::DateTime::parse_from_rfc3339(item["published"].as_str().unwrap()).unwrap().timestamp();
    let boilerplate = &learnt[item["feed"].as_str().unwrap()];
    let (title, body) = (item["title"].as_str().unwrap(), item["body"].as_str().unwrap());
    Features::learnt(title, body, Some(published), |s| boilerplate.contains(s))
}

#[test]
fn clustering_meets_the_precision_and_recall_targets_on_the_labelled_pairs() {
    let pairs = pairs();
    let learnt = boilerplate(&pairs);
    let (mut tp, mut fp, mut fn_, mut wrong) = (0, 0, 0, Vec::new());
    for pair in &pairs {
        let (a, b) = (features(&pair["a"], &learnt), features(&pair["b"], &learnt));
        let same = similarity(a.view(), b.view(), WINDOW).is_some();
        if same {
            // The candidate index must find every pair the rule would merge.
            let bands = a.bands();
            let shared = b.bands().iter().filter(|k| bands.contains(k)).count();
            if shared < MIN_SHARED_BANDS {
                wrong.push(format!("{}: {shared} shared index keys", pair["id"]));
            }
        }
        match (pair["label"].as_str().unwrap(), same) {
            ("same", true) => tp += 1,
            ("same", false) => {
                fn_ += 1;
                let why = verdict(a.view(), b.view(), WINDOW).err();
                wrong.push(format!("missed {} ({why:?})", pair["id"]));
            }
            (_, true) => {
                fp += 1;
                wrong.push(format!("merged {}", pair["id"]));
            }
            _ => {}
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    println!(
        "dedupe pairs: precision {precision:.3}, recall {recall:.3} ({tp} found, {fp} wrongly merged, {fn_} missed): {wrong:?}"
    );
    assert_eq!(fp, 0, "precision {precision:.3}: {wrong:?}");
    assert!(recall >= 0.90, "recall {recall:.3}: {wrong:?}");
}

/// The cluster of every item when the labelled set is polled as a stream into a real SQLite
/// file: item by item in order of publication, each polled ten minutes after it was published
/// from its feed's document of the items published so far, every story matching one watch. An
/// item whose text its feed already listed is that story.
fn stream_clusters(pairs: &[Value], copies: usize) -> HashMap<String, i64> {
    let mut items: Vec<Story> = pairs.iter().flat_map(|p| [story(p, "a"), story(p, "b")]).collect();
    let mut feed_of: HashMap<String, String> = pairs
        .iter()
        .flat_map(|p| ["a", "b"].map(|side| (format!("{}-{side}", p["id"].as_str().unwrap()), p[side]["feed"].clone())))
        .map(|(key, feed)| (key, feed.as_str().unwrap().to_string()))
        .collect();
    for pair in pairs.iter().filter(|p| p["label"] == "same") {
        for i in 0..copies {
            let mut copy = story(pair, "a");
            copy.key = format!("{}-copy{i}", copy.key);
            copy.published = copy.published.map(|p| p + chrono::Duration::minutes(1 + i as i64));
            feed_of.insert(copy.key.clone(), format!("Syndicate {i}"));
            items.push(copy);
        }
    }
    items.sort_by_key(|s| (s.published, s.key.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("w.db")).unwrap();
    let mut documents: HashMap<&str, Vec<Story>> = HashMap::new();
    for item in &items {
        let feed = feed_of[&item.key].as_str();
        let document = documents.entry(feed).or_default();
        if !document.iter().any(|s| s.title == item.title && s.body == item.body) {
            document.insert(0, item.clone());
        }
        let id = store.feed_state(&format!("https://{}.example/", feed.replace(' ', "-"))).unwrap().id;
        let now = item.published.unwrap().timestamp() + 600;
        store.ingest(id, &FetchMeta::default(), document, now, WINDOW, |_, _| one_alert("all", "")).unwrap();
    }
    drop(store);
    let db = rusqlite::Connection::open(dir.path().join("w.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT s.key, s.title, s.body, m.cluster_id FROM matches m JOIN stories s ON s.id = m.story_id")
        .unwrap();
    let stored: Vec<(String, String, String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
    items
        .iter()
        .map(|item| {
            let feed = &feed_of[&item.key];
            let (_, _, _, cluster) = stored
                .iter()
                .find(|(key, title, body, _)| {
                    *key == item.key || feed_of[key] == *feed && *title == item.title && *body == item.body
                })
                .unwrap();
            (item.key.clone(), *cluster)
        })
        .collect()
}

/// Precision and recall of the stream's clusters on the labelled pairs, and what was missed or
/// wrongly merged.
fn stream_scores(pairs: &[Value], clusters: &HashMap<String, i64>) -> (f64, f64, Vec<String>) {
    let (mut tp, mut fp, mut fn_, mut wrong) = (0, 0, 0, Vec::new());
    for pair in pairs {
        let id = pair["id"].as_str().unwrap();
        let same = clusters[&format!("{id}-a")] == clusters[&format!("{id}-b")];
        match (pair["label"].as_str().unwrap(), same) {
            ("same", true) => tp += 1,
            ("same", false) => {
                fn_ += 1;
                wrong.push(format!("missed {id}"));
            }
            (_, true) => {
                fp += 1;
                wrong.push(format!("merged {id}"));
            }
            _ => {}
        }
    }
    (tp as f64 / (tp + fp) as f64, tp as f64 / (tp + fn_) as f64, wrong)
}

/// Boilerplate across feeds is told by clusters, not by stories: a story syndicated word for
/// word to three more feeds (one cluster) keeps its sentences as evidence, so the labelled
/// same-news pairs still cluster as they do without the copies. (Counting stories instead made
/// the copies' sentences boilerplate: recall 0.29 against 0.66 here.) The stream's recall is
/// below the pairs' since a story joins a cluster only when it is the same news as every member,
/// and the set's items from other pairs are not labelled against each other.
#[test]
fn syndicated_copies_of_a_story_do_not_make_its_sentences_boilerplate() {
    let pairs = pairs();
    let (precision, recall, wrong) = stream_scores(&pairs, &stream_clusters(&pairs, 0));
    println!("dedupe stream: precision {precision:.3}, recall {recall:.3}: {wrong:?}");
    let (copied_precision, copied_recall, copied_wrong) = stream_scores(&pairs, &stream_clusters(&pairs, 3));
    println!(
        "dedupe stream, each first report in three more feeds: precision {copied_precision:.3}, recall {copied_recall:.3}"
    );
    assert_eq!(precision, 1.0, "{wrong:?}");
    assert_eq!((copied_precision, copied_recall), (precision, recall), "{copied_wrong:?}");
}
