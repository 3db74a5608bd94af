//! What similarity knows of one story: its words as sorted sets of 32-bit hashes (content words,
//! names and numbers, the headline's own, the names specific to it), small enough to store
//! beside the story and compare without allocating. Sentences learnt as boilerplate
//! (`boilerplate.rs`) are left out of every set; the keys of all its sentences are kept apart,
//! for learning which sentences stories across feeds share.

use super::boilerplate::{sentence_key, sentences};
use super::layout::{Packed, View};
use super::words::{Word, is_common_name, read_words};

/// Sentences of a body, after its headline, that make its lead: where a report names who did
/// what to whom.
const LEAD_SENTENCES: usize = 2;
/// Sentence keys kept of one story at most (the first ones): a bound on what a long article
/// costs the candidate index.
const MAX_SENTENCES: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Folded words of three letters or more, stop words left out.
    pub content: Vec<u32>,
    /// Names (capitalised words not opening a sentence) and numbers, folded.
    pub key: Vec<u32>,
    /// The numbers alone.
    pub numbers: Vec<u32>,
    /// The headline's content words.
    pub title_content: Vec<u32>,
    /// The headline's names and numbers.
    pub title_key: Vec<u32>,
    /// The states the headline names (`places.rs`).
    pub title_places: Vec<u32>,
    /// The names and numbers that tell this event from others of its kind: those of the
    /// headline and the lead, without the common names (`words.rs`) every story of a kind shares.
    pub specific: Vec<u32>,
    /// The keys of the body's sentences (`boilerplate.rs`), boilerplate included; not compared.
    pub sentences: Vec<u32>,
    /// Unix seconds, when the story is dated.
    pub published: Option<i64>,
}

impl Features {
    /// The features of a story, with nothing known of boilerplate.
    pub fn new(title: &str, body: &str, published: Option<i64>) -> Features {
        Features::learnt(title, body, published, |_| false)
    }

    /// The features of a story, leaving out the sentences whose keys `boilerplate` accepts.
    pub fn learnt(title: &str, body: &str, published: Option<i64>, boilerplate: impl Fn(u32) -> bool) -> Features {
        let mut f = Features { published, title_places: super::places::named_in(title), ..Features::default() };
        // Each word is folded and hashed once, for the sentence's boilerplate key and the sets.
        let mut words = Vec::new();
        read_words(&title.split_whitespace().collect::<Vec<_>>(), &mut words);
        let opening = f.add_words(&words, true);
        f.title_content = f.content.clone();
        let mut lead = f.key.len();
        let mut kept = 0;
        for sentence in sentences(body) {
            read_words(&sentence, &mut words);
            let key = sentence_key(&words);
            if let Some(key) = key.filter(|_| f.sentences.len() < MAX_SENTENCES) {
                f.sentences.push(key);
            }
            if key.is_some_and(&boilerplate) {
                continue;
            }
            f.add_words(&words, false);
            if kept < LEAD_SENTENCES {
                lead = f.key.len();
            }
            kept += 1;
        }
        // A headline's first word is capitalised whatever it is ("Talks resume"): it names
        // something only if the story also writes it capitalised mid-sentence.
        if let Some(h) = opening.filter(|h| f.key.contains(h)) {
            f.title_key.push(h);
        }
        f.specific = f.key[..lead].iter().copied().filter(|&h| !is_common_name(h)).collect();
        let sets = [
            &mut f.content,
            &mut f.key,
            &mut f.numbers,
            &mut f.title_content,
            &mut f.title_key,
            &mut f.specific,
            &mut f.sentences,
        ];
        for set in sets {
            set.sort_unstable();
            set.dedup();
        }
        f
    }

    /// Adds the words of one text (the headline, or a sentence of the body). A headline's
    /// capitalised words past the first are its names; its capitalised first word is returned,
    /// for the caller to judge once the whole story is read (headlines open with their subject,
    /// "Hungary cuts rates", or with any word at all).
    fn add_words(&mut self, words: &[Word], headline: bool) -> Option<u32> {
        let mut opening = None;
        for w in words {
            let h = w.hash;
            let name = w.number || (w.capital && !w.opening);
            if w.number {
                self.numbers.push(h);
            }
            if name {
                self.key.push(h);
            }
            if headline && name {
                self.title_key.push(h);
            } else if headline && w.capital && opening.is_none() {
                opening = Some(h);
            }
            if w.long {
                self.content.push(h);
            }
        }
        opening
    }

    /// The keys under which the candidate index files this story: a few of its key tokens and
    /// content words, each tagged with its kind.
    pub fn bands(&self) -> Vec<i64> {
        self.view().bands()
    }

    /// The sets as slices, as similarity reads them.
    pub fn view(&self) -> View<'_> {
        let sets = [
            &self.content,
            &self.key,
            &self.numbers,
            &self.title_content,
            &self.title_key,
            &self.title_places,
            &self.specific,
            &self.sentences,
        ];
        View::from_sets(sets.map(Vec::as_slice), self.published)
    }

    /// The sets in one allocation, for keeping many in memory.
    pub fn pack(&self) -> Packed {
        Packed::of(self.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::MAX_BANDS;
    #[test]
    fn features_survive_a_round_trip_through_bytes() {
        let f = Features::new(
            "EU widens sanctions on Rosneft",
            "Brussels adopted its 19th package on 23 October.",
            Some(7),
        );
        assert!(!f.key.is_empty() && !f.numbers.is_empty());
        assert_eq!(Packed::from_bytes(&f.pack().to_bytes(), Some(7)), Some(f.pack()));
        assert_eq!(Packed::from_bytes(&f.pack().to_bytes()[1..], Some(7)), None);
        assert!(f.bands().len() <= MAX_BANDS);
        assert_eq!(f.view().band_count(), f.bands().len());
    }

    #[test]
    fn words_fold_as_the_matcher_folds_them() {
        let a = Features::new("Talks in Zürich", "The U.S. envoy met officials.", None);
        let b = Features::new("talks in zurich", "The US envoy met officials.", None);
        assert_eq!(a.content, b.content);
        let a = Features::new("Russia's envoy", "", None);
        let b = Features::new("Russia envoy", "", None);
        assert_eq!(a.content, b.content);
    }

    #[test]
    fn features_written_before_headlines_were_kept_still_read() {
        let f = Features::new("EU widens sanctions", "Brussels adopted its 19th package.", Some(7));
        let mut old = Vec::new();
        for set in [&f.content, &f.key, &f.numbers] {
            old.extend_from_slice(&(set.len() as u32).to_le_bytes());
        }
        for h in f.content.iter().chain(&f.key).chain(&f.numbers) {
            old.extend_from_slice(&h.to_le_bytes());
        }
        let packed = Packed::from_bytes(&old, Some(7)).expect("earlier layout");
        let read = packed.view();
        assert_eq!((read.content, read.key, read.numbers), (&f.content[..], &f.key[..], &f.numbers[..]));
        assert!(read.title_content.is_empty() && read.title_places.is_empty());
    }

    #[test]
    fn a_headline_opening_word_is_a_name_only_if_the_story_capitalises_it_elsewhere() {
        let h = |w: &str| super::super::words::token_hash(w);
        let talks = Features::new("Talks resume in Vienna", "The talks had stalled in March.", None);
        assert_eq!(talks.title_key, vec![h("vienna")]);
        let rates = Features::new("Hungary cuts rates", "The central bank of Hungary cut its base rate.", None);
        assert_eq!(rates.title_key, vec![h("hungary")]);
    }

    #[test]
    fn packed_features_read_as_the_same_sets() {
        let body = "Brussels adopted its 19th package of measures against the shadow fleet on Monday.";
        let f = Features::new("EU widens Syria sanctions", body, Some(7));
        let packed = f.pack();
        let (a, b) = (f.view(), packed.view());
        assert_eq!((a.content, a.key, a.numbers), (b.content, b.key, b.numbers));
        assert_eq!((a.title_content, a.title_key, a.title_places), (b.title_content, b.title_key, b.title_places));
        assert_eq!((a.specific, a.sentences), (b.specific, b.sentences));
        assert_eq!((a.published, a.bands()), (b.published, b.bands()));
        assert!(!b.title_places.is_empty() && !b.numbers.is_empty() && b.sentences.len() == 1);
        let bytes = packed.to_bytes();
        assert_eq!(Packed::stored_sentences(&bytes[..crate::dedupe::STORED_HEAD]), 1);
        assert_eq!(Packed::stored_sentences(&bytes[..8]), 0, "a head cut short");
    }

    #[test]
    fn sentences_left_out_are_still_known_by_their_keys() {
        let stock = "The sanctions freeze any US assets of those designated and bar Americans from dealing with them.";
        let body = format!("Brussels adopted its 19th package of measures against the shadow fleet. {stock}");
        let all = Features::new("EU widens Syria sanctions", &body, Some(7));
        let stock = Features::new("", stock, None).sentences;
        assert_eq!((all.sentences.len(), stock.len()), (2, 1));
        let without = Features::learnt("EU widens Syria sanctions", &body, Some(7), |s| s == stock[0]);
        assert!(!without.content.contains(&super::super::words::token_hash("freeze")));
        assert!(all.content.contains(&super::super::words::token_hash("freeze")));
        assert_eq!(without.sentences, all.sentences, "left out of the sets, not of the sentence keys");
    }
}
