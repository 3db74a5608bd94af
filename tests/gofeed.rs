//! wirewatch's parse path against gofeed's test data (`../shared/corpus/gofeed/testdata`, MIT):
//! for every feed file with gofeed's expected parse beside it, the stories are compared with the
//! expected items on count, title, link and date, and a table per folder is printed. Skipped,
//! with a message, when the corpus is not beside the project.
//!
//! Run with `cargo test --test gofeed -- --nocapture` to see the table and every disagreement.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What gofeed expects of one item.
struct Expected {
    title: Option<String>,
    link: Option<String>,
    date: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Row {
    files: usize,
    with_items: usize,
    count_ok: usize,
    title: (usize, usize),
    link: (usize, usize),
    date: (usize, usize),
}

/// The feed file and its expected parse, for every pair in the test data.
fn pairs(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if let Some(stem) = name.strip_suffix(".xml") {
                let expected = path.with_file_name(format!("{stem}.json"));
                if expected.exists() {
                    out.push((path, expected));
                }
            } else if let Some(stem) = name.strip_suffix(".json") {
                // JSON Feed inputs carry their expected parse as `<name>_expected.json`.
                let expected = path.with_file_name(format!("{stem}_expected.json"));
                if expected.exists() {
                    out.push((path, expected));
                }
            }
        }
    }
    out.sort();
    out
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string).filter(|s| !s.trim().is_empty())
}

fn date(v: &Value, keys: &[&str]) -> Option<DateTime<Utc>> {
    keys.iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .find_map(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// The link gofeed gives an item: `link` (RSS, translated feeds, JSON `url`), or an Atom entry's
/// alternate link (or its link without `rel`).
fn link(item: &Value) -> Option<String> {
    if let Some(l) = text(item, "link").or_else(|| text(item, "url")) {
        return Some(l);
    }
    let links = item.get("links")?.as_array()?;
    links
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str).is_none_or(|r| r == "alternate"))
        .and_then(|l| text(l, "href"))
}

fn expected_items(doc: &Value) -> Vec<Expected> {
    let items = doc.get("items").or_else(|| doc.get("entries")).and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .map(|item| Expected {
            title: text(item, "title"),
            link: link(item),
            date: date(item, &["publishedParsed", "pubDateParsed", "updatedParsed", "date_published", "date_modified"]),
        })
        .collect()
}

/// Titles agree when equal after collapsing white space, or when gofeed kept markup that
/// wirewatch reads as the text it shows.
fn same_title(ours: &str, theirs: &str) -> bool {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    squash(ours) == squash(theirs) || squash(ours) == squash(&wirewatch::text::html_to_text(theirs))
}

/// Links agree when they name the same URL (`http://example.org` is `http://example.org/`).
fn same_link(ours: &str, theirs: &str) -> bool {
    let parse = |s: &str| url::Url::parse(s.trim()).map(String::from).unwrap_or_else(|_| s.trim().to_string());
    parse(ours) == parse(theirs)
}

/// Counts agreement on one field over the items where gofeed has a value.
fn tally<T>(
    field: &str,
    name: &str,
    got: &[Option<T>],
    want: &[Option<T>],
    same: impl Fn(&T, &T) -> bool,
    cell: &mut (usize, usize),
    notes: &mut Vec<String>,
) where
    T: std::fmt::Debug,
{
    let pairs: Vec<_> = want.iter().zip(got).filter(|(w, _)| w.is_some()).collect();
    if pairs.is_empty() {
        return;
    }
    cell.1 += 1;
    match pairs.iter().find(|(w, g)| !g.as_ref().is_some_and(|g| same(g, w.as_ref().unwrap()))) {
        None => cell.0 += 1,
        Some((w, g)) => notes.push(format!("{name}: {field}: got {g:?}, gofeed {w:?}")),
    }
}

fn compare(feed: &Path, expected: &Path, row: &mut Row, notes: &mut Vec<String>, root: &Path) {
    let name = feed.strip_prefix(root).unwrap().display().to_string();
    let doc: Value = serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
    let want = expected_items(&doc);
    row.files += 1;
    let bytes = std::fs::read(feed).unwrap();
    let stories = match wirewatch::feed::parse(&bytes, None) {
        Ok(parsed) => parsed.stories,
        Err(e) if want.is_empty() => {
            notes.push(format!("{name}: no items expected; rejected: {e}"));
            return;
        }
        Err(e) => {
            row.with_items += 1;
            notes.push(format!("{name}: count: rejected ({e}), gofeed {} items", want.len()));
            return;
        }
    };
    if want.is_empty() {
        return;
    }
    row.with_items += 1;
    if stories.len() == want.len() {
        row.count_ok += 1;
    } else {
        notes.push(format!("{name}: count: got {}, gofeed {}", stories.len(), want.len()));
        return;
    }
    let titles: Vec<_> = stories.iter().map(|s| Some(s.title.clone()).filter(|t| !t.is_empty())).collect();
    let links: Vec<_> = stories.iter().map(|s| s.url.clone()).collect();
    let dates: Vec<_> = stories.iter().map(|s| s.published).collect();
    let want_titles: Vec<_> = want.iter().map(|w| w.title.clone()).collect();
    let want_links: Vec<_> = want.iter().map(|w| w.link.clone()).collect();
    let want_dates: Vec<_> = want.iter().map(|w| w.date).collect();
    tally("title", &name, &titles, &want_titles, |g, w| same_title(g, w), &mut row.title, notes);
    tally("link", &name, &links, &want_links, |g, w| same_link(g, w), &mut row.link, notes);
    tally("date", &name, &dates, &want_dates, |g, w| g == w, &mut row.date, notes);
}

fn pct((ok, of): (usize, usize)) -> String {
    if of == 0 { "-".into() } else { format!("{ok}/{of}") }
}

#[test]
fn stories_agree_with_gofeed_expectations() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/gofeed/testdata");
    if !root.is_dir() {
        println!("skipped: no gofeed test data at {}", root.display());
        return;
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut notes = Vec::new();
    for (feed, expected) in pairs(&root) {
        let folder = feed.parent().unwrap().strip_prefix(&root).unwrap().display().to_string();
        compare(&feed, &expected, rows.entry(folder).or_default(), &mut notes, &root);
    }
    println!("| folder | files | with items | same count | titles | links | dates |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut total = Row::default();
    for (folder, r) in &rows {
        println!(
            "| {folder} | {} | {} | {} | {} | {} | {} |",
            r.files,
            r.with_items,
            r.count_ok,
            pct(r.title),
            pct(r.link),
            pct(r.date)
        );
        total.with_items += r.with_items;
        total.count_ok += r.count_ok;
        for (t, c) in [(&mut total.title, r.title), (&mut total.link, r.link), (&mut total.date, r.date)] {
            t.0 += c.0;
            t.1 += c.1;
        }
    }
    println!("\n{} disagreements:", notes.len());
    for n in &notes {
        println!("  {n}");
    }
    let ratio = |(ok, of): (usize, usize)| ok as f64 / of.max(1) as f64;
    assert_eq!(total.count_ok, total.with_items, "every file where gofeed expects items gives the same count");
    for (field, cell) in [("titles", total.title), ("links", total.link), ("dates", total.date)] {
        assert!(ratio(cell) >= 0.95, "{field} agree on {}", pct(cell));
    }
}
