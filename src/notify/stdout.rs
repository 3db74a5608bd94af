//! The human-readable alert block printed by the stdout notifier and `wirewatch match`.

use std::fmt::Write;

use crate::alert::Alert;

/// Renders an alert as a short block of text ending in a blank line.
pub fn render(a: &Alert) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "[{}] {}", a.watch, a.title);
    let published = a.published.as_deref().unwrap_or("undated");
    let _ = writeln!(s, "  {} · {}", a.feed, published);
    if let Some(url) = &a.url {
        let _ = writeln!(s, "  {url}");
    }
    if !a.matched.is_empty() {
        let terms: Vec<String> =
            a.matched.iter().map(|m| format!("{} → \"{}\" in {}", m.term, m.text, m.field.name())).collect();
        let _ = writeln!(s, "  matched: {}", dedup(terms).join("; "));
    }
    if !a.snippet.is_empty() {
        let _ = writeln!(s, "  {}", a.snippet);
    }
    s.push('\n');
    s
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}
