//! `wirewatch feeds [--json]`: each configured feed's health and schedule.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::CommandError;
use crate::config::Config;
use crate::redact::redact;
use crate::store::{FeedRow, Store};

/// One feed as `wirewatch feeds` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedStatus {
    /// The feed's row in the database, where it has one (the web view links by it).
    #[serde(skip)]
    pub id: Option<i64>,
    pub url: String,
    pub name: String,
    /// `new` (never polled), `ok`, `failing` or `gone`.
    pub state: &'static str,
    /// Where a permanent redirect moved it.
    pub moved_to: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub consecutive_failures: i64,
    /// When the current failure streak began (RFC 3339).
    pub failing_since: Option<String>,
    /// Seconds between polls as currently planned.
    pub interval_secs: Option<i64>,
    pub next_poll: Option<String>,
    pub stories: i64,
    /// New stories per day over the last 7 days.
    pub new_per_day: f64,
    /// Items of the latest document skipped as unreadable.
    pub skipped_items: i64,
    /// Article pages fetched, failed (error, timeout, out of time) and refused by robots.txt.
    pub articles_fetched: i64,
    pub articles_failed: i64,
    pub articles_refused: i64,
}

pub fn feeds(config: &Config, json: bool) -> Result<ExitCode, CommandError> {
    let store = super::open_read_only(config)?;
    let statuses = statuses(config, &store)?;
    if json {
        for s in &statuses {
            super::emit(format!("{}\n", serde_json::to_string(s).expect("statuses serialise")))?;
        }
    } else {
        super::emit(table(&statuses))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every configured feed's status, in config order.
pub fn statuses(config: &Config, store: &Store) -> Result<Vec<FeedStatus>, CommandError> {
    let rows: HashMap<String, FeedRow> =
        store.feed_rows().context("cannot read feeds")?.into_iter().map(|r| (r.url.clone(), r)).collect();
    Ok(config
        .feeds
        .iter()
        .map(|f| {
            let url = f.url();
            let name = f.name.clone().or_else(|| rows.get(&url).and_then(|r| r.title.clone())).unwrap_or_default();
            let row = rows.get(&url);
            status(url, name, row)
        })
        .collect())
}

/// One feed's status as shown: its URL, new address and last error redacted.
pub fn status(url: String, name: String, row: Option<&FeedRow>) -> FeedStatus {
    let url = redact(&url);
    let id = row.map(|r| r.id);
    let Some(r) = row.filter(|r| r.last_success.is_some() || r.last_error_at.is_some()) else {
        let blank = FeedStatus {
            id,
            url,
            name,
            state: "new",
            moved_to: None,
            last_success: None,
            last_error: None,
            last_error_at: None,
            consecutive_failures: 0,
            failing_since: None,
            interval_secs: None,
            next_poll: None,
            stories: 0,
            new_per_day: 0.0,
            skipped_items: 0,
            articles_fetched: 0,
            articles_failed: 0,
            articles_refused: 0,
        };
        return blank;
    };
    let state = if r.gone {
        "gone"
    } else if r.consecutive_failures > 0 {
        "failing"
    } else {
        "ok"
    };
    FeedStatus {
        id,
        url,
        name,
        state,
        moved_to: r.moved_to.as_deref().map(redact),
        last_success: super::utc(r.last_success),
        last_error: r.last_error.as_deref().map(redact),
        last_error_at: super::utc(r.last_error_at),
        consecutive_failures: r.consecutive_failures,
        failing_since: super::utc(r.failing_since),
        interval_secs: r.interval_secs,
        next_poll: if r.gone { None } else { super::utc(r.next_poll) },
        stories: r.stories,
        new_per_day: (r.stories_7d as f64 / 7.0 * 10.0).round() / 10.0,
        skipped_items: r.skipped_items,
        articles_fetched: r.articles[0],
        articles_failed: r.articles[1],
        articles_refused: r.articles[2],
    }
}

fn table(feeds: &[FeedStatus]) -> String {
    let mut out = format!(
        "{:<8} {:>5} {:>9} {:>7} {:>8} {:>14} {:<20} {:<20} {:<20} URL\n",
        "STATE", "FAILS", "INTERVAL", "STORIES", "NEW/DAY", "ARTICLES", "LAST SUCCESS", "NEXT POLL", "NAME"
    );
    for f in feeds {
        let interval = f
            .interval_secs
            .map_or("-".into(), |s| humantime::format_duration(std::time::Duration::from_secs(s as u64)).to_string());
        let name = super::clip(&f.name, 20);
        let articles = format!("{}/{}/{}", f.articles_fetched, f.articles_failed, f.articles_refused);
        out.push_str(&format!(
            "{:<8} {:>5} {:>9} {:>7} {:>8.1} {:>14} {:<20} {:<20} {:<20} {}\n",
            f.state,
            f.consecutive_failures,
            interval,
            f.stories,
            f.new_per_day,
            articles,
            f.last_success.as_deref().unwrap_or("-"),
            f.next_poll.as_deref().unwrap_or("-"),
            name,
            f.url
        ));
        if let Some(to) = &f.moved_to {
            out.push_str(&format!("         moved permanently to {to}\n"));
        }
        if f.skipped_items > 0 {
            let items = super::counted(f.skipped_items as usize, "broken item", "broken items");
            out.push_str(&format!("         skipped {items} of the latest document\n"));
        }
        if let (Some(e), Some(at)) = (&f.last_error, &f.last_error_at)
            && f.state != "ok"
        {
            out.push_str(&format!("         last error at {at}: {e}\n"));
        }
    }
    out
}
