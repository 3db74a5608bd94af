//! The article step: a new story whose feed gives only a teaser has its article page fetched,
//! extracted and matched again, politely and without ever delaying or losing an alert.
//!
//! `wanted` (which stories), `adds_words` (which articles count) and `extract` (HTML to the
//! article's text) are pure; `robots`
//! caches each host's robots.txt; `worker` runs the fetches beside the feed polls and hands
//! each outcome to the ingest writer, which alone writes it. Nothing here touches SQLite.

mod extract;
mod robots;
pub mod score;
mod worker;

pub use extract::{Extracted, extract, words};
pub use robots::{ROBOTS_AGENT, Robots};
pub use worker::{ArticleDone, Worker, fetch_and_extract};

use crate::config::{ArticleMode, Articles, Feed};
use crate::feed::Story;

/// Whether a new story of `feed` has its article page fetched: the feed's mode says so
/// (`auto`: its own text is shorter than `min_words`), and it links to an http(s) page.
pub fn wanted(settings: &Articles, feed: &Feed, story: &Story) -> bool {
    let linked = story.url.as_deref().is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
    linked
        && match feed.article {
            ArticleMode::Never => false,
            ArticleMode::Always => true,
            ArticleMode::Auto => words(&story.body) < settings.min_words,
        }
}

/// Whether an article of text `article` adds to a story whose feed gave `feed_words` words: an
/// extraction that is empty or gives fewer words than the feed did adds nothing to match.
pub fn adds_words(article: &str, feed_words: usize) -> bool {
    let n = words(article);
    n > 0 && n >= feed_words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeedLocation;

    fn feed(article: ArticleMode) -> Feed {
        Feed {
            location: FeedLocation::Http("https://example.org/rss".parse().unwrap()),
            name: None,
            interval: std::time::Duration::from_secs(60),
            tags: Vec::new(),
            article,
            article_selector: None,
        }
    }

    fn story(url: Option<&str>, words: usize) -> Story {
        Story {
            key: "k".into(),
            url: url.map(str::to_string),
            title: "t".into(),
            body: "word ".repeat(words),
            author: String::new(),
            categories: Vec::new(),
            published: None,
            keys: Default::default(),
        }
    }

    #[test]
    fn which_stories_have_their_article_fetched() {
        let settings = Articles::default();
        let page = Some("https://example.org/a");
        let cases = [
            (ArticleMode::Auto, page, 20, true),
            (ArticleMode::Auto, page, 149, true),
            (ArticleMode::Auto, page, 150, false),
            (ArticleMode::Always, page, 1_000, true),
            (ArticleMode::Never, page, 0, false),
            (ArticleMode::Always, None, 0, false),
            (ArticleMode::Always, Some("mailto:desk@example.org"), 0, false),
        ];
        let failed: Vec<_> = cases
            .iter()
            .filter(|(mode, url, n, expect)| wanted(&settings, &feed(*mode), &story(*url, *n)) != *expect)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
    }

    #[test]
    fn an_article_adds_words_only_when_it_gives_at_least_the_feeds() {
        let cases =
            [("", 0, false), ("one", 0, true), ("two words", 2, true), ("two words", 3, false), ("  ", 0, false)];
        let failed: Vec<_> = cases.iter().filter(|(text, n, expect)| adds_words(text, *n) != *expect).collect();
        assert!(failed.is_empty(), "{failed:?}");
    }
}
