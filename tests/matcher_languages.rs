//! The multilingual gazetteer on a labelled set: stories in 14 languages (written for wirewatch
//! from public facts) against six watches written in English, with the hard negatives (South
//! Korea, the Korean peninsula, South Sudan, national security councils, ambiguous words).
//!
//! Every (story, watch) pair must come out as labelled; the test prints precision and recall per
//! language (`cargo test --test matcher_languages -- --nocapture`).

use std::collections::BTreeMap;

use serde::Deserialize;
use wirewatch::matcher::{Document, Matcher, WatchDef};

const STORIES: &str = include_str!("fixtures/multilingual/stories.jsonl");

const WATCHES: &[(&str, &str)] = &[
    ("nk-russia", "\"North Korea\" AND Russia"),
    ("south-korea", "\"South Korea\""),
    ("unsc", "\"United Nations Security Council\""),
    ("un", "\"United Nations\""),
    ("iaea", "\"International Atomic Energy Agency\""),
    ("sudan", "Sudan"),
];

#[derive(Deserialize)]
struct Story {
    lang: String,
    title: String,
    body: String,
    expect: BTreeMap<String, bool>,
    #[serde(default)]
    note: String,
}

#[derive(Default)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Counts {
    fn ratio(a: u32, b: u32) -> String {
        if a + b == 0 { "-".into() } else { format!("{:.2}", f64::from(a) / f64::from(a + b)) }
    }
}

#[test]
fn every_labelled_pair_matches_as_labelled() {
    let watches: Vec<WatchDef> = WATCHES
        .iter()
        .map(|(name, query)| WatchDef { name: name.to_string(), query: query.to_string(), ..Default::default() })
        .collect();
    let matcher = Matcher::compile(&[], &watches, true).expect("the watches parse");
    let stories: Vec<Story> = STORIES.lines().map(|l| serde_json::from_str(l).expect("a story per line")).collect();
    let mut by_lang: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut pairs = 0;
    for s in &stories {
        let doc = Document { title: s.title.clone(), body: s.body.clone(), ..Document::default() };
        let hit: Vec<String> = matcher.match_document(&doc).into_iter().map(|m| m.watch.to_string()).collect();
        let counts = by_lang.entry(&s.lang).or_default();
        for (watch, _) in WATCHES {
            let expect = s.expect[*watch];
            let got = hit.iter().any(|h| h == watch);
            pairs += 1;
            match (expect, got) {
                (true, true) => counts.tp += 1,
                (false, false) => counts.tn += 1,
                (false, true) => counts.fp += 1,
                (true, false) => counts.fn_ += 1,
            }
            if expect != got {
                failures.push(format!("[{}] {watch}: expected {expect}, got {got} ({}) {:?}", s.lang, s.note, s.title));
            }
        }
    }
    println!("{pairs} pairs, {} stories\nlang  pairs  precision  recall", stories.len());
    for (lang, c) in &by_lang {
        let n = c.tp + c.fp + c.fn_ + c.tn;
        println!("{lang:<5} {n:>5}  {:>9}  {:>6}", Counts::ratio(c.tp, c.fp), Counts::ratio(c.tp, c.fn_));
    }
    assert!(by_lang.len() >= 13, "the set covers the 14 languages (Chinese in both scripts under zh)");
    assert!(pairs >= 200, "at least 200 labelled pairs");
    assert!(failures.is_empty(), "{} of {pairs} pairs wrong:\n  {}", failures.len(), failures.join("\n  "));
}

fn doc(title: &str, lang: Option<&str>) -> Document {
    Document { title: title.to_string(), lang: lang.map(str::to_string), ..Document::default() }
}

#[test]
fn a_watch_limited_to_languages_skips_other_languages_but_not_unknown_ones() {
    let languages = vec!["ru".to_string(), "uk".to_string()];
    let watch = WatchDef { name: "w".into(), query: "\"North Korea\"".into(), languages };
    let matcher = Matcher::compile(&[], &[watch], true).unwrap();
    let hits = |d: &Document| !matcher.match_document(d).is_empty();
    assert!(hits(&doc("КНДР провела испытания", Some("ru"))));
    assert!(hits(&doc("КНДР провела випробування", Some("uk"))));
    assert!(!hits(&doc("La Corée du Nord a tiré un missile", Some("fr"))));
    assert!(hits(&doc("La Corée du Nord a tiré un missile", None)), "a story of unknown language is not excluded");
    let explained = wirewatch::matcher::render_explanation(&matcher.explain(&doc("Corée du Nord", Some("fr")))[0]);
    assert!(explained.contains("the story is in fr; the watch is limited to ru, uk"), "{explained}");
}

#[test]
fn explain_names_the_form_that_hit_and_its_language() {
    let watch = WatchDef { name: "w".into(), query: "Russia".into(), ..Default::default() };
    let matcher = Matcher::compile(&[], &[watch], true).unwrap();
    let explained =
        wirewatch::matcher::render_explanation(&matcher.explain(&doc("Договор между Россией и КНДР", Some("ru")))[0]);
    assert!(explained.contains("title \"Россией\" at 14..21 (via \"Россия\", ru)"), "{explained}");
}
