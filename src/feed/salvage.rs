//! The last resort for a document that no repair makes readable: each `<item>` or `<entry>` is
//! read on its own, inside the document with every other item removed, so one broken item
//! costs only itself. Also counts a document's items, to tell "no items" from "items lost".
//!
//! Pure; byte-level, so it works on documents too broken for an XML reader.

use memchr::memmem::{find, find_iter};

/// The byte ranges of the document's items or entries (whichever it has), start tag to end
/// tag; an item left open runs to the next item or the end.
pub fn item_spans(doc: &[u8]) -> Vec<(usize, usize)> {
    for (open, close) in [(&b"<item"[..], &b"</item>"[..]), (b"<entry", b"</entry>")] {
        let starts: Vec<usize> = find_iter(doc, open)
            .filter(|&at| {
                doc.get(at + open.len()).is_some_and(|b| matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n'))
            })
            .collect();
        if starts.is_empty() {
            continue;
        }
        return starts
            .iter()
            .enumerate()
            .map(|(i, &at)| {
                let limit = starts.get(i + 1).copied().unwrap_or(doc.len());
                let end = find(&doc[at..limit], close).map_or(limit, |p| at + p + close.len());
                (at, end)
            })
            .collect();
    }
    Vec::new()
}

/// One document per item: the shell (everything but the items) with that item where the first
/// item stood.
pub fn one_item_documents(doc: &[u8], spans: &[(usize, usize)]) -> Vec<Vec<u8>> {
    let Some(&(first, _)) = spans.first() else { return Vec::new() };
    let mut shell_head = doc[..first].to_vec();
    let mut shell_tail = Vec::new();
    for (i, &(_, end)) in spans.iter().enumerate() {
        let next = spans.get(i + 1).map_or(doc.len(), |s| s.0);
        shell_tail.extend_from_slice(&doc[end..next]);
    }
    shell_head.shrink_to_fit();
    spans.iter().map(|&(from, to)| [&shell_head[..], &doc[from..to], &shell_tail[..]].concat()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_item_stands_alone_in_the_shell() {
        let doc = b"<rss><channel><t/><item>a</item>\n<item>b<item2/></item><x/></channel></rss>";
        let spans = item_spans(doc);
        assert_eq!(spans.len(), 2);
        let docs = one_item_documents(doc, &spans);
        assert_eq!(docs[0], b"<rss><channel><t/><item>a</item>\n<x/></channel></rss>");
        assert_eq!(docs[1], b"<rss><channel><t/><item>b<item2/></item>\n<x/></channel></rss>");
        assert!(item_spans(b"<feed><title/></feed>").is_empty());
    }
}
