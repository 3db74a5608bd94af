//! The Atom side of `normalise`: Atom 0.3 element names and content modes as Atom 1.0, and a
//! `type` feed-rs can read on every text construct (an unknown or empty one is text;
//! `application/octet-stream` is base64). Pure.

use quick_xml::events::BytesStart;

use super::normalise::{ATOM03, Ns};

/// A start tag as [`atom_fixes`] leaves it.
pub(super) struct Fixed {
    pub start: BytesStart<'static>,
    /// Whether the element is an HTML text construct.
    pub html: bool,
    /// Whether anything was renamed, dropped or retyped (attributes only written anew are not).
    pub changed: bool,
}

/// Atom 0.3 names and modes as Atom 1.0, and a readable `type` on every text construct.
pub(super) fn atom_fixes(
    ns: Ns,
    e: BytesStart<'static>,
    local: &str,
    base64: &mut Option<usize>,
    depth: usize,
) -> Fixed {
    if !matches!(ns, Ns::Atom | Ns::Atom03) {
        return Fixed { start: e, html: false, changed: false };
    }
    let renamed = match (ns, local) {
        (Ns::Atom03, "issued") => Some("published"),
        (Ns::Atom03, "modified") => Some("updated"),
        (Ns::Atom03, "tagline") => Some("subtitle"),
        (Ns::Atom03, "copyright") => Some("rights"),
        (Ns::Atom03, "url") => Some("uri"),
        _ => None,
    };
    let text_construct =
        matches!(local, "title" | "subtitle" | "summary" | "rights" | "content" | "tagline" | "copyright");
    let attrs: Vec<(String, String)> = e
        .attributes()
        .flatten()
        .map(|a| {
            let value =
                a.normalized_value(quick_xml::XmlVersion::default()).map(|v| v.into_owned()).unwrap_or_default();
            (a.key.as_ref().to_string(), value)
        })
        .collect();
    let mode = attrs.iter().find(|(k, _)| k == "mode").map(|(_, v)| v.trim().to_ascii_lowercase());
    let mut out = BytesStart::new(qualified(&e, renamed.unwrap_or(local)));
    let mut html = false;
    let mut changed = renamed.is_some();
    for (key, value) in &attrs {
        match key.as_str() {
            "mode" | "version" if ns == Ns::Atom03 => changed = true,
            "type" if text_construct => {
                let (kind, decode) = text_type(value, mode.as_deref(), local == "content");
                if decode {
                    *base64 = Some(depth);
                }
                changed |= kind != Some(value.as_str());
                if let Some(kind) = kind {
                    html = kind == "html";
                    out.push_attribute(("type", kind));
                }
            }
            _ if value == ATOM03 => {
                changed = true;
                out.push_attribute((key.as_str(), "http://www.w3.org/2005/Atom"));
            }
            _ => out.push_attribute((key.as_str(), &value[..])),
        }
    }
    if text_construct && mode.as_deref() == Some("base64") && !attrs.iter().any(|(k, _)| k == "type") {
        *base64 = Some(depth);
    }
    Fixed { start: out, html: html && base64.is_none(), changed }
}

/// The Atom 1.0 `type` for a text construct's `type` (and Atom 0.3 `mode`), and whether its
/// text is base64 to decode. `None` keeps the element's default (text).
fn text_type(value: &str, mode: Option<&str>, content: bool) -> (Option<&'static str>, bool) {
    let value = value.trim().to_ascii_lowercase();
    let base64 = mode == Some("base64") || value == "application/octet-stream";
    let kind = match value.as_str() {
        "html" | "text/html" => Some("html"),
        "xhtml" | "application/xhtml+xml" if mode != Some("escaped") => Some("xhtml"),
        "xhtml" | "application/xhtml+xml" => Some("html"),
        // Markup inside other types is kept as the feed wrote it; the story reads its words.
        _ if content && value.contains("html") => Some("html"),
        _ => None,
    };
    (kind, base64)
}

/// The element's qualified name with its local part replaced.
fn qualified(e: &BytesStart<'_>, local: &str) -> String {
    match e.name().prefix() {
        Some(p) => format!("{}:{local}", p.as_ref()),
        None => local.to_string(),
    }
}
