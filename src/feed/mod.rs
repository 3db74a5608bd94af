//! Feed bytes to stories: feed-rs does the parsing, this module decides what a story is.
//!
//! Pure: takes bytes, returns stories. The one rule that matters most lives here: a story's key
//! is stable across polls (its guid, else its link, else a hash of its title and date), and
//! never feed-rs's invented random id.

use chrono::{DateTime, Utc};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};

use crate::digest::short_hash;
use crate::text::html_to_text;

mod hints;
mod prepare;

pub use hints::apply_http_charset;

/// One item of a feed, as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    /// Stable identity within the feed: `guid:…`, `link:…` or `hash:…`.
    pub key: String,
    pub url: Option<String>,
    pub title: String,
    /// Summary and content, as plain text.
    pub body: String,
    pub author: String,
    pub categories: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    /// The language of title and body (ISO 639-1), when it can be told.
    pub lang: Option<String>,
    /// The lookup keys of the canonical link and the text fingerprint, worked out on first use
    /// ([`Story::canon_key`], [`Story::text_key`]).
    pub keys: crate::dedupe::LookupKeys,
}

impl Story {
    /// The lookup key of the story's link in canonical form (see [`crate::dedupe::canonical_url`]).
    pub fn canon_key(&self) -> Option<i64> {
        self.keys.canon(self.url.as_deref())
    }

    /// The lookup key of the story's text fingerprint (see [`crate::dedupe::content_fingerprint`]).
    pub fn text_key(&self) -> Option<i64> {
        self.keys.text(&self.title, &self.body)
    }
}

/// A parsed feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFeed {
    /// The feed's own title, as plain text.
    pub title: Option<String>,
    pub stories: Vec<Story>,
    /// How often the feed says it is worth polling (RSS `ttl`, `sy:updatePeriod`), the longer.
    pub refresh: Option<std::time::Duration>,
}

/// Why bytes did not yield a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: the document is an HTML page")]
    Html,
    #[error("not a feed: the document is empty")]
    Empty,
    #[error("not a feed: no RSS, Atom or JSON Feed root element")]
    NoFeedRoot,
    #[error("malformed feed: {0}")]
    Malformed(String),
}

/// Parses feed bytes as served (not decoded: feed-rs honours the declared encoding).
/// `base` is the feed's URL, used to resolve relative links.
pub fn parse(bytes: &[u8], base: Option<&str>) -> Result<ParsedFeed, ParseError> {
    let head = leading_text(bytes);
    if head.is_empty() {
        return Err(ParseError::Empty);
    }
    if looks_like_html(&head) {
        return Err(ParseError::Html);
    }
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base)
        .sanitize_content(false)
        // An empty id marks "the feed gave none"; `story_key` then derives a stable one.
        .id_generator(|_, _, _| String::new())
        .build();
    let prepared = prepare::prepare(bytes);
    if prepare::unclosed_declaration(&prepared) {
        return Err(ParseError::Malformed("the XML declaration is not closed before the first tag".into()));
    }
    // A panic in the parser (a bug in it, on hostile bytes) fails this feed, never the caller.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(&*prepared)));
    let Ok(parsed) = parsed else {
        return Err(ParseError::Malformed("the feed parser gave up on this document".into()));
    };
    let feed = match parsed {
        Ok(feed) => feed,
        // `<rss>` with no `<channel>` is an empty feed, not a broken one.
        Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)) if prepare::is_channelless_rss(&prepared) => {
            return Ok(ParsedFeed { title: None, stories: Vec::new(), refresh: None });
        }
        Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)) => return Err(ParseError::NoFeedRoot),
        Err(other) => return Err(ParseError::Malformed(other.to_string())),
    };
    let ttl = feed.ttl.map(|minutes| std::time::Duration::from_secs(u64::from(minutes) * 60));
    let refresh = ttl.into_iter().chain(hints::syndication_period(bytes)).max();
    Ok(ParsedFeed {
        title: feed.title.map(|t| html_to_text(&t.content)).filter(|t| !t.is_empty()),
        stories: feed.entries.into_iter().map(story).collect(),
        refresh,
    })
}

/// The first bytes after any BOM and white space, lower-cased, for sniffing.
fn leading_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = (start + 256).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..end]).to_ascii_lowercase()
}

fn looks_like_html(head: &str) -> bool {
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn story(entry: feed_rs::model::Entry) -> Story {
    let url = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty());
    let title = entry.title.as_ref().map(|t| html_to_text(&t.content)).unwrap_or_default();
    let summary = entry.summary.as_ref().map(|t| html_to_text(&t.content)).unwrap_or_default();
    let content = entry.content.as_ref().and_then(|c| c.body.as_deref()).map(html_to_text).unwrap_or_default();
    let body = join_distinct(summary, content);
    let published = entry.published.or(entry.updated);
    let key = story_key(&entry.id, url.as_deref(), &title, published);
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
    let lang = crate::text::lang::detect(&title, &body).map(str::to_string);
    Story { key, url, title, body, author, categories, published, lang, keys: Default::default() }
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

/// The stable identity of an entry: its guid, else its link, else a hash of title and date.
pub fn story_key(id: &str, url: Option<&str>, title: &str, published: Option<DateTime<Utc>>) -> String {
    let id = id.trim();
    if !id.is_empty() {
        return format!("guid:{id}");
    }
    if let Some(url) = url {
        return format!("link:{url}");
    }
    let stamp = published.map(|p| p.timestamp().to_le_bytes());
    format!("hash:{}", short_hash(&[title.as_bytes(), stamp.as_ref().map_or(&[][..], |s| &s[..])]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing: a second XML declaration naming another encoding made the XML reader
    /// panic. The stray declaration is dropped and the item kept.
    #[test]
    fn a_stray_xml_declaration_inside_an_item_is_dropped() {
        let feed = br#"<rss version="2.0"><channel><title>T</title><item><title>A</title><description><?xml version="1.0" encoding="ISO-8859-1"?>x</description></item></channel></rss>"#;
        let parsed = parse(feed, None).unwrap();
        assert_eq!(parsed.stories.len(), 1);
        assert_eq!(parsed.stories[0].body, "x");
        let minimised = b"<?xml version=\".0\" encoding=\"ISO-8859-1\"/>\n\x00>\n<  <?xml ver\"F-8\"?><r\n>\n";
        assert!(parse(minimised, None).is_err(), "an error, not a panic");
        let unclosed = "<?xml version=\"1>\n<entry><title>Café</title></ent.0\" encoding=\"ISO-8859-1\"?>\n<feed><title>테스트</title></feed>";
        let e = parse(unclosed.as_bytes(), None).unwrap_err();
        assert_eq!(e.to_string(), "malformed feed: the XML declaration is not closed before the first tag");
    }

    const NO_GUIDS: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
        <item><title>A</title><link>https://example.org/a</link></item>
        <item><title>B only</title></item></channel></rss>"#;

    #[test]
    fn keys_without_guids_are_stable_across_parses() {
        let a = parse(NO_GUIDS.as_bytes(), None).unwrap();
        let b = parse(NO_GUIDS.as_bytes(), None).unwrap();
        assert_eq!(a.stories[0].key, "link:https://example.org/a");
        assert!(a.stories[1].key.starts_with("hash:"));
        assert_eq!(a, b);
    }

    #[test]
    fn html_pages_and_empty_bodies_are_named() {
        assert_eq!(parse(b"\n<!DOCTYPE html><html></html>", None), Err(ParseError::Html));
        assert_eq!(parse(b"  \n", None), Err(ParseError::Empty));
        assert!(matches!(parse(b"<rss version=\"2.0\"><channel><item>", None), Err(ParseError::Malformed(_))));
    }
}
