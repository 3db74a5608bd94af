//! Text as the matcher sees it: HTML turned into plain text, and plain text folded into a
//! normalised form with a map back to the original.
//!
//! Pure functions only: no IO, no allocation beyond the returned values. `lang` tells the
//! language of a story's text. The same folding is
//! applied to story text and to query terms, which is what makes matching consistent.

mod fold;
mod html;
pub mod lang;

pub use fold::{Folded, fold, is_hangul_syllable, is_unspaced, is_word_char};
pub use html::html_to_text;
