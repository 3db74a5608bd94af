//! Every real-world feed file parses without a panic, and every well-formed feed parses into
//! stories. Runs on the fixtures shipped in `tests/fixtures/feeds` always, and on the full
//! corpus in `../shared/corpus/feeds` when it exists beside the project.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Manifest rows by file name: (kind, wellformed, item count from the notes).
fn manifest(path: &Path) -> HashMap<String, (String, bool, Option<usize>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, kind, wf, notes) = (col("file"), col("kind"), col("wellformed"), col("notes"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .map(|c| (c[file].to_string(), (c[kind].to_string(), c[wf] == "yes", item_count(c[notes]))))
        .collect()
}

/// The "N items" or "N entries" fact in a manifest note.
fn item_count(notes: &str) -> Option<usize> {
    let words: Vec<&str> = notes.split([' ', ',', ';']).filter(|w| !w.is_empty()).collect();
    words.windows(2).find(|w| w[1] == "items" || w[1] == "entries").and_then(|w| w[0].parse().ok())
}

/// A feed that a reader should accept: well-formed XML or JSON of a feed kind.
fn usable(kind: &str, wellformed: bool) -> bool {
    wellformed && !matches!(kind, "malformed" | "opml")
}

struct Tally {
    parsed: usize,
    rejected: usize,
    failures: Vec<String>,
}

fn check_dir(dir: &Path, manifest_name: &str) -> Tally {
    let rows = manifest(&dir.join(manifest_name));
    let mut t = Tally { parsed: 0, rejected: 0, failures: Vec::new() };
    let mut names: Vec<&String> = rows.keys().collect();
    names.sort();
    for name in names {
        let (kind, wellformed, count) = &rows[name];
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let result =
            catch_unwind(AssertUnwindSafe(|| wirewatch::feed::parse(&bytes, Some("https://example.org/feed"))));
        match result {
            Err(_) => t.failures.push(format!("{name}: parser panicked")),
            Ok(Ok(feed)) => {
                t.parsed += 1;
                match count {
                    Some(n) if usable(kind, *wellformed) && feed.stories.len() != *n => {
                        t.failures.push(format!("{name}: {} stories, the manifest says {n}", feed.stories.len()));
                    }
                    _ => {}
                }
            }
            Ok(Err(e)) => {
                t.rejected += 1;
                if usable(kind, *wellformed) {
                    t.failures.push(format!("{name} ({kind}): rejected: {e}"));
                }
            }
        }
    }
    t
}

#[test]
fn shipped_fixtures_parse_and_broken_ones_are_rejected_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    let t = check_dir(&dir, "SOURCES.tsv");
    println!("fixtures: {} parsed, {} rejected", t.parsed, t.rejected);
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
    assert!(t.rejected >= 3, "the fixtures include broken feeds that must be rejected");
}

#[test]
fn the_whole_corpus_parses_without_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/feeds");
    if !dir.join("MANIFEST.tsv").exists() {
        println!("skipped: no corpus at {}", dir.display());
        return;
    }
    let t = check_dir(&dir, "MANIFEST.tsv");
    println!("corpus: {} parsed, {} rejected, {} problems", t.parsed, t.rejected, t.failures.len());
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
    // 176 before the lenient pass, Atom 0.3, RSS 0.93/0.94 and encoding detection; never fewer.
    assert!(t.parsed >= 183, "only {} of the corpus parsed", t.parsed);
}
