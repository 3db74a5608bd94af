//! Which stories of the candidate index carry each sentence: what boilerplate across feeds is
//! learnt from (`dedupe::stock_across_feeds`). Kept beside the index's other maps, counted in its
//! budget and forgotten with its stories, and rebuilt with them from `sketches`, where each
//! story's sentence keys are stored with its features.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Stories kept per sentence at most, the newest filed: a stock sentence in thousands of stories
/// needs only a few clusters to be told as such, and a reprint flood of one story keeps the
/// answer "not boilerplate", the one that costs no alert.
const MAX_HOLDERS: usize = 64;

/// Bytes a story's sentence costs here, beyond its 4-byte key in the story's features: a map slot
/// (4-byte key and 16-byte value, a control byte, at the map's usual load), and a holder's 8
/// bytes when the sentence is shared.
pub(super) const SENTENCE_BYTES: usize = 40;

/// The stories that carry one sentence; most sentences are in one story only, which then costs
/// no allocation of its own.
enum Holders {
    One(i64),
    /// Oldest filed first. Boxed so that a map slot holds 16 bytes, not 24: most slots are
    /// `One`, and the extra allocation is paid only by the few sentences stories share.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<i64>>),
}

#[derive(Default)]
pub(super) struct SentenceIndex {
    map: HashMap<u32, Holders, fnv::FnvBuildHasher>,
}

impl SentenceIndex {
    /// Files story `story_id` under each of its `sentences` (distinct keys).
    pub(super) fn file(&mut self, story_id: i64, sentences: &[u32]) {
        for &sentence in sentences {
            let holders = match self.map.entry(sentence) {
                Entry::Vacant(slot) => {
                    slot.insert(Holders::One(story_id));
                    continue;
                }
                Entry::Occupied(slot) => slot.into_mut(),
            };
            match holders {
                Holders::One(first) => *holders = Holders::Many(Box::new(vec![*first, story_id])),
                Holders::Many(list) => {
                    if list.len() >= MAX_HOLDERS {
                        list.remove(0);
                    }
                    list.push(story_id);
                }
            }
        }
    }

    /// Forgets story `story_id` under each of its `sentences`.
    pub(super) fn forget(&mut self, story_id: i64, sentences: &[u32]) {
        for sentence in sentences {
            let Some(holders) = self.map.get_mut(sentence) else { continue };
            let empty = match holders {
                Holders::One(id) => *id == story_id,
                Holders::Many(list) => {
                    list.retain(|&id| id != story_id);
                    if let [last] = list[..] {
                        *holders = Holders::One(last);
                    }
                    false
                }
            };
            if empty {
                self.map.remove(sentence);
            }
        }
    }

    /// The stories filed under `sentence`, newest filed first.
    pub(super) fn holders(&self, sentence: u32) -> impl Iterator<Item = i64> + '_ {
        let list = match self.map.get(&sentence) {
            Some(Holders::One(id)) => std::slice::from_ref(id),
            Some(Holders::Many(list)) => list.as_slice(),
            None => &[],
        };
        list.iter().rev().copied()
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_keeps_its_newest_holders_and_forgets_them_one_by_one() {
        let mut index = SentenceIndex::default();
        for id in 1..=(MAX_HOLDERS as i64 + 2) {
            index.file(id, &[7, 100 + id as u32]);
        }
        assert_eq!(index.holders(7).count(), MAX_HOLDERS);
        assert_eq!(index.holders(7).next(), Some(MAX_HOLDERS as i64 + 2), "newest first");
        assert_eq!(index.holders(101).collect::<Vec<_>>(), [1]);
        for id in 1..=(MAX_HOLDERS as i64 + 2) {
            index.forget(id, &[7, 100 + id as u32]);
        }
        assert!(index.is_empty());
    }
}
