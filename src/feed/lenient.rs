//! The lenient second pass's byte repair: a bare `&` becomes `&amp;`, and an entity XML does
//! not define (`&nbsp;`, `&eacute;`: HTML's, used by feeds written as HTML) becomes the
//! character it names, written as a character reference. CDATA sections, comments and
//! processing instructions are left as they are.
//!
//! Pure; run only on a document the strict parse rejected.

use memchr::memmem::find;

/// The repaired document and the line of its first repair; `None` when nothing needed it.
pub fn repair_entities(doc: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(doc.len() + 64);
    let mut first = None;
    let mut i = 0;
    while i < doc.len() {
        let Some(off) = memchr::memchr2(b'&', b'<', &doc[i..]) else {
            out.extend_from_slice(&doc[i..]);
            break;
        };
        let at = i + off;
        out.extend_from_slice(&doc[i..at]);
        if doc[at] == b'<' {
            let end = skipped_section(&doc[at..]).map_or(at + 1, |len| at + len);
            out.extend_from_slice(&doc[at..end]);
            i = end;
            continue;
        }
        let (replacement, len) = entity(&doc[at..]);
        match replacement {
            None => out.extend_from_slice(&doc[at..at + len]),
            Some(text) => {
                first.get_or_insert_with(|| doc[..at].iter().filter(|&&b| b == b'\n').count() + 1);
                out.extend_from_slice(text.as_bytes());
            }
        }
        i = at + len;
    }
    first.map(|line| (out, line))
}

/// The length of a CDATA section, comment or processing instruction starting at `s[0]`.
fn skipped_section(s: &[u8]) -> Option<usize> {
    let close: &[u8] = if s.starts_with(b"<![CDATA[") {
        b"]]>"
    } else if s.starts_with(b"<!--") {
        b"-->"
    } else if s.starts_with(b"<?") {
        b"?>"
    } else {
        return None;
    };
    Some(find(&s[2..], close).map_or(s.len(), |p| p + 2 + close.len()))
}

/// What to write for the reference starting at `s[0] == b'&'` (`None`: keep it), and how many
/// bytes it spans.
fn entity(s: &[u8]) -> (Option<String>, usize) {
    let name_len = s[1..].iter().take(32).position(|b| !(b.is_ascii_alphanumeric() || *b == b'#')).unwrap_or(0);
    let name = &s[1..1 + name_len];
    if name_len == 0 || s.get(1 + name_len) != Some(&b';') {
        return (Some("&amp;".into()), 1);
    }
    let len = name_len + 2;
    let name = std::str::from_utf8(name).unwrap_or_default();
    if matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") || valid_char_ref(name) {
        return (None, len);
    }
    let reference = format!("&{name};");
    let decoded = html_escape::decode_html_entities(&reference);
    if decoded != reference {
        let text = decoded.chars().map(|c| format!("&#{};", u32::from(c))).collect();
        return (Some(text), len);
    }
    (Some(format!("&amp;{name};")), len)
}

fn valid_char_ref(name: &str) -> bool {
    let number = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
    };
    number.and_then(char::from_u32).is_some_and(|c| c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(doc: &str) -> Option<(String, usize)> {
        repair_entities(doc.as_bytes()).map(|(b, line)| (String::from_utf8(b).unwrap(), line))
    }

    #[test]
    fn bare_ampersands_and_html_entities_are_repaired_with_their_line() {
        let doc = "<rss>\n<title>Fish & Chips &amp; more &lt;3&nbsp;&bogus;</title>\n</rss>";
        let (out, line) = fixed(doc).unwrap();
        assert_eq!(out, "<rss>\n<title>Fish &amp; Chips &amp; more &lt;3&#160;&amp;bogus;</title>\n</rss>");
        assert_eq!(line, 2);
    }

    #[test]
    fn good_documents_and_cdata_are_left_alone() {
        assert_eq!(fixed("<a href=\"x?a=1&amp;b=2\">&#233;&#x41;</a>"), None);
        assert_eq!(fixed("<d><![CDATA[a & b]]><!-- & --></d>"), None);
        assert_eq!(fixed("<a>&#0;</a>").unwrap().0, "<a>&amp;#0;</a>");
    }
}
