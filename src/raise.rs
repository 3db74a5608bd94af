//! Which alerts a story raises: the one place that decides.
//!
//! Pure: the config, a feed and a story in, a [`Raised`] out (no IO, no database). The poller
//! calls it on the parse pool for a feed's first document, the ingest writer for any other new
//! story and for a story whose article arrived. The store only records what it is given: each
//! alert once per story, watch and notifier, and not again for a watch the story's cross-feed
//! cluster has alerted already.

use crate::alert::{Alert, Snippet, document};
use crate::config::{Config, Feed};
use crate::feed::{ParsedFeed, Story};
use crate::matcher::{Document, WatchMatch};
use crate::store::{NewAlert, Raised, StoredStory};

/// What a new story raises at `now` (Unix seconds): its alerts, whether it is clustered across
/// feeds, and when its article step ends if its article page is wanted.
pub fn new_story(config: &Config, feed: &Feed, name: &str, story: &Story, now: i64) -> Raised {
    let alerts = story_alerts(config, feed, name, story);
    let article_due = crate::article::wanted(&config.poll.article, feed, story)
        .then(|| now + config.poll.article.wait.as_secs() as i64);
    Raised { alerts, cluster: config.dedupe.cross_feed, article_due }
}

/// What a stored story raises now that its article is here: the watches the article adds.
/// A feed no longer in the config raises nothing new.
pub fn with_article(config: &Config, stored: &StoredStory, article: &str) -> Raised {
    let Some(feed) = config.feed(&stored.feed) else { return Raised::default() };
    let name = crate::config::feed_name(Some(feed), stored.feed_title.as_deref(), &stored.feed);
    let alerts = article_alerts(config, feed, &name, &stored.story, article, &stored.matched);
    Raised { alerts, cluster: config.dedupe.cross_feed, article_due: None }
}

/// Stories published before this (Unix seconds) do not alert on a feed's first sight.
pub fn backfill_cutoff(config: &Config, now: i64) -> i64 {
    now - config.poll.backfill.as_secs() as i64
}

/// Whether `story` may alert on its feed's first sight: dated, and not before `cutoff`.
pub fn within_backfill(story: &Story, cutoff: i64) -> bool {
    story.published.is_some_and(|p| p.timestamp() >= cutoff)
}

/// The name alerts give `feed` as `parsed` titles it (see [`crate::config::feed_name`]).
pub fn feed_name(feed: &Feed, parsed: &ParsedFeed) -> String {
    crate::config::feed_name(Some(feed), parsed.title.as_deref(), &feed.url())
}

/// The alerts a story would raise: every watch it matches, for each of the watch's notifiers.
pub fn story_alerts(config: &Config, feed: &Feed, name: &str, story: &Story) -> Vec<NewAlert> {
    let doc = document(story, name, &feed.tags);
    alerts(config, name, story, &doc, config.matcher.match_document(&doc), Snippet::Feed)
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
    let found =
        config.matcher.match_document(&doc).into_iter().filter(|m| !matched.iter().any(|w| **w == *m.watch)).collect();
    alerts(config, name, story, &doc, found, Snippet::Article)
}

fn alerts(
    config: &Config,
    name: &str,
    story: &Story,
    doc: &Document,
    found: Vec<WatchMatch>,
    snippet: Snippet,
) -> Vec<NewAlert> {
    found
        .into_iter()
        .map(|m| {
            let notifiers = config.watches[m.index].notify.clone();
            let alert = Alert::with_snippet(name, story, doc, m, snippet);
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn config() -> Config {
        let text = "[poll]\nbackfill = \"1h\"\narticle = \"always\"\narticle_wait = \"10m\"\n\
                    [[feed]]\nurl = \"https://a.example/rss\"\ntags = [\"wire\"]\n\
                    [[notifier]]\nname = \"out\"\ntype = \"stdout\"\n\
                    [[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\nnotify = [\"out\"]\n";
        Config::from_str(text, Path::new("c.toml")).unwrap()
    }

    fn story(title: &str, body: &str, published: Option<i64>) -> Story {
        Story {
            key: "k1".into(),
            url: Some("https://a.example/1".into()),
            title: title.into(),
            body: body.into(),
            author: String::new(),
            categories: Vec::new(),
            published: published.map(|p| Utc.timestamp_opt(p, 0).unwrap()),
            keys: Default::default(),
        }
    }

    #[test]
    fn a_matching_story_raises_one_alert_per_watch_with_its_notifiers_and_article_deadline() {
        let c = config();
        let raised = new_story(&c, &c.feeds[0], "Wire", &story("New sanctions on shippers", "", Some(NOW)), NOW);
        assert_eq!(raised.alerts.len(), 1);
        let alert = &raised.alerts[0];
        assert_eq!((alert.watch.as_str(), alert.feed.as_str()), ("sanctions", "Wire"));
        assert_eq!(alert.notifiers, ["out"]);
        assert!(alert.payload.contains("\"matched\""), "{}", alert.payload);
        assert_eq!(raised.article_due, Some(NOW + 600));
        assert!(raised.cluster, "cross-feed clustering is on by default");
    }

    #[test]
    fn a_story_on_nothing_watched_raises_nothing() {
        let c = config();
        let raised = new_story(&c, &c.feeds[0], "Wire", &story("Weather", "Rain later", Some(NOW)), NOW);
        assert!(raised.alerts.is_empty());
    }

    #[test]
    fn the_article_adds_only_the_watches_the_feed_text_did_not_match() {
        let c = config();
        let s = story("Talks in Geneva", "Teaser only.", Some(NOW));
        let stored = StoredStory { story: s, feed: c.feeds[0].url(), feed_title: None, matched: Vec::new() };
        let added = with_article(&c, &stored, "The talks turned to new sanctions on refineries.");
        assert_eq!(added.alerts.len(), 1);
        assert!(added.alerts[0].payload.contains("sanctions on refineries"), "snippet from the article");
        let already = StoredStory { matched: vec!["sanctions".into()], ..stored };
        assert!(with_article(&c, &already, "More sanctions.").alerts.is_empty());
        let gone = StoredStory { feed: "https://gone.example/rss".into(), ..already };
        assert!(with_article(&c, &gone, "Sanctions.").alerts.is_empty(), "a feed no longer configured");
    }

    #[test]
    fn backfill_admits_dated_stories_from_the_cutoff_on() {
        let cutoff = backfill_cutoff(&config(), NOW);
        assert_eq!(cutoff, NOW - 3600);
        assert!(within_backfill(&story("a", "", Some(cutoff)), cutoff));
        assert!(!within_backfill(&story("a", "", Some(cutoff - 1)), cutoff));
        assert!(!within_backfill(&story("a", "", None), cutoff), "undated stories do not alert on first sight");
    }
}
