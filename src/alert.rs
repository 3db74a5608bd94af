//! An alert: one story that matched one watch, in the shape every output shares
//! (`match --json`, the jsonl notifier, the outbox payload).

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Feed};
use crate::feed::Story;
use crate::matcher::{Document, Field, MatchedTerm, WatchMatch};
use crate::redact::redact;
use crate::store::NewAlert;

/// About how many characters of context a snippet shows.
pub const SNIPPET_CHARS: usize = 200;
/// The watch name feed health alerts carry.
pub const HEALTH_WATCH: &str = "feed-health";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub watch: String,
    /// The feed's name.
    pub feed: String,
    /// The story's stable key within its feed.
    pub id: String,
    pub url: Option<String>,
    pub title: String,
    /// RFC 3339, or null when the feed gave no date.
    pub published: Option<String>,
    pub matched: Vec<MatchedTerm>,
    /// About 200 characters around the decisive hit: the first in the body, else in the
    /// article, else in the title; for an alert the article added, the first in the article.
    pub snippet: String,
    /// Other feeds whose story on the same news matched the same watch, known when the alert
    /// is delivered (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_reported_by: Vec<String>,
}

impl Alert {
    pub fn new(feed: &str, story: &Story, doc: &Document, m: WatchMatch) -> Alert {
        Alert::with_snippet(feed, story, doc, m, feed_decisive)
    }

    /// An alert whose snippet is taken around the hit `decisive` picks, else the first hit.
    fn with_snippet(
        feed: &str,
        story: &Story,
        doc: &Document,
        m: WatchMatch,
        decisive: fn(&[MatchedTerm]) -> Option<&MatchedTerm>,
    ) -> Alert {
        let first = decisive(&m.matched).or(m.matched.first());
        let snippet = first.map(|t| snippet(doc.field(t.field), t.start, t.end)).unwrap_or_default();
        Alert {
            watch: m.watch,
            feed: feed.to_string(),
            id: story.key.clone(),
            url: story.url.clone(),
            title: story.title.clone(),
            published: story.published.map(|p| p.to_rfc3339_opts(SecondsFormat::Secs, true)),
            matched: m.matched,
            snippet,
            also_reported_by: Vec::new(),
        }
    }

    /// A feed health alert: `feed` (named `name`) has failed since `since` (Unix seconds) with
    /// `error`, or, with `error` `None`, works again.
    /// Every text from the feed's address is redacted (see [`crate::redact`]): health alerts
    /// go to notifiers, and the name may be the URL itself.
    pub fn health(name: &str, url: &str, since: i64, error: Option<&str>, now: i64) -> Alert {
        let (name, url, error) = (redact(name), redact(url), error.map(redact));
        let error = error.as_deref();
        let lasted = humantime::format_duration(std::time::Duration::from_secs((now - since).max(0) as u64 / 60 * 60));
        let (title, state) = match error {
            Some(_) => (format!("Feed failing for {lasted}: {name}"), "failing"),
            None => (format!("Feed recovered after {lasted} of failures: {name}"), "recovered"),
        };
        let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
        Alert {
            watch: HEALTH_WATCH.to_string(),
            feed: name.clone(),
            id: format!("health:{state}:{since}:{url}"),
            url: Some(url),
            title,
            published: Some(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            matched: Vec::new(),
            snippet: error
                .map_or_else(|| "The feed answered normally again.".to_string(), |e| format!("Last error: {e}")),
            also_reported_by: Vec::new(),
        }
    }

    /// One line saying which terms matched, as what, where: `Russia → "Russian" in title`.
    pub fn why(&self) -> String {
        let mut seen = std::collections::HashSet::new();
        self.matched
            .iter()
            .map(|m| format!("{} → \"{}\" in {}", m.term, m.text, m.field.name()))
            .filter(|line| seen.insert(line.clone()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Publication time shown in `tz`, or "undated".
    pub fn published_in(&self, tz: chrono_tz::Tz) -> String {
        self.published
            .as_deref()
            .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
            .map_or_else(|| "undated".to_string(), |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
    }

    /// The snippet cut into runs, each marked whether it is matched text.
    pub fn snippet_runs(&self) -> Vec<(&str, bool)> {
        let mut marks: Vec<(usize, usize)> = Vec::new();
        for m in self.matched.iter().filter(|m| !m.text.is_empty()) {
            for (at, _) in self.snippet.match_indices(m.text.as_str()) {
                marks.push((at, at + m.text.len()));
            }
        }
        marks.sort_unstable();
        let mut runs = Vec::new();
        let mut pos = 0;
        for (s, e) in marks {
            if s < pos {
                continue;
            }
            if s > pos {
                runs.push((&self.snippet[pos..s], false));
            }
            runs.push((&self.snippet[s..e], true));
            pos = e;
        }
        if pos < self.snippet.len() {
            runs.push((&self.snippet[pos..], false));
        }
        runs
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an alert always serialises")
    }
}

/// The alerts a story would raise: every watch it matches, for each of the watch's notifiers.
pub fn story_alerts(config: &Config, feed: &Feed, name: &str, story: &Story) -> Vec<NewAlert> {
    let doc = document(story, name, &feed.tags);
    alerts(config, name, story, &doc, config.matcher.match_document(&doc), feed_decisive)
}

/// On the feed's text, the hit a snippet is taken around: the first in the body, else in the
/// article (the title is shown anyway).
fn feed_decisive(matched: &[MatchedTerm]) -> Option<&MatchedTerm> {
    [Field::Body, Field::Article].iter().find_map(|f| matched.iter().find(|t| t.field == *f))
}

/// For a watch the article added, the hit that decided it: the first in the article of a term
/// the feed's own text lacks, else the first in the article.
fn article_decisive(matched: &[MatchedTerm]) -> Option<&MatchedTerm> {
    let in_feed = |term: &str| matched.iter().any(|t| t.field != Field::Article && t.term == term);
    let article = || matched.iter().filter(|t| t.field == Field::Article);
    article().find(|t| !in_feed(&t.term)).or_else(|| article().next())
}

/// The alerts a story's article adds: the watches its feed text and `article` together match,
/// less those in `matched` (the watches its feed text matched already). Their snippets come
/// from the article, where the term that decided them hit.
pub fn article_alerts(
    config: &Config,
    feed: &Feed,
    name: &str,
    story: &Story,
    article: &str,
    matched: &[String],
) -> Vec<NewAlert> {
    let mut doc = document(story, name, &feed.tags);
    doc.article = article.to_string();
    let found = config.matcher.match_document(&doc).into_iter().filter(|m| !matched.contains(&m.watch)).collect();
    alerts(config, name, story, &doc, found, article_decisive)
}

fn alerts(
    config: &Config,
    name: &str,
    story: &Story,
    doc: &Document,
    found: Vec<WatchMatch>,
    decisive: fn(&[MatchedTerm]) -> Option<&MatchedTerm>,
) -> Vec<NewAlert> {
    found
        .into_iter()
        .map(|m| {
            let notifiers = config.watches[m.index].notify.clone();
            let alert = Alert::with_snippet(name, story, doc, m, decisive);
            NewAlert {
                watch: alert.watch.clone(),
                feed: name.to_string(),
                matched: serde_json::to_string(&alert.matched).expect("matches serialise"),
                notifiers,
                payload: alert.to_json(),
            }
        })
        .collect()
}

/// The matcher's view of a story: one plain-text string per field.
pub fn document(story: &Story, feed_name: &str, tags: &[String]) -> Document {
    let mut feed = feed_name.to_string();
    for t in tags {
        feed.push_str(" | ");
        feed.push_str(t);
    }
    Document {
        title: story.title.clone(),
        body: story.body.clone(),
        author: story.author.clone(),
        category: story.categories.join(" | "),
        feed,
        article: String::new(),
    }
}

/// About [`SNIPPET_CHARS`] characters of `text` around the characters `start..end`, cut at word
/// boundaries, with an ellipsis where text was left out.
pub fn snippet(text: &str, start: usize, end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= SNIPPET_CHARS {
        return text.to_string();
    }
    let room = SNIPPET_CHARS.saturating_sub(end - start);
    let mut from = start.saturating_sub(room / 3);
    let mut to = (end + room - (start - from)).min(chars.len());
    if to == chars.len() {
        from = to.saturating_sub(SNIPPET_CHARS).min(start);
    }
    while from > 0 && from < start && !chars[from - 1].is_whitespace() {
        from += 1;
    }
    while to < chars.len() && to > end && !chars[to].is_whitespace() {
        to -= 1;
    }
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(chars[from..to].iter());
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if to < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn short_text_is_whole() {
        assert_eq!(snippet("a short text", 2, 7), "a short text");
    }

    #[test]
    fn long_text_is_cut_around_the_hit_at_word_boundaries() {
        let text = format!("{} Pyongyang {}", "word ".repeat(100), "more ".repeat(100));
        let start = 500;
        let s = snippet(&text, start, start + 9);
        assert!(s.contains("Pyongyang"), "{s}");
        assert!(s.starts_with("…word") && s.ends_with("more…"), "{s}");
        assert!(s.chars().count() <= super::SNIPPET_CHARS + 2, "{}", s.chars().count());
    }
}
