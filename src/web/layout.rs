//! The frame every page shares (navigation, style sheet, phone-sized layout) and the small
//! pieces pages are made of: times, highlighted text.

use axum::http::header;
use axum::response::IntoResponse;
use maud::{DOCTYPE, Markup, html};

use crate::matcher::{Field, MatchedTerm};

/// The style sheet: one column that fits a phone, no scripts, marks that stand out.
const STYLE: &str = "
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#14304d;padding:.5rem 1rem}
header a{color:#fff;margin-right:1rem;text-decoration:none;font-weight:600}
main{max-width:60rem;margin:0 auto;padding:1rem}
a{color:#0b5cad}
mark{background:#ffe066;padding:0 .1em;border-radius:2px}
.alert,.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.75rem;margin:.75rem 0}
.alert h2{font-size:1.1rem;margin:0 0 .25rem}
.meta{color:#555;font-size:.9rem}
.tag{display:inline-block;background:#e7eef6;border-radius:3px;padding:0 .4em;font-size:.85rem}
.why{font-size:.9rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
form label{display:flex;flex-direction:column;font-size:.85rem}
input,select,textarea,button{font:inherit;padding:.3rem}
textarea{width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}
.ok{color:#176b1e}.fail{color:#a01616}
.tree ul{list-style:none;padding-left:1.2rem;margin:0}
.error{color:#a01616}
svg{max-width:100%;height:auto}
.body{white-space:pre-wrap}
";

pub(super) async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

/// A whole page: `title` and `content` in the shared frame.
pub(super) fn frame(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · wirewatch" }
                link rel="stylesheet" href="/style.css";
                link rel="alternate" type="application/atom+xml" title="wirewatch alerts" href="/alerts.atom";
            }
            body {
                header {
                    nav { a href="/" { "Alerts" } a href="/feeds" { "Feeds" } a href="/try" { "Try a query" } }
                }
                main { (content) }
            }
        }
    }
}

/// Unix seconds as the pages show them (UTC).
pub(super) fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// `text` with the character ranges of `terms` in `field` marked.
pub(super) fn highlighted(text: &str, field: Field, terms: &[MatchedTerm]) -> Markup {
    let spans: Vec<(usize, usize)> = terms.iter().filter(|t| t.field == field).map(|t| (t.start, t.end)).collect();
    marked(&runs(text, &spans))
}

/// Runs of text, each marked or not.
pub(super) fn marked(runs: &[(&str, bool)]) -> Markup {
    html! { @for (text, hit) in runs { @if *hit { mark { (text) } } @else { (text) } } }
}

/// `text` cut at the character ranges `spans` (which may overlap or run past the end) into
/// runs, each saying whether it is inside one.
pub(super) fn runs<'t>(text: &'t str, spans: &[(usize, usize)]) -> Vec<(&'t str, bool)> {
    let bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let at = |c: usize| bytes[c.min(bytes.len() - 1)];
    let mut spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (at(s), at(e))).filter(|(s, e)| s < e).collect();
    spans.sort_unstable();
    let mut out = Vec::new();
    let mut pos = 0;
    for (s, e) in spans {
        if e <= pos {
            continue;
        }
        let s = s.max(pos);
        if s > pos {
            out.push((&text[pos..s], false));
        }
        out.push((&text[s..e], true));
        pos = e;
    }
    if pos < text.len() {
        out.push((&text[pos..], false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_mark_character_ranges_and_merge_overlaps() {
        assert_eq!(runs("Южная Корея и КНДР", &[(14, 18)]), [("Южная Корея и ", false), ("КНДР", true)]);
        assert_eq!(
            runs("abcdef", &[(1, 3), (2, 4), (10, 12)]),
            [("a", false), ("bc", true), ("d", true), ("ef", false)]
        );
        assert_eq!(runs("", &[(0, 3)]), []);
    }
}
