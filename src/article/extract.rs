//! HTML to the article's text: rs-trafilatura's extraction, or, where a feed names one, the
//! text of the elements a CSS selector picks. Pure: no IO.

use chrono::SecondsFormat;

use crate::config::ArticleSelector;

/// What a page yields.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Extracted {
    /// The page's own idea of its address (canonical link), if it states one.
    pub url: Option<String>,
    pub title: Option<String>,
    /// The article's text, paragraphs separated by blank lines.
    pub body: String,
    /// RFC 3339.
    pub published: Option<String>,
    pub lang: Option<String>,
}

/// Extracts the article from `html` (bytes as served; the encoding is read from the page
/// itself, else `charset`, else UTF-8). `url` is where it was found. `selector`, when given,
/// replaces extraction: the body is the text of the elements it picks, and the page's
/// metadata (title, date, language, canonical link) is not read.
pub fn extract(html: &[u8], url: Option<&str>, charset: Option<&str>, selector: Option<&ArticleSelector>) -> Extracted {
    let text = decode(html, charset);
    if let Some(sel) = selector {
        // Extraction costs far more than the selector, and the article step reads only the body.
        return Extracted { url: url.map(str::to_string), body: selected(&text, sel), ..Extracted::default() };
    }
    let options = rs_trafilatura::Options { url: url.map(str::to_string), ..rs_trafilatura::Options::default() };
    let found = rs_trafilatura::extract_with_options(&text, &options).ok();
    let meta = found.as_ref().map(|f| &f.metadata);
    Extracted {
        url: meta.and_then(|m| m.url.clone()).or_else(|| url.map(str::to_string)),
        title: meta.and_then(|m| m.title.clone()).filter(|t| !t.trim().is_empty()),
        body: found.as_ref().map(|f| tidy(&f.content_text)).unwrap_or_default(),
        published: meta.and_then(|m| m.date).map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
        lang: meta.and_then(|m| m.language.clone()).filter(|l| !l.trim().is_empty()),
    }
}

/// Words in `text`, as `article_min_words` counts them.
pub fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The page as text: UTF-8 when it is, else the encoding its bytes declare (BOM or a
/// `charset=` in its first 2 KiB), else the HTTP header's, else Windows-1252.
fn decode(html: &[u8], charset: Option<&str>) -> String {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(html) {
        return encoding.decode(html).0.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(html) {
        return text.to_string();
    }
    let head = String::from_utf8_lossy(&html[..html.len().min(2048)]).to_ascii_lowercase();
    let declared = head.split("charset=").nth(1).map(|rest| {
        rest.trim_start_matches(['"', '\''])
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .next()
            .unwrap_or("")
    });
    let encoding = declared
        .or(charset)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode(html).0.into_owned()
}

/// The text of every element `selector` picks, in document order, one paragraph each.
fn selected(html: &str, selector: &ArticleSelector) -> String {
    let doc = dom_query::Document::from(html);
    let Some(picked) = doc.try_select(&selector.0) else { return String::new() };
    let parts: Vec<String> =
        picked.iter().map(|n| crate::text::html_to_text(&n.html())).filter(|t| !t.trim().is_empty()).collect();
    tidy(&parts.join("\n\n"))
}

/// Lines trimmed, runs of blank lines folded into one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for para in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(para);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
        <title>Ministry names new inspector | Daily Wire</title>
        <link rel="canonical" href="https://news.example/2026/inspector">
        <meta property="article:published_time" content="2026-11-30T08:00:00Z"></head>
        <body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
        <article><h1>Ministry names new inspector</h1>
        <p>The education ministry on Monday named a new chief inspector after months of delay.</p>
        <p>The appointment, announced by the MSMT in Prague, ends a long dispute over who would lead the inspectorate.</p>
        <p>Opposition deputies said they would question the minister about the choice next week.</p>
        </article><footer>Copyright Daily Wire. All rights reserved.</footer></body></html>"#;

    #[test]
    fn the_article_comes_out_without_the_page_around_it() {
        let e = extract(PAGE.as_bytes(), Some("https://news.example/a?utm=x"), None, None);
        assert!(e.body.contains("announced by the MSMT in Prague"), "{e:?}");
        assert!(!e.body.contains("All rights reserved"), "{e:?}");
        assert!(!e.body.contains("Home"), "{e:?}");
        assert_eq!(e.published.as_deref(), Some("2026-11-30T08:00:00Z"));
    }

    #[test]
    fn a_selector_replaces_extraction() {
        let sel = ArticleSelector("article p:nth-of-type(2)".into());
        let e = extract(PAGE.as_bytes(), None, None, Some(&sel));
        assert_eq!(
            e.body,
            "The appointment, announced by the MSMT in Prague, ends a long dispute over who would lead the inspectorate."
        );
    }

    #[test]
    fn the_header_charset_decodes_a_page_that_declares_none() {
        let page = b"<html><body><article><p>Caf\xe9 owners in Br\xfcnn protest the new tax on terraces, saying it will close dozens of places.</p></article></body></html>";
        let sel = ArticleSelector("p".into());
        assert!(extract(page, None, Some("iso-8859-1"), Some(&sel)).body.starts_with("Café owners in Brünn"));
    }
}
