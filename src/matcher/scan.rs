//! Finding term occurrences in one field's folded text.
//!
//! `find` reports every pattern occurrence; patterns carry their word boundaries, so each
//! occurrence is a whole word (or a word prefix for `word*`) and only the acronym rule is left
//! to check. Entity
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

/// Appends to `out` every term hit in one field.
pub(super) fn scan(m: &Matcher, field: Field, source: &str, folded: &Folded, out: &mut Vec<Hit>) {
    let text = folded.text.as_str();
    let mut entity = Vec::new();
    m.finder().find(text, |pattern, s, e| {
        for &(t, spec) in m.pattern_terms(pattern) {
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
    });
    let first = out.len();
    resolve_leftmost_longest(m, &mut entity, field, out);
    drop_qualified(m, source, folded, &mut entity, first, out);
}

/// Words that may join a bare organ name to the state after it ("Security Council of Russia").
const CONNECTORS: &[&str] = &["of", "the", "de", "du", "des", "del", "da", "do", "der", "la"];

/// Removes, from this field's entity hits (`out[first..]`), bare organ names that a state
/// qualifies: "Russia's Security Council", "Совет безопасности России" are not the UN's.
fn drop_qualified(
    m: &Matcher,
    source: &str,
    folded: &Folded,
    states: &mut Vec<Candidate>,
    first: usize,
    out: &mut Vec<Hit>,
) {
    if !out[first..].iter().any(|h| m.term(h.term).bare) {
        return;
    }
    states.clear();
    states.extend(out[first..].iter().filter(|h| m.names_state(h.term)).map(|h| Candidate {
        start: h.start,
        end: h.end,
        term: h.term,
    }));
    let text = folded.text.as_str();
    let joined = |a: u32, b: u32, connectors: bool| {
        if a > b {
            return false;
        }
        let gap = &text[a as usize..b as usize];
        let words_ok = gap.split(' ').filter(|w| !w.is_empty()).all(|w| connectors && CONNECTORS.contains(&w));
        let (from, to) = (folded.source_range(source, 0, a as usize).end, folded.origin[b as usize] as usize);
        words_ok
            && gap.split(' ').filter(|w| !w.is_empty()).count() <= 2
            && !source[from.min(to)..to].contains(is_clause_break)
    };
    let mut i = first;
    while i < out.len() {
        let h = out[i];
        let qualified =
            m.term(h.term).bare && states.iter().any(|s| joined(s.end, h.start, false) || joined(h.end, s.start, true));
        if qualified {
            out.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Punctuation that ends a clause: a state across it does not qualify a name.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '…'
            | '('
            | ')'
            | '['
            | ']'
            | '"'
            | '«'
            | '»'
            | '“'
            | '”'
            | '—'
            | '–'
            | '|'
            | '/'
            | '،'
            | '؛'
            | '。'
            | '，'
            | '、'
    )
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

/// The end of the word that continues at byte `at`: the next space, or the next character of
/// an unspaced script. Those are all three bytes or more in UTF-8, so only a byte of 0xE0 or
/// above (which starts a character) needs decoding.
fn word_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => return i,
            0xE0.. if text[i..].chars().next().is_some_and(is_unspaced) => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_ends_at_a_space_or_an_unspaced_character() {
        let by_chars = |text: &str, at: usize| {
            text[at..].char_indices().find(|&(_, c)| c == ' ' || is_unspaced(c)).map_or(text.len(), |(i, _)| at + i)
        };
        for text in [
            "sanctions on",
            "sanctions",
            "북한과 회담",
            "москва北京",
            "g7峰会",
            "café€ x",
            "naïve",
            "a 朝鮮",
            "a𠀀b 😀x",
        ] {
            for (at, _) in text.char_indices() {
                assert_eq!(word_end(text, at), by_chars(text, at), "{text:?} from {at}");
            }
        }
    }
}
