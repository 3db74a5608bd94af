//! The automaton-based matcher agrees with a slow, obviously correct reference evaluator on
//! random queries and texts (no entities: those are covered by the rule tables).

use proptest::prelude::*;
use wirewatch::matcher::query::{Ast, Field, TermKind, parse};
use wirewatch::matcher::{Document, Matcher, WatchDef};
use wirewatch::text::fold;

const WORDS: &[&str] = &[
    "korea",
    "north",
    "russia",
    "treaty",
    "sanction",
    "sanctions",
    "sanctioned",
    "UN",
    "Un",
    "un",
    "US",
    "us",
    "talks",
];
const SEPARATORS: &[&str] = &[" ", ", ", " - ", ". ", "-", "’"];

/// A word of the story: its folded form and the original spelling.
struct Word {
    folded: String,
    original: String,
}

fn words(text: &str) -> Vec<Word> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| Word { folded: fold(w).text, original: w.to_string() })
        .collect()
}

fn is_acronym(s: &str) -> bool {
    (2..=5).contains(&s.chars().count()) && s.chars().all(|c| c.is_alphabetic() && c.is_uppercase())
}

/// Word spans `(first, last)` where the term occurs.
fn spans(text: &str, term: &str, kind: TermKind) -> Vec<(usize, usize)> {
    let ws = words(text);
    let tw: Vec<String> = fold(term).text.split(' ').map(str::to_string).collect();
    let mut out = Vec::new();
    for i in 0..ws.len() {
        let ok = match kind {
            TermKind::Prefix => ws[i].folded.starts_with(&tw[0]),
            TermKind::Exact => {
                i + tw.len() <= ws.len()
                    && (0..tw.len()).all(|k| ws[i + k].folded == tw[k])
                    && (!is_acronym(term) || ws[i].original == term)
            }
        };
        if ok {
            out.push((i, i + tw.len() - 1));
        }
    }
    out
}

fn eval(ast: &Ast, doc: &Document, fields: &[Field]) -> bool {
    match ast {
        Ast::Term(t) => fields.iter().any(|f| !spans(doc.field(*f), &t.text, t.kind).is_empty()),
        Ast::Scope(f, inner) => eval(inner, doc, &[*f]),
        Ast::Not(inner) => !eval(inner, doc, fields),
        Ast::And(parts) => parts.iter().all(|p| eval(p, doc, fields)),
        Ast::Or(parts) => parts.iter().any(|p| eval(p, doc, fields)),
        Ast::Near(a, b, n) => {
            let (ta, fa) = leaf(a, fields);
            let (tb, fb) = leaf(b, fields);
            fa.iter().filter(|f| fb.contains(f)).any(|f| {
                let text = doc.field(*f);
                let sa = spans(text, &ta.text, ta.kind);
                let sb = spans(text, &tb.text, tb.kind);
                sa.iter().any(|x| {
                    sb.iter().any(|y| {
                        let (first, second) = if x.0 <= y.0 { (x, y) } else { (y, x) };
                        second.0.saturating_sub(first.1) <= *n as usize
                    })
                })
            })
        }
    }
}

fn leaf<'a>(ast: &'a Ast, fields: &[Field]) -> (&'a wirewatch::matcher::query::Term, Vec<Field>) {
    match ast {
        Ast::Term(t) => (t, fields.to_vec()),
        Ast::Scope(f, inner) => leaf(inner, &[*f]),
        _ => unreachable!("NEAR takes terms"),
    }
}

fn term() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(WORDS).prop_map(str::to_string),
        (proptest::sample::select(WORDS), proptest::sample::select(WORDS)).prop_map(|(a, b)| format!("\"{a} {b}\"")),
        proptest::sample::select(&["sanc*", "kor*", "rus*", "tal*", "nor*"][..]).prop_map(str::to_string),
        (proptest::sample::select(&["title:", "body:"][..]), proptest::sample::select(WORDS))
            .prop_map(|(f, w)| format!("{f}{w}")),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => term(),
        1 => (term(), 1u32..4, term()).prop_map(|(a, n, b)| format!("{a} NEAR/{n} {b}")),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} NOT {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a} {b})")),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec((proptest::sample::select(WORDS), proptest::sample::select(SEPARATORS)), 0..12)
        .prop_map(|v| v.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn automaton_agrees_with_reference(q in query(), title in text(), body in text()) {
        let ast = parse(&q).expect("generated queries parse");
        let matcher = Matcher::compile(&[], &[WatchDef { name: "w".into(), query: q.clone(), ..Default::default() }], false).unwrap();
        let doc = Document { title, body, ..Document::default() };
        let fast = !matcher.match_document(&doc).is_empty();
        let slow = eval(&ast, &doc, &[Field::Title, Field::Body]);
        prop_assert_eq!(fast, slow, "query {:?} on {:?}", q, doc);
    }
}
