//! Hiding credentials in feed URLs wherever they are shown or sent: log lines, `feeds`,
//! `status`, `export-opml`, health alerts. One function, [`redact`], behind a `Display`
//! wrapper, [`Redacted`], so an edge writes `Redacted(&url)` where it wrote `url`.
//!
//! What counts as a secret: the password of a URL's userinfo (a lone user name, often a token,
//! too), and the value of every query parameter named in [`SECRET_PARAMS`] or ending in one
//! of [`SECRET_SUFFIXES`], compared without regard to case. Each becomes `***`:
//! `https://user:***@host/feed?token=***`. The function works on any text, so an error message
//! that quotes a URL (a failed request) is redacted as well. Pure: no IO.

use std::fmt;

/// Query parameter names whose values are secrets (compared ignoring ASCII case).
pub const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "secret",
    "password",
    "passwd",
    "pwd",
    "auth",
    "sig",
    "signature",
    "session",
    "sessionid",
    "sid",
];

/// Name endings that mark a secret parameter too (`access_token`, `client_secret`, `x-api-key`).
pub const SECRET_SUFFIXES: &[&str] = &["token", "_key", "-key", "secret", "password", "apikey"];

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Text shown with every URL in it redacted (see [`redact`]).
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(self.0))
    }
}

/// `text` with the secrets of every `http://` or `https://` URL in it replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')')).unwrap_or(tail.len());
        out.push_str(&redact_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where the next `http://` or `https://` begins, ignoring case.
fn find_url(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("http://"), lower.find("https://")].into_iter().flatten().min()
}

/// One URL with its secrets masked; text that does not parse as a URL is masked after its
/// scheme's `//` up to the next `@`, if any, and otherwise kept.
fn redact_url(text: &str) -> String {
    let (before_query, query) = match text.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (text, None),
    };
    let mut out = userinfo_masked(before_query);
    if let Some(q) = query {
        let (q, fragment) = match q.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (q, None),
        };
        out.push('?');
        let pairs: Vec<String> = q.split('&').map(param_masked).collect();
        out.push_str(&pairs.join("&"));
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
    }
    out
}

/// `scheme://user:pass@host/...` as `scheme://user:***@host/...` (a lone user as `***`).
fn userinfo_masked(url: &str) -> String {
    let Some(authority_at) = url.find("//").map(|i| i + 2) else { return url.to_string() };
    let authority_end = url[authority_at..].find('/').map_or(url.len(), |i| authority_at + i);
    let authority = &url[authority_at..authority_end];
    let Some(at) = authority.rfind('@') else { return url.to_string() };
    let userinfo = &authority[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None => MASK.to_string(),
    };
    format!("{}{masked}{}", &url[..authority_at], &url[authority_at + at..])
}

/// `name=value` with the value masked when `name` is a secret's.
fn param_masked(pair: &str) -> String {
    match pair.split_once('=') {
        Some((name, value)) if is_secret_param(name) && !value.is_empty() => format!("{name}={MASK}"),
        _ => pair.to_string(),
    }
}

/// Whether a query parameter named `name` carries a secret.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.contains(&name.as_str()) || SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_secret_parameters_are_masked_and_the_rest_kept() {
        let cases = [
            ("https://user:secret@host/feed?token=abc", "https://user:***@host/feed?token=***"),
            ("https://host/feed?a=1&key=k&apikey=x&b=2", "https://host/feed?a=1&key=***&apikey=***&b=2"),
            (
                "https://host/f?Access_Token=t&client_secret=s#top",
                "https://host/f?Access_Token=***&client_secret=***#top",
            ),
            ("https://ghp_abc123@example.org/feed.xml", "https://***@example.org/feed.xml"),
            ("https://example.org/feed.xml?page=2", "https://example.org/feed.xml?page=2"),
            ("https://example.org/a@b?monkey=1", "https://example.org/a@b?monkey=1"),
            ("file:///srv/feeds/a.xml", "file:///srv/feeds/a.xml"),
            (
                "error sending request for url (https://u:p@h.example/x?api_key=9): connection refused",
                "error sending request for url (https://u:***@h.example/x?api_key=***): connection refused",
            ),
            ("HTTPS://U:P@H/", "HTTPS://U:***@H/"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(input, expected)| redact(input) != *expected)
            .map(|(input, expected)| format!("{input}: expected {expected}, got {}", redact(input)))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert_eq!(Redacted("https://a:b@h/").to_string(), "https://a:***@h/");
    }
}
