//! States a headline names, from the built-in gazetteer. Two stories of one news cycle whose
//! headlines name different states, neither of which the other story mentions, are different
//! news ("fresh sanctions on Syria", "fresh sanctions on Israel"), however alike their words.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::words::{fold_word, is_stop_word, phrase_key, token_hash};
use crate::matcher::gazetteer;

/// The states' names, ready to look up word by word.
struct Places {
    /// Hash of a name's folded words → the state's id.
    names: HashMap<u64, u32>,
    /// Acronyms as written (`US`, `DPRK`, dots dropped) → the state's id: only in capitals.
    acronyms: HashMap<String, u32>,
    /// The state's id → each of its names as word hashes, to find it among another story's words.
    spellings: HashMap<u32, Vec<Vec<u32>>>,
    /// Words in the longest name.
    longest: usize,
}

fn places() -> &'static Places {
    static PLACES: OnceLock<Places> = OnceLock::new();
    PLACES.get_or_init(|| {
        let mut p = Places { names: HashMap::new(), acronyms: HashMap::new(), spellings: HashMap::new(), longest: 1 };
        let mut folded = String::new();
        for state in gazetteer::states() {
            let id = token_hash(&state.name.to_lowercase());
            for name in std::iter::once(&state.name).chain(&state.aliases) {
                let bare = name.replace('.', "");
                let acronym = (2..=5).contains(&bare.len()) && bare.bytes().all(|b| b.is_ascii_uppercase());
                if acronym {
                    p.acronyms.insert(bare, id);
                }
                if acronym {
                    // Not as a folded word: folded, "US" is "us" and "CAR" is "car".
                    continue;
                }
                let mut words = Vec::new();
                let mut spelling = Vec::new();
                for w in name.split_whitespace() {
                    fold_word(w.trim_matches(|c: char| !c.is_alphanumeric()), &mut folded);
                    if folded.is_empty() {
                        continue;
                    }
                    words.push(token_hash(&folded));
                    // A story's features leave stop words out ("New Zealand" is found by "zealand").
                    if !is_stop_word(&folded) {
                        spelling.push(token_hash(&folded));
                    }
                }
                p.longest = p.longest.max(words.len());
                p.names.insert(phrase_key(words.iter().copied()), id);
                if !spelling.is_empty() {
                    p.spellings.entry(id).or_default().push(spelling);
                }
            }
        }
        p
    })
}

/// The states `headline` names (by name, alias or demonym), as sorted ids.
pub fn named_in(headline: &str) -> Vec<u32> {
    let p = places();
    let mut folded = String::new();
    let mut recent: Vec<u32> = Vec::new();
    let mut found = Vec::new();
    // In a headline in capitals every word looks like an acronym ("TELL US").
    let shouting = !headline.chars().any(char::is_lowercase);
    for raw in headline.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if let Some(&id) = p.acronyms.get(&word.replace('.', "")).filter(|_| !shouting) {
            found.push(id);
        }
        fold_word(word, &mut folded);
        if folded.is_empty() {
            continue;
        }
        recent.push(token_hash(&folded));
        // The longest name ending at this word, written as a name ("turkey" is not Turkey).
        if word.chars().next().is_some_and(char::is_uppercase) {
            let longest = (1..=p.longest.min(recent.len()))
                .rev()
                .find_map(|n| p.names.get(&phrase_key(recent[recent.len() - n..].iter().copied())));
            found.extend(longest);
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Whether a story with these word hashes (sorted) mentions state `id` under any of its names.
pub fn mentions(id: u32, words: &[&[u32]]) -> bool {
    let has = |h: &u32| words.iter().any(|set| set.binary_search(h).is_ok());
    places().spellings.get(&id).is_some_and(|names| names.iter().any(|name| name.iter().all(has)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<u32> {
        let mut v: Vec<u32> = names.iter().map(|n| token_hash(&n.to_lowercase())).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn headlines_name_states_by_name_alias_demonym_and_acronym() {
        assert_eq!(named_in("Sanctions on South Sudan tighten"), ids(&["South Sudan"]), "not Sudan as well");
        assert_eq!(named_in("North Korean missile lands off Japan"), ids(&["North Korea", "Japan"]));
        assert_eq!(named_in("U.S. envoy meets DPRK officials"), ids(&["United States", "North Korea"]));
        assert_eq!(named_in("Democratic People's Republic of Korea fires missile"), ids(&["North Korea"]));
        assert!(named_in("Tell us what you think").is_empty(), "a lower-case acronym is a word");
        assert!(named_in("TELL US WHAT YOU THINK").is_empty(), "a headline in capitals");
        assert!(named_in("Roast turkey prices rise").is_empty(), "a name is written as one");
        assert!(named_in("Talks resume in Geneva").is_empty());
    }

    #[test]
    fn a_state_is_mentioned_under_any_of_its_names() {
        let words: Vec<u32> = ["russian", "envoy"].iter().map(|w| token_hash(w)).collect();
        let mut sorted = words.clone();
        sorted.sort_unstable();
        let russia = token_hash("russia");
        assert!(mentions(russia, &[&sorted]));
        assert!(!mentions(token_hash("syria"), &[&sorted]));
        let zealand = [token_hash("zealand")];
        assert!(mentions(token_hash("new zealand"), &[&zealand]), "stop words are not among a story's words");
        let car = [token_hash("car")];
        assert!(!mentions(token_hash("central african republic"), &[&car]), "the acronym CAR folded is a word");
    }
}
