//! An alert: one story that matched one watch, in the shape every output shares
//! (`match --json`, the jsonl notifier, the outbox payload).

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use crate::feed::Story;
use crate::matcher::{Document, Field, MatchedTerm, WatchMatch};
use crate::redact::redact;

/// Where an alert's snippet is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snippet {
    /// Around the first hit in the body, else in the article (the title is shown anyway).
    Feed,
    /// Around the hit that made the article add the alert.
    Article,
}

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
    /// About 200 characters of the passage where the most distinct terms hit, in the field of
    /// the decisive hit: the body if a term hit there, else the article, else the title; for an
    /// alert the article added, the article.
    pub snippet: String,
    /// The story's language (ISO 639-1), null when it could not be told.
    #[serde(default)]
    pub lang: Option<String>,
    /// Other feeds whose story on the same news matched the same watch, known when the alert
    /// is delivered (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_reported_by: Vec<String>,
}

impl Alert {
    pub fn new(feed: &str, story: &Story, doc: &Document, m: WatchMatch) -> Alert {
        Alert::with_snippet(feed, story, doc, m, Snippet::Feed)
    }

    /// An alert whose snippet is the best passage ([`best_passage`]) in the field of the hit
    /// `from` picks, else of the first hit.
    pub fn with_snippet(feed: &str, story: &Story, doc: &Document, m: WatchMatch, from: Snippet) -> Alert {
        let decisive = match from {
            Snippet::Feed => feed_decisive(&m.matched),
            Snippet::Article => article_decisive(&m.matched),
        };
        let field = decisive.or(m.matched.first()).map(|t| t.field);
        let passage = field.and_then(|f| best_passage(&m.matched, f).map(|(start, end)| (f, start, end)));
        let snippet = passage.map(|(f, start, end)| snippet(doc.field(f), start, end)).unwrap_or_default();
        Alert {
            watch: m.watch.to_string(),
            feed: feed.to_string(),
            id: story.key.clone(),
            url: story.url.clone(),
            title: story.title.clone(),
            published: story.published.map(|p| p.to_rfc3339_opts(SecondsFormat::Secs, true)),
            matched: m.matched,
            snippet,
            lang: story.lang().map(str::to_string),
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
            lang: None,
            also_reported_by: Vec::new(),
        }
    }

    /// One line saying which terms matched where, grouped by term with a count per field:
    /// `MSMT: title, body x2 · sanction*: title, body x3`.
    pub fn why(&self) -> String {
        let mut terms: Vec<(&str, Vec<(Field, usize)>)> = Vec::new();
        for m in &self.matched {
            let at = match terms.iter().position(|(t, _)| *t == &*m.term) {
                Some(at) => at,
                None => {
                    terms.push((&m.term, Vec::new()));
                    terms.len() - 1
                }
            };
            let fields = &mut terms[at].1;
            match fields.iter_mut().find(|(f, _)| *f == m.field) {
                Some((_, n)) => *n += 1,
                None => fields.push((m.field, 1)),
            }
        }
        let field = |&(f, n): &(Field, usize)| if n > 1 { format!("{} x{n}", f.name()) } else { f.name().to_string() };
        let term = |(t, fields): &(&str, Vec<(Field, usize)>)| {
            format!("{t}: {}", fields.iter().map(field).collect::<Vec<_>>().join(", "))
        };
        terms.iter().map(term).collect::<Vec<_>>().join(" · ")
    }

    /// ` · ru` for a story whose language was told, else nothing: shown after the date.
    pub fn lang_suffix(&self) -> String {
        self.lang.as_deref().map(|l| format!(" · {l}")).unwrap_or_default()
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

/// On the feed's text, the hit a snippet is taken around: the first in the body, else in the
/// article (the title is shown anyway).
fn feed_decisive(matched: &[MatchedTerm]) -> Option<&MatchedTerm> {
    [Field::Body, Field::Article].iter().find_map(|f| matched.iter().find(|t| t.field == *f))
}

/// For a watch the article added, the hit that decided it: the first in the article of a term
/// the feed's own text lacks, else the first in the article.
fn article_decisive(matched: &[MatchedTerm]) -> Option<&MatchedTerm> {
    let in_feed = |term: &str| matched.iter().any(|t| t.field != Field::Article && &*t.term == term);
    let article = || matched.iter().filter(|t| t.field == Field::Article);
    article().find(|t| !in_feed(&t.term)).or_else(|| article().next())
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
        lang: story.lang().map(str::to_string),
        article: String::new(),
    }
}

/// The passage of `field` a snippet shows: the span of hits, within three quarters of a
/// snippet's width, holding the most distinct terms (the earliest of equals); as (first
/// character, end character).
fn best_passage(matched: &[MatchedTerm], field: Field) -> Option<(usize, usize)> {
    let mut hits: Vec<&MatchedTerm> = matched.iter().filter(|t| t.field == field).collect();
    hits.sort_by_key(|t| (t.start, t.end));
    let width = SNIPPET_CHARS * 3 / 4;
    let mut best: Option<(usize, usize, usize)> = None;
    for (i, first) in hits.iter().enumerate() {
        let mut terms: Vec<&str> = Vec::new();
        let mut end = first.end;
        for (j, t) in hits[i..].iter().enumerate() {
            if j > 0 && t.end.saturating_sub(first.start) > width {
                break;
            }
            end = end.max(t.end);
            if !terms.contains(&&*t.term) {
                terms.push(&t.term);
            }
        }
        if best.is_none_or(|(n, _, _)| terms.len() > n) {
            best = Some((terms.len(), first.start, end));
        }
    }
    best.map(|(_, start, end)| (start, end))
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
    use super::*;

    fn hit(term: &str, text: &str, field: Field, start: usize) -> MatchedTerm {
        MatchedTerm { term: term.into(), text: text.into(), field, start, end: start + text.chars().count() }
    }

    fn alert(matched: Vec<MatchedTerm>) -> Alert {
        Alert {
            watch: "w".into(),
            feed: "Wire".into(),
            id: "guid:1".into(),
            url: None,
            title: String::new(),
            published: None,
            lang: None,
            matched,
            snippet: String::new(),
            also_reported_by: Vec::new(),
        }
    }

    #[test]
    fn why_groups_hits_by_term_with_fields_and_counts() {
        let a = alert(vec![
            hit("MSMT", "MSMT", Field::Title, 0),
            hit("sanction*", "Sanctions", Field::Title, 10),
            hit("MSMT", "MSMT", Field::Body, 5),
            hit("sanction*", "sanctions", Field::Body, 20),
            hit("MSMT", "Multilateral Sanctions Monitoring Team", Field::Body, 40),
            hit("sanction*", "sanctioned", Field::Body, 90),
            hit("sanction*", "sanctions", Field::Body, 120),
        ]);
        assert_eq!(a.why(), "MSMT: title, body x2 · sanction*: title, body x3");
        assert_eq!(alert(vec![hit("Russia", "Russian", Field::Body, 3)]).why(), "Russia: body");
    }

    #[test]
    fn the_snippet_is_the_passage_where_the_most_distinct_terms_hit() {
        let lead = "Sanctions were discussed again on Monday by several delegations in New York. ";
        let filler = "Officials gave no further details about the timing of the next meeting of the group. ".repeat(3);
        let key = "The MSMT report says the transfers breach Security Council resolutions on sanctions.";
        let body = format!("{lead}{filler}{key}");
        let at = |needle: &str| body[..body.find(needle).unwrap()].chars().count();
        let matched = vec![
            hit("sanction*", "Sanctions", Field::Body, 0),
            hit("MSMT", "MSMT", Field::Body, at("MSMT")),
            hit("\"Security Council\"", "Security Council", Field::Body, at("Security Council")),
            hit("sanction*", "sanctions", Field::Body, at("sanctions.")),
        ];
        let (start, end) = best_passage(&matched, Field::Body).unwrap();
        let s = snippet(&body, start, end);
        assert!(s.contains(key), "{s}");
        // Equal passages: the earliest; none in the field: none.
        let apart = [hit("a", "a", Field::Title, 4), hit("b", "b", Field::Title, 300)];
        assert_eq!(best_passage(&apart, Field::Title), Some((4, 5)));
        assert_eq!(best_passage(&apart, Field::Body), None);
    }

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
