//! `wirewatch match`: parse feeds from files or URLs and print what the watches match.
//! Touches no database and sends nothing.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::CommandError;
use crate::alert::{Alert, document};
use crate::config::{Config, FeedLocation};
use crate::feed;
use crate::notify::stdout::render;
use crate::poller::{Fetched, Fetcher, Validators};

pub async fn run(config: &Config, json: bool, sources: &[String]) -> Result<ExitCode, CommandError> {
    let fetcher = Fetcher::new(&config.poll).context("cannot build the HTTP client")?;
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for source in sources {
        match alerts(config, &fetcher, source).await {
            Ok(alerts) => {
                for a in alerts {
                    let text = if json { format!("{}\n", a.to_json()) } else { render(&a) };
                    out.write_all(text.as_bytes()).context("cannot write to stdout")?;
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("{source}: {e:#}");
            }
        }
    }
    Ok(if failed { ExitCode::from(super::EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

async fn alerts(config: &Config, fetcher: &Fetcher, source: &str) -> anyhow::Result<Vec<Alert>> {
    let location = if source.starts_with("http://") || source.starts_with("https://") {
        FeedLocation::Http(url::Url::parse(source).context("invalid URL")?)
    } else {
        FeedLocation::File(std::path::absolute(Path::new(source)).context("invalid path")?)
    };
    let bytes = match fetcher.fetch(&location, &Validators::default()).await? {
        Fetched::Body { bytes, .. } => bytes,
        Fetched::NotModified => anyhow::bail!("server answered 304 to an unconditional request"),
    };
    let parsed = feed::parse(&bytes, Some(&location.key()))?;
    let configured = config.feed(&location.key());
    let name = configured.and_then(|f| f.name.clone()).or(parsed.title.clone()).unwrap_or_else(|| source.to_string());
    let tags = configured.map(|f| f.tags.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for story in &parsed.stories {
        let doc = document(story, &name, &tags);
        for m in config.matcher.match_document(&doc) {
            out.push(Alert::new(&name, story, &doc, m));
        }
    }
    Ok(out)
}
