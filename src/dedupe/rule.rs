//! Whether two stories from different feeds tell the same news: the rule, on features
//! (`features.rs`) from which each feed's boilerplate is already gone.
//!
//! Measured on `tests/fixtures/dedupe/pairs.jsonl` (labelled pairs): wording alone cannot
//! separate the same event told by two outlets (content-word overlap as low as 0.23) from two
//! different events told in the same words (overlap up to 0.95). Time, names and numbers can:
//! coverage of one event clusters within a news cycle and names the same people, places and
//! figures, while two events of one kind told from one template differ in exactly those. The
//! rule, symmetric in its two stories (so a cluster never depends on which came first):
//!
//! * the headlines agree: each headline's content words are found in the other story (a third
//!   or more), a name or number of one headline is among the other story's words (when either
//!   headline has any), and the headlines do not name different states neither story mentions
//!   (`places.rs`);
//! * what is specific agrees: the names and numbers of each headline and lead (the first two
//!   sentences, where a report names who did what to whom), common names left out (`words.rs`:
//!   states, capitals, organisations, offices, days), are found in the other story: a figure,
//!   or a name both headlines or leads give, or two names found anywhere in the other story
//!   (near-identical texts that name nothing specific have nothing to disagree on); and no
//!   headline gives a figure the other story lacks while the other headline gives one this
//!   story lacks ("728 drones", "810 drones");
//! * and then near-identical text (content-word overlap ≥ 0.9) within the dedupe window, or,
//!   within [`NEWS_CYCLE`], a key-token overlap ≥ 0.45 (names and numbers, two or more shared)
//!   unless their numbers conflict (none shared and four or more not shared).
//!
//! Overlap is the overlap coefficient `|A ∩ B| / min(|A|, |B|)`, which does not punish a short
//! item against a long one.

use super::View;

/// Stories published this close together can be the same news on weaker textual evidence.
const NEWS_CYCLE: i64 = 24 * 3600;
/// Content-word overlap at which two texts are the same story outright.
const NEAR_IDENTICAL: f64 = 0.9;
const KEY_OVERLAP: f64 = 0.4;
/// Key tokens two stories must share for the key overlap to count (one shared name is chance).
const MIN_SHARED_KEYS: usize = 2;
/// Share of a headline's content words the other story must contain.
const HEADLINE_COVERAGE: f64 = 0.3;
/// Numbers present in one story and not the other, with none shared, that mark two events.
const NUMBER_CONFLICT: usize = 4;
/// Specific names and numbers two stories must share (one for a story with few of them).
const MIN_SPECIFIC: usize = 2;

/// Sorted, deduplicated sets: how many elements they share.
fn shared(a: &[u32], b: &[u32]) -> usize {
    // A headline's few words against a story's many: a binary search each beats a walk of both.
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.len() * 8 <= large.len() {
        return small.iter().filter(|x| large.binary_search(x).is_ok()).count();
    }
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn overlap(a: &[u32], b: &[u32]) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    shared(a, b) as f64 / smaller as f64
}

/// How alike `a` and `b` are (their content-word overlap) when they are the same news, given the
/// dedupe `window` in seconds; `None` when they are not.
pub fn similarity(a: View<'_>, b: View<'_>, window: i64) -> Option<f64> {
    verdict(a, b, window).ok()
}

/// [`similarity`], or which part of the rule tells the two stories apart.
pub fn verdict(a: View<'_>, b: View<'_>, window: i64) -> Result<f64, Apart> {
    let gap = match (a.published, b.published) {
        (Some(x), Some(y)) => (x - y).abs(),
        // Undated stories are compared as if published together (they are seen together).
        _ => 0,
    };
    if gap > window {
        return Err(Apart::Time);
    }
    if !headlines_agree(a, b) {
        return Err(Apart::Headlines);
    }
    if headline_figures_conflict(a, b) {
        return Err(Apart::HeadlineFigures);
    }
    let content = overlap(a.content, b.content);
    // Near-identical text that names nothing specific has nothing to disagree on.
    let nothing_specific = a.specific.is_empty() && b.specific.is_empty();
    if !(specifics_agree(a, b) || nothing_specific && content >= NEAR_IDENTICAL) {
        return Err(Apart::Specifics);
    }
    if content >= NEAR_IDENTICAL {
        return Ok(content);
    }
    if gap > NEWS_CYCLE {
        return Err(Apart::Time);
    }
    let shared_numbers = shared(a.numbers, b.numbers);
    let other_numbers = a.numbers.len() + b.numbers.len() - 2 * shared_numbers;
    if shared_numbers == 0 && other_numbers >= NUMBER_CONFLICT {
        return Err(Apart::Figures);
    }
    if shared(a.key, b.key) < MIN_SHARED_KEYS || overlap(a.key, b.key) < KEY_OVERLAP {
        return Err(Apart::Names);
    }
    Ok(content)
}

/// The part of the rule that tells two stories apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apart {
    /// Dated further apart than the window (or, for text that is not near-identical, the news cycle).
    Time,
    Headlines,
    /// Each headline gives a figure the other story lacks.
    HeadlineFigures,
    /// Too few specific names and numbers in common.
    Specifics,
    /// Their numbers conflict.
    Figures,
    /// Their names overlap too little.
    Names,
}

/// Each headline's content words are found in the other story, and, when either headline
/// names anyone or anything, a name or number of one is among the other story's.
fn headlines_agree(a: View<'_>, b: View<'_>) -> bool {
    let covered = |title: &[u32], other: &[u32]| {
        title.is_empty() || shared(title, other) as f64 >= HEADLINE_COVERAGE * title.len() as f64
    };
    // Among the other story's words, not only its names: a Title Case headline makes names of
    // words the other story writes in lower case.
    let named_in = |title: View<'_>, other: View<'_>| {
        shared(title.title_key, other.key) > 0 || shared(title.title_key, other.content) > 0
    };
    let named = || (a.title_key.is_empty() && b.title_key.is_empty()) || named_in(a, b) || named_in(b, a);
    // The test that rejects most candidates first.
    covered(a.title_content, b.content) && covered(b.title_content, a.content) && named() && !places_differ(a, b)
}

/// Both headlines name states, and neither story mentions any state the other's headline names.
fn places_differ(a: View<'_>, b: View<'_>) -> bool {
    let unmentioned = |title: View<'_>, other: View<'_>| {
        let words = [other.content, other.key];
        title.title_places.iter().all(|&id| !super::places::mentions(id, &words))
    };
    !a.title_places.is_empty() && !b.title_places.is_empty() && unmentioned(a, b) && unmentioned(b, a)
}

/// The stories share what is specific to an event.
fn specifics_agree(a: View<'_>, b: View<'_>) -> bool {
    // A figure, or a name both headlines or leads give, is evidence enough; a name only one
    // lead gives is half of it ("Dongying" in one lead and another's background).
    let found = |x: View<'_>, y: View<'_>| {
        let found = x.specific.iter().filter(|h| y.key.binary_search(h).is_ok() || y.content.binary_search(h).is_ok());
        let weight = |h: &u32| {
            if x.numbers.binary_search(h).is_ok() || y.specific.binary_search(h).is_ok() { 2 } else { 1 }
        };
        found.map(weight).sum::<usize>()
    };
    found(a, b).max(found(b, a)) >= MIN_SPECIFIC
}

/// Each headline gives a number the other story does not have ("728 drones", "810 drones").
fn headline_figures_conflict(a: View<'_>, b: View<'_>) -> bool {
    let unmatched = |x: View<'_>, y: View<'_>| {
        x.title_key.iter().any(|h| x.numbers.binary_search(h).is_ok() && y.numbers.binary_search(h).is_err())
    };
    unmatched(a, b) && unmatched(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::Features;

    fn same_story(a: &Features, b: &Features) -> bool {
        similarity(a.view(), b.view(), 3600).is_some()
    }

    /// One outlet's stock paragraph under two headlines.
    fn boilerplate(title: &str) -> Features {
        let body = "Officials in Brussels said the EU measures would freeze assets and restrict exports. \
                    Anna Lindqvist of the Baltic Policy Institute said the coming weeks would be decisive. \
                    Diplomats at the United Nations said consultations were continuing behind closed doors.";
        Features::new(title, body, Some(1_000))
    }

    #[test]
    fn the_same_stock_paragraph_under_headlines_naming_different_states_is_two_stories() {
        let syria = boilerplate("EU widens sanctions on Syria over chemical weapons");
        let israel = boilerplate("EU widens sanctions on Israel over chemical weapons");
        assert!(same_story(&syria, &boilerplate("EU widens sanctions on Syria over chemical weapons")));
        assert!(!same_story(&syria, &israel));
    }

    #[test]
    fn the_same_stock_paragraph_under_unrelated_headlines_is_two_stories() {
        let floods = boilerplate("Floods cut rail links across the north");
        let vote = boilerplate("Parliament delays vote on budget");
        assert!(!same_story(&floods, &vote));
    }
}
