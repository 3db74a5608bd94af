//! Feed bytes to stories: feed-rs does the parsing, this module decides what a story is.
//!
//! Pure: takes bytes, returns stories. The one rule that matters most lives here: a story's key
//! is stable across polls (its guid, else its link, else a hash of its title and date or text),
//! and never feed-rs's invented random id. The other: a document with items never yields
//! nothing quietly. Repairs go around feed-rs, each only on a document that shows its defect:
//! byte fixes before it (`prepare.rs`), a rewrite of what it cannot read (`normalise.rs`), a
//! lenient second pass for bad entities and tags (`lenient.rs`), and item by item as the last
//! resort (`salvage.rs`).

use chrono::{DateTime, Utc};
use feed_rs::model::{Feed, FeedType};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};

mod atom_fix;
mod hints;
mod lenient;
mod normalise;
mod prepare;
mod salvage;
mod story;

pub use hints::apply_http_charset;
pub use story::story_key;

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
    /// The lookup keys of the canonical link and the text fingerprint, and the language,
    /// worked out on first use ([`Story::canon_key`], [`Story::text_key`], [`Story::lang`]).
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

    /// The language of title and body (ISO 639-1), when it can be told. Told on first use:
    /// detection costs more than parsing a short item, and only a new story needs it.
    pub fn lang(&self) -> Option<&str> {
        self.keys.lang(&self.title, &self.body)
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
    /// What was repaired to read the document, and the items skipped as unreadable.
    pub repairs: Vec<Repair>,
}

impl ParsedFeed {
    /// How many items were skipped as unreadable (the others are in `stories`).
    pub fn skipped(&self) -> usize {
        self.repairs.iter().filter(|r| matches!(r, Repair::SkippedItem { .. })).count()
    }
}

/// A repair made to read a document, for the log: each names the line it was made at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Repair {
    #[error("read leniently: a bare `&` or an entity XML does not define at line {line}")]
    Entity { line: usize },
    #[error("read leniently: an end tag that does not match its start at line {line}")]
    EndTag { line: usize },
    #[error("read leniently: an element feed-rs rejects (such as an unknown text type) was read as text")]
    Rejected,
    #[error("skipped a broken item at line {line}")]
    SkippedItem { line: usize },
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
    #[error("no stories: the document has {items} item or entry elements but none could be read ({reason})")]
    NoStories { items: usize, reason: String },
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
    let parser = Base(base);
    let mut prepared = prepare::prepare(bytes);
    if prepare::unclosed_declaration(&prepared) {
        return Err(ParseError::Malformed("the XML declaration is not closed before the first tag".into()));
    }
    // Atom 0.3 and RSS 1.0 / 0.90 always go through the rewrite: feed-rs reads no Atom 0.3,
    // and drops every RSS 1.0 item without a `<link>`.
    let mut rewritten = false;
    if prepare::needs_rewrite(&prepared)
        && let Some(n) = normalise::normalise(&prepared)
    {
        prepared = std::borrow::Cow::Owned(n.bytes);
        rewritten = true;
    }
    let mut repairs = Vec::new();
    let feed = match read(&parser, &prepared) {
        Ok(feed) => feed,
        // `<rss>` with no `<channel>` is an empty feed, not a broken one.
        Err(ParseError::NoFeedRoot) if prepare::is_channelless_rss(&prepared) => {
            return Ok(ParsedFeed { title: None, stories: Vec::new(), refresh: None, repairs });
        }
        Err(ParseError::Malformed(strict)) => match second_pass(&parser, &prepared, &mut repairs) {
            Some(feed) => feed,
            None => salvage(&parser, &prepared, &strict, &mut repairs)?,
        },
        Err(other) => return Err(other),
    };
    // A rewritten document has had its items filled in already.
    let feed = if rewritten { feed } else { fill_in(&parser, &prepared, feed) };
    let kind = feed.feed_type.clone();
    let ttl = feed.ttl.map(|minutes| std::time::Duration::from_secs(u64::from(minutes) * 60));
    let refresh = ttl.into_iter().chain(hints::syndication_period(bytes)).max();
    let title = feed.title.as_ref().map(|t| story::shown(t, &kind)).filter(|t| !t.is_empty());
    let stories: Vec<Story> = feed.entries.into_iter().map(|e| story::story(e, &kind)).collect();
    if stories.is_empty() {
        let items = salvage::item_spans(&prepared).len();
        if items > 0 {
            let reason = "the parser found no entries in them".to_string();
            return Err(ParseError::NoStories { items, reason });
        }
    }
    Ok(ParsedFeed { title, stories, refresh, repairs })
}

/// The document's URL, which every feed-rs parser of it is built with.
#[derive(Clone, Copy)]
struct Base<'a>(Option<&'a str>);

/// The lenient second pass's rewrite on its own (entities repaired, end tags matched, text
/// types made readable): the document feed-rs is handed when the strict parse fails, or `None`
/// when the rewrite cannot read it either. For the fuzz target; `parse` uses it itself.
pub fn lenient_rewrite(doc: &[u8]) -> Option<Vec<u8>> {
    lenient(doc).map(|(normalised, _)| normalised.bytes)
}

/// The lenient rewrite with the line of its first entity repair, if it made one.
fn lenient(doc: &[u8]) -> Option<(normalise::Normalised, Option<usize>)> {
    let fixed = lenient::repair_entities(doc);
    let doc = fixed.as_ref().map_or(doc, |(d, _)| d.as_slice());
    Some((normalise::normalise(doc)?, fixed.map(|(_, line)| line)))
}

/// One feed-rs parse, with a parser of its own (one keeps state a failed parse leaves behind);
/// a panic in the parser (a bug in it, on hostile bytes) fails this feed, never the caller.
fn read(base: &Base<'_>, doc: &[u8]) -> Result<Feed, ParseError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base.0)
        .sanitize_content(false)
        // An empty id marks "the feed gave none"; `story_key` then derives a stable one.
        .id_generator(|_, _, _| String::new())
        .build();
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(doc)));
    match parsed {
        Err(_) => Err(ParseError::Malformed("the feed parser gave up on this document".into())),
        Ok(Ok(feed)) => Ok(feed),
        Ok(Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot))) => Err(ParseError::NoFeedRoot),
        Ok(Err(other)) => Err(ParseError::Malformed(other.to_string())),
    }
}

/// The lenient second pass: entities repaired, end tags matched, unknown text types read as
/// text. `None` when the document is still unreadable.
fn second_pass(parser: &Base<'_>, doc: &[u8], repairs: &mut Vec<Repair>) -> Option<Feed> {
    let (normalised, entity_at) = lenient(doc)?;
    let feed = read(parser, &normalised.bytes).ok()?;
    let before = repairs.len();
    repairs.extend(entity_at.map(|line| Repair::Entity { line }));
    repairs.extend(normalised.unbalanced_at.map(|line| Repair::EndTag { line }));
    if repairs.len() == before {
        repairs.push(Repair::Rejected);
    }
    Some(feed)
}

/// Every item read on its own: the readable ones kept, the others recorded as skipped.
fn salvage(parser: &Base<'_>, doc: &[u8], strict: &str, repairs: &mut Vec<Repair>) -> Result<Feed, ParseError> {
    let spans = salvage::item_spans(doc);
    let mut kept: Option<Feed> = None;
    for (i, one) in salvage::one_item_documents(doc, &spans).iter().enumerate() {
        let read_one = read(parser, one).ok().or_else(|| second_pass(parser, one, &mut Vec::new()));
        match read_one {
            Some(f) if !f.entries.is_empty() => match kept.as_mut() {
                Some(k) => k.entries.extend(f.entries),
                None => kept = Some(f),
            },
            _ => {
                let line = doc[..spans[i].0].iter().filter(|&&b| b == b'\n').count() + 1;
                repairs.push(Repair::SkippedItem { line });
            }
        }
    }
    match kept {
        Some(feed) => Ok(feed),
        None if spans.is_empty() => Err(ParseError::Malformed(strict.to_string())),
        None => Err(ParseError::NoStories { items: spans.len(), reason: format!("every item was broken: {strict}") }),
    }
}

/// For an RSS document where an item lacks a link, title or date, the rewrite that takes them
/// from the elements other vocabularies put them in; the feed as read when it changes nothing.
fn fill_in(parser: &Base<'_>, doc: &[u8], feed: Feed) -> Feed {
    if !matches!(feed.feed_type, FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2) {
        return feed;
    }
    // Only where the document holds what could fill the gap: a guid that is a URL, or the
    // Dublin Core or Atom namespaces; otherwise the rewrite would change nothing. The document
    // is searched for those only when an item lacks what they could give (most lack nothing).
    let no_link = |e: &feed_rs::model::Entry| !e.links.iter().any(story::is_story_link) && e.id.starts_with("http");
    let (title, date) =
        (feed.entries.iter().any(|e| e.title.is_none()), feed.entries.iter().any(|e| e.published.is_none()));
    if !title && !date && !feed.entries.iter().any(no_link) {
        return feed;
    }
    let has = |ns: &[u8]| memchr::memmem::find(doc, ns).is_some();
    let dc = title && has(b"http://purl.org/dc/elements/1.1/");
    let dates = date && (has(b"http://purl.org/dc/terms/") || has(b"http://www.w3.org/2005/Atom"));
    let lacking =
        |e: &feed_rs::model::Entry| no_link(e) || (e.title.is_none() && dc) || (e.published.is_none() && dates);
    if !feed.entries.iter().any(lacking) {
        return feed;
    }
    // Most RSS 2.0 documents declare the Atom namespace: usually there is nothing to fill, and
    // a rewrite that changed nothing is not read again.
    let rewrite = normalise::normalise(doc).filter(|n| n.changed);
    match rewrite.and_then(|n| read(parser, &n.bytes).ok()) {
        Some(better) if better.entries.len() >= feed.entries.len() => better,
        _ => feed,
    }
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
        assert!(matches!(
            parse(b"<rss version=\"2.0\"><channel><item>", None),
            Err(ParseError::NoStories { items: 1, .. })
        ));
        assert!(matches!(parse(b"<rss version=\"2.0\"><channel><title>", None), Err(ParseError::Malformed(_))));
    }
}
