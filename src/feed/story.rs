//! One feed-rs entry to one [`Story`]: which link is the story's, which text is plain and which
//! is HTML, which date counts, and the story's stable key.
//!
//! Pure. Never invents randomness: a story's key is the same for the same entry on every poll.

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, FeedType, Text};

use super::Story;
use crate::digest::short_hash;
use crate::text::html_to_text;

/// Links that name the story itself: relation `alternate` or none. Any other relation
/// (`enclosure`, `self`, `via`, `license`, `replies`, …) and RSS `<comments>` point elsewhere.
pub(super) fn is_story_link(link: &feed_rs::model::Link) -> bool {
    link.target.is_none() && link.rel.as_deref().is_none_or(|r| r.is_empty() || r.eq_ignore_ascii_case("alternate"))
}

pub(super) fn story(entry: Entry, kind: &FeedType) -> Story {
    let mut links = entry.links.iter().filter(|l| is_story_link(l));
    // An RSS item has one `<link>`; of several, the last is the one a reader keeps (as gofeed
    // does). An Atom entry's first alternate link is its link.
    let link = if matches!(kind, FeedType::Atom | FeedType::JSON) { links.next() } else { links.next_back() };
    let url = link.map(|l| l.href.trim().to_string()).filter(|h| !h.is_empty());
    let title = entry.title.as_ref().map(|t| squash(&shown(t, kind))).unwrap_or_default();
    let summary = entry.summary.as_ref().map(|t| shown(t, kind)).unwrap_or_default();
    let content = entry.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?;
        Some(if plain(kind, &c.content_type.essence()) { squash(body) } else { html_to_text(body) })
    });
    let body = join_distinct(summary, content.unwrap_or_default());
    let published = entry.published.or(entry.updated);
    let key = story_key(&entry.id, url.as_deref(), &title, &body, published);
    let author = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let categories = entry
        .categories
        .iter()
        .map(|c| c.label.as_deref().unwrap_or(&c.term).trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    Story { key, url, title, body, author, categories, published, keys: Default::default() }
}

/// A text construct as a reader sees it: Atom `type="text"` and JSON Feed text are plain text
/// (`History of the <blink> tag` keeps its tag); RSS text and HTML are HTML, read for its words.
pub(super) fn shown(text: &Text, kind: &FeedType) -> String {
    if plain(kind, &text.content_type.essence()) { squash(&text.content) } else { html_to_text(&text.content) }
}

/// Whether text of media type `essence` is plain text in a feed of `kind` (the type is spelled
/// out only for Atom and JSON Feed, the kinds it can make plain).
fn plain(kind: &FeedType, essence: &impl std::fmt::Display) -> bool {
    matches!(kind, FeedType::Atom | FeedType::JSON) && essence.to_string() == "text/plain"
}

/// White space runs as one space, trimmed; control characters (which XML 1.0 forbids, and
/// some feeds carry anyway) dropped.
fn squash(s: &str) -> String {
    // Most text has single spaces between its words and nothing to drop: copied as it is.
    if is_squashed(s) {
        return s.to_string();
    }
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().any(char::is_control) { words.chars().filter(|c| !c.is_control()).collect() } else { words }
}

/// Whether `s` is already as [`squash`] leaves it: words apart by single spaces, no other white
/// space, no control characters.
fn is_squashed(s: &str) -> bool {
    let b = s.as_bytes();
    let ascii_ok = |i: usize| match b[i] {
        b' ' => i > 0 && b.get(i + 1).is_some_and(|&n| n != b' '),
        c => c > b' ' && c != 0x7F,
    };
    (0..b.len()).all(ascii_ok)
        && (s.is_ascii() || !s.chars().any(|c| (c.is_whitespace() && c != ' ') || c.is_control()))
}

/// Summary and content together, without repeating one that contains the other.
fn join_distinct(summary: String, content: String) -> String {
    if content.is_empty() || summary.contains(&content) {
        summary
    } else if summary.is_empty() || content.contains(&summary) {
        content
    } else {
        format!("{summary} {content}")
    }
}

/// The stable identity of an entry: its guid, else its link, else a hash of its title and date,
/// else (undated) of its title and text, so untitled items of one document stay apart.
pub fn story_key(id: &str, url: Option<&str>, title: &str, body: &str, published: Option<DateTime<Utc>>) -> String {
    let id = id.trim();
    if !id.is_empty() {
        return format!("guid:{id}");
    }
    if let Some(url) = url {
        return format!("link:{url}");
    }
    match published {
        Some(p) => format!("hash:{}", short_hash(&[title.as_bytes(), &p.timestamp().to_le_bytes()])),
        None => format!("hash:{}", short_hash(&[title.as_bytes(), b"\0", body.as_bytes()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_already_squashed_is_copied_and_any_other_squashed() {
        let slow = |s: &str| {
            let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
            words.chars().filter(|c| !c.is_control()).collect::<String>()
        };
        let cases = [
            "",
            " ",
            "a",
            "a b",
            "a  b",
            " a",
            "a ",
            "a\tb",
            "a\nb",
            "a\u{7f}b",
            "a\u{85}b",
            "Grüße aus Köln",
            "Grüße\u{a0}aus",
            "a \u{a0}b",
            "制裁 措施",
            "a\u{2003}b",
            "a\u{9f}b",
            "x\u{1}y",
            "Sanctions: EU (19th) package",
        ];
        for case in cases {
            assert_eq!(squash(case), slow(case), "{case:?}");
        }
        assert!(is_squashed("Grüße aus Köln") && !is_squashed("a  b") && !is_squashed("a\u{a0}b"));
    }

    #[test]
    fn undated_items_without_guid_or_link_are_told_apart_by_their_text() {
        let a = story_key("", None, "", "first text", None);
        let b = story_key("", None, "", "second text", None);
        assert_ne!(a, b);
        assert_eq!(a, story_key(" ", None, "", "first text", None), "stable");
        let dated = Some(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        assert_eq!(
            story_key("", None, "T", "x", dated),
            story_key("", None, "T", "y", dated),
            "dated keys keep their form"
        );
    }
}
