//! Finding every pattern occurrence in a field's folded text.
//!
//! A pattern is a folded term with its word boundaries written as spaces (see
//! `compile::TermSpec`): `" sanctions "` is the whole word, `" sanction"` a word that starts so
//! (`sanction*`, or a Korean name with its particles), `"北朝鮮"` the characters anywhere.
//! Folded text has exactly one space between words, so most patterns can only start where a
//! word does. Those are looked up once per word of the text, by the whole first word (hashed)
//! or, when their one word may continue, by its first bytes; the few that may start inside a
//! word (unspaced scripts) ride on an Aho-Corasick automaton that runs only over text that has
//! such characters. Every occurrence an overlapping search over the padded text would report is
//! reported, each once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// The lengths of the keys under which patterns that end inside a word are filed: each such
/// pattern under its longest prefix of one of these lengths. A longer key lets fewer words of
/// the text reach a pattern's table slot (three bytes start many English words), while each
/// length is one more lookup for every word that long: with the generated benchmark config,
/// lengths 3 and 6 (a Hangul syllable and two) were at least as fast as every other set tried
/// (3 alone; 3 and 7; 3 and 8; 3, 4 and 6; 3, 4 and 7; 3, 5 and 8; 3, 4, 6 and 8).
const KEYS: [usize; 2] = [3, 6];

/// Bytes of a pattern kept in its [`Body`]; most patterns are shorter, so finding one reads
/// no other memory.
const HEAD: usize = 16;

/// One pattern without its leading space.
#[derive(Debug)]
struct Body {
    /// The pattern's index in the list it was built from.
    pattern: u32,
    len: u32,
    /// Where the bytes past `HEAD` start in the finder's `rest`.
    rest: u32,
    /// Whether a word boundary (a space or the end of the text) must follow.
    word_end: bool,
    head: [u8; HEAD],
}

impl Body {
    fn new(pattern: usize, text: &[u8], word_end: bool, rest: &mut Vec<u8>) -> Body {
        let mut head = [0; HEAD];
        let n = text.len().min(HEAD);
        head[..n].copy_from_slice(&text[..n]);
        let at = rest.len() as u32;
        rest.extend_from_slice(&text[n..]);
        Body { pattern: pattern as u32, len: text.len() as u32, rest: at, word_end, head }
    }

    /// The pattern's bytes.
    fn text(&self, rest: &[u8]) -> Vec<u8> {
        let n = (self.len as usize).min(HEAD);
        let tail = &rest[self.rest as usize..self.rest as usize + self.len as usize - n];
        [&self.head[..n], tail].concat()
    }

    /// Whether the pattern occurs in `text` at `start`.
    fn at(&self, rest: &[u8], text: &[u8], start: usize) -> bool {
        let len = self.len as usize;
        let Some(seen) = text.get(start..start + len) else {
            return false;
        };
        let (seen_head, seen_rest) = seen.split_at(len.min(HEAD));
        // A loop rather than a slice comparison: patterns are short, and a call (to `memcmp`,
        // which an empty slice's comparison makes too) costs more.
        seen_head.iter().zip(&self.head).all(|(a, b)| a == b)
            && (seen_rest.is_empty() || *seen_rest == rest[self.rest as usize..self.rest as usize + seen_rest.len()])
            && (!self.word_end || matches!(text.get(start + len), None | Some(b' ')))
    }
}

/// Pattern bodies filed under a hash of (part of) their first word, each hash's side by side.
/// A hash shared by two words only adds a candidate that [`Body::at`] then rejects.
#[derive(Debug)]
struct Table {
    /// The hashes filed, a bit each: most words skip the probe of `slots`.
    keys: HashBits,
    slots: HashMap<u64, (u32, u32), BuildHasherDefault<Prehashed>>,
    bodies: Vec<Body>,
}

impl Table {
    fn new(mut filed: Vec<(u64, Body)>) -> Table {
        filed.sort_by_key(|(hash, b)| (*hash, b.pattern));
        let keys = HashBits::new(filed.iter().map(|(hash, _)| *hash));
        let mut t = Table { keys, slots: HashMap::default(), bodies: Vec::with_capacity(filed.len()) };
        for (hash, body) in filed {
            let next = t.bodies.len() as u32;
            t.slots.entry(hash).or_insert((next, 0)).1 += 1;
            t.bodies.push(body);
        }
        t
    }

    fn get(&self, hash: u64) -> &[Body] {
        if !self.keys.contains(hash) {
            return &[];
        }
        self.slots.get(&hash).map_or(&[], |&(from, n)| &self.bodies[from as usize..(from + n) as usize])
    }
}

/// The compiled patterns; see the module documentation.
#[derive(Debug)]
pub(super) struct Finder {
    /// Patterns whose first word is whole, under its hash (`"united nations "` under `united`).
    by_word: Table,
    /// Patterns of one word that may continue, under the hash of their first bytes, a table
    /// for each key length of `KEYS` (none for a length no pattern has).
    by_start: Vec<(usize, Table)>,
    /// Such patterns shorter than the shortest key, tried at every word.
    short: Vec<Body>,
    /// Patterns that may start inside a word, and the automaton that finds them (`None` when
    /// there are none).
    inner: Vec<Body>,
    inner_automaton: Option<AhoCorasick>,
    /// Every pattern's bytes past its `HEAD`.
    rest: Vec<u8>,
}

impl Finder {
    /// Compiles `patterns`: each non-empty and, but for its boundary spaces, folded text; one
    /// without a leading space starts with a character of an unspaced script.
    pub fn new(patterns: &[String]) -> Finder {
        let (mut by_word, mut short, mut inner, mut rest) = (vec![], vec![], vec![], vec![]);
        let mut by_start: [Vec<(u64, Body)>; KEYS.len()] = Default::default();
        for (i, p) in patterns.iter().enumerate() {
            let at_word = p.starts_with(' ');
            // `find` runs the automaton only over text with such a character.
            debug_assert!(at_word || p.as_bytes()[0] >= 0xE0, "{p:?} starts inside a word of a spaced script");
            let body = p.strip_prefix(' ').unwrap_or(p);
            let word_end = body.ends_with(' ');
            let body = body.strip_suffix(' ').unwrap_or(body);
            let b = Body::new(i, body.as_bytes(), word_end, &mut rest);
            if !at_word {
                inner.push(b);
            } else if let Some(first) = body.split(' ').next().filter(|w| word_end || w.len() < body.len()) {
                by_word.push((word_hash(first.as_bytes()), b));
            } else if let Some(k) = KEYS.iter().rposition(|&k| k <= body.len()) {
                by_start[k].push((word_hash(&body.as_bytes()[..KEYS[k]]), b));
            } else {
                short.push(b);
            }
        }
        // Measured with `cargo bench --bench matcher`: with the English gazetteer a DFA was 8%
        // faster than the contiguous NFA, but the multilingual names grew it past the 64 MiB
        // budget for the compiled matcher.
        let inner_automaton = (!inner.is_empty()).then(|| {
            let texts: Vec<Vec<u8>> = inner.iter().map(|b| b.text(&rest)).collect();
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(texts)
                .expect("folded patterns are valid and within automaton limits")
        });
        let by_start = KEYS.iter().zip(by_start).filter(|(_, filed)| !filed.is_empty());
        let by_start = by_start.map(|(&k, filed)| (k, Table::new(filed))).collect();
        Finder { by_word: Table::new(by_word), by_start, short, inner, inner_automaton, rest }
    }

    /// Calls `found(pattern, start, end)` for every occurrence in `text`, where `start..end`
    /// is the pattern's text without its boundary spaces.
    pub fn find(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        let bytes = text.as_bytes();
        let mut report = |b: &Body, start: usize| {
            if b.at(&self.rest, bytes, start) {
                found(b.pattern as usize, start, start + b.len as usize);
            }
        };
        let mut start = 0;
        // Words are short: a plain loop finds their ends faster than a vectorised search.
        while start <= bytes.len() {
            let end = bytes[start..].iter().position(|&b| b == b' ').map_or(bytes.len(), |n| start + n);
            let word = &bytes[start..end];
            for b in self.by_word.get(word_hash(word)) {
                report(b, start);
            }
            for (k, table) in &self.by_start {
                for b in word.get(..*k).map_or(&[][..], |key| table.get(word_hash(key))) {
                    report(b, start);
                }
            }
            for b in &self.short {
                report(b, start);
            }
            start = end + 1;
        }
        // Unspaced scripts are all at U+0E00 or above, so their characters are three bytes or
        // more in UTF-8 (lead byte 0xE0 or above); text without such a byte has none of them.
        if let Some(automaton) = &self.inner_automaton
            && bytes.iter().fold(false, |any, &b| any | (b >= 0xE0))
        {
            for m in automaton.find_overlapping_iter(text) {
                report(&self.inner[m.pattern().as_usize()], m.start());
            }
        }
    }
}

/// A set of hashes, a bit for each value of a hash's top `64 - shift` bits: a hash that is not
/// in it is in no table it was built from, and the bits are few enough to stay in a fast cache.
#[derive(Debug)]
struct HashBits {
    bits: Vec<u64>,
    shift: u32,
}

impl HashBits {
    /// The set of `hashes`, about sixteen bits for each (4,096 to 262,144 bits in all), so
    /// that a few percent of its bits are set.
    fn new(hashes: impl ExactSizeIterator<Item = u64>) -> HashBits {
        let width = (hashes.len() * 16).next_power_of_two().clamp(1 << 12, 1 << 18);
        let mut set = HashBits { bits: vec![0; width / 64], shift: 64 - width.trailing_zeros() };
        for hash in hashes {
            let (word, bit) = set.bit(hash);
            set.bits[word] |= bit;
        }
        set
    }

    fn bit(&self, hash: u64) -> (usize, u64) {
        let at = (hash >> self.shift) as usize;
        (at / 64, 1 << (at % 64))
    }

    fn contains(&self, hash: u64) -> bool {
        let (word, bit) = self.bit(hash);
        self.bits[word] & bit != 0
    }
}

/// A hash of a word's bytes, read eight at a time (the last eight may overlap the ones before):
/// words are short, and every word of every story is hashed.
fn word_hash(word: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = word.len();
    let mut h = (n as u64).wrapping_mul(K);
    let mut mix = |x: u64| h = (h ^ x).wrapping_mul(K).rotate_left(31);
    match n {
        0 => {}
        1..=3 => mix(u64::from(word[0]) | u64::from(word[n / 2]) << 8 | u64::from(word[n - 1]) << 16),
        4..=7 => mix(u64::from(read_u32(word, 0)) | u64::from(read_u32(word, n - 4)) << 32),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                mix(read_u64(word, at));
                at += 8;
            }
            mix(read_u64(word, n - 8));
        }
    }
    h ^= h >> 29;
    h = h.wrapping_mul(K);
    h ^ (h >> 32)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

/// The hasher of a [`Table`]: its keys are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (pattern, start, end) found, sorted.
    fn found(patterns: &[&str], text: &str) -> Vec<(usize, usize, usize)> {
        let f = Finder::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        let mut out = Vec::new();
        f.find(text, |p, s, e| out.push((p, s, e)));
        out.sort_unstable();
        out
    }

    /// The same by brute force over the padded text, as an overlapping automaton reports it.
    fn brute(patterns: &[&str], text: &str) -> Vec<(usize, usize, usize)> {
        let padded = format!(" {text} ");
        let mut out = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let starts = padded.char_indices().map(|(at, _)| at).filter(|&at| padded[at..].starts_with(p));
            for at in starts {
                let s = at + usize::from(p.starts_with(' ')) - 1;
                let e = at + p.len() - usize::from(p.ends_with(' ')) - 1;
                out.push((i, s, e));
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_what_an_overlapping_search_of_the_padded_text_finds() {
        let patterns = [
            " un ",
            " un security council ",
            " security council ",
            " sanction",
            " sanctions ",
            " s",
            " 북한",
            "北朝鮮",
            "朝鮮",
            " nato ",
            " south sudan ",
            " sudan ",
            " ab",
            " abc d",
            "鮮と ",
            "朝鮮 nato ",
            "朝鮮 nato",
            " security council of the united nations ",
            " internationalisation",
        ];
        for text in [
            "the un security council met",
            "un",
            "sanctions and sanctioned sanction",
            "북한과 북한 남북한",
            "北朝鮮と nato 朝鮮",
            "south sudan sudan sudanese",
            "abc def abc d abc",
            "",
            "s",
            "ab abc dx",
            "un un un",
            "朝鮮 nato 朝鮮 natoo",
            "the security council of the united nations met the security council of the united",
            "internationalisations internationalis",
        ] {
            assert_eq!(found(&patterns, text), brute(&patterns, text), "{text:?}");
        }
    }

    #[test]
    fn finds_what_brute_force_finds_on_random_patterns_and_texts() {
        // Words over a small alphabet of one-, two- and three-byte characters, so that
        // patterns share words, prefixes and hash keys, and texts mix spaced and unspaced runs.
        const WORDS: &[&str] =
            &["a", "ab", "abc", "abcdefghijklmnopq", "b", "ба", "баб", "북한", "북", "朝鮮", "鮮", "x1"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..2_000 {
            let mut patterns = Vec::new();
            for _ in 0..1 + next(12) {
                let mut words: Vec<&str> = (0..1 + next(3)).map(|_| WORDS[next(WORDS.len())]).collect();
                let lead = if next(4) == 0 { "" } else { " " };
                if lead.is_empty() {
                    // Only a pattern of an unspaced script starts without a boundary.
                    words[0] = ["朝鮮", "鮮"][next(2)];
                }
                let trail = if next(2) == 0 { "" } else { " " };
                patterns.push(format!("{lead}{}{trail}", words.join(" ")));
            }
            let text = (0..next(15)).map(|_| WORDS[next(WORDS.len())]).collect::<Vec<_>>().join(" ");
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            assert_eq!(found(&patterns, &text), brute(&patterns, &text), "{patterns:?} in {text:?}");
        }
    }
}
