//! The human-readable alert block printed by the stdout notifier and `wirewatch match`.

use std::fmt::Write;

use crate::alert::Alert;

/// Renders an alert as a short block of text ending in a blank line.
pub fn render(a: &Alert) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "[{}] {}", a.watch, a.title);
    let published = a.published.as_deref().unwrap_or("undated");
    let _ = writeln!(s, "  {} · {}{}", a.feed, published, a.lang_suffix());
    if let Some(url) = &a.url {
        let _ = writeln!(s, "  {url}");
    }
    if !a.matched.is_empty() {
        let _ = writeln!(s, "  matched: {}", a.why());
    }
    if !a.snippet.is_empty() {
        let _ = writeln!(s, "  {}", a.snippet);
    }
    s.push('\n');
    s
}
