//! `wirewatch match`: parse feeds from files or URLs and print what the watches match.
//! Touches no database and sends nothing.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::CommandError;
use crate::alert::{Alert, document};
use crate::config::{Config, FeedLocation};
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

pub async fn run(config: &Config, format: Format, sources: &[String]) -> Result<ExitCode, CommandError> {
    let fetcher = Fetcher::new(&config.poll).context("cannot build the HTTP client")?;
    let mut failed = false;
    for source in sources {
        match load(config, &fetcher, source).await {
            Ok(loaded) => super::emit(report(config, &loaded, format))?,
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
    name: String,
    tags: Vec<String>,
    stories: Vec<Story>,
}

async fn load(config: &Config, fetcher: &Fetcher, source: &str) -> anyhow::Result<Loaded> {
    let location = FeedLocation::parse(source, Path::new("")).map_err(anyhow::Error::msg)?;
    let bytes = match fetcher.fetch(&location, &Validators::default()).await?.body {
        Fetched::Body { bytes, .. } => bytes,
        Fetched::NotModified => anyhow::bail!("server answered 304 to an unconditional request"),
    };
    let parsed = feed::parse(&bytes, Some(&location.key()))?;
    let configured = config.feed(&location.key());
    let name = configured.and_then(|f| f.name.clone()).or(parsed.title).unwrap_or_else(|| source.to_string());
    let tags = configured.map(|f| f.tags.clone()).unwrap_or_default();
    Ok(Loaded { name, tags, stories: parsed.stories })
}

fn report(config: &Config, loaded: &Loaded, format: Format) -> String {
    let mut out = String::new();
    for story in &loaded.stories {
        let doc = document(story, &loaded.name, &loaded.tags);
        if format == Format::Explain {
            out.push_str(&format!("story {} ({}): {}\n", story.key, loaded.name, story.title));
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
