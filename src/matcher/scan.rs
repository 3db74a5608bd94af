//! Finding term occurrences in one field's folded text.
//!
//! One overlapping Aho-Corasick pass finds every pattern occurrence; each is then checked against
//! the rules of the terms that share the pattern (word boundaries, prefix, acronym case). Entity
//! names and aliases then claim their spans leftmost-longest, so "South Sudan" is not also a
//! mention of Sudan.

use unicode_normalization::UnicodeNormalization;

use super::compile::{Matcher, TermId};
use super::eval::Hit;
use super::query::{Field, TermKind};
use crate::text::{Folded, is_unspaced};

/// A checked occurrence of an entity term, before overlapping ones are resolved.
struct Candidate {
    start: u32,
    end: u32,
    term: TermId,
}

/// Appends to `out` every term hit in one field.
pub(super) fn scan(m: &Matcher, field: Field, source: &str, folded: &Folded, out: &mut Vec<(TermId, Hit)>) {
    let text = folded.text.as_str();
    let mut entity = Vec::new();
    for mat in m.automaton().find_overlapping_iter(text) {
        let (s, e) = (mat.start(), mat.end());
        for &t in m.pattern_terms(mat.pattern().as_usize()) {
            let spec = m.term(t);
            if spec.checks_left && !boundary_before(text, s) {
                continue;
            }
            let end = match spec.kind {
                TermKind::Exact if spec.checks_right && !boundary_after(text, e) => continue,
                TermKind::Exact => e,
                TermKind::Prefix => word_end(text, e),
            };
            if let Some(acronym) = &spec.acronym {
                let seen = &source[folded.source_range(source, s, e)];
                if !seen.nfkc().filter(|c| c.is_alphanumeric()).eq(acronym.chars()) {
                    continue;
                }
            }
            let (start, end) = (s as u32, end as u32);
            if spec.entity {
                entity.push(Candidate { start, end, term: t });
            } else {
                out.push((t, Hit { field, start, end, term: t }));
            }
        }
    }
    resolve_leftmost_longest(&mut entity, field, out);
}

/// Keeps, from overlapping entity candidates, the leftmost and then longest; candidates with
/// exactly the chosen span (one alias shared by two entities) are all kept.
fn resolve_leftmost_longest(cands: &mut [Candidate], field: Field, out: &mut Vec<(TermId, Hit)>) {
    cands.sort_unstable_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    let mut chosen: Option<(u32, u32)> = None;
    for c in cands.iter() {
        let take = match chosen {
            None => true,
            Some((cs, ce)) => c.start >= ce || (c.start == cs && c.end == ce),
        };
        if take {
            chosen = Some((c.start, c.end));
            out.push((c.term, Hit { field, start: c.start, end: c.end, term: c.term }));
        }
    }
}

/// Whether a word may start at byte `at`: text start, after a space, or after an unspaced script.
fn boundary_before(text: &str, at: usize) -> bool {
    match text[..at].chars().next_back() {
        None | Some(' ') => true,
        Some(c) => is_unspaced(c),
    }
}

/// Whether a word may end at byte `at`.
fn boundary_after(text: &str, at: usize) -> bool {
    match text[at..].chars().next() {
        None | Some(' ') => true,
        Some(c) => is_unspaced(c),
    }
}

/// The end of the word that continues at byte `at`.
fn word_end(text: &str, at: usize) -> usize {
    text[at..].char_indices().find(|&(_, c)| c == ' ' || is_unspaced(c)).map_or(text.len(), |(i, _)| at + i)
}
