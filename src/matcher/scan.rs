//! Finding term occurrences in one field's folded text.
//!
//! One overlapping Aho-Corasick pass finds every pattern occurrence; patterns carry their word
//! boundaries, so each occurrence is a whole word (or a word prefix for `word*`) and only the
//! acronym rule is left to check. Entity
//! names and aliases then claim their spans leftmost-longest against other entities' names, so
//! "South Sudan" is not also a mention of Sudan, while names of one entity never hide each other.

use unicode_normalization::UnicodeNormalization;

use super::compile::{Matcher, TermId};
use super::eval::Hit;
use super::query::Field;
use crate::text::{Folded, is_unspaced};

/// A checked occurrence of an entity term, before overlapping ones are resolved.
struct Candidate {
    start: u32,
    end: u32,
    term: TermId,
}

/// Appends to `out` every term hit in one field; `padded` is scratch space.
pub(super) fn scan(m: &Matcher, field: Field, source: &str, folded: &Folded, out: &mut Vec<Hit>, padded: &mut String) {
    let text = folded.text.as_str();
    // Patterns carry their word boundaries as spaces (see `TermSpec`), so the text gets a space
    // on each side; offsets below are converted back to `text`.
    padded.clear();
    padded.push(' ');
    padded.push_str(text);
    padded.push(' ');
    let mut entity = Vec::new();
    for mat in m.automaton().find_overlapping_iter(padded.as_str()) {
        let found = &padded.as_bytes()[mat.start()..mat.end()];
        let s = mat.start() + usize::from(found.first() == Some(&b' ')) - 1;
        let e = mat.end() - usize::from(found.last() == Some(&b' ')) - 1;
        for &t in m.pattern_terms(mat.pattern().as_usize()) {
            let spec = m.scan_spec(t);
            let end = if spec.prefix { word_end(text, e) } else { e };
            if spec.acronym && !acronym_as_written(m, t, &source[folded.source_range(source, s, e)]) {
                continue;
            }
            let (start, end) = (s as u32, end as u32);
            if spec.entity {
                entity.push(Candidate { start, end, term: t });
            } else {
                out.push(Hit { field, start, end, term: t });
            }
        }
    }
    resolve_leftmost_longest(m, &mut entity, field, out);
}

/// Whether `seen` spells acronym term `t` exactly (the case-sensitive rule for UN, US, NATO).
fn acronym_as_written(m: &Matcher, t: TermId, seen: &str) -> bool {
    let acronym = m.term(t).acronym.as_deref().unwrap_or_default();
    seen.nfkc().filter(|c| c.is_alphanumeric()).eq(acronym.chars())
}

/// Resolves overlapping entity candidates. The leftmost and then longest span wins; a
/// candidate overlapping it is kept only when it names one of the winner's entities (another
/// name of the same entity, or of an entity the winner is part of): "UN Security Council" does
/// not hide `Security Council` or `UN`, while "South Sudan" hides Sudan. Candidates with exactly
/// the winner's span (one alias shared by two entities) are winners too.
fn resolve_leftmost_longest(m: &Matcher, cands: &mut [Candidate], field: Field, out: &mut Vec<Hit>) {
    cands.sort_unstable_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
    let mut chosen: Option<(u32, u32)> = None;
    let mut winners: Vec<TermId> = Vec::new();
    for c in cands.iter() {
        let take = match chosen {
            None => true,
            Some((cs, ce)) => c.start >= ce || (c.start == cs && c.end == ce),
        };
        if take {
            if chosen != Some((c.start, c.end)) {
                winners.clear();
            }
            chosen = Some((c.start, c.end));
            winners.push(c.term);
        } else if !shares_entity(m, c.term, &winners) {
            continue;
        }
        out.push(Hit { field, start: c.start, end: c.end, term: c.term });
    }
}

/// Whether term `t` names an entity that one of `winners` names.
fn shares_entity(m: &Matcher, t: TermId, winners: &[TermId]) -> bool {
    let mine = m.term_entities(t);
    winners.iter().any(|&w| m.term_entities(w).iter().any(|e| mine.contains(e)))
}

/// The end of the word that continues at byte `at`.
fn word_end(text: &str, at: usize) -> usize {
    text[at..].char_indices().find(|&(_, c)| c == ' ' || is_unspaced(c)).map_or(text.len(), |(i, _)| at + i)
}
