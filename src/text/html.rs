//! HTML to plain text: tags removed, entities decoded, white space collapsed.
//!
//! This is not a sanitiser (that is `ammonia`'s job where HTML is sent on); it recovers the text
//! a reader sees so that words split by inline tags (`Pyong<b>yang</b>`) stay whole and words
//! separated by block tags (`<p>Seoul</p><p>Tokyo</p>`) stay apart.

/// Elements whose content is never shown to a reader.
const HIDDEN: &[&str] = &["script", "style", "head", "noscript", "template", "title"];

/// Elements that end a line or paragraph: they separate words.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Returns the text of `html` as a reader sees it, with runs of white space collapsed to one
/// space and no leading or trailing space.
pub fn html_to_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return collapse_whitespace(html);
    }
    let stripped = strip_tags(html);
    let decoded = html_escape::decode_html_entities(&stripped);
    collapse_whitespace(&decoded)
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Removes tags, comments and hidden elements; block tags become a space.
fn strip_tags(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    let mut text_start = 0;
    while let Some(rel) = memchr_lt(&bytes[i..]) {
        let lt = i + rel;
        let Some((end, tag)) = scan_tag(html, lt) else {
            i = lt + 1;
            continue;
        };
        out.push_str(&html[text_start..lt]);
        let mut next = end;
        match tag {
            Tag::Element { name, closing } => {
                if BLOCK.contains(&name.as_str()) {
                    out.push(' ');
                }
                if !closing && HIDDEN.contains(&name.as_str()) {
                    next = skip_hidden(html, end, &name);
                }
            }
            Tag::Other => {}
        }
        i = next;
        text_start = next;
    }
    out.push_str(&html[text_start..]);
    out
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

enum Tag {
    Element {
        name: String,
        closing: bool,
    },
    /// A comment, doctype, CDATA marker or processing instruction.
    Other,
}

/// Reads the tag starting at `lt` (which holds `<`); returns the index after it and what it was.
/// A `<` that does not start a tag (`a < b`) yields `None` and stays text.
fn scan_tag(html: &str, lt: usize) -> Option<(usize, Tag)> {
    let rest = &html[lt + 1..];
    if let Some(body) = rest.strip_prefix("!--") {
        let end = body.find("-->").map_or(html.len(), |p| lt + 4 + p + 3);
        return Some((end, Tag::Other));
    }
    let first = rest.chars().next()?;
    if first == '!' || first == '?' {
        let end = rest.find('>').map_or(html.len(), |p| lt + 1 + p + 1);
        return Some((end, Tag::Other));
    }
    let (closing, name_part) = match rest.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if !name_part.chars().next()?.is_ascii_alphabetic() {
        return None;
    }
    let name: String = name_part
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let end = find_tag_end(html, lt + 1)?;
    Some((end, Tag::Element { name, closing }))
}

/// Index just past the `>` that closes a tag, skipping quoted attribute values.
fn find_tag_end(html: &str, from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in html.as_bytes()[from..].iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(from + i + 1),
            (None, _) => {}
        }
    }
    None
}

/// Skips the content of a hidden element up to and including its end tag.
fn skip_hidden(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(p) = html[at..].find("</") {
        let name_at = at + p + 2;
        let candidate = bytes.get(name_at..name_at + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
            return find_tag_end(html, at + p + 1).unwrap_or(html.len());
        }
        at = name_at;
    }
    html.len()
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn strips_inline_tags_inside_words() {
        assert_eq!(html_to_text("Pyong<b>yang</b> talks"), "Pyongyang talks");
    }

    #[test]
    fn block_tags_separate_words() {
        assert_eq!(html_to_text("<p>Seoul</p><p>Tokyo</p>"), "Seoul Tokyo");
        assert_eq!(html_to_text("one<br/>two"), "one two");
    }

    #[test]
    fn decodes_entities_after_stripping() {
        assert_eq!(html_to_text("S&atilde;o Paulo &amp; Rio"), "São Paulo & Rio");
        assert_eq!(html_to_text("&lt;script&gt;x"), "<script>x");
        assert_eq!(html_to_text("Russia&#8217;s"), "Russia\u{2019}s");
    }

    #[test]
    fn drops_scripts_styles_and_comments() {
        assert_eq!(html_to_text("a<script>alert('<p>')</script>b"), "ab");
        assert_eq!(html_to_text("a<SCRIPT>x</b></Script>b"), "ab");
        assert_eq!(html_to_text("a<!-- hidden -->b<style>p{}</style>"), "ab");
    }

    #[test]
    fn keeps_lone_angle_brackets_as_text() {
        assert_eq!(html_to_text("profits < forecasts"), "profits < forecasts");
        assert_eq!(html_to_text("x <"), "x <");
    }

    #[test]
    fn quoted_gt_does_not_end_a_tag() {
        assert_eq!(html_to_text(r#"<a title="a>b">link</a>"#), "link");
    }

    #[test]
    fn unclosed_tag_is_text() {
        assert_eq!(html_to_text("a <b"), "a <b");
    }
}
