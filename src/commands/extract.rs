//! `wirewatch extract [--json] SOURCE...`: the article of each HTML file or http(s) URL, as the
//! daemon extracts it. Needs no config and touches no database; a URL is fetched with the
//! daemon's client, deadline and size cap (robots.txt is the daemon's to obey: a person asked
//! for this page).

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::CommandError;
use crate::article::{Extracted, extract};
use crate::config::{Articles, Poll};
use crate::poller::Fetcher;

/// One line of `--json` (a contract: these keys, in this order).
#[derive(Serialize)]
struct Line<'a> {
    source: &'a str,
    url: Option<&'a str>,
    title: Option<&'a str>,
    body: &'a str,
    published: Option<&'a str>,
    lang: Option<&'a str>,
}

pub async fn run(json: bool, sources: &[String]) -> Result<ExitCode, CommandError> {
    let fetcher = Fetcher::new(&Poll::default()).map_err(anyhow::Error::new)?;
    let mut failed = false;
    for source in sources {
        match load(&fetcher, source).await {
            Ok(found) => {
                super::emit(if json { json_line(source, &found) } else { readable(source, &found, sources.len() > 1) })?
            }
            Err(e) => {
                failed = true;
                eprintln!("{source}: {e:#}");
            }
        }
    }
    Ok(if failed { ExitCode::from(super::EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

async fn load(fetcher: &Fetcher, source: &str) -> anyhow::Result<Extracted> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = url::Url::parse(source).context("not a valid URL")?;
        let a = Articles::default();
        let page = fetcher.fetch_page(&url, a.timeout, a.max_body).await?;
        return Ok(extract(&page.bytes, Some(page.url.as_str()), page.charset.as_deref(), None));
    }
    let bytes = std::fs::read(source).context("cannot read the file")?;
    Ok(extract(&gunzipped(bytes)?, None, None, None))
}

/// The bytes of a gzip file unpacked (benchmark pages come so); others as they are.
fn gunzipped(bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).context("cannot unpack the gzip file")?;
    Ok(out)
}

fn json_line(source: &str, e: &Extracted) -> String {
    let line = Line {
        source,
        url: e.url.as_deref(),
        title: e.title.as_deref(),
        body: &e.body,
        published: e.published.as_deref(),
        lang: e.lang.as_deref(),
    };
    let mut text = serde_json::to_string(&line).expect("strings serialise");
    text.push('\n');
    text
}

/// The title, then the body; with several sources, each under a line naming it.
fn readable(source: &str, e: &Extracted, several: bool) -> String {
    let mut text = String::new();
    if several {
        text.push_str(&format!("==> {source} <==\n"));
    }
    if let Some(title) = &e.title {
        text.push_str(title);
        text.push_str("\n\n");
    }
    text.push_str(&e.body);
    text.push('\n');
    if several {
        text.push('\n');
    }
    text
}
