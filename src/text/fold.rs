//! Folding: the normal form that matching runs on.
//!
//! Each character of the source becomes zero or more characters of the folded text:
//! compatibility-decomposed (NFKD, which covers NFKC's equivalences), stripped of diacritics,
//! lower-cased. Everything that is not a word character (punctuation, apostrophes, dashes,
//! white space) becomes a single space, so `Kim Jong-un`, `Kim Jong Un` and `kim  jong un` all
//! fold to `kim jong un`, and `Russia's` folds to `russia`. Where a spaced script meets an
//! unspaced one (`美国和NATO`) a space goes between them, so every word boundary is a space.
//! Hangul syllables are kept whole (NFKD would split them into jamo and break substring
//! matching on syllables). Arabic and Persian yeh, kaf and alef forms fold to one letter each
//! (alefs with hamza or madda lose them as marks), tatweel is dropped, and the zero-width
//! non-joiner, like any other non-word character, is a word boundary (`بین‌المللی` folds to
//! `بين المللي`, as writers who type a space have it).

use std::sync::LazyLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Folded text with, for every byte of it, the byte offset of the source character it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    pub text: String,
    pub origin: Vec<u32>,
    /// Whether the source is all ASCII, so that its byte offsets are character offsets.
    pub ascii: bool,
}

impl Folded {
    /// Byte range in the source covered by folded range `start..end` (`end > start`).
    pub fn source_range(&self, source: &str, start: usize, end: usize) -> std::ops::Range<usize> {
        let s = self.origin[start] as usize;
        let last = self.origin[end - 1] as usize;
        let e = last + source[last..].chars().next().map_or(0, char::len_utf8);
        s..e
    }
}

/// Builds a [`Folded`], remembering whether the last character pushed is of an unspaced script.
/// The text is kept as bytes while it is built (only whole characters are pushed).
struct Folder {
    text: Vec<u8>,
    origin: Vec<u32>,
    last_unspaced: bool,
}

impl Folder {
    fn push(&mut self, c: char, origin: usize) {
        let mut utf8 = [0u8; 4];
        let encoded = c.encode_utf8(&mut utf8).as_bytes();
        self.text.extend_from_slice(encoded);
        self.origin.extend(std::iter::repeat_n(origin as u32, encoded.len()));
    }

    fn ends_in_word(&self) -> bool {
        self.text.last().is_some_and(|&b| b != b' ')
    }

    /// Pushes the ASCII text from `at` up to the next apostrophe or non-ASCII byte, letters and
    /// digits lower-cased and every other run of characters as one space; returns where it
    /// stopped. Most text is such runs, so this is the loop folding spends its time in: every
    /// byte is written, and the write position moves on unless a space follows a space (no
    /// branch at word boundaries, which would be mispredicted at every word; the only branch
    /// on the text is the run's end).
    fn push_ascii_run(&mut self, bytes: &[u8], at: usize) -> usize {
        if self.last_unspaced && bytes[at].is_ascii_alphanumeric() {
            self.push(' ', at);
        }
        self.last_unspaced = false;
        let mut last_space = self.text.last().is_none_or(|&b| b == b' ');
        let mut from = at;
        loop {
            // In blocks, so that the run's end is found in the same pass without making room
            // for the rest of the text each time.
            let block = &bytes[from..bytes.len().min(from + 64)];
            let base = self.text.len();
            self.text.resize(base + block.len(), 0);
            self.origin.resize(base + block.len(), 0);
            let (text, origin) = (&mut self.text[base..], &mut self.origin[base..]);
            let (mut n, mut read) = (0, 0);
            for &b in block {
                let folded = ASCII_FOLD[usize::from(b)];
                if folded == 0 {
                    break;
                }
                let space = folded == b' ';
                text[n] = folded;
                origin[n] = (from + read) as u32;
                n += usize::from(!(space && last_space));
                last_space = space;
                read += 1;
            }
            self.text.truncate(base + n);
            self.origin.truncate(base + n);
            from += read;
            if read < block.len() || from == bytes.len() {
                return from;
            }
        }
    }

    /// Pushes a word character; a space goes first where the text passes between a spaced and
    /// an unspaced script (`和NATO`), so that a word boundary is always a space.
    fn push_word(&mut self, c: char, origin: usize) {
        let unspaced = is_unspaced(c);
        if self.ends_in_word() && unspaced != self.last_unspaced {
            self.push(' ', origin);
        }
        self.push(c, origin);
        self.last_unspaced = unspaced;
    }

    fn push_separator(&mut self, origin: usize) {
        if self.ends_in_word() {
            self.push(' ', origin);
        }
        self.last_unspaced = false;
    }
}

/// What each byte folds to in an ASCII run: a lower-case letter or digit, or a space; 0 ends
/// the run (the apostrophe, which may start a possessive, and every byte outside ASCII).
const ASCII_FOLD: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { b' ' };
        b += 1;
    }
    table[b'\'' as usize] = 0;
    table
};

/// Folds `source` (plain text, already stripped of HTML).
pub fn fold(source: &str) -> Folded {
    let mut f = Folder {
        text: Vec::with_capacity(source.len()),
        origin: Vec::with_capacity(source.len()),
        last_unspaced: false,
    };
    let bytes = source.as_bytes();
    let (mut at, mut ascii) = (0, true);
    while at < bytes.len() {
        if ASCII_FOLD[usize::from(bytes[at])] != 0 {
            at = f.push_ascii_run(bytes, at);
            continue;
        }
        let c = source[at..].chars().next().expect("`at` is a character boundary");
        let next = at + c.len_utf8();
        ascii &= c.is_ascii();
        if is_apostrophe(c) && is_possessive_s(source, next) {
            // "Russia's" folds to "russia": the possessive neither hides the word nor counts as
            // a word of its own in NEAR distances.
            f.push_separator(at);
            at = next + 1;
            continue;
        }
        if c.is_ascii() {
            f.push_separator(at);
        } else if is_hangul_syllable(c) {
            f.push_word(c, at);
        } else {
            fold_char(&mut f, c, at);
        }
        at = next;
    }
    if f.text.last() == Some(&b' ') {
        f.text.pop();
        f.origin.pop();
    }
    let text = String::from_utf8(f.text).expect("only whole characters are pushed");
    Folded { text, origin: f.origin, ascii }
}

/// One step of folding a character: a word character to push, or a word boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Word(char),
    Boundary,
}

/// Calls `step` for each step of folding `c` (neither ASCII nor a Hangul syllable):
/// compatibility decomposition, diacritics and tatweel dropped, Arabic letter forms unified,
/// lower case.
fn steps(c: char, mut step: impl FnMut(Step)) {
    decompose_compatible(c, |d| {
        if is_diacritic(d) || d == TATWEEL {
            return;
        }
        let d = arabic_letter(d);
        if is_word_char(d) {
            for l in d.to_lowercase() {
                // Final sigma folds like sigma, as Unicode case folding has it.
                step(Step::Word(if l == 'ς' { 'σ' } else { l }));
            }
        } else {
            step(Step::Boundary);
        }
    });
}

/// Characters from U+0080 up to this one (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic
/// scripts, the general and CJK punctuation, kana) are folded through [`STEPS`].
const TABLE_END: u32 = 0x3100;

/// A [`STEPS`] entry: the character folds to nothing (a diacritic alone), to a word boundary,
/// or in more than one step.
const NOTHING: u32 = 0;
const BOUNDARY: u32 = 1;
const SEVERAL: u32 = 2;
/// Set in a [`STEPS`] entry that is one word character, in the low bits.
const WORD: u32 = 1 << 31;

/// How each character from U+0080 to [`TABLE_END`] folds, worked out once by [`steps`]:
/// decomposing, testing and lower-casing a letter takes several table searches, and most
/// text outside ASCII is in these scripts. (CJK ideographs have a rule of their own in
/// [`fold_char`].)
static STEPS: LazyLock<Vec<u32>> = LazyLock::new(|| {
    (0x80..TABLE_END)
        .map(|code| {
            let mut found = Vec::new();
            if let Some(c) = char::from_u32(code) {
                steps(c, |s| found.push(s));
            }
            match found[..] {
                [] => NOTHING,
                [Step::Boundary] => BOUNDARY,
                [Step::Word(l)] => WORD | u32::from(l),
                _ => SEVERAL,
            }
        })
        .collect()
});

/// Folds `c`, neither ASCII nor a Hangul syllable.
fn fold_char(out: &mut Folder, c: char, at: usize) {
    let code = u32::from(c);
    if code < TABLE_END {
        match STEPS[(code - 0x80) as usize] {
            NOTHING => {}
            BOUNDARY => out.push_separator(at),
            SEVERAL => fold_char_by_steps(out, c, at),
            word => out.push_word(char::from_u32(word & !WORD).expect("a character was stored"), at),
        }
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        // A CJK unified ideograph has no decomposition and no case: it is a word character
        // of its own.
        out.push_word(c, at);
    } else {
        fold_char_by_steps(out, c, at);
    }
}

fn fold_char_by_steps(out: &mut Folder, c: char, at: usize) {
    steps(c, |step| match step {
        Step::Word(l) => out.push_word(l, at),
        Step::Boundary => out.push_separator(at),
    });
}

/// The Arabic tatweel stretches a word for looks; it spells nothing.
const TATWEEL: char = '\u{0640}';

/// One letter for the Arabic and Persian forms of yeh, kaf and alef, which writers and
/// keyboards mix (`ایران` and `ايران`, `کره` and `كره`).
fn arabic_letter(c: char) -> char {
    match c {
        '\u{06CC}' | '\u{0649}' | '\u{06D0}' => '\u{064A}', // Persian yeh, alef maksura → yeh
        '\u{06A9}' => '\u{0643}',                           // keheh → kaf
        '\u{0671}' | '\u{0672}' | '\u{0673}' => '\u{0627}', // wasla and wavy hamza alefs → alef
        '\u{06C1}' | '\u{06D5}' => '\u{0647}',              // heh goal, ae → heh
        _ => c,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Whether `source[at..]` starts with an `s` that ends its word.
fn is_possessive_s(source: &str, at: usize) -> bool {
    let mut rest = source[at..].chars();
    matches!(rest.next(), Some('s' | 'S')) && rest.next().is_none_or(|c| !is_word_char(c))
}

/// Letters, digits and the combining marks that are part of a letter in their script.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && is_combining_mark(c) && !is_diacritic(c))
}

/// Combining marks that decorate a letter without changing which word it spells: Latin, Greek
/// and Cyrillic accents, Hebrew points and Arabic vowel marks.
fn is_diacritic(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}'
        | '\u{0591}'..='\u{05BD}' | '\u{05BF}' | '\u{05C1}'..='\u{05C2}' | '\u{05C4}'..='\u{05C5}'
        | '\u{05C7}' | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}' | '\u{06DF}'..='\u{06E4}' | '\u{06E7}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}')
}

/// Whether `c` is a precomposed Hangul syllable (U+AC00 to U+D7A3).
pub fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Scripts written without spaces between words (Han, Kana, Hangul, Thai, Lao, Khmer, Myanmar):
/// terms in them match as substrings, since particles attach to nouns.
pub fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}' | '\u{1000}'..='\u{109F}' | '\u{1100}'..='\u{11FF}'
        | '\u{1780}'..='\u{17FF}' | '\u{2E80}'..='\u{2FDF}' | '\u{3040}'..='\u{30FF}'
        | '\u{3100}'..='\u{31FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}'
        | '\u{A960}'..='\u{A97F}' | '\u{AC00}'..='\u{D7FF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}' | '\u{20000}'..='\u{3FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> String {
        fold(s).text
    }

    #[test]
    fn folds_case_diacritics_and_punctuation() {
        assert_eq!(f("São Paulo"), "sao paulo");
        assert_eq!(f("Kim Jong-un"), "kim jong un");
        assert_eq!(f("Russia’s  army"), "russia army");
        assert_eq!(f("it's a dog's life"), "it a dog life");
        assert_eq!(f("O'Sullivan"), "o sullivan");
        assert_eq!(f("  “Quoted” — dash  "), "quoted dash");
        assert_eq!(f("ＦＵＬＬ width ﬁ"), "full width fi");
        assert_eq!(f("Ελλάδα Москва"), "ελλαδα москва");
    }

    #[test]
    fn folds_arabic_and_persian_letter_variants() {
        assert_eq!(f("ایران"), f("ايران"));
        assert_eq!(f("کره"), f("كره"));
        assert_eq!(f("أمريكا"), f("امريكا"));
        assert_eq!(f("إيران"), f("ايران"));
        assert_eq!(f("روســيا"), f("روسيا"));
        assert_eq!(f("بین\u{200C}المللی"), "بين المللي");
    }

    #[test]
    fn keeps_hangul_syllables_whole() {
        assert_eq!(f("북한이"), "북한이");
    }

    #[test]
    fn separates_spaced_from_unspaced_scripts() {
        assert_eq!(f("美国和NATO的"), "美国和 nato 的");
        assert_eq!(f("G7峰会"), "g7 峰会");
        assert_eq!(f("Москва北京"), "москва 北京");
    }

    #[test]
    fn folds_long_ascii_runs_across_blocks() {
        // Runs of separators and words of every length, shifted so that each straddles the
        // blocks the ASCII loop works in.
        let words: Vec<String> = (1..40).map(|n| "Ab".repeat(n)).collect();
        for shift in 0..70 {
            let src = format!("{}{}", "x".repeat(shift), words.join(",  -- "));
            let folded = fold(&src);
            let expected: Vec<&str> =
                src.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
            assert_eq!(folded.text, expected.join(" ").to_lowercase(), "shift {shift}");
            let mut at = 0;
            for word in folded.text.split(' ') {
                let range = folded.source_range(&src, at, at + word.len());
                assert_eq!(src[range].to_lowercase(), word, "shift {shift}");
                at += word.len() + 1;
            }
        }
    }

    /// The folder's state after folding `c` from each of the states a character can meet.
    fn states_after(c: char, fold_one: fn(&mut Folder, char, usize)) -> Vec<(Vec<u8>, Vec<u32>, bool)> {
        [("", false), ("a", false), ("a ", false), ("北", true)]
            .into_iter()
            .map(|(before, unspaced)| {
                let mut f =
                    Folder { text: before.as_bytes().to_vec(), origin: vec![0; before.len()], last_unspaced: unspaced };
                fold_one(&mut f, c, 7);
                (f.text, f.origin, f.last_unspaced)
            })
            .collect()
    }

    #[test]
    fn the_table_and_the_ideograph_rule_fold_as_the_general_steps_do() {
        // Every character of the basic multilingual plane, so that a range taken too wide fails.
        for c in (0x80..=0xFFFF).filter_map(char::from_u32) {
            assert_eq!(states_after(c, fold_char), states_after(c, fold_char_by_steps), "{c:?} (U+{:04X})", c as u32);
        }
        // Each kind of entry occurs.
        for kind in [NOTHING, BOUNDARY, SEVERAL] {
            assert!(STEPS.contains(&kind), "{kind}");
        }
    }

    #[test]
    fn tells_whether_the_source_is_ascii() {
        assert!(fold("Russia's army, 2026").ascii);
        assert!(fold("").ascii);
        assert!(!fold("Russia’s army").ascii);
        assert!(!fold("abc 北").ascii);
    }

    #[test]
    fn origin_maps_back_to_source() {
        let src = "¡São Paulo!";
        let folded = fold(src);
        assert_eq!(folded.text, "sao paulo");
        let r = folded.source_range(src, 0, 3);
        assert_eq!(&src[r], "São");
        let r = folded.source_range(src, 4, 9);
        assert_eq!(&src[r], "Paulo");
    }
}
