//! Near-duplicate detection measured on the labelled pairs in `tests/fixtures/dedupe/`:
//! precision and recall, with "same story" as the positive class.

use std::path::Path;

use serde_json::Value;
use wirewatch::dedupe::{Features, MIN_SHARED_BANDS, same_story};

/// The default `[dedupe] window`.
const WINDOW: i64 = 72 * 3600;

fn features(item: &Value) -> Features {
    let published = chrono::DateTime::parse_from_rfc3339(item["published"].as_str().unwrap()).unwrap().timestamp();
    Features::new(item["title"].as_str().unwrap(), item["body"].as_str().unwrap(), Some(published))
}

#[test]
fn clustering_meets_the_precision_and_recall_targets_on_the_labelled_pairs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dedupe/pairs.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let (mut tp, mut fp, mut fn_, mut wrong) = (0, 0, 0, Vec::new());
    for line in text.lines() {
        let pair: Value = serde_json::from_str(line).unwrap();
        let (a, b) = (features(&pair["a"]), features(&pair["b"]));
        let same = same_story(&a, &b, WINDOW);
        if same {
            // The candidate index must find every pair the rule would merge.
            let bands = a.bands();
            let shared = b.bands().iter().filter(|k| bands.contains(k)).count();
            assert!(shared >= MIN_SHARED_BANDS, "{}: {shared} shared index keys", pair["id"]);
        }
        match (pair["label"].as_str().unwrap(), same) {
            ("same", true) => tp += 1,
            ("same", false) => {
                fn_ += 1;
                wrong.push(format!("missed {}", pair["id"]));
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
    assert!(precision >= 0.95, "precision {precision:.3}: {wrong:?}");
    assert!(recall >= 0.85, "recall {recall:.3}: {wrong:?}");
}
