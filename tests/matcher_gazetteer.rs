//! Properties of the built-in gazetteer: every name of every entity is found by a query naming
//! the entity, whatever surrounds it.

use std::sync::OnceLock;

use proptest::prelude::*;
use wirewatch::matcher::gazetteer;
use wirewatch::matcher::{Document, Matcher, WatchDef};

/// Words around a name that are no entity's name and qualify nothing.
const FILLER: &[&str] = &["officials", "said", "on", "Monday", "the", "talks", "report", "在", "の", "и", "و"];
const SEPARATORS: &[&str] = &[" ", ", ", " (", ") ", ": ", " — ", "\n"];

/// One watch per entity, named after its index, querying its canonical name.
fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let watches: Vec<WatchDef> = gazetteer::get()
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| WatchDef {
                name: i.to_string(),
                query: format!("\"{}\"", e.name.replace('"', "")),
                ..Default::default()
            })
            .collect();
        Matcher::compile(&[], &watches, true).expect("canonical names parse as queries")
    })
}

fn matches(entity: usize, body: &str) -> bool {
    let doc = Document { body: body.to_string(), ..Document::default() };
    matcher().match_document(&doc).iter().any(|w| w.index == entity)
}

#[test]
fn every_name_alone_matches_its_entity() {
    let mut failures = Vec::new();
    for (i, e) in gazetteer::get().entries.iter().enumerate() {
        for n in &e.names {
            if !matches(i, &n.text) {
                failures.push(format!("{} ({}): {:?}", e.name, n.lang, n.text));
            }
        }
    }
    assert!(failures.is_empty(), "{} names do not match their entity:\n  {}", failures.len(), failures.join("\n  "));
}

fn context() -> impl Strategy<Value = String> {
    proptest::collection::vec((proptest::sample::select(FILLER), proptest::sample::select(SEPARATORS)), 0..4)
        .prop_map(|v| v.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_name_in_any_context_matches_its_entity(
        pick in any::<proptest::sample::Index>(),
        name in any::<proptest::sample::Index>(),
        before in context(),
        after in context(),
    ) {
        let entries = &gazetteer::get().entries;
        let i = pick.index(entries.len());
        let n = &entries[i].names[name.index(entries[i].names.len())];
        let body = format!("{before} {} {after}", n.text);
        prop_assert!(matches(i, &body), "{} ({}) not found in {:?}", entries[i].name, n.lang, body);
    }
}
