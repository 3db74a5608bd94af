//! How features are laid out: borrowed as slices ([`View`], what the rule compares), packed in
//! one allocation ([`Packed`], what the candidate index keeps for each recent story), and as the
//! bytes stored in `sketches` (read back in every layout ever written).

/// The number of sets a story's features hold.
const SETS: usize = 8;

/// Candidate-index keys taken from each story: this many of its key tokens and this many of its
/// content words, the ones with the smallest hashes (a bottom-k sketch, so two stories sharing
/// most of their words pick the same ones).
const KEY_BANDS: usize = 8;
const CONTENT_BANDS: usize = 4;
/// The most candidate-index keys a story is filed under.
pub const MAX_BANDS: usize = KEY_BANDS + CONTENT_BANDS;
/// Index keys a stored story must share with a new one to be compared with it: one shared key
/// is often a common name; every pair the rule merges on the labelled set shares two or more.
pub const MIN_SHARED_BANDS: usize = 2;

/// A story's features as borrowed slices: what [`super::similarity`] compares.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub content: &'a [u32],
    pub key: &'a [u32],
    pub numbers: &'a [u32],
    pub title_content: &'a [u32],
    pub title_key: &'a [u32],
    pub title_places: &'a [u32],
    pub specific: &'a [u32],
    /// The keys of the body's sentences (`boilerplate.rs`): not compared, but what the candidate
    /// index learns which sentences feeds share from.
    pub sentences: &'a [u32],
    pub published: Option<i64>,
}

impl<'a> View<'a> {
    /// The sets in [`View::sets`] order.
    pub(super) fn from_sets(sets: [&'a [u32]; SETS], published: Option<i64>) -> View<'a> {
        let [content, key, numbers, title_content, title_key, title_places, specific, sentences] = sets;
        View { content, key, numbers, title_content, title_key, title_places, specific, sentences, published }
    }

    /// The sets, in the order they are packed and stored.
    fn sets(&self) -> [&'a [u32]; SETS] {
        let View { content, key, numbers, title_content, title_key, title_places, specific, sentences, .. } = *self;
        [content, key, numbers, title_content, title_key, title_places, specific, sentences]
    }

    /// See [`super::Features::bands`].
    pub fn bands(&self) -> Vec<i64> {
        let keys = self.key.iter().take(KEY_BANDS).map(|&h| (1i64 << 32) | i64::from(h));
        let content = self.content.iter().take(CONTENT_BANDS).map(|&h| (2i64 << 32) | i64::from(h));
        keys.chain(content).collect()
    }

    /// Whether `band`, one of another story's [`View::bands`], is one of this story's.
    pub fn has_band(&self, band: i64) -> bool {
        let (set, k) = match band >> 32 {
            1 => (self.key, KEY_BANDS),
            2 => (self.content, CONTENT_BANDS),
            _ => return false,
        };
        // The bands are the smallest hashes of each set, which is sorted.
        set[..set.len().min(k)].binary_search(&(band as u32)).is_ok()
    }

    /// How many keys [`View::bands`] gives, without listing them.
    pub fn band_count(&self) -> usize {
        self.key.len().min(KEY_BANDS) + self.content.len().min(CONTENT_BANDS)
    }
}

/// [`super::Features`] in one allocation (the candidate index holds one per recent matched story).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    words: Box<[u32]>,
    /// Where each set ends in `words`.
    ends: [u32; SETS],
    published: Option<i64>,
}

/// First word of stored features that carry the headline sets (a set length never comes near it).
const WITH_HEADLINE: u32 = u32::MAX;
/// First word of stored features that also carry the specific names.
const WITH_SPECIFIC: u32 = u32::MAX - 1;
/// First word of stored features that also carry the sentence keys.
const WITH_SENTENCES: u32 = u32::MAX - 2;
/// Bytes at the start of stored features that hold the marker and every set's length.
pub const STORED_HEAD: usize = 4 * (1 + SETS);

impl Packed {
    pub(super) fn of(view: View<'_>) -> Packed {
        let sets = view.sets();
        let mut words = Vec::with_capacity(sets.iter().map(|s| s.len()).sum());
        let mut ends = [0u32; SETS];
        for (end, set) in ends.iter_mut().zip(sets) {
            words.extend_from_slice(set);
            *end = words.len() as u32;
        }
        Packed { words: words.into_boxed_slice(), ends, published: view.published }
    }

    pub fn view(&self) -> View<'_> {
        let set = |i: usize| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
            &self.words[start..self.ends[i] as usize]
        };
        View::from_sets(std::array::from_fn(set), self.published)
    }

    /// Bytes this takes in memory, its allocation included.
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<Packed>() + 4 * self.words.len()
    }

    /// The word hashes as bytes, to store (`published` is stored apart): a format marker, the
    /// set lengths, then the sets as laid out in memory.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 * (1 + self.ends.len() + self.words.len()));
        out.extend_from_slice(&WITH_SENTENCES.to_le_bytes());
        let mut start = 0;
        for &end in &self.ends {
            out.extend_from_slice(&(end - start).to_le_bytes());
            start = end;
        }
        for h in self.words.iter() {
            out.extend_from_slice(&h.to_le_bytes());
        }
        out
    }

    /// How many sentence keys the stored features starting with `head` (their first
    /// [`STORED_HEAD`] bytes or fewer) hold: none in a layout written before they were kept.
    pub fn stored_sentences(head: &[u8]) -> usize {
        let word = |i: usize| head.get(4 * i..4 * i + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        match word(0) {
            Some(WITH_SENTENCES) => word(SETS).unwrap_or(0) as usize,
            _ => 0,
        }
    }

    /// Reads what [`Packed::to_bytes`] wrote, or an earlier layout (without the sentence keys,
    /// without the specific names, or without the headline sets either: three lengths, no
    /// marker); `None` for bytes none can have written. Sets an earlier layout lacks are empty.
    pub fn from_bytes(bytes: &[u8], published: Option<i64>) -> Option<Packed> {
        let word = |i: usize| bytes.get(4 * i..4 * i + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        let (first, count) = match word(0)? {
            WITH_SENTENCES => (1, 8),
            WITH_SPECIFIC => (1, 7),
            WITH_HEADLINE => (1, 6),
            _ => (0, 3),
        };
        let mut ends = [0u32; SETS];
        let mut total = 0u32;
        for (end, i) in ends.iter_mut().zip(first..first + count) {
            total = total.checked_add(word(i)?)?;
            *end = total;
        }
        // An earlier layout's missing sets end where the last one did.
        for end in &mut ends[count..] {
            *end = total;
        }
        let start = first + count;
        if bytes.len() != 4 * (start + total as usize) {
            return None;
        }
        let words = (start..start + total as usize).filter_map(word).collect();
        Some(Packed { words, ends, published })
    }
}
