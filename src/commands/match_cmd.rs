//! `wirewatch match`: parse feeds from files or URLs and print what the watches match; with
//! `--articles`, on the article pages too, fetched and extracted as the daemon would.
//! Touches no database and sends nothing.

use std::path::Path;
use std::process::ExitCode;

use super::CommandError;
use crate::alert::{Alert, document};
use crate::article::{Robots, adds_words, fetch_and_extract, wanted, words};
use crate::config::{Config, Feed, FeedLocation};
use crate::feed::{self, Story};
use crate::matcher::render_explanation;
use crate::notify::stdout::render;
use crate::poller::{Fetched, Fetcher, Validators};

/// How `match` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable block per match.
    Text,
    /// One JSON object per line per (story, watch) match.
    Json,
    /// Every watch's evaluation tree for every story.
    Explain,
}

pub async fn run(
    config: &Config,
    format: Format,
    articles: bool,
    sources: &[String],
) -> Result<ExitCode, CommandError> {
    let fetcher = Fetcher::new(&config.poll).map_err(anyhow::Error::new)?;
    let robots = Robots::default();
    let mut failed = false;
    for source in sources {
        match load(config, &fetcher, source).await {
            Ok(mut loaded) => {
                if articles {
                    fetch_articles(config, &fetcher, &robots, &mut loaded).await;
                }
                super::emit(report(config, &loaded, format))?
            }
            Err(e) => {
                failed = true;
                eprintln!("{source}: {e:#}");
            }
        }
    }
    Ok(if failed { ExitCode::from(super::EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

/// A parsed source with the name and tags its stories are matched under.
struct Loaded {
    /// The feed as configured, or with the default settings when it is not in the config.
    feed: Feed,
    name: String,
    stories: Vec<Story>,
    /// Per story, its article's text (with `--articles`, where one was fetched).
    articles: Vec<String>,
}

async fn load(config: &Config, fetcher: &Fetcher, source: &str) -> anyhow::Result<Loaded> {
    let location = FeedLocation::parse(source, Path::new("")).map_err(anyhow::Error::msg)?;
    let bytes = match fetcher.fetch(&location, &Validators::default()).await?.body {
        Fetched::Body { bytes, .. } => bytes,
        Fetched::NotModified => anyhow::bail!("server answered 304 to an unconditional request"),
    };
    let parsed = feed::parse(&bytes, Some(&location.key()))?;
    let feed = config.feed(&location.key()).cloned().unwrap_or_else(|| Feed {
        location,
        name: None,
        interval: config.poll.interval,
        tags: Vec::new(),
        article: config.poll.article.mode,
        article_selector: None,
    });
    let name = crate::config::feed_name(Some(&feed), parsed.title.as_deref(), source);
    let articles = vec![String::new(); parsed.stories.len()];
    Ok(Loaded { feed, name, stories: parsed.stories, articles })
}

/// Fetches the article of every story the daemon would fetch one for, one at a time; a story
/// whose page fails, is refused or gives fewer words than the feed keeps its feed text alone.
async fn fetch_articles(config: &Config, fetcher: &Fetcher, robots: &Robots, loaded: &mut Loaded) {
    let a = &config.poll.article;
    for (story, article) in loaded.stories.iter().zip(loaded.articles.iter_mut()) {
        if !wanted(a, &loaded.feed, story) {
            continue;
        }
        let Some(url) = story.url.as_deref().and_then(|u| url::Url::parse(u).ok()) else { continue };
        let selector = loaded.feed.article_selector.clone();
        match fetch_and_extract(fetcher, Some(robots), &url, a.timeout, a.max_body, selector).await {
            Ok(found) if adds_words(&found.body, words(&story.body)) => *article = found.body,
            Ok(_) => eprintln!("{url}: the article gives fewer words than the feed; matched on the feed's text"),
            Err(e) => eprintln!("{url}: no article ({e}); matched on the feed's text"),
        }
    }
}

fn report(config: &Config, loaded: &Loaded, format: Format) -> String {
    let mut out = String::new();
    for (story, article) in loaded.stories.iter().zip(&loaded.articles) {
        let mut doc = document(story, &loaded.name, &loaded.feed.tags);
        doc.article = article.clone();
        if format == Format::Explain {
            let lang = story.lang().unwrap_or("language unknown");
            out.push_str(&format!("story {} ({}, {lang}): {}\n", story.key, loaded.name, story.title));
            for e in config.matcher.explain(&doc) {
                out.push_str(&render_explanation(&e));
            }
            out.push('\n');
            continue;
        }
        for m in config.matcher.match_document(&doc) {
            let alert = Alert::new(&loaded.name, story, &doc, m);
            match format {
                Format::Json => {
                    out.push_str(&alert.to_json());
                    out.push('\n');
                }
                _ => out.push_str(&render(&alert)),
            }
        }
    }
    out
}
