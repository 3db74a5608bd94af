//! Boilerplate: the sentences an outlet repeats across its stories ("The sanctions freeze any
//! US assets of those designated..."), learnt from the stories themselves. A sentence found in
//! several (four or more) different stories of one feed is boilerplate there, and similarity gives it no
//! weight: two events told around the same stock paragraphs are told apart by what is left.
//!
//! Pure: the caller chooses the stories to learn from (the store passes a feed's stories of the
//! dedupe window and its new document).

use std::collections::{HashMap, HashSet};

use super::words::{Word, ends_sentence, phrase_key, read_words};

/// Stories of one feed a sentence must be found in to be boilerplate: "several", so that a
/// first report and follow-ups repeating its background keep it as evidence (measured on the
/// labelled pairs, whose reports of one event recur in up to three pairs: three cost recall).
const SEVERAL: u32 = 4;
/// Sentences with fewer content words than this are never boilerplate ("Read more."): too
/// short to be told from chance.
const MIN_WORDS: usize = 5;

/// The sentences of `text` as they are split everywhere similarity reads a body: a sentence
/// ends with a word ending in `.`, `!` or `?` that is not an abbreviation.
pub(super) fn sentences(text: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut words = text.split_whitespace().peekable();
    std::iter::from_fn(move || {
        words.peek()?;
        let mut sentence = Vec::new();
        for word in words.by_ref() {
            sentence.push(word);
            if ends_sentence(word) {
                break;
            }
        }
        Some(sentence)
    })
}

/// The key a sentence is known by, from its words as [`read_words`] reads them: its content
/// words in order, folded, so that case, punctuation and quotes do not matter; `None` for a
/// sentence too short to judge.
pub(super) fn sentence_key(words: &[Word]) -> Option<u64> {
    (words.len() >= MIN_WORDS).then(|| phrase_key(words.iter().map(|w| w.hash)))
}

/// The sentences learnt as boilerplate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boilerplate {
    sentences: HashSet<u64>,
}

impl Boilerplate {
    /// Learns from the bodies of one feed's stories: a sentence in [`SEVERAL`] of them (each body
    /// counted once, and the same body listed twice counted once) is boilerplate.
    pub fn learn<'a>(bodies: impl IntoIterator<Item = &'a str>) -> Boilerplate {
        let mut seen: HashMap<u64, u32> = HashMap::new();
        let mut texts = HashSet::new();
        let mut words = Vec::new();
        for body in bodies {
            if !texts.insert(super::lookup_key(body)) {
                continue;
            }
            let keys: HashSet<u64> = sentences(body)
                .filter_map(|s| {
                    read_words(&s, &mut words);
                    sentence_key(&words)
                })
                .collect();
            for key in keys {
                *seen.entry(key).or_default() += 1;
            }
        }
        Boilerplate { sentences: seen.into_iter().filter(|&(_, n)| n >= SEVERAL).map(|(k, _)| k).collect() }
    }

    /// Whether the sentence with this key is boilerplate.
    pub(super) fn contains(&self, key: Option<u64>) -> bool {
        key.is_some_and(|k| self.sentences.contains(&k))
    }

    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sentence: &[&str]) -> Option<u64> {
        let mut words = Vec::new();
        read_words(sentence, &mut words);
        sentence_key(&words)
    }

    const STOCK: &str =
        "The sanctions freeze any US assets of those designated and bar Americans from dealing with them.";

    #[test]
    fn a_sentence_in_several_stories_of_a_feed_is_boilerplate_and_one_in_a_single_story_is_not() {
        let a = format!("Treasury sanctioned a large refinery in eastern Shandong province. {STOCK}");
        let b = format!("Treasury sanctioned drone-parts suppliers in Hong Kong. “{}”", STOCK.to_uppercase());
        let c = format!("Treasury sanctioned an oil trader. {STOCK}");
        let d = format!("{STOCK} Treasury sanctioned a shipping agent.");
        let learnt = Boilerplate::learn([a.as_str(), b.as_str(), a.as_str(), c.as_str()]);
        assert!(learnt.is_empty(), "three stories are not yet several");
        let learnt = Boilerplate::learn([a.as_str(), b.as_str(), a.as_str(), c.as_str(), d.as_str()]);
        assert_eq!(learnt.sentences.len(), 1, "the stock sentence alone, whatever its case and quotes");
        let keys = |text: &str| sentences(text).filter_map(|s| key(&s)).collect::<Vec<_>>();
        assert!(learnt.contains(keys(STOCK).first().copied()));
        assert!(!learnt.contains(keys(&a).first().copied()), "the same body twice is one story");
    }

    #[test]
    fn sentences_end_at_a_word_ending_a_sentence() {
        let split: Vec<Vec<&str>> = sentences("One two. Three four! Five").collect();
        assert_eq!(split, vec![vec!["One", "two."], vec!["Three", "four!"], vec!["Five"]]);
        assert_eq!(key(&["Read", "more."]), None, "too short to judge");
    }
}
