//! The article settings: when a story's page is fetched (`[poll] article`, per feed `article`),
//! how politely (`article_timeout`, `article_max_body`, `article_concurrency`), how long a story
//! waits for it (`article_wait`), and a feed's CSS selector that replaces extraction.
//!
//! Named defaults live here; validation reports every bad value with its line and column.

use std::time::Duration;

use toml::Spanned;

use super::raw::RawPoll;
use super::validate::Checker;

/// Whether to fetch a story's article page by default.
pub const DEFAULT_ARTICLE: ArticleMode = ArticleMode::Auto;
/// `auto` fetches the page of a story whose own text is shorter than this many words.
pub const DEFAULT_ARTICLE_MIN_WORDS: usize = 150;
/// Total deadline of one article fetch, robots.txt included.
pub const DEFAULT_ARTICLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Cap on an article page, counted after decompression.
pub const DEFAULT_ARTICLE_MAX_BODY: u64 = 5 * 1024 * 1024;
/// How long after its poll a story's article step may last; the story is final after it.
pub const DEFAULT_ARTICLE_WAIT: Duration = Duration::from_secs(120);
/// Article fetches in flight at once, beside (never instead of) the feed fetches.
pub const DEFAULT_ARTICLE_CONCURRENCY: usize = 8;

/// When a story's article page is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleMode {
    /// When the entry's own text is shorter than `article_min_words`.
    Auto,
    Always,
    Never,
}

impl ArticleMode {
    fn parse(text: &str) -> Option<ArticleMode> {
        match text {
            "auto" => Some(ArticleMode::Auto),
            "always" => Some(ArticleMode::Always),
            "never" => Some(ArticleMode::Never),
            _ => None,
        }
    }
}

/// `[poll]`'s article settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Articles {
    /// The default of feeds that do not say.
    pub mode: ArticleMode,
    pub min_words: usize,
    pub timeout: Duration,
    pub max_body: u64,
    pub wait: Duration,
    pub concurrency: usize,
}

impl Default for Articles {
    fn default() -> Self {
        Articles {
            mode: DEFAULT_ARTICLE,
            min_words: DEFAULT_ARTICLE_MIN_WORDS,
            timeout: DEFAULT_ARTICLE_TIMEOUT,
            max_body: DEFAULT_ARTICLE_MAX_BODY,
            wait: DEFAULT_ARTICLE_WAIT,
            concurrency: DEFAULT_ARTICLE_CONCURRENCY,
        }
    }
}

/// A CSS selector that parsed: the article is the text of the elements it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSelector(pub String);

/// Reads `[poll]`'s article keys.
pub(super) fn articles(c: &mut Checker, raw: &RawPoll) -> Articles {
    let d = Articles::default();
    Articles {
        mode: mode(c, &raw.article, "poll.article").unwrap_or(d.mode),
        min_words: c.count(&raw.article_min_words, "poll.article_min_words", 0..=100_000, d.min_words),
        timeout: c.duration(&raw.article_timeout, "poll.article_timeout", d.timeout),
        max_body: c.size(&raw.article_max_body, "poll.article_max_body").unwrap_or(d.max_body),
        wait: c.duration(&raw.article_wait, "poll.article_wait", d.wait),
        concurrency: c.count(&raw.article_concurrency, "poll.article_concurrency", 1..=1_000, d.concurrency),
    }
}

/// An article mode as written at `key`, `None` (with an error) when it is not one.
pub(super) fn mode(c: &mut Checker, raw: &Option<Spanned<String>>, key: &str) -> Option<ArticleMode> {
    let v = raw.as_ref()?;
    let found = ArticleMode::parse(v.get_ref().trim());
    if found.is_none() {
        c.error(v, format!("invalid {key} {:?}; write \"auto\", \"always\" or \"never\"", v.get_ref()));
    }
    found
}

/// A feed's `article_selector`, checked by the CSS parser extraction uses.
pub(super) fn selector(c: &mut Checker, raw: &Option<Spanned<String>>) -> Option<ArticleSelector> {
    let v = raw.as_ref()?;
    let text = v.get_ref().trim();
    if text.is_empty() || dom_query::Matcher::new(text).is_err() {
        let msg = format!(
            "invalid feed.article_selector {:?}: not a CSS selector; write e.g. \"article .story-body\" or \"#content p\"",
            v.get_ref()
        );
        c.error(v, msg);
        return None;
    }
    Some(ArticleSelector(text.to_string()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    #[test]
    fn defaults_and_per_feed_settings() {
        let text = "[poll]\narticle = \"never\"\narticle_wait = \"30s\"\n\
                    [[feed]]\nurl = \"https://a.example/rss\"\n\
                    [[feed]]\nurl = \"https://b.example/rss\"\narticle = \"always\"\narticle_selector = \"div.body p\"\n";
        let c = Config::from_str(text, Path::new("c.toml")).unwrap();
        assert_eq!(c.poll.article.mode, ArticleMode::Never);
        assert_eq!(c.poll.article.wait, Duration::from_secs(30));
        assert_eq!(c.poll.article.min_words, DEFAULT_ARTICLE_MIN_WORDS);
        assert_eq!((c.feeds[0].article, c.feeds[0].article_selector.as_ref()), (ArticleMode::Never, None));
        assert_eq!(c.feeds[1].article, ArticleMode::Always);
        assert_eq!(c.feeds[1].article_selector, Some(ArticleSelector("div.body p".into())));
    }

    #[test]
    fn bad_values_name_their_place_and_what_is_valid() {
        let text = "[poll]\narticle = \"sometimes\"\narticle_max_body = \"lots\"\n\
                    [[feed]]\nurl = \"https://a.example/rss\"\narticle_selector = \"div[\"\n";
        let e = Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(
            lines[0],
            "c.toml:2:11: invalid poll.article \"sometimes\"; write \"auto\", \"always\" or \"never\""
        );
        assert!(lines[1].starts_with("c.toml:3:20: invalid size \"lots\" for poll.article_max_body"), "{e}");
        assert!(lines[2].starts_with("c.toml:6:20: invalid feed.article_selector \"div[\": not a CSS selector"), "{e}");
    }
}
