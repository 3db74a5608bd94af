//! Small repairs applied to feed bytes before feed-rs sees them, for real-world feeds that
//! feed-rs would otherwise reject or read as empty. Each repair is narrow and only touches a
//! document that shows the exact defect.
//!
//! - UTF-16 and UTF-32 documents (with or without a BOM) are transcoded to UTF-8 and their XML
//!   declaration dropped, since the declaration would name the old encoding.
//! - `<rss>` without a `version` attribute, or with 0.93 or 0.94 (drafts between 0.92 and 2.0
//!   that feed-rs does not name), is read as RSS 2.0; a default namespace on `<rss>`
//!   (`xmlns="http://backend.userland.com/rss2"`) is dropped, since RSS 2.0 has none.
//! - A document with no byte-order mark and no declared encoding whose bytes are not UTF-8 is
//!   decoded from the encoding chardetng finds (the HTTP charset, applied before, wins).
//! - RSS 0.90 (RDF with the Netscape 0.9 namespace) is read as RSS 1.0, which has the same shape.
//! - JSON Feeds that name their version with `http://` or as a bare number, leave out the
//!   required `title`, or give `tags` as one string are normalised to the spec's form.
//! - An XML declaration anywhere but at the start (pasted into an item's HTML, say) is removed:
//!   it is not XML, and one naming another encoding made the XML reader panic (found by
//!   fuzzing).

use std::borrow::Cow;

use memchr::memmem::find;

/// The two spellings of the RSS 0.90 namespace seen in the wild.
const RSS090_NS: [&[u8]; 2] =
    [b"http://channel.netscape.com/rdf/simple/0.9/", b"http://my.netscape.com/rdf/simple/0.9/"];
const RSS10_NS: &[u8] = b"http://purl.org/rss/1.0/";

/// Returns the bytes to hand to feed-rs.
pub fn prepare(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Cow::Borrowed(bytes);
    if let Some(utf8) = wide_to_utf8(bytes) {
        out = Cow::Owned(drop_xml_declaration(utf8).into_bytes());
    } else if let Some(utf8) = super::hints::detect_encoding(bytes) {
        out = Cow::Owned(utf8.into_bytes());
    }
    if let Some(fixed) = json_feed(&out) {
        return Cow::Owned(fixed);
    }
    for ns in RSS090_NS {
        if let Some(pos) = find(&out, ns) {
            let mut v = out.into_owned();
            v.splice(pos..pos + ns.len(), RSS10_NS.iter().copied());
            out = Cow::Owned(v);
        }
    }
    if let Some(cleaned) = drop_stray_declarations(&out) {
        out = Cow::Owned(cleaned);
    }
    if let Some(fixed) = rss_root(&out) {
        out = Cow::Owned(fixed);
    }
    out
}

/// Whether the document opens with an XML declaration that never closes before the next tag
/// (`<?xml version="1>` … `<entry>`): feed-rs's reader then panics when the encoding it names
/// arrives late (found by fuzzing).
pub fn unclosed_declaration(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let rest = &b[start..];
    if !rest.starts_with(b"<?xml") {
        return false;
    }
    match find(rest, b"?>") {
        Some(end) => rest[5..end].contains(&b'<'),
        None => true,
    }
}

/// The document without `<?xml …?>` declarations past its start; `None` when it has none.
fn drop_stray_declarations(b: &[u8]) -> Option<Vec<u8>> {
    let start = b.iter().position(|&c| c == b'<')?;
    let is_declaration =
        |at: usize| b[at..].starts_with(b"<?xml") && b.get(at + 5).is_some_and(u8::is_ascii_whitespace);
    let mut stray = memchr::memmem::find_iter(&b[start + 1..], b"<?xml")
        .map(|p| start + 1 + p)
        .filter(|&at| is_declaration(at))
        .peekable();
    stray.peek()?;
    let mut out = Vec::with_capacity(b.len());
    let mut from = 0;
    for at in stray {
        if at < from {
            continue;
        }
        // Up to its `?>`, else its first `>`; one that never closes is left alone.
        let Some(end) = find(&b[at..], b"?>").map(|p| at + p + 2).or_else(|| find(&b[at..], b">").map(|p| at + p + 1))
        else {
            continue;
        };
        out.extend_from_slice(&b[from..at]);
        from = end;
    }
    out.extend_from_slice(&b[from..]);
    Some(out)
}

/// Whether the document needs `normalise` before feed-rs: Atom 0.3 or RSS 1.0 / 0.90 (found by
/// their namespaces near the start), or an HTML text construct holding unescaped markup, of
/// which feed-rs keeps only the first words.
pub fn needs_rewrite(b: &[u8]) -> bool {
    let head = &b[..b.len().min(8192)];
    find(head, b"http://purl.org/atom/ns#").is_some()
        || find(head, RSS10_NS).is_some()
        || child_element_inside(b, b"type=\"html\"")
        || (root_is_rss(b) && (find(b, b"<link href=").is_some() || child_element_inside(b, b"<title>")))
}

/// Whether the first element is `<rss`.
fn root_is_rss(b: &[u8]) -> bool {
    let mut rest = b;
    while let Some(p) = memchr::memchr(b'<', rest) {
        rest = &rest[p + 1..];
        if !matches!(rest.first(), Some(b'?' | b'!')) {
            return rest.starts_with(b"rss");
        }
    }
    false
}

/// Whether an element whose start tag holds `pattern` has a child element first (not CDATA,
/// not its own end tag).
fn child_element_inside(b: &[u8], pattern: &[u8]) -> bool {
    memchr::memmem::find_iter(b, pattern).any(|at| {
        let Some(open_end) = memchr::memchr(b'>', &b[at..]).map(|p| at + p + 1) else { return false };
        if b[..open_end].ends_with(b"/>") {
            return false;
        }
        memchr::memchr(b'<', &b[open_end..]).is_some_and(|p| {
            let next = &b[open_end + p + 1..];
            !(next.starts_with(b"/") || next.starts_with(b"![CDATA["))
        })
    })
}

/// Whether the document's root is `<rss …>` and it holds no `<channel`.
pub fn is_channelless_rss(b: &[u8]) -> bool {
    let start = b.iter().position(|&c| c == b'<').unwrap_or(b.len());
    let rest = &b[start..];
    let root =
        find(rest, b"<rss").is_some_and(|p| !rest[..p].windows(2).any(|w| w[0] == b'<' && w[1].is_ascii_alphabetic()));
    root && find(b, b"<channel").is_none()
}

/// Decodes UTF-16 or UTF-32 (detected from a BOM or from the zero bytes around the first `<`).
fn wide_to_utf8(b: &[u8]) -> Option<String> {
    let (unit, big_endian, skip) = match b {
        [0, 0, 0xFE, 0xFF, ..] => (4, true, 4),
        [0xFF, 0xFE, 0, 0, ..] => (4, false, 4),
        [0xFE, 0xFF, ..] => (2, true, 2),
        [0xFF, 0xFE, ..] => (2, false, 2),
        [0, 0, 0, b'<', ..] => (4, true, 0),
        [b'<', 0, 0, 0, ..] => (4, false, 0),
        [0, b'<', ..] => (2, true, 0),
        [b'<', 0, ..] => (2, false, 0),
        _ => return None,
    };
    let body = &b[skip..];
    if unit == 2 {
        let enc = if big_endian { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE };
        return Some(enc.decode_without_bom_handling(body).0.into_owned());
    }
    let chars = body.chunks_exact(4).map(|c| {
        let n = if big_endian {
            u32::from_be_bytes([c[0], c[1], c[2], c[3]])
        } else {
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        };
        char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER)
    });
    Some(chars.collect())
}

fn drop_xml_declaration(s: String) -> String {
    match (s.trim_start().starts_with("<?xml"), s.find("?>")) {
        (true, Some(end)) => s[end + 2..].to_string(),
        _ => s,
    }
}

/// The document with its `<rss>` root tag read as RSS 2.0 when it names no version or 0.93
/// or 0.94, and without a default namespace; `None` when the root needs none of it.
fn rss_root(b: &[u8]) -> Option<Vec<u8>> {
    let head = &b[..b.len().min(8192)];
    let mut from = 0;
    let (at, end) = loop {
        let p = find(&head[from..], b"<rss")?;
        let at = from + p + 4;
        match head.get(at) {
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => {
                break (at, find(&head[at..], b">").map_or(head.len(), |e| at + e));
            }
            _ => from = at,
        }
    };
    let tag = String::from_utf8_lossy(&head[at..end]);
    let mut attrs = String::with_capacity(tag.len() + 16);
    let mut changed = false;
    let mut has_version = false;
    for (name, value) in attributes(&tag) {
        match name {
            "xmlns" => changed = true,
            "version" => {
                has_version = true;
                let draft = matches!(value.trim(), "0.93" | "0.94");
                changed |= draft;
                attrs.push_str(&format!(" version=\"{}\"", if draft { "2.0" } else { value }));
            }
            _ => attrs.push_str(&format!(" {name}=\"{value}\"")),
        }
    }
    if !has_version {
        attrs.insert_str(0, " version=\"2.0\"");
        changed = true;
    }
    let self_closing = tag.trim_end().ends_with('/');
    if self_closing {
        attrs.push('/');
    }
    changed.then(|| [&b[..at], attrs.as_bytes(), &b[end..]].concat())
}

/// The `name="value"` pairs of a tag's attribute text (either quote), values as written.
fn attributes(tag: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { break };
        let Some(close) = after[1..].find(quote) else { break };
        out.push((name, &after[1..1 + close]));
        rest = &after[close + 2..];
    }
    out
}

/// Normalises a JSON Feed's version URL and string-valued `tags`; `None` when not needed.
fn json_feed(b: &[u8]) -> Option<Vec<u8>> {
    let first = b.iter().find(|c| !c.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_slice(b).ok()?;
    let mut changed = false;
    if let Some(serde_json::Value::String(version)) = v.get_mut("version") {
        let spec = match version.trim() {
            "1" | "1.0" => Some("https://jsonfeed.org/version/1".to_string()),
            "1.1" => Some("https://jsonfeed.org/version/1.1".to_string()),
            other => other.strip_prefix("http://jsonfeed.org/").map(|rest| format!("https://jsonfeed.org/{rest}")),
        };
        if let Some(spec) = spec {
            *version = spec;
            changed = true;
        }
    }
    if let Some(feed) = v.as_object_mut().filter(|f| !f.contains_key("title")) {
        feed.insert("title".into(), serde_json::Value::String(String::new()));
        changed = true;
    }
    if let Some(items) = v.get_mut("items").and_then(|i| i.as_array_mut()) {
        for item in items {
            if let Some(tags) = item.get_mut("tags")
                && let serde_json::Value::String(s) = tags
            {
                let list = s.split(',').map(|t| serde_json::Value::String(t.trim().to_string())).collect();
                *tags = serde_json::Value::Array(list);
                changed = true;
            }
        }
    }
    changed.then(|| serde_json::to_vec(&v).expect("a parsed value serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_a_missing_rss_version() {
        assert_eq!(&*prepare(b"<rss><channel/></rss>"), b"<rss version=\"2.0\"><channel/></rss>");
        assert_eq!(&*prepare(b"<rss version=\"0.91\">"), b"<rss version=\"0.91\">");
    }

    #[test]
    fn reads_rss_drafts_and_drops_a_default_namespace_as_rss_2() {
        assert_eq!(&*prepare(b"<rss version='0.94'><channel/></rss>"), b"<rss version=\"2.0\"><channel/></rss>");
        let ns = b"<rss xmlns=\"http://backend.userland.com/rss2\" version=\"2.0\" xmlns:dc=\"d\">";
        assert_eq!(&*prepare(ns), b"<rss version=\"2.0\" xmlns:dc=\"d\">");
    }

    #[test]
    fn transcodes_utf16_without_its_declaration() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"/>";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(doc.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(&*prepare(&bytes), b"<rss version=\"2.0\"/>");
    }

    #[test]
    fn leaves_ordinary_feeds_alone() {
        let doc = b"<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>";
        assert!(matches!(prepare(doc), Cow::Borrowed(_)));
    }
}
