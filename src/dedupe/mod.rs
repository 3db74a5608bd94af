//! Recognising the same story twice: canonical links, content fingerprints and near-duplicate
//! similarity across feeds (`rule.rs` on `features.rs`, laid out by `layout.rs`, without the
//! boilerplate `boilerplate.rs` learns). Pure functions; the store decides what to do with them.

mod boilerplate;
mod features;
mod layout;
mod places;
mod rule;
pub mod url;
mod words;

pub use boilerplate::{Boilerplate, stock_across_feeds};
pub use features::Features;
pub use layout::{MAX_BANDS, MIN_SHARED_BANDS, Packed, STORED_HEAD, View};
pub use rule::{Apart, similarity, verdict};
pub use url::canonical_url;

use crate::digest::short_hash;
use crate::text::fold;

/// The 64-bit key a canonical link or fingerprint is looked up by (FNV-1a: stable across
/// builds, since it is stored).
pub fn lookup_key(text: &str) -> i64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(text.as_bytes());
    h.finish() as i64
}

/// What a story's link and text give it, each worked out on first use: its two dedupe lookup
/// keys, which most stories of a changed feed (known by their guid) never need, and its
/// language, which only a new story is stored and matched with.
#[derive(Debug, Clone, Default)]
pub struct LookupKeys {
    canon: std::cell::OnceCell<Option<i64>>,
    text: std::cell::OnceCell<Option<i64>>,
    lang: std::cell::OnceCell<Option<String>>,
}

impl LookupKeys {
    /// Keys of a story whose language is already known (a stored one, or a made-up one): it is
    /// never detected again.
    pub fn with_lang(lang: Option<String>) -> LookupKeys {
        LookupKeys { lang: std::cell::OnceCell::from(lang), ..LookupKeys::default() }
    }

    /// The language of `title` and `body` (see [`crate::text::lang::detect`]), unless it was given.
    pub fn lang(&self, title: &str, body: &str) -> Option<&str> {
        self.lang.get_or_init(|| crate::text::lang::detect(title, body).map(str::to_string)).as_deref()
    }

    /// The [`lookup_key`] of `url` in canonical form, if it has one.
    pub fn canon(&self, url: Option<&str>) -> Option<i64> {
        *self.canon.get_or_init(|| url.and_then(canonical_url).as_deref().map(lookup_key))
    }

    /// The [`lookup_key`] of the [`content_fingerprint`] of `title` and `body`, if they have one.
    pub fn text(&self, title: &str, body: &str) -> Option<i64> {
        *self.text.get_or_init(|| content_fingerprint(title, body).as_deref().map(lookup_key))
    }
}

/// Keys and language are a function of the story's link and text (a stored story's language was
/// told from the same text), so they never make two stories differ.
impl PartialEq for LookupKeys {
    fn eq(&self, _: &LookupKeys) -> bool {
        true
    }
}

impl Eq for LookupKeys {}

/// Folded text shorter than this gets no fingerprint: "Weather update" every day under a new
/// guid is a new story each time, not one story.
const FINGERPRINT_MIN_CHARS: usize = 80;

/// A fingerprint of a story's text: equal for the same title and body whatever their case,
/// accents, punctuation or spacing; `None` for texts too short to tell stories apart.
pub fn content_fingerprint(title: &str, body: &str) -> Option<String> {
    let (title, body) = (fold(title).text, fold(body).text);
    if title.len() + body.len() < FINGERPRINT_MIN_CHARS {
        return None;
    }
    Some(short_hash(&[title.as_bytes(), body.as_bytes()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_case_and_punctuation_but_not_words() {
        let body = "A new package of measures against the shadow fleet, adopted by ministers today.";
        let a = content_fingerprint("EU widens sanctions", body);
        assert!(a.is_some());
        assert_eq!(a, content_fingerprint("EU Widens Sanctions!", &body.replace(',', "").to_uppercase()));
        assert_ne!(a, content_fingerprint("EU widens sanctions", &body.replace("today", "yesterday")));
        assert_eq!(content_fingerprint("Weather update", "Sunny."), None, "too short to tell apart");
    }

    #[test]
    fn the_language_is_told_once_and_a_given_one_is_kept() {
        let (title, body) =
            ("EU widens sanctions", "A new package of measures against the shadow fleet, adopted today.");
        assert_eq!(LookupKeys::default().lang(title, body), crate::text::lang::detect(title, body));
        assert_eq!(LookupKeys::with_lang(None).lang(title, body), None, "a stored story of unknown language");
        assert_eq!(LookupKeys::with_lang(Some("fr".into())).lang(title, body), Some("fr"));
    }
}
