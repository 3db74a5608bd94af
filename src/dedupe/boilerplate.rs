//! Boilerplate: the sentences an outlet repeats across its stories ("The sanctions freeze any
//! US assets of those designated..."), learnt from the stories themselves, and given no weight
//! by similarity: two events told around the same stock paragraphs are told apart by what is
//! left. A sentence is boilerplate for a feed when it is found in several (four or more)
//! different stories of that feed ([`Boilerplate`]), or, across feeds, in stories of several
//! different clusters, events the clustering told apart, from as many different feeds
//! ([`stock_across_feeds`]).
//!
//! Pure: the caller chooses the stories to learn from (the store passes a feed's stories of the
//! dedupe window and its new document, and, across feeds, the clustered stories of the window
//! that carry a sentence).

use std::collections::{HashMap, HashSet};

use super::words::{Word, ends_sentence, phrase_key, read_words};

/// Stories of one feed a sentence must be found in to be boilerplate: "several", so that a
/// first report and follow-ups repeating its background keep it as evidence (measured on the
/// labelled pairs, whose reports of one event recur in up to three pairs: three cost recall).
const SEVERAL: u32 = 4;
/// Sentences with fewer content words than this are never boilerplate ("Read more."): too
/// short to be told from chance.
const MIN_WORDS: usize = 5;
/// Clusters, each from a feed of its own, a sentence must be found in to be boilerplate across
/// feeds. Copies of one story sit in one cluster however many feeds reprint it, so a reprinted
/// sentence stays evidence of the same news; and one feed's follow-ups, each a cluster of its
/// own, count as one feed, left to [`SEVERAL`].
const ACROSS_CLUSTERS: usize = 3;

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
/// sentence too short to judge. 32 bits, like a word's hash: it is kept with the story's
/// features.
pub(super) fn sentence_key(words: &[Word]) -> Option<u32> {
    (words.len() >= MIN_WORDS).then(|| {
        let key = phrase_key(words.iter().map(|w| w.hash));
        (key ^ (key >> 32)) as u32
    })
}

/// Whether a sentence is boilerplate across feeds, from the clustered stories of the dedupe
/// window that carry it, each as (its cluster, its feed), in any order: it is when
/// [`ACROSS_CLUSTERS`] different clusters carry it, each through a feed of its own (a matching
/// of clusters to feeds, so the answer does not depend on the order the holders are listed in).
pub fn stock_across_feeds(holders: impl IntoIterator<Item = (i64, i64)>) -> bool {
    let holders: Vec<(i64, i64)> = holders.into_iter().collect();
    let mut clusters: Vec<i64> = holders.iter().map(|&(c, _)| c).collect();
    clusters.sort_unstable();
    clusters.dedup();
    if clusters.len() < ACROSS_CLUSTERS {
        return false;
    }
    // (feed, the cluster it is counted for)
    let mut matched: Vec<(i64, i64)> = Vec::new();
    let mut count = 0;
    for cluster in clusters {
        if match_cluster(cluster, &holders, &mut matched, &mut Vec::new()) {
            count += 1;
            if count >= ACROSS_CLUSTERS {
                return true;
            }
        }
    }
    false
}

/// Finds `cluster` a feed of its own among `holders`, moving clusters already counted to other
/// feeds where that frees one (an augmenting path); `tried` holds the feeds this search visited.
fn match_cluster(cluster: i64, holders: &[(i64, i64)], matched: &mut Vec<(i64, i64)>, tried: &mut Vec<i64>) -> bool {
    for &(_, feed) in holders.iter().filter(|&&(c, _)| c == cluster) {
        if tried.contains(&feed) {
            continue;
        }
        tried.push(feed);
        match matched.iter().position(|&(f, _)| f == feed) {
            None => {
                matched.push((feed, cluster));
                return true;
            }
            // The cluster counted for `feed` moves to another feed, and this one takes `feed`
            // (entries are only ever appended, so `i` still points at it).
            Some(i) if match_cluster(matched[i].1, holders, matched, tried) => {
                matched[i].1 = cluster;
                return true;
            }
            Some(_) => {}
        }
    }
    false
}

/// The sentences learnt as boilerplate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boilerplate {
    sentences: HashSet<u32>,
}

impl Boilerplate {
    /// Learns from the bodies of one feed's stories: a sentence in [`SEVERAL`] of them (each body
    /// counted once, and the same body listed twice counted once) is boilerplate.
    pub fn learn<'a>(bodies: impl IntoIterator<Item = &'a str>) -> Boilerplate {
        let mut seen: HashMap<u32, u32> = HashMap::new();
        let mut texts = HashSet::new();
        let mut words = Vec::new();
        for body in bodies {
            if !texts.insert(super::lookup_key(body)) {
                continue;
            }
            let keys: HashSet<u32> = sentences(body)
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
    pub fn contains(&self, key: u32) -> bool {
        self.sentences.contains(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sentence: &[&str]) -> Option<u32> {
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
        assert!(learnt.sentences.is_empty(), "three stories are not yet several");
        let learnt = Boilerplate::learn([a.as_str(), b.as_str(), a.as_str(), c.as_str(), d.as_str()]);
        assert_eq!(learnt.sentences.len(), 1, "the stock sentence alone, whatever its case and quotes");
        let keys = |text: &str| sentences(text).filter_map(|s| key(&s)).collect::<Vec<_>>();
        assert!(learnt.contains(keys(STOCK)[0]));
        assert!(!learnt.contains(keys(&a)[0]), "the same body twice is one story");
    }

    #[test]
    fn a_sentence_in_clusters_of_three_feeds_is_boilerplate_across_feeds() {
        // (cluster, feed): three events, each told by another feed.
        assert!(stock_across_feeds([(1, 10), (2, 20), (3, 30)]));
        assert!(stock_across_feeds([(3, 30), (1, 10), (1, 40), (2, 20)]), "in any order, reprints besides");
        assert!(!stock_across_feeds([(1, 10), (2, 20)]), "two events are not yet several");
    }

    #[test]
    fn reprints_of_one_story_are_not_boilerplate_however_many_feeds_run_them() {
        let reprints: Vec<(i64, i64)> = (0..40).map(|feed| (1, feed)).collect();
        assert!(!stock_across_feeds(reprints.iter().copied()), "one cluster is one event");
        let with_one_more = reprints.iter().copied().chain([(2, 0)]);
        assert!(!stock_across_feeds(with_one_more), "two events");
    }

    #[test]
    fn one_feeds_follow_ups_count_once_across_feeds() {
        // Feed 10 repeats its background in three stories of its own (its own boilerplate at
        // four); a reprint of one of them elsewhere does not make it stock across feeds.
        assert!(!stock_across_feeds([(1, 10), (2, 10), (3, 10), (1, 20)]));
        // A cluster counted for a feed moves to another where that frees the feed.
        assert!(stock_across_feeds([(1, 10), (1, 20), (2, 10), (3, 30)]));
        assert!(stock_across_feeds([(2, 10), (1, 10), (3, 30), (1, 20)]));
    }

    #[test]
    fn sentences_end_at_a_word_ending_a_sentence() {
        let split: Vec<Vec<&str>> = sentences("One two. Three four! Five").collect();
        assert_eq!(split, vec![vec!["One", "two."], vec!["Three", "four!"], vec!["Five"]]);
        assert_eq!(key(&["Read", "more."]), None, "too short to judge");
    }
}
