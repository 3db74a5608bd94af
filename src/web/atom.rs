//! Atom 1.0 feeds of alerts: `/alerts.atom` and `/watch/NAME.atom`, the latest 100 alerts, one
//! entry per alert with its matched terms in the content.
//!
//! Entry ids are `urn:uuid:` names derived from the story's feed URL, its stable key and the
//! watch, so an entry keeps its id across restarts and even a rebuilt database. The ETag is a
//! digest of the document; a matching `If-None-Match` gets 304 with no body.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;
use sha2::{Digest, Sha256};

use super::alerts::{PAGE_SIZE, Shown, percent, shown};
use super::layout::{highlighted, marked};
use super::{PageError, Site};
use crate::backtest::FeedNames;
use crate::matcher::Field;
use crate::store::AlertFilter;

pub(super) async fn alerts(State(site): State<Site>, headers: HeaderMap) -> Result<Response, PageError> {
    respond(site, None, headers).await
}

pub(super) async fn watch(site: Site, name: String, headers: HeaderMap) -> Result<Response, PageError> {
    if !site.config.watches.iter().any(|w| w.name == name) {
        return Err(PageError::NotFound(format!("no watch named {name:?} in the config")));
    }
    respond(site, Some(name), headers).await
}

async fn respond(site: Site, watch: Option<String>, headers: HeaderMap) -> Result<Response, PageError> {
    let base = base_url(&headers);
    let xml = site
        .read(move |site, store| {
            let filter = AlertFilter { watch: watch.clone(), since: 0, limit: PAGE_SIZE, ..Default::default() };
            let mut names = FeedNames::new(&site.config);
            let alerts = shown(store, &mut names, store.alerts(&filter)?)?;
            Ok(document(&base, watch.as_deref(), &alerts))
        })
        .await?;
    let etag = format!("\"{}\"", hex(&Sha256::digest(xml.as_bytes())[..16]));
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, &etag)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    let content_type = HeaderValue::from_static("application/atom+xml; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type), (header::ETAG, etag_value)], xml).into_response())
}

/// Whether an `If-None-Match` value names `etag` (weak or strong, or `*`).
fn matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// `http://HOST` of the request, for the absolute links Atom wants.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// The Atom document for `alerts` (newest first).
fn document(base: &str, watch: Option<&str>, alerts: &[Shown]) -> String {
    let (title, path, id) = match watch {
        Some(w) => (format!("wirewatch: {w}"), format!("/watch/{}.atom", percent(w)), uuid(&["watch", w])),
        None => ("wirewatch: alerts".to_string(), "/alerts.atom".to_string(), uuid(&["alerts"])),
    };
    let updated = alerts.iter().map(|s| s.row.created).max().unwrap_or(0);
    let mut x =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(x, "<title>{}</title>", escape(&title));
    let _ = writeln!(x, "<id>{id}</id>\n<updated>{}</updated>", time(updated));
    let _ = writeln!(x, "<link rel=\"self\" href=\"{}\"/>", escape(format!("{base}{path}")));
    let _ = writeln!(x, "<link rel=\"alternate\" type=\"text/html\" href=\"{}/\"/>", escape(base));
    let _ = writeln!(x, "<author><name>wirewatch</name></author>\n<generator>wirewatch</generator>");
    for s in alerts {
        entry(&mut x, base, s);
    }
    x.push_str("</feed>\n");
    x
}

fn entry(x: &mut String, base: &str, s: &Shown) {
    let story = &s.row.stored;
    let id = uuid(&[&story.feed_url, &story.story.key, &s.row.watch]);
    let _ = writeln!(x, "<entry>\n<id>{id}</id>\n<title>{}</title>", escape(&story.story.title));
    let _ = writeln!(x, "<updated>{}</updated>", time(s.row.created));
    if let Some(p) = story.story.published {
        let _ = writeln!(x, "<published>{}</published>", time(p.timestamp()));
    }
    let _ = writeln!(x, "<author><name>{}</name></author>", escape(&s.row.feed));
    let _ = writeln!(x, "<category term=\"{}\"/>", escape(&s.row.watch));
    let page = format!("{base}/story/{}", story.id);
    let link = story.story.url.as_deref().unwrap_or(&page);
    let _ = writeln!(x, "<link rel=\"alternate\" href=\"{}\"/>", escape(link));
    let _ = writeln!(x, "<link rel=\"related\" type=\"text/html\" href=\"{}\"/>", escape(&page));
    let _ = writeln!(x, "<content type=\"html\">{}</content>\n</entry>", escape(content(s).into_string()));
}

/// The entry's HTML: the watch, each matched term, the snippet with its hits marked, the
/// other reports.
fn content(s: &Shown) -> maud::Markup {
    let title = highlighted(&s.row.stored.story.title, Field::Title, &s.row.matched);
    maud::html! {
        p { "Watch " strong { (s.row.watch) } " matched in " (s.row.feed) ": " (title) }
        ul { @for m in &s.alert.matched { li { (m.term) " → “" mark { (m.text) } "” in " (m.field.name()) } } }
        @if !s.alert.snippet.is_empty() { p { (marked(&s.alert.snippet_runs())) } }
        @if !s.also.is_empty() {
            p { "Also reported by " (s.also.iter().map(|r| r.feed.as_str()).collect::<Vec<_>>().join(", ")) }
        }
    }
}

/// RFC 3339 UTC, as Atom dates are written.
fn time(t: i64) -> String {
    crate::commands::rfc3339(t)
}

/// A name-based UUID (version 8: SHA-256 of the parts) as a `urn:uuid:` IRI.
fn uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let s = hex(&b);
    format!("urn:uuid:{}-{}-{}-{}-{}", &s[..8], &s[8..12], &s[12..16], &s[16..20], &s[20..])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn entry_ids_are_stable_uuids() {
        let a = super::uuid(&["http://x/feed", "guid:1", "dprk"]);
        assert_eq!(a, super::uuid(&["http://x/feed", "guid:1", "dprk"]));
        assert_ne!(a, super::uuid(&["http://x/feed", "guid:1", "sanctions"]));
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[9 + 14..9 + 15], "8", "version 8: {a}");
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        assert!(super::matches("\"a\", W/\"b\"", "\"b\""));
        assert!(super::matches("*", "\"b\""));
        assert!(!super::matches("\"a\"", "\"b\""));
    }
}
