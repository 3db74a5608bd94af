//! A rewriting pass over an XML feed document, for the defects feed-rs cannot read past: it
//! turns Atom 0.3 into Atom 1.0, gives text constructs with an unknown `type` a readable one,
//! fills in an item's missing link, title or date from the elements that carry them in other
//! vocabularies (`rdf:about`, a permalink `<guid>`, `dc:title`, `dcterms:*`, `atom:published`),
//! keeps the words of markup left unescaped in an RSS title, and closes end tags that do not
//! match their start (`<logo>…</link>`). A document cut short (elements still open at its end)
//! is left alone: completing it would store its last item half-read.
//!
//! Pure and streaming (quick-xml events in, events out). The caller runs it only on documents
//! that need it: it costs a second parse.

use base64::Engine;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

use super::atom_fix::atom_fixes;

const ATOM10: &str = "http://www.w3.org/2005/Atom";
pub(super) const ATOM03: &str = "http://purl.org/atom/ns#";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS: &str = "http://purl.org/dc/terms/";

/// The namespaces the pass tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ns {
    None,
    Atom,
    Atom03,
    Dc,
    Dcterms,
    Other,
}

fn ns_of(r: &ResolveResult<'_>) -> Ns {
    match r {
        ResolveResult::Bound(ns) => match ns.as_ref() {
            ATOM10 => Ns::Atom,
            ATOM03 => Ns::Atom03,
            DC => Ns::Dc,
            DCTERMS => Ns::Dcterms,
            _ => Ns::Other,
        },
        _ => Ns::None,
    }
}

/// What was found inside the item being read, and which element's text is being collected.
#[derive(Default)]
struct Item {
    depth: usize,
    has_link: bool,
    has_title: bool,
    has_date: bool,
    about: Option<String>,
    permalink: Option<String>,
    dc_title: Option<String>,
    date: Option<String>,
    /// (what the text is for, the depth of its element, the text so far).
    collecting: Option<(Collect, usize, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    Guid,
    DcTitle,
    Date,
}

/// The rewritten document and what the pass repaired.
pub struct Normalised {
    pub bytes: Vec<u8>,
    /// The line of the first end tag that did not match its start, if any.
    pub unbalanced_at: Option<usize>,
    /// Whether the rewrite changed anything feed-rs reads: an item filled in, markup kept as
    /// text, an Atom name or type made readable, base64 decoded, an end tag matched. When it
    /// did not, the document reads as it did before the rewrite.
    pub changed: bool,
}

/// Rewrites `doc`; `None` when it is not XML the pass can read.
pub fn normalise(doc: &[u8]) -> Option<Normalised> {
    let mut reader = NsReader::from_reader(doc);
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_unmatched_ends = true;
    let mut pass = Pass {
        out: Writer::new(Vec::with_capacity(doc.len() + 256)),
        stack: Vec::new(),
        item: None,
        base64: None,
        flatten: None,
        flat_open: Vec::new(),
        unbalanced_at: None,
        rss: false,
        changed: false,
    };
    let mut buf = Vec::new();
    loop {
        let at = reader.buffer_position() as usize;
        let (ns, event) = reader.read_resolved_event_into(&mut buf).ok()?;
        let ns = ns_of(&ns);
        match event {
            Event::Eof => break,
            Event::Start(e) => pass.start(ns, e, false)?,
            Event::Empty(e) => pass.start(ns, e, true)?,
            Event::End(e) => {
                let line = || doc[..at.min(doc.len())].iter().filter(|&&b| b == b'\n').count() + 1;
                pass.end(e, line)?;
            }
            Event::Text(t) => pass.text(&t.xml10_content(), Event::Text(t.borrow()))?,
            Event::CData(c) => pass.text(&c.xml10_content(), Event::CData(c.borrow()))?,
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => String::from(c),
                    _ => quick_xml::escape::resolve_predefined_entity(&name).unwrap_or_default().to_string(),
                };
                pass.text(&text, Event::GeneralRef(r.borrow()))?;
            }
            other => pass.out.write_event(other).ok()?,
        }
        buf.clear();
    }
    // A document cut short is not completed: its last item would be stored half-read.
    if !pass.stack.is_empty() {
        return None;
    }
    let changed = pass.changed || pass.unbalanced_at.is_some();
    Some(Normalised { bytes: pass.out.into_inner(), unbalanced_at: pass.unbalanced_at, changed })
}

struct Pass {
    out: Writer<Vec<u8>>,
    /// Names of the open elements: as read, and as written (Atom 0.3 names are renamed).
    stack: Vec<(String, String)>,
    item: Option<Item>,
    /// Inside an element whose text is base64 to decode (Atom 0.3 `mode="base64"`,
    /// `type="application/octet-stream"`): its depth.
    base64: Option<usize>,
    /// Inside an RSS title or description, or an HTML text construct, whose child elements are
    /// written as text: its depth.
    flatten: Option<usize>,
    /// The child elements open inside it.
    flat_open: Vec<String>,
    unbalanced_at: Option<usize>,
    rss: bool,
    /// See [`Normalised::changed`].
    changed: bool,
}

impl Pass {
    fn start(&mut self, ns: Ns, e: BytesStart<'_>, empty: bool) -> Option<()> {
        let local = e.local_name().as_ref().to_string();
        if self.flatten.is_some() {
            self.changed = true;
            if !empty {
                self.flat_open.push(e.name().as_ref().to_string());
            }
            let raw = format!("<{}{}>", &*e, if empty { "/" } else { "" });
            return self.out.write_event(Event::Text(BytesText::new(&raw))).ok();
        }
        if self.stack.is_empty() {
            self.rss = matches!(local.as_str(), "rss" | "RDF");
        }
        let depth = self.stack.len() + 1;
        let read_as = e.name().as_ref().to_string();
        let fixed = atom_fixes(ns, e.into_owned(), &local, &mut self.base64, depth);
        let (e, html) = (fixed.start, fixed.html);
        self.changed |= fixed.changed;
        if html && !empty {
            // Markup written unescaped inside an HTML text construct is its HTML: kept as text.
            self.flatten = Some(depth);
        }
        if matches!(local.as_str(), "item" | "entry") && self.item.is_none() {
            let about = e.attributes().flatten().find(|a| a.key.local_name().as_ref() == "about");
            let about = about
                .and_then(|a| a.normalized_value(quick_xml::XmlVersion::default()).ok())
                .map(|v| v.trim().to_string());
            self.item = Some(Item { depth, about, ..Item::default() });
        } else if let Some(item) = self.item.as_mut()
            && let Some(from) = note_child(item, ns, &local, &e, depth, self.rss)
        {
            self.flatten = Some(from);
        }
        if empty {
            if let Some(href) =
                self.item.as_ref().filter(|i| self.rss && i.depth + 1 == depth).and_then(|_| rss_href(ns, &local, &e))
            {
                // `<link href="…"/>` in an RSS item: an Atom link without its namespace.
                self.changed = true;
                let name = e.name().as_ref().to_string();
                self.out.write_event(Event::Start(BytesStart::new(name.as_str()))).ok()?;
                self.out.write_event(Event::Text(BytesText::new(&href))).ok()?;
                return self.out.write_event(Event::End(BytesEnd::new(name))).ok();
            }
            return self.out.write_event(Event::Empty(e)).ok();
        }
        self.stack.push((read_as, e.name().as_ref().to_string()));
        self.out.write_event(Event::Start(e)).ok()
    }

    fn end(&mut self, e: BytesEnd<'_>, line: impl Fn() -> usize) -> Option<()> {
        let name = e.name().as_ref().to_string();
        if self.flatten.is_some() {
            if self.flat_open.last() == Some(&name) {
                self.flat_open.pop();
                return self.out.write_event(Event::Text(BytesText::new(&format!("</{name}>")))).ok();
            }
            self.flatten = None;
            self.flat_open.clear();
            if !self.stack.iter().any(|(read, _)| *read == name) {
                // A stray end tag inside a text construct (`<title>…</subtitle>`) ends it.
                self.unbalanced_at.get_or_insert_with(&line);
                return self.close();
            }
        }
        let Some(open) = self.stack.iter().rposition(|(read, _)| *read == name) else {
            // An end tag nothing opened: dropped.
            self.unbalanced_at.get_or_insert_with(&line);
            return Some(());
        };
        if open + 1 != self.stack.len() {
            self.unbalanced_at.get_or_insert_with(&line);
        }
        while self.stack.len() > open {
            self.close()?;
        }
        Some(())
    }

    /// Closes the innermost open element, finishing the item it ends.
    fn close(&mut self) -> Option<()> {
        let depth = self.stack.len();
        let (_, name) = self.stack.pop()?;
        if self.base64 == Some(depth) {
            self.base64 = None;
        }
        if let Some(item) = self.item.as_mut() {
            if let Some((what, _, text)) = item.collecting.take_if(|c| c.1 == depth) {
                collected(item, what, text);
            }
            if item.depth == depth {
                let item = self.item.take()?;
                if self.rss {
                    self.changed |= fill_in(&mut self.out, &item)?;
                }
            }
        }
        self.out.write_event(Event::End(BytesEnd::new(name))).ok()
    }

    fn text(&mut self, text: &str, event: Event<'_>) -> Option<()> {
        if let Some((_, _, so_far)) = self.item.as_mut().and_then(|i| i.collecting.as_mut()) {
            so_far.push_str(text);
        }
        if self.base64.is_some() {
            let squeezed: String = text.split_whitespace().collect();
            let decoded = base64::engine::general_purpose::STANDARD.decode(squeezed.as_bytes()).ok();
            if let Some(plain) = decoded.and_then(|d| String::from_utf8(d).ok()) {
                self.changed = true;
                return self.out.write_event(Event::Text(BytesText::new(&plain))).ok();
            }
        }
        self.out.write_event(event).ok()
    }
}

/// The `href` of an empty `<link>` element outside the Atom namespace.
fn rss_href(ns: Ns, local: &str, e: &BytesStart<'_>) -> Option<String> {
    if !matches!(ns, Ns::None | Ns::Other) || local != "link" {
        return None;
    }
    let href = e.attributes().flatten().find(|a| a.key.as_ref() == "href")?;
    href.normalized_value(quick_xml::XmlVersion::default()).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Notes a child of an item; returns the depth to flatten from when it is an RSS title or
/// description (whose child elements, if any, are then written as text).
fn note_child(item: &mut Item, ns: Ns, local: &str, e: &BytesStart<'_>, depth: usize, rss: bool) -> Option<usize> {
    let direct = depth == item.depth + 1;
    if !direct || item.collecting.is_some() {
        return None;
    }
    let collect = match (ns, local) {
        (Ns::None | Ns::Other, "link") => {
            item.has_link = true;
            None
        }
        (Ns::None | Ns::Other, "title") => {
            item.has_title = true;
            return rss.then_some(depth);
        }
        (Ns::None | Ns::Other, "description") => return rss.then_some(depth),
        (Ns::None | Ns::Other, "pubDate") | (Ns::Dc, "date") => {
            item.has_date = true;
            None
        }
        (Ns::None | Ns::Other, "guid") => {
            let not_permalink = e
                .attributes()
                .flatten()
                .any(|a| a.key.local_name().as_ref() == "isPermaLink" && a.value.trim().eq_ignore_ascii_case("false"));
            (!not_permalink).then_some(Collect::Guid)
        }
        (Ns::Dc, "title") => Some(Collect::DcTitle),
        (Ns::Dcterms, "modified" | "issued" | "created") | (Ns::Atom, "published" | "updated") => Some(Collect::Date),
        _ => None,
    };
    item.collecting = collect.map(|c| (c, depth, String::new()));
    None
}

fn collected(item: &mut Item, what: Collect, text: String) {
    let text = text.trim().to_string();
    if text.is_empty() {
        return;
    }
    let slot = match what {
        Collect::Guid => &mut item.permalink,
        Collect::DcTitle => &mut item.dc_title,
        Collect::Date => &mut item.date,
    };
    slot.get_or_insert(text);
}

/// Writes, before an RSS item closes, the link, title and date it lacks but carries elsewhere;
/// says whether it wrote any.
fn fill_in(out: &mut Writer<Vec<u8>>, item: &Item) -> Option<bool> {
    let permalink = item.permalink.as_deref().filter(|g| g.starts_with("http://") || g.starts_with("https://"));
    let link = (!item.has_link).then(|| item.about.as_deref().filter(|a| !a.is_empty()).or(permalink)).flatten();
    let title = (!item.has_title).then_some(item.dc_title.as_deref()).flatten();
    let date = (!item.has_date).then_some(item.date.as_deref()).flatten();
    // RSS 1.0 reads dates only from `dc:date`, so the element carries its namespace with it.
    let fills =
        [("link", "", link), ("title", "", title), ("dc:date", " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"", date)];
    let mut filled = false;
    for (name, ns, value) in fills {
        let Some(value) = value else { continue };
        let start = BytesStart::from_content(format!("{name}{ns}"), name.len());
        out.write_event(Event::Start(start)).ok()?;
        out.write_event(Event::Text(BytesText::new(value))).ok()?;
        out.write_event(Event::End(BytesEnd::new(name))).ok()?;
        filled = true;
    }
    Some(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(doc: &str) -> String {
        String::from_utf8(normalise(doc.as_bytes()).unwrap().bytes).unwrap()
    }

    #[test]
    fn atom03_becomes_atom10() {
        let out = run(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-01T00:00:00Z</issued><content mode="escaped" type="text/html">&lt;b&gt;x&lt;/b&gt;</content></entry></feed>"#,
        );
        assert_eq!(
            out,
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><published>2004-01-01T00:00:00Z</published><content type="html">&lt;b&gt;x&lt;/b&gt;</content></entry></feed>"#
        );
    }

    #[test]
    fn base64_text_is_decoded_and_unknown_types_read_as_text() {
        let out = run(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="application/octet-stream">PHA+RW50cnk8L3A+</title><summary type="">s</summary></feed>"#,
        );
        assert_eq!(
            out,
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>&lt;p&gt;Entry&lt;/p&gt;</title><summary>s</summary></feed>"#
        );
    }

    #[test]
    fn rss_items_get_links_titles_and_dates_from_other_elements() {
        let out = run(
            r#"<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:a="http://www.w3.org/2005/Atom"><channel><item><guid>https://e.org/1</guid><dc:title>T</dc:title><a:published>2019-01-02T15:04:05Z</a:published></item></channel></rss>"#,
        );
        assert!(out.contains("<link>https://e.org/1</link><title>T</title><dc:date xmlns:dc=\"http://purl.org/dc/elements/1.1/\">2019-01-02T15:04:05Z</dc:date></item>"), "{out}");
        let kept =
            run(r#"<rss><channel><item><guid isPermaLink="false">https://e.org/1</guid></item></channel></rss>"#);
        assert!(!kept.contains("<link>"), "{kept}");
    }

    /// The rewrite that fills in RSS items ran, and the document was parsed again, on every
    /// poll of a feed whose items lack a date and which declares the Atom namespace (as most
    /// RSS 2.0 feeds do), though it had nothing to fill.
    #[test]
    fn a_rewrite_says_whether_it_changed_what_feed_rs_reads() {
        let changed = |doc: &str| normalise(doc.as_bytes()).unwrap().changed;
        let head = r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><atom:link href="https://e.org/rss?a=1&amp;b=2" rel="self" type="application/rss+xml" />"#;
        let doc = |item: &str| format!("{head}<item><title>T</title>{item}</item></channel></rss>");
        assert!(!changed(&doc("<link>https://e.org/1</link><description>a &amp; b</description>")));
        assert!(changed(&doc("<guid>https://e.org/1</guid>")), "a link filled in");
        assert!(changed(&doc("<atom:published>2019-01-02T15:04:05Z</atom:published>")), "a date filled in");
        assert!(changed(&doc("<link>https://e.org/1</link><description><p>a</p> b</description>")), "markup as text");
        assert!(changed(&doc(r#"<link rel="alternate" href="https://e.org/1"/>"#)), "an RSS link from its href");
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="text/plain">T</title></feed>"#;
        assert!(changed(atom), "a text type made readable");
        assert!(!changed(r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">T</title></feed>"#));
    }

    #[test]
    fn unmatched_end_tags_are_closed_and_reported() {
        let n = normalise(b"<feed>\n<entry><source><logo>x</link></source></entry></feed>").unwrap();
        assert_eq!(
            String::from_utf8(n.bytes).unwrap(),
            "<feed>\n<entry><source><logo>x</logo></source></entry></feed>"
        );
        assert_eq!(n.unbalanced_at, Some(2));
    }

    #[test]
    fn markup_in_an_rss_title_or_an_html_text_construct_is_kept_as_text() {
        let out = run("<rss><channel><item><title><p>Item Title</p></title></item></channel></rss>");
        assert!(out.contains("<title>&lt;p&gt;Item Title&lt;/p&gt;</title>"), "{out}");
        let atom = run(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">A <a href="t">test</a></title></feed>"#,
        );
        assert!(atom.contains(r#"<title type="html">A &lt;a href=&quot;t&quot;&gt;test&lt;/a&gt;</title>"#), "{atom}");
    }
}
