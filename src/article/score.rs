//! The extraction benchmark's metric (scrapinghub's article-extraction-benchmark): per page,
//! the multisets of word 4-shingles (runs of four consecutive `\w+` tokens) of the extracted
//! and the expected text give true positives, false positives and false negatives, normalised
//! to sum 1 so that long pages weigh no more than short ones; precision and recall come from
//! their means over the pages, F1 from those two. Pure.

use std::collections::HashMap;

/// How long a shingle is, in words.
const SHINGLE: usize = 4;

/// One page's normalised (true positives, false positives, false negatives).
pub fn page(expected: &str, extracted: &str) -> (f64, f64, f64) {
    let (want, got) = (shingles(expected), shingles(extracted));
    let (mut tp, mut fp, mut fne) = (0usize, 0usize, 0usize);
    for key in want.keys().chain(got.keys().filter(|k| !want.contains_key(*k))) {
        let (w, g) = (want.get(key).copied().unwrap_or(0), got.get(key).copied().unwrap_or(0));
        tp += w.min(g);
        fp += g.saturating_sub(w);
        fne += w.saturating_sub(g);
    }
    let sum = (tp + fp + fne) as f64;
    if sum == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    (tp as f64 / sum, fp as f64 / sum, fne as f64 / sum)
}

/// Precision, recall and F1 of a set of pages' [`page`] scores.
pub fn summary(pages: &[(f64, f64, f64)]) -> (f64, f64, f64) {
    let n = pages.len().max(1) as f64;
    let (tp, fp, fne) = pages.iter().fold((0.0, 0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n, a.2 + p.2 / n));
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fne > 0.0 { tp / (tp + fne) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    (precision, recall, f1)
}

/// The shingles of `text` with their counts; a text of fewer than four words is one shingle.
fn shingles(text: &str) -> HashMap<String, usize> {
    let tokens: Vec<&str> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|t| !t.is_empty()).collect();
    let mut out = HashMap::new();
    for i in 0..tokens.len().saturating_sub(SHINGLE) + 1 {
        let shingle = tokens[i..(i + SHINGLE).min(tokens.len())].join(" ");
        if !shingle.is_empty() {
            *out.entry(shingle).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_as_the_benchmark_does() {
        let truth = "one two three four five six";
        assert_eq!(page(truth, truth), (1.0, 0.0, 0.0));
        // Three shingles expected; of the four extracted, two are among them.
        let (tp, fp, fne) = page(truth, "one two three four five, and more");
        assert!((tp - 0.4).abs() < 1e-9 && (fp - 0.4).abs() < 1e-9 && (fne - 0.2).abs() < 1e-9);
        assert_eq!(page("", ""), (0.0, 0.0, 0.0));
        assert_eq!(page("Short text", "Short text"), (1.0, 0.0, 0.0), "under four words is one shingle");
        let (p, r, f1) = summary(&[(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)]);
        assert!((p - 0.75).abs() < 1e-9 && (r - 1.0).abs() < 1e-9 && (f1 - 6.0 / 7.0).abs() < 1e-9);
    }
}
