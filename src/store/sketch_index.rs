//! The candidate index over recent similarity features, in memory. Its rows are the `sketches`
//! table: loaded once per process, then kept in step with each committed ingest.
//!
//! A SQLite index on (key, time) costs ten random B-tree pages a story, each rewritten to the
//! WAL by every transaction: 140 µs a story measured, against 5 µs here.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::sentence_index::{SENTENCE_BYTES, SentenceIndex};
use crate::dedupe::{Features, MAX_BANDS, MIN_SHARED_BANDS, Packed, View, similarity, stock_across_feeds};

/// Stories read per index key: the newest within the window.
const CANDIDATES_PER_KEY: usize = 32;
/// Entries looked at per key to find them (entries outside the window are skipped).
const SCAN_PER_KEY: usize = 4 * CANDIDATES_PER_KEY;
/// Stories compared with a new one at most: those sharing the most index keys.
const MAX_COMPARED: usize = 16;

struct Entry {
    feed_id: i64,
    cluster: i64,
    at: i64,
    /// In one allocation: a million of these live in memory at a time.
    features: Packed,
}

/// One key's stories, (placed at, story id) in the order filed; pruning moves `start` past old
/// entries and drops them in bulk once they are half the list (a plain slice is faster to scan
/// than a ring buffer).
#[derive(Default)]
struct Posting {
    start: usize,
    entries: Vec<(i64, i64)>,
}

impl Posting {
    fn live(&self) -> &[(i64, i64)] {
        &self.entries[self.start..]
    }

    /// Passes the entries at the front placed before `before`; true when none is left.
    fn forget_before(&mut self, before: i64) -> bool {
        while self.entries.get(self.start).is_some_and(|(t, _)| *t < before) {
            self.start += 1;
        }
        if self.start * 2 >= self.entries.len() {
            self.entries.drain(..self.start);
            self.start = 0;
        }
        self.entries.is_empty()
    }
}

/// Bytes an indexed story costs beyond its features: its entry in the story map, its place in
/// the time heap and the member list, and its postings.
const ENTRY_OVERHEAD: usize = 120;
const POSTING_BYTES: usize = 16;

/// About what a stored story with `sentences` sentence keys costs in the index beyond its stored
/// bytes, at most: with a posting under every key a story can have, so that the loader does not
/// read rows the index would evict at once.
pub(super) fn entry_bytes(sentences: usize) -> usize {
    ENTRY_OVERHEAD + POSTING_BYTES * MAX_BANDS + SENTENCE_BYTES * sentences
}

/// What keeping `features` in the index costs, in bytes (an estimate within a few percent of
/// what the allocator hands out).
pub(super) fn cost(features: &Packed) -> usize {
    let view = features.view();
    features.footprint() + ENTRY_OVERHEAD + POSTING_BYTES * view.band_count() + SENTENCE_BYTES * view.sentences.len()
}

pub struct SketchIndex {
    /// Index key → the stories filed under it.
    postings: HashMap<i64, Posting>,
    /// Story id → its entry (ids are SQLite's, so a fast non-keyed hash will do).
    stories: HashMap<i64, Entry, fnv::FnvBuildHasher>,
    /// (placed at, story id), oldest on top: what pruning takes next.
    by_time: BinaryHeap<Reverse<(i64, i64)>>,
    /// Cluster id → its indexed members: a story joins a cluster only if it is the same news as
    /// each of them.
    members: HashMap<i64, Vec<i64>, fnv::FnvBuildHasher>,
    /// Sentence key → the stories carrying it: which sentences are boilerplate across feeds.
    sentences: SentenceIndex,
    /// Bytes held ([`cost`] of every indexed story), and the most it may hold (`[dedupe] memory`).
    bytes: usize,
    budget: usize,
    /// Whether a story has left the index for the budget (logged once).
    evicted: bool,
}

impl Default for SketchIndex {
    fn default() -> SketchIndex {
        SketchIndex::with_budget(usize::MAX)
    }
}

impl SketchIndex {
    /// An empty index that holds at most about `budget` bytes.
    pub fn with_budget(budget: usize) -> SketchIndex {
        SketchIndex {
            postings: HashMap::new(),
            stories: HashMap::default(),
            by_time: BinaryHeap::new(),
            members: HashMap::default(),
            sentences: SentenceIndex::default(),
            bytes: 0,
            budget,
            evicted: false,
        }
    }

    /// Files a story; past the budget the oldest stories leave the index (logged the first
    /// time): a new story can then no longer join their clusters, and alerts on its own.
    pub fn insert(&mut self, story_id: i64, feed_id: i64, cluster: i64, at: i64, features: Packed) {
        for band in features.view().bands() {
            self.postings.entry(band).or_default().entries.push((at, story_id));
        }
        self.bytes += cost(&features);
        if let Some(old) = self.stories.remove(&story_id) {
            self.bytes -= cost(&old.features);
            self.forget_member(old.cluster, story_id);
            self.sentences.forget(story_id, old.features.view().sentences);
        }
        self.sentences.file(story_id, features.view().sentences);
        self.stories.insert(story_id, Entry { feed_id, cluster, at, features });
        self.members.entry(cluster).or_default().push(story_id);
        self.by_time.push(Reverse((at, story_id)));
        while self.bytes > self.budget {
            let Some(&Reverse((at, _))) = self.by_time.peek() else { break };
            if !self.evicted {
                self.evicted = true;
                tracing::warn!(
                    memory = self.budget,
                    stories = self.stories.len(),
                    "the candidate index is full ([dedupe] memory); the oldest stories leave it and \
                     later reports of them alert on their own"
                );
            }
            self.forget_oldest(at);
        }
    }

    fn forget_member(&mut self, cluster: i64, story_id: i64) {
        if let Some(list) = self.members.get_mut(&cluster) {
            list.retain(|&id| id != story_id);
            if list.is_empty() {
                self.members.remove(&cluster);
            }
        }
    }

    /// Whether the sentence with key `sentence` is boilerplate across feeds for a story placed at
    /// `at`: carried by indexed stories of enough different clusters and feeds within `window`
    /// seconds of it.
    pub fn is_stock(&self, sentence: u32, at: i64, window: i64) -> bool {
        let holders = self.sentences.holders(sentence).filter_map(|id| self.stories.get(&id));
        stock_across_feeds(holders.filter(|e| (e.at - at).abs() <= window).map(|e| (e.cluster, e.feed_id)))
    }

    /// The cluster of the story from another feed most similar to `features` (placed at `at`),
    /// if any is the same news within `window` seconds.
    pub fn most_similar(&self, feed_id: i64, features: &Features, at: i64, window: i64) -> Option<i64> {
        let features = features.view();
        let mut ranked = self.candidates(feed_id, features, at, window);
        // Most shared keys first, then the newest story.
        ranked.sort_unstable_by_key(|&(shared, id, _)| std::cmp::Reverse((shared, id)));
        let mut best: Option<(f64, i64)> = None;
        // Whether each cluster looked at agrees: candidates are often members of one cluster.
        let mut agreed: Vec<(i64, bool)> = Vec::new();
        for (_, id, other) in ranked.into_iter().take(MAX_COMPARED) {
            if let Some(score) = similarity(features, other.features.view(), window)
                && best.is_none_or(|(s, c)| score > s || (score == s && other.cluster < c))
            {
                let agrees = match agreed.iter().find(|(c, _)| *c == other.cluster) {
                    Some(&(_, agrees)) => agrees,
                    None => {
                        let agrees = self.all_members_agree(other.cluster, id, features, window);
                        agreed.push((other.cluster, agrees));
                        agrees
                    }
                };
                if agrees {
                    best = Some((score, other.cluster));
                }
            }
        }
        best.map(|(_, c)| c)
    }

    /// The stories from other feeds filed under at least [`MIN_SHARED_BANDS`] of the keys of
    /// `features` (placed at `at`, within `window`), each with how many it shares. A key's list
    /// is read only in part (its newest [`CANDIDATES_PER_KEY`] within the window): a list read
    /// whole counts its stories exactly, and a story found in one (or in two lists cut short)
    /// is checked against the keys of the lists cut short, so a reprint found only under its
    /// one rare key (a headline's number in a flood of one template's stories) still counts
    /// every key it shares. A story found in only one list cut short is not looked at: every
    /// key it might share is common.
    fn candidates(&self, feed_id: i64, features: View<'_>, at: i64, window: i64) -> Vec<(usize, i64, &Entry)> {
        // Stories found in lists read whole (once per list), in lists cut short, and those keys.
        let (mut whole, mut partial, mut cut) = (Vec::new(), Vec::new(), Vec::new());
        let mut found = Vec::with_capacity(CANDIDATES_PER_KEY);
        for band in features.bands() {
            let Some(list) = self.postings.get(&band) else { continue };
            let live = list.live();
            let mut scanned = 0;
            found.clear();
            for &(t, id) in live.iter().rev() {
                if scanned == SCAN_PER_KEY || found.len() == CANDIDATES_PER_KEY {
                    break;
                }
                scanned += 1;
                if (t - at).abs() <= window {
                    found.push(id);
                }
            }
            // A story filed again under one key counts once.
            found.sort_unstable();
            found.dedup();
            if scanned == live.len() {
                whole.extend_from_slice(&found);
            } else {
                cut.push(band);
                partial.extend_from_slice(&found);
            }
        }
        let mut counted = counts(whole);
        // A story found only in lists cut short is looked at when found in enough of them.
        let partial = counts(partial)
            .into_iter()
            .filter(|&(id, n)| n >= MIN_SHARED_BANDS && counted.binary_search_by_key(&id, |&(c, _)| c).is_err());
        counted.extend(partial.map(|(id, _)| (id, 0)).collect::<Vec<_>>());
        counted
            .into_iter()
            .filter(|&(_, n)| n + cut.len() >= MIN_SHARED_BANDS)
            .filter_map(|(id, n)| {
                let entry = self.stories.get(&id).filter(|e| e.feed_id != feed_id)?;
                let view = entry.features.view();
                let shared = n + cut.iter().filter(|&&band| view.has_band(band)).count();
                (shared >= MIN_SHARED_BANDS).then_some((shared, id, entry))
            })
            .collect()
    }

    /// A story joins a cluster only if it is the same news as each of its indexed members: the
    /// relation alone decides, not which story came first, so the same stories make the same
    /// clusters whatever order the polls arrive in (while the relation holds among them); and
    /// similarity is not transitive, so chains of merely similar stories cannot grow one cluster
    /// that swallows unrelated news. When in doubt, the story alerts on its own. `candidate`, the
    /// member found the same news already, is not compared again.
    fn all_members_agree(&self, cluster: i64, candidate: i64, features: View<'_>, window: i64) -> bool {
        let members = self.members.get(&cluster).map_or(&[][..], Vec::as_slice);
        members
            .iter()
            .filter(|&&id| id != candidate)
            .filter_map(|id| self.stories.get(id))
            .all(|m| similarity(features, m.features.view(), window).is_some())
    }

    /// Forgets stories placed before `before`, oldest first: the cost is that of what is
    /// forgotten, not of what is kept. A key's list is filed in about time order, so its old
    /// entries are dropped from its front; one left behind a newer entry is skipped by lookups
    /// (outside the window, or no longer a story) until it reaches the front.
    pub fn prune(&mut self, before: i64) {
        while self.by_time.peek().is_some_and(|Reverse((at, _))| *at < before) {
            self.forget_oldest(before);
        }
    }

    /// Forgets the story on top of the time heap; key lists drop their entries placed before
    /// `before` from their front.
    fn forget_oldest(&mut self, before: i64) {
        let Some(Reverse((at, id))) = self.by_time.pop() else { return };
        // Filed again since (same story id, later place): that filing stays.
        let Some(entry) = self.stories.get(&id).filter(|e| e.at == at) else { return };
        for band in entry.features.view().bands() {
            if self.postings.get_mut(&band).is_some_and(|list| list.forget_before(before)) {
                self.postings.remove(&band);
            }
        }
        let entry = self.stories.remove(&id).expect("found above");
        self.bytes -= cost(&entry.features);
        self.forget_member(entry.cluster, id);
        self.sentences.forget(id, entry.features.view().sentences);
    }
}

/// `ids` sorted, each with the number of times it occurs, in id order.
fn counts(mut ids: Vec<i64>) -> Vec<(i64, usize)> {
    ids.sort_unstable();
    let mut counted: Vec<(i64, usize)> = Vec::with_capacity(ids.len());
    for id in ids {
        match counted.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => counted.push((id, 1)),
        }
    }
    counted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Features from word ids: names, content words and the headline's share of each.
    fn story(key: &[u32], content: std::ops::Range<u32>, title_content: &[u32], title_key: &[u32]) -> Features {
        Features {
            content: content.collect(),
            key: key.to_vec(),
            numbers: Vec::new(),
            title_content: title_content.to_vec(),
            title_key: title_key.to_vec(),
            title_places: Vec::new(),
            specific: key.to_vec(),
            sentences: Vec::new(),
            published: Some(1_000),
        }
    }

    #[test]
    fn a_story_like_a_member_but_not_like_every_member_starts_its_own_cluster() {
        let first = story(&[1, 2, 3, 4], 1..11, &[1, 2], &[1]);
        let middle = story(&[1, 2, 3, 4, 5, 6, 7, 8], 1..21, &[1, 11], &[1]);
        let last = story(&[5, 6, 7, 8], 11..21, &[11, 12], &[5]);
        assert!(similarity(middle.view(), last.view(), 3600).is_some());
        assert!(similarity(first.view(), last.view(), 3600).is_none());
        let mut index = SketchIndex::default();
        index.insert(1, 10, 1, 1_000, first.pack());
        assert_eq!(index.most_similar(20, &middle, 1_000, 3600), Some(1));
        index.insert(2, 20, 1, 1_000, middle.pack());
        assert_eq!(index.most_similar(30, &last, 1_000, 3600), None, "chained into the first story's cluster");
    }

    #[test]
    fn a_reprint_of_the_oldest_of_a_flood_of_one_template_finds_its_twin() {
        let body = "Ministers adopted a new package of sanctions against the shadow fleet. ".repeat(5);
        let news =
            |i: usize| Features::new(&format!("EU widens North Korea sanctions, package {i}"), &body, Some(1_000));
        let mut index = SketchIndex::default();
        for i in 0..100 {
            index.insert(i as i64 + 1, 10, i as i64 + 1, 1_000, news(i).pack());
        }
        for i in [0, 50, 99] {
            assert_eq!(index.most_similar(20, &news(i), 1_000, 3600), Some(i as i64 + 1), "package {i}");
        }
    }

    #[test]
    fn candidates_count_every_shared_key_whether_its_list_is_read_whole_or_cut_short() {
        // Stories over a small vocabulary, so some keys' lists outgrow what a lookup reads.
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut random = |at: i64| {
            let key: Vec<u32> = (0..6).map(|_| next(40) as u32).collect();
            let start = next(60) as u32;
            let mut f = story(&key, start..start + 8, &[], &[]);
            f.key.sort_unstable();
            f.key.dedup();
            f.published = Some(at);
            f
        };
        let mut index = SketchIndex::default();
        let mut filed = Vec::new();
        for id in 1..=600 {
            let f = random(id * 10);
            index.insert(id, id % 7, id, id * 10, f.clone().pack());
            filed.push((id, f));
        }
        let mut found = 0;
        for probe in 0..50 {
            let query = random(3_000 + probe);
            let (at, window, feed) = (3_000 + probe, 2_500, 3);
            let bands = query.bands();
            let expected: Vec<(usize, i64)> = filed
                .iter()
                .filter(|(id, f)| id % 7 != feed && (f.published.unwrap() - at).abs() <= window)
                .map(|(id, f)| (bands.iter().filter(|&&b| f.view().has_band(b)).count(), *id))
                .filter(|&(shared, _)| shared >= MIN_SHARED_BANDS)
                .collect();
            let mut got: Vec<(usize, i64)> =
                index.candidates(feed, query.view(), at, window).into_iter().map(|(n, id, _)| (n, id)).collect();
            got.sort_unstable_by_key(|&(_, id)| id);
            // Every story found counts exactly what it shares; a story is missed only when every
            // list holding it was cut short before it.
            for (n, id) in &got {
                assert!(expected.contains(&(*n, *id)), "probe {probe}: story {id} counted {n}");
            }
            found += got.len();
        }
        assert!(found > 50, "the probes find stories ({found})");
        let long = index.postings.values().filter(|p| p.live().len() > CANDIDATES_PER_KEY).count();
        assert!(long > 0, "some lists are longer than a lookup reads");
    }

    #[test]
    fn pruning_forgets_stories_by_their_place_in_time_whatever_the_filing_order() {
        let news = || story(&[1, 2, 3, 4], 1..11, &[1, 2], &[1]);
        let mut index = SketchIndex::default();
        for (id, at) in [(1, 100), (2, 300), (3, 200)] {
            index.insert(id, 10 + id, id, at, news().pack());
        }
        index.prune(250);
        assert_eq!(index.stories.keys().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(index.most_similar(99, &news(), 250, 1_000), Some(2));
        index.prune(1_000);
        assert!(index.stories.is_empty() && index.postings.is_empty() && index.by_time.is_empty());
        assert!(index.members.is_empty() && index.sentences.is_empty());
        assert_eq!(index.most_similar(99, &news(), 250, 1_000), None);
    }
}
