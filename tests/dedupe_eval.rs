//! Near-duplicate detection measured on the labelled pairs in `tests/fixtures/dedupe/`:
//! precision and recall, with "same story" as the positive class.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use wirewatch::dedupe::{Boilerplate, Features, MIN_SHARED_BANDS, similarity, verdict};

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
    Features::learnt(item["title"].as_str().unwrap(), item["body"].as_str().unwrap(), Some(published), boilerplate)
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
