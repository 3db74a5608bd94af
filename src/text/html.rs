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
    let mut ends = TagEnds::new(html);
    while let Some(rel) = memchr_lt(&bytes[i..]) {
        let lt = i + rel;
        let Some((end, tag)) = scan_tag(html, lt, &mut ends) else {
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
fn scan_tag(html: &str, lt: usize, ends: &mut TagEnds) -> Option<(usize, Tag)> {
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
    let end = ends.after(lt + 1)?;
    Some((end, Tag::Element { name, closing }))
}

/// The longest a tag can be with quoted attribute values honoured; past it, the next `>`
/// ends it whatever the quotes.
const MAX_TAG: usize = 8 * 1024;

/// Finds where tags end in linear time over a whole document, however hostile: each quoted
/// scan is capped at [`MAX_TAG`] bytes and all of them together at a few times the document's
/// length; past either cap the next `>` ends the tag, found once and remembered. (An
/// uncapped scan from every `<` made `<a<a<a…` quadratic: minutes for 500 KB.)
struct TagEnds<'a> {
    html: &'a str,
    budget: usize,
    /// The next `>` at or after `.0`, or `None` when there is none.
    next_gt: Option<(usize, Option<usize>)>,
}

impl<'a> TagEnds<'a> {
    fn new(html: &'a str) -> TagEnds<'a> {
        TagEnds { html, budget: 4 * html.len() + MAX_TAG, next_gt: None }
    }

    /// Index just past the `>` closing a tag whose name starts at `from`.
    fn after(&mut self, from: usize) -> Option<usize> {
        let mut limit = (from + MAX_TAG).min(self.html.len());
        while !self.html.is_char_boundary(limit) {
            limit += 1;
        }
        if self.budget >= limit - from {
            self.budget -= limit - from;
            if let Some(end) = find_tag_end(&self.html[..limit], from) {
                return Some(end);
            }
        }
        self.gt_from(from).map(|g| g + 1)
    }

    fn gt_from(&mut self, from: usize) -> Option<usize> {
        match self.next_gt {
            Some((start, found)) if from >= start && found.is_none_or(|g| g >= from) => found,
            _ => {
                let found = self.html.as_bytes()[from..].iter().position(|&b| b == b'>').map(|p| from + p);
                self.next_gt = Some((from, found));
                found
            }
        }
    }
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

    #[test]
    fn an_unbalanced_quote_ends_the_tag_at_the_next_gt() {
        assert_eq!(html_to_text(r#"<a title="x>y</a> more"#), "y more");
    }

    /// Found by fuzzing: every `<a` used to scan to the end of the text for a `>`, which made
    /// this (and a feed carrying it) take minutes. It must come back, whole.
    #[test]
    fn many_unclosed_tags_take_linear_time() {
        let hostile = "<a".repeat(250_000);
        assert_eq!(html_to_text(&hostile).len(), hostile.len());
        let quoted = "<a \"".repeat(100_000) + ">";
        assert_eq!(html_to_text(&quoted), "");
        let wide = format!("<a title=\"{}\">x</a>", "“".repeat(super::MAX_TAG));
        assert_eq!(html_to_text(&wide), "x", "the cap falls inside a character");
    }
}
