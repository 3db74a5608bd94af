//! The words similarity is made of: folding a word as the matcher folds it, its 32-bit hash,
//! and the two lists that take words out of the evidence (stop words, which say nothing, and
//! common names, which every story of a kind shares).

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::matcher::gazetteer;
use crate::text::fold;

/// A word's 32-bit hash: [`super::lookup_key`] folded in half.
pub(super) fn token_hash(folded: &str) -> u32 {
    let x = super::lookup_key(folded) as u64;
    (x ^ (x >> 32)) as u32
}

/// A word that carries news, as similarity reads it: folded and hashed once, with what the
/// features need of how it was written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Word {
    pub hash: u32,
    /// It holds a digit.
    pub number: bool,
    /// It is written with a capital.
    pub capital: bool,
    /// It opens a sentence: the text's first word, or the one after a word ending a sentence.
    pub opening: bool,
    /// It has three letters or more, folded.
    pub long: bool,
}

/// The words of `text` (as written, split at whitespace) that carry news, each folded and
/// hashed once, into `out` (emptied first): stop words, and words of punctuation alone, are
/// left out.
pub(super) fn read_words(text: &[&str], out: &mut Vec<Word>) {
    out.clear();
    let mut folded = String::new();
    let mut opening = true;
    for raw in text {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        fold_word(word, &mut folded);
        if !folded.is_empty() && !is_stop_word(&folded) {
            out.push(Word {
                hash: token_hash(&folded),
                number: folded.bytes().any(|b| b.is_ascii_digit()),
                capital: word.chars().next().is_some_and(char::is_uppercase),
                opening,
                long: folded.chars().nth(2).is_some(),
            });
        }
        opening = ends_sentence(raw);
    }
}

/// One key for a run of word hashes, in order (FNV-1a over the hashes).
pub(super) fn phrase_key(words: impl IntoIterator<Item = u32>) -> u64 {
    words.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, w| (h ^ u64::from(w)).wrapping_mul(0x100_0000_01b3))
}

/// A word folded as the matcher folds it (`Russia's` → `russia`), with inner punctuation
/// dropped (`U.S.` → `us`).
pub(super) fn fold_word(word: &str, out: &mut String) {
    out.clear();
    if word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(fold(word).text.chars().filter(|c| *c != ' '));
    }
}

/// Names that every story of a kind shares, and so tell one event from another no better than
/// "the" does: the days and months, and the titles of offices and institutions that lead so
/// many headlines. The words of the built-in gazetteer's states and organisations (with their
/// aliases and demonyms: "Iranian") are common names too, added by [`is_common_name`], so none
/// is listed here ("Treasury" is not among them).
const COMMON_NAMES: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "today",
    "tonight",
    "yesterday",
    "ministry",
    "minister",
    "ministers",
    "president",
    "prime",
    "government",
    "department",
    "army",
    "military",
    "forces",
    "defense",
    "defence",
    "foreign",
    "interior",
    "finance",
    "treasury",
    "national",
    "secretary",
    "chief",
    "chiefs",
    "staff",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "officials",
    "official",
    "western",
    "province",
    "region",
    "district",
    "county",
    "island",
    "ocean",
    "company",
    "corporation",
    "inc",
    "ltd",
    "mr",
    "ms",
    "mrs",
    "update",
    "breaking",
    "news",
    "report",
    "co",
    "corp",
    "llc",
    "plc",
    "limited",
    "holdings",
    "trading",
    "industries",
    "chemicals",
    "petrochemical",
    "shipping",
    "oil",
    "gas",
    "services",
    "technology",
    "cartel",
    "network",
    "americans",
    "europeans",
    // Capitals stand for their governments in every story about them ("Moscow said").
    "washington",
    "moscow",
    "beijing",
    "tehran",
    "pyongyang",
    "seoul",
    "tokyo",
    "kyiv",
    "kiev",
    "london",
    "paris",
    "berlin",
    "brussels",
    "ankara",
    "baku",
    "yerevan",
    "tbilisi",
    "minsk",
    "jerusalem",
    "riyadh",
    "cairo",
    "delhi",
    "islamabad",
    "kabul",
    "baghdad",
    "damascus",
    "beirut",
    "caracas",
    "havana",
    "ottawa",
    "canberra",
    "manila",
    "hanoi",
    "bangkok",
    "jakarta",
    "geneva",
    "vienna",
    "hague",
];

/// Words that end in a full stop without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "st.", "no.", "gen.", "col.", "lt.", "sgt.", "rep.", "sen.", "gov.", "vs.", "inc.",
    "co.", "corp.", "ltd.", "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.",
    "dec.",
];

/// Whether `word` (as written, punctuation and all) ends a sentence: it ends in `.`, `!` or `?`,
/// and is not an abbreviation ("Nov.", "a.m.", "U.S.").
pub(super) fn ends_sentence(word: &str) -> bool {
    let word = word.trim_end_matches(['"', '\'', '”', '’', ')']);
    if word.ends_with(['!', '?']) {
        return true;
    }
    let Some(stem) = word.strip_suffix('.') else { return false };
    let dotted = stem.contains('.') && stem.len() <= 4;
    !dotted && !ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// Whether `hash` is that of a common name ([`COMMON_NAMES`] or a word of a gazetteer name).
pub(super) fn is_common_name(hash: u32) -> bool {
    static COMMON: OnceLock<HashSet<u32>> = OnceLock::new();
    COMMON
        .get_or_init(|| {
            let mut set: HashSet<u32> = COMMON_NAMES.iter().map(|w| token_hash(w)).collect();
            let mut folded = String::new();
            let english = gazetteer::get().entries.iter().flat_map(|e| &e.names).filter(|n| n.lang == "en");
            for word in english.flat_map(|n| n.text.split_whitespace()) {
                fold_word(word.trim_matches(|c: char| !c.is_alphanumeric()), &mut folded);
                if !folded.is_empty() {
                    set.insert(token_hash(&folded));
                }
            }
            set
        })
        .contains(&hash)
}

/// Words that carry no news on their own (a `match`: the compiler dispatches on length first,
/// and this runs for every word of every matched story).
pub(super) fn is_stop_word(word: &str) -> bool {
    matches!(
        word,
        "a" | "about"
            | "after"
            | "against"
            | "all"
            | "also"
            | "amid"
            | "an"
            | "and"
            | "any"
            | "are"
            | "as"
            | "at"
            | "be"
            | "been"
            | "before"
            | "but"
            | "by"
            | "can"
            | "could"
            | "down"
            | "each"
            | "for"
            | "friday"
            | "from"
            | "had"
            | "has"
            | "have"
            | "he"
            | "her"
            | "his"
            | "how"
            | "in"
            | "into"
            | "is"
            | "it"
            | "its"
            | "monday"
            | "more"
            | "most"
            | "new"
            | "no"
            | "not"
            | "of"
            | "off"
            | "on"
            | "only"
            | "or"
            | "other"
            | "our"
            | "out"
            | "over"
            | "own"
            | "per"
            | "said"
            | "same"
            | "saturday"
            | "say"
            | "says"
            | "she"
            | "so"
            | "some"
            | "such"
            | "sunday"
            | "than"
            | "that"
            | "the"
            | "their"
            | "then"
            | "there"
            | "these"
            | "they"
            | "this"
            | "those"
            | "thursday"
            | "to"
            | "too"
            | "tuesday"
            | "under"
            | "up"
            | "very"
            | "via"
            | "was"
            | "we"
            | "wednesday"
            | "were"
            | "what"
            | "when"
            | "where"
            | "which"
            | "while"
            | "who"
            | "whom"
            | "why"
            | "will"
            | "with"
            | "would"
            | "you"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_leave_out_the_gazetteer_words_which_are_common_names_anyway() {
        let mut folded = String::new();
        let mut gazetteer_words = HashSet::new();
        for name in gazetteer::get().entries.iter().flat_map(|e| &e.names).filter(|n| n.lang == "en") {
            for word in name.text.split_whitespace() {
                fold_word(word.trim_matches(|c: char| !c.is_alphanumeric()), &mut folded);
                gazetteer_words.insert(folded.clone());
            }
        }
        let again: Vec<&str> = COMMON_NAMES.iter().copied().filter(|w| gazetteer_words.contains(*w)).collect();
        assert!(again.is_empty(), "listed though the gazetteer adds them: {again:?}");
        let from_gazetteer = [
            "office",
            "agency",
            "council",
            "committee",
            "commission",
            "parliament",
            "court",
            "police",
            "force",
            "state",
            "states",
            "federal",
            "central",
            "bank",
            "general",
            "north",
            "south",
            "east",
            "west",
            "northern",
            "southern",
            "eastern",
            "city",
            "sea",
            "republic",
            "kingdom",
            "union",
            "group",
            "dr",
            "industrial",
            "international",
            "chemical",
            "energy",
            "taipei",
        ];
        let lost: Vec<&str> = from_gazetteer.into_iter().filter(|w| !is_common_name(token_hash(w))).collect();
        assert!(lost.is_empty(), "no longer common names: {lost:?}");
    }
}
