//! Character offsets of byte offsets in a text, for reports: a matched term is located by
//! characters (what a reader and a browser count), while matching works on bytes.
//!
//! Counting from the field's start for every matched term cost more than the rest of the
//! report when a long body was not all ASCII (one curly quote is enough): one pass over the
//! text notes the characters before each block of [`BLOCK`] bytes, and a lookup counts at most
//! one block.

/// Bytes of text between two marks.
const BLOCK: usize = 64;

/// A text with the characters before each multiple of [`BLOCK`] bytes of it.
#[derive(Debug)]
pub(super) struct CharMarks<'t> {
    text: &'t str,
    marks: Vec<u32>,
}

impl<'t> CharMarks<'t> {
    pub fn new(text: &'t str) -> CharMarks<'t> {
        let mut chars = 0;
        let after = text.as_bytes().chunks(BLOCK).map(|block| {
            chars += starts(block);
            chars
        });
        CharMarks { text, marks: std::iter::once(0).chain(after).collect() }
    }

    /// The characters before byte `at`, a character boundary.
    pub fn chars_before(&self, at: usize) -> usize {
        let block = at / BLOCK;
        (self.marks[block] + starts(&self.text.as_bytes()[block * BLOCK..at])) as usize
    }
}

/// The characters that start in `bytes`: every byte but UTF-8's continuation bytes
/// (0x80 to 0xBF) starts one.
fn starts(bytes: &[u8]) -> u32 {
    bytes.iter().map(|&b| u32::from((b as i8) >= -0x40)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_characters_before_every_boundary() {
        let texts = [
            String::new(),
            "plain ascii".repeat(20),
            "À Kyiv, Macron met Зеленский; later, in Paris, 北朝鮮と Зеленский thanked Macron 🇺🇦".repeat(5),
            "é".repeat(64),
        ];
        for text in &texts {
            let marks = CharMarks::new(text);
            for at in (0..=text.len()).filter(|&at| text.is_char_boundary(at)) {
                assert_eq!(marks.chars_before(at), text[..at].chars().count(), "{text:?} at {at}");
            }
        }
    }
}
