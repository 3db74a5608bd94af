//! Alert and digest messages as text and HTML: pure functions of alerts, shared by the email
//! and webhook notifiers.
//!
//! Every string that came from a feed is escaped before it enters HTML, and the HTML body then
//! passes through ammonia with an allowlist of exactly the tags and attributes this module
//! writes (links only to http and https), so even a bug here cannot let feed markup or scripts
//! through. Control characters are removed from anything that becomes a header, so a hostile
//! title cannot inject headers either.

use std::fmt::Write;

use chrono_tz::Tz;

use super::Outgoing;
use crate::alert::Alert;

/// Text safe for a one-line header: control characters (CR and LF among them) become spaces.
pub fn header_safe(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The subject of a one-story message from `template` (`{watch}`, `{title}`, `{feed}`): the
/// story's alerts, one per watch it matched, every watch named in `{watch}`.
pub fn subject(template: &str, story: &[Alert]) -> String {
    let Some(a) = story.first() else { return header_safe(template) };
    let watches: Vec<&str> = story.iter().map(|a| a.watch.as_str()).collect();
    let s = template.replace("{watch}", &watches.join(", ")).replace("{title}", &a.title).replace("{feed}", &a.feed);
    header_safe(&s)
}

/// Whether `alerts` are one story's (one per watch it matched), which goes as one message.
pub fn one_story(alerts: &[Alert]) -> bool {
    alerts.iter().all(|a| a.feed == alerts[0].feed && a.id == alerts[0].id)
}

/// The subject of a digest: how many stories, and for which watches.
pub fn digest_subject(alerts: &[Alert]) -> String {
    let groups = by_watch(alerts);
    let counts: Vec<String> = groups.iter().map(|(w, list)| format!("{w} {}", list.len())).collect();
    let stories = if alerts.len() == 1 { "story" } else { "stories" };
    header_safe(&format!("[wirewatch] digest: {} {stories} ({})", alerts.len(), counts.join(", ")))
}

/// Alerts grouped by watch (watches in order of first appearance), each group newest first.
pub fn by_watch(alerts: &[Alert]) -> Vec<(&str, Vec<&Alert>)> {
    let mut groups: Vec<(&str, Vec<&Alert>)> = Vec::new();
    for a in alerts {
        match groups.iter_mut().find(|(w, _)| *w == a.watch) {
            Some((_, list)) => list.push(a),
            None => groups.push((&a.watch, vec![a])),
        }
    }
    for (_, list) in &mut groups {
        // RFC 3339 in UTC sorts as text; undated stories go last.
        list.sort_by(|x, y| y.published.cmp(&x.published));
    }
    groups
}

/// The plain-text part: one block per story, matched text in `*stars*`. One story's alerts
/// make one block with a section per watch; several stories are a digest grouped by watch.
pub fn text(alerts: &[Alert], tz: Tz) -> String {
    let mut s = String::new();
    if one_story(alerts) {
        text_story(&mut s, &alerts.iter().collect::<Vec<_>>(), tz);
    } else {
        for (watch, list) in &by_watch(alerts) {
            let _ = writeln!(s, "== {watch} ({}) ==\n", list.len());
            for a in list {
                text_story(&mut s, &[a], tz);
            }
        }
    }
    s.push_str("-- \nSent by wirewatch. Matched terms are marked *like this*.\n");
    s
}

/// What a story's meta line says of its watches: `watch: dprk` or `watches: dprk, sanctions`.
fn watches(story: &[&Alert]) -> String {
    let names: Vec<&str> = story.iter().map(|a| a.watch.as_str()).collect();
    format!("{}: {}", if names.len() == 1 { "watch" } else { "watches" }, names.join(", "))
}

/// The line under a story's title in text and HTML: feed, time (and language), watches.
fn meta(story: &[&Alert], tz: Tz) -> String {
    let a = story[0];
    format!("{} · {}{} · {}", a.feed, a.published_in(tz), a.lang_suffix(), watches(story))
}

fn text_story(s: &mut String, story: &[&Alert], tz: Tz) {
    let Some(a) = story.first() else { return };
    let _ = writeln!(s, "{}", a.title);
    if let Some(url) = &a.url {
        let _ = writeln!(s, "{url}");
    }
    let _ = writeln!(s, "{}", meta(story, tz));
    for a in story {
        if story.len() > 1 {
            let _ = writeln!(s, "\n— {} —", a.watch);
        }
        text_section(s, a);
    }
    s.push('\n');
}

/// What one watch found in a story: the snippet, the why line, other reports.
fn text_section(s: &mut String, a: &Alert) {
    if !a.snippet.is_empty() {
        let snippet: String =
            a.snippet_runs().into_iter().map(|(t, hit)| if hit { format!("*{t}*") } else { t.to_string() }).collect();
        let _ = writeln!(s, "\n{snippet}");
    }
    if !a.matched.is_empty() {
        let _ = writeln!(s, "\nWhy: {}", a.why());
    }
    if !a.also_reported_by.is_empty() {
        let _ = writeln!(s, "Also reported by: {}", a.also_reported_by.join(", "));
    }
}

/// A chat message in plain text, at most `limit` characters: one story's title, link, watches,
/// feed and time, and its why line per watch; or a digest's subject and its stories, as many
/// as fit, then how many were left out.
pub fn chat(out: &Outgoing<'_>, tz: Tz, limit: usize) -> String {
    let (alerts, single) = (out.alerts, out.one_story());
    let mut blocks: Vec<String> = Vec::new();
    if single {
        blocks.push(chat_story(&alerts.iter().collect::<Vec<_>>(), tz));
    } else {
        for (_, list) in by_watch(alerts) {
            blocks.extend(list.into_iter().map(|a| chat_story(&[a], tz)));
        }
    }
    let mut text = if single { String::new() } else { format!("{}\n\n", digest_subject(alerts)) };
    let mut used = text.chars().count();
    let total = blocks.len();
    for (i, block) in blocks.into_iter().enumerate() {
        let more = format!("… and {} more", total - i);
        let size = block.chars().count() + 2;
        if used + size + more.chars().count() > limit && !(single && i == 0) {
            text.push_str(&more);
            return text;
        }
        text.push_str(&block);
        text.push_str("\n\n");
        used += size;
    }
    let trimmed = text.trim_end();
    trimmed.chars().take(limit).collect()
}

fn chat_story(story: &[&Alert], tz: Tz) -> String {
    let Some(a) = story.first() else { return String::new() };
    let mut s = a.title.clone();
    if let Some(url) = &a.url {
        let _ = write!(s, "\n{url}");
    }
    let _ = write!(s, "\n{} · {} · {}", watches(story), a.feed, a.published_in(tz));
    for a in story.iter().filter(|a| !a.matched.is_empty()) {
        match story.len() {
            1 => {
                let _ = write!(s, "\nWhy: {}", a.why());
            }
            _ => {
                let _ = write!(s, "\n{}: {}", a.watch, a.why());
            }
        }
    }
    if !a.also_reported_by.is_empty() {
        let _ = write!(s, "\nAlso reported by: {}", a.also_reported_by.join(", "));
    }
    s
}

const BODY_STYLE: &str = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:16px;\
                          line-height:1.45;max-width:640px;margin:0 auto;padding:8px";
const META_STYLE: &str = "font-size:13px;opacity:0.75;margin:2px 0 8px";
const MARK_STYLE: &str = "background:#ffe066;color:#000;padding:0 2px;border-radius:2px";

/// The HTML part: simple, inline-styled, no images or scripts; colours left to the client
/// except for the highlight, which keeps black on yellow in dark mode too.
pub fn html(alerts: &[Alert], tz: Tz) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"></head>\n",
    );
    let _ = writeln!(s, "<body style=\"{BODY_STYLE}\">");
    let mut body = String::new();
    if one_story(alerts) {
        html_story(&mut body, &alerts.iter().collect::<Vec<_>>(), tz);
    } else {
        for (watch, list) in by_watch(alerts) {
            let _ =
                writeln!(body, "<h2 style=\"font-size:18px;margin:16px 0 8px\">{} ({})</h2>", esc(watch), list.len());
            for a in list {
                html_story(&mut body, &[a], tz);
            }
        }
    }
    s.push_str(&sanitise(&body));
    s.push_str("<p style=\"font-size:12px;opacity:0.6\">Sent by wirewatch.</p>\n</body></html>\n");
    s
}

/// Keeps only the markup [`html_story`] writes.
fn sanitise(fragment: &str) -> String {
    ammonia::Builder::empty()
        .add_tags(["div", "h2", "h3", "p", "a", "mark"])
        .add_generic_attributes(["style"])
        .add_tag_attributes("a", ["href"])
        .add_url_schemes(["http", "https"])
        .link_rel(None)
        .clean(fragment)
        .to_string()
}

fn html_story(s: &mut String, story: &[&Alert], tz: Tz) {
    let Some(a) = story.first() else { return };
    s.push_str("<div style=\"margin:0 0 20px\">\n");
    let title = esc(&a.title);
    match a.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
        Some(url) => {
            let href = html_escape::encode_double_quoted_attribute(url);
            let _ = writeln!(s, "<h3 style=\"font-size:17px;margin:0\"><a href=\"{href}\">{title}</a></h3>");
        }
        None => {
            let _ = writeln!(s, "<h3 style=\"font-size:17px;margin:0\">{title}</h3>");
        }
    }
    let _ = writeln!(s, "<p style=\"{META_STYLE}\">{}</p>", esc(&meta(story, tz)));
    for a in story {
        if story.len() > 1 {
            let _ = writeln!(s, "<p style=\"margin:10px 0 4px;font-weight:bold\">{}</p>", esc(&a.watch));
        }
        html_section(s, a);
    }
    s.push_str("</div>\n");
}

/// What one watch found in a story, as HTML.
fn html_section(s: &mut String, a: &Alert) {
    if !a.snippet.is_empty() {
        s.push_str("<p style=\"margin:0 0 6px\">");
        for (text, hit) in a.snippet_runs() {
            if hit {
                let _ = write!(s, "<mark style=\"{MARK_STYLE}\">{}</mark>", esc(text));
            } else {
                s.push_str(&esc(text));
            }
        }
        s.push_str("</p>\n");
    }
    if !a.matched.is_empty() {
        let _ = writeln!(s, "<p style=\"{META_STYLE}\">Why: {}</p>", esc(&a.why()));
    }
    if !a.also_reported_by.is_empty() {
        let also = format!("Also reported by: {}", a.also_reported_by.join(", "));
        let _ = writeln!(s, "<p style=\"{META_STYLE}\">{}</p>", esc(&also));
    }
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Field, MatchedTerm};

    fn alert(watch: &str, title: &str, published: &str, body_hit: (&str, &str)) -> Alert {
        let snippet = format!("Officials said on Friday that {} would follow within weeks.", body_hit.1);
        let start = snippet.find(body_hit.1).unwrap_or_default();
        Alert {
            watch: watch.into(),
            feed: "Wire".into(),
            id: format!("{watch}-{title}"),
            url: Some("https://example.org/story?id=1&src=rss".into()),
            title: title.into(),
            published: Some(published.into()),
            matched: vec![MatchedTerm {
                term: body_hit.0.into(),
                text: body_hit.1.into(),
                field: Field::Body,
                start,
                end: start + body_hit.1.chars().count(),
            }],
            snippet,
            lang: Some("en".into()),
            also_reported_by: Vec::new(),
        }
    }

    fn sample() -> Vec<Alert> {
        vec![
            alert("sanctions", "EU widens sanctions on Russia", "2026-11-28T09:00:00Z", ("sanction*", "sanctions")),
            Alert {
                also_reported_by: vec!["Yonhap".into(), "NK News".into()],
                ..alert("dprk", "Talks with Pyongyang resume", "2026-11-28T11:30:00Z", ("North Korea", "DPRK"))
            },
            alert("sanctions", "UK adds names to sanctions list", "2026-11-28T12:15:00Z", ("sanction*", "sanctioned")),
        ]
    }

    #[test]
    fn text_of_a_single_alert() {
        let london: Tz = "Europe/London".parse().unwrap();
        insta::assert_snapshot!(text(&sample()[..1], london));
    }

    #[test]
    fn text_of_a_digest() {
        insta::assert_snapshot!(text(&sample(), Tz::UTC));
    }

    #[test]
    fn html_of_a_digest() {
        insta::assert_snapshot!(html(&sample(), Tz::UTC));
    }

    #[test]
    fn one_story_matching_two_watches_is_one_block_with_a_section_per_watch() {
        let sanctions =
            alert("sanctions", "Pyongyang faces new sanctions", "2026-11-28T11:30:00Z", ("sanction*", "sanctions"));
        let dprk = Alert {
            watch: "dprk".into(),
            id: sanctions.id.clone(),
            ..alert("dprk", "Pyongyang faces new sanctions", "2026-11-28T11:30:00Z", ("North Korea", "DPRK"))
        };
        let story = [dprk, sanctions];
        assert_eq!(
            subject("[wirewatch] {watch}: {title}", &story),
            "[wirewatch] dprk, sanctions: Pyongyang faces new sanctions"
        );
        let text = text(&story, Tz::UTC);
        assert_eq!(text.matches("Pyongyang faces new sanctions").count(), 1, "{text}");
        assert!(text.contains("watches: dprk, sanctions"), "{text}");
        let dprk_at = text.find("— dprk —\n").expect("a dprk section");
        let sanctions_at = text.find("— sanctions —\n").expect("a sanctions section");
        assert!(dprk_at < text.find("Why: North Korea: body").unwrap(), "{text}");
        assert!(sanctions_at < text.find("Why: sanction*: body").unwrap(), "{text}");
        let html = html(&story, Tz::UTC);
        assert_eq!(html.matches("<h3").count(), 1, "{html}");
        assert!(html.contains(">dprk</p>") && html.contains(">sanctions</p>"), "{html}");
    }

    #[test]
    fn a_chat_digest_fits_the_limit_and_says_how_many_were_left_out() {
        let many: Vec<Alert> = (0..100)
            .map(|i| Alert {
                id: format!("s-{i}"),
                ..alert("sanctions", &format!("Story {i}"), "2026-11-28T09:00:00Z", ("sanction*", "sanctions"))
            })
            .collect();
        let digest = Outgoing { alerts: &many, key: String::new(), digest: true };
        let text = chat(&digest, Tz::UTC, 1000);
        assert!(text.chars().count() <= 1000, "{}", text.chars().count());
        assert!(text.starts_with("[wirewatch] digest: 100 stories (sanctions 100)\n\n"), "{text}");
        assert!(text.contains("\nWhy: sanction*: body") && text.ends_with(" more"), "{text}");
        let one = chat(&Outgoing { alerts: &many[..1], key: String::new(), digest: false }, Tz::UTC, 4096);
        assert!(
            one.starts_with(
                "Story 0\nhttps://example.org/story?id=1&src=rss\nwatch: sanctions · Wire · 2026-11-28 09:00 UTC"
            ),
            "{one}"
        );
    }

    #[test]
    fn subjects() {
        let a = sample();
        assert_eq!(
            subject("[wirewatch] {watch}: {title} ({feed})", &a[..1]),
            "[wirewatch] sanctions: EU widens sanctions on Russia (Wire)"
        );
        assert_eq!(digest_subject(&a), "[wirewatch] digest: 3 stories (sanctions 2, dprk 1)");
        assert_eq!(header_safe("a\r\nBcc: x@y\tz"), "a Bcc: x@y z");
    }
}
