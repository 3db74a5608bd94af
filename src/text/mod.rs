//! Text as the matcher sees it: HTML turned into plain text, and plain text folded into a
//! normalised form with a map back to the original.
//!
//! Pure functions only: no IO, no allocation beyond the returned values (and folding's
//! character table, built once at first use). `lang` tells the
//! language of a story's text. The same folding is
//! applied to story text and to query terms, which is what makes matching consistent.

mod fold;
mod html;
pub mod lang;

pub use fold::{Folded, fold, is_hangul_syllable, is_unspaced, is_word_char};
pub use html::html_to_text;

/// The largest character boundary of `s` at or before byte `i` (`s.len()` for any `i` past it).
pub fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
