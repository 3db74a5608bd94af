//! `wirewatch recent`: matched clusters with every feed that told the story, newest first.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::{CommandError, rfc3339, utc};
use crate::config::Config;
use crate::store::{RecentCluster, unix_now};

pub fn recent(
    config: &Config,
    watch: Option<&str>,
    since: Duration,
    limit: usize,
    json: bool,
) -> Result<ExitCode, CommandError> {
    if let Some(w) = watch
        && !config.watches.iter().any(|c| c.name == w)
    {
        let known: Vec<&str> = config.watches.iter().map(|c| c.name.as_str()).collect();
        return Err(anyhow::anyhow!(
            "no watch named {w:?} in {}; watches: {}",
            config.source.display(),
            known.join(", ")
        )
        .into());
    }
    let store = super::open_read_only(config)?;
    let since = unix_now() - since.as_secs() as i64;
    let clusters = store.recent(since, watch, limit).context("cannot read matches")?;
    if json {
        for c in &clusters {
            super::emit(format!("{}\n", serde_json::to_string(&json_of(c)).expect("clusters serialise")))?;
        }
    } else {
        super::emit(table(&clusters))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn json_of(c: &RecentCluster) -> serde_json::Value {
    let members: Vec<serde_json::Value> = c
        .members
        .iter()
        .map(|m| {
            serde_json::json!({
                "feed": m.feed,
                "title": m.title,
                "url": m.url,
                "published": utc(m.published),
                "matched": utc(Some(m.matched)),
                "lang": m.lang,
            })
        })
        .collect();
    serde_json::json!({ "watch": c.watch, "cluster": c.cluster, "latest": utc(Some(c.latest)), "members": members })
}

/// One block per cluster: its first story's title, then one line per member.
pub fn table(clusters: &[RecentCluster]) -> String {
    if clusters.is_empty() {
        return "no matches\n".into();
    }
    let mut out = String::new();
    for c in clusters {
        let first = &c.members[0];
        let n = c.members.len();
        let sources = super::counted(n, "feed", "feeds");
        out.push_str(&format!("{}  [{}]  {}  ({sources})\n", rfc3339(c.latest), c.watch, first.title));
        for m in &c.members {
            let lang = m.lang.as_deref().unwrap_or("-");
            let url = m.url.as_deref().unwrap_or("-");
            out.push_str(&format!("    {:<20}  {}  {lang:<2}  {url}\n", m.feed, rfc3339(m.matched)));
        }
    }
    out
}
