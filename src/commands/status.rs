//! `wirewatch status [--json]`: whether the daemon is healthy, at a glance: its feeds, its
//! deliveries and the storage under its database. It only reads.

use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::feeds::{FeedStatus, statuses};
use super::storage::{Storage, storage};
use super::{CommandError, counted, utc};
use crate::config::Config;
use crate::store::{Activity, DeliveryTrouble, Store, unix_now};

#[derive(Debug, Serialize)]
struct Status {
    feeds: FeedCounts,
    /// The feed failing for longest, with its error.
    oldest_failure: Option<Failure>,
    /// The last 24 hours.
    stories_24h: i64,
    alerts_24h: i64,
    outbox_queued: i64,
    outbox_dead: i64,
    last_poll: Option<String>,
    /// What last stopped a daemon's delivery (a crash or a stall), in the last 24 hours.
    delivery_fault: Option<Fault>,
    database: String,
    database_bytes: u64,
    /// Whether the database can be written and has room.
    storage: Storage,
    /// Each notifier with alerts waiting for a retry or dead.
    delivery: Vec<Delivery>,
    /// Per feed that has fetched any, its article steps' outcomes.
    articles: Vec<FeedArticles>,
}

#[derive(Debug, Serialize)]
struct FeedArticles {
    url: String,
    fetched: i64,
    failed: i64,
    refused: i64,
}

/// A notifier's [`DeliveryTrouble`] as `status` shows it, in text and JSON: its time in RFC 3339.
#[derive(Debug, Serialize)]
struct Delivery {
    notifier: String,
    /// Alerts that failed and wait for another attempt.
    retrying: i64,
    dead: i64,
    /// When the oldest of the retrying alerts first failed.
    failing_since: Option<String>,
    last_error: Option<String>,
}

impl From<DeliveryTrouble> for Delivery {
    fn from(t: DeliveryTrouble) -> Delivery {
        let failing_since = utc(t.failing_since);
        Delivery { notifier: t.notifier, retrying: t.retrying, dead: t.dead, failing_since, last_error: t.last_error }
    }
}

#[derive(Debug, Default, Serialize)]
struct FeedCounts {
    total: usize,
    ok: usize,
    failing: usize,
    gone: usize,
    new: usize,
    /// Feeds whose latest document had broken items, skipped while the others were stored.
    skipping_items: usize,
}

#[derive(Debug, Serialize)]
struct Fault {
    at: Option<String>,
    error: String,
}

#[derive(Debug, Serialize)]
struct Failure {
    url: String,
    name: String,
    /// When its current failure streak began.
    failing_since: Option<String>,
    /// Its last success, if it ever had one.
    last_success: Option<String>,
    failures: i64,
    error: Option<String>,
}

pub fn status(config: &Config, json: bool) -> Result<ExitCode, CommandError> {
    let store = super::open_read_only(config)?;
    let feeds = statuses(config, &store)?;
    let day_ago = unix_now() - 24 * 3600;
    let activity = store.activity(day_ago).context("cannot read the database")?;
    let fault = store.last_fault(day_ago).context("cannot read the database")?;
    let fault = fault.map(|(at, error)| Fault { at: utc(Some(at)), error });
    let delivery =
        store.delivery_trouble().context("cannot read the outbox")?.into_iter().map(Delivery::from).collect();
    let status = summarise(config, &feeds, activity, fault, delivery);
    if json {
        super::emit(format!("{}\n", serde_json::to_string(&status).expect("a status serialises")))?;
    } else {
        super::emit(text(&status))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn summarise(
    config: &Config,
    feeds: &[FeedStatus],
    activity: Activity,
    delivery_fault: Option<Fault>,
    delivery: Vec<Delivery>,
) -> Status {
    let mut counts = FeedCounts { total: feeds.len(), ..FeedCounts::default() };
    for f in feeds {
        match f.state {
            "ok" => counts.ok += 1,
            "failing" => counts.failing += 1,
            "gone" => counts.gone += 1,
            _ => counts.new += 1,
        }
        counts.skipping_items += usize::from(f.skipped_items > 0);
    }
    // Failing longest: the earliest start of a failure streak (RFC 3339 sorts); a streak of
    // unknown start (recorded before wirewatch kept it) last.
    let oldest = feeds
        .iter()
        .filter(|f| f.state == "failing")
        .min_by_key(|f| (f.failing_since.is_none(), f.failing_since.clone()));
    let path = &config.storage.path;
    let wal = Store::wal_path(path);
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    Status {
        feeds: counts,
        oldest_failure: oldest.map(|f| Failure {
            url: f.url.clone(),
            name: f.name.clone(),
            failing_since: f.failing_since.clone(),
            last_success: f.last_success.clone(),
            failures: f.consecutive_failures,
            error: f.last_error.clone(),
        }),
        stories_24h: activity.stories,
        alerts_24h: activity.alerts,
        outbox_queued: activity.queued,
        outbox_dead: activity.dead,
        last_poll: utc(activity.last_poll),
        delivery_fault,
        database: path.display().to_string(),
        database_bytes: size(path) + size(&wal),
        storage: storage(path, config.storage.max_size),
        delivery,
        articles: feeds
            .iter()
            .filter(|f| f.articles_fetched + f.articles_failed + f.articles_refused > 0)
            .map(|f| FeedArticles {
                url: f.url.clone(),
                fetched: f.articles_fetched,
                failed: f.articles_failed,
                refused: f.articles_refused,
            })
            .collect(),
    }
}

fn text(s: &Status) -> String {
    let f = &s.feeds;
    let mut out = format!(
        "feeds:      {} ok, {} failing, {} gone, {} not polled yet ({} configured)\n",
        f.ok, f.failing, f.gone, f.new, f.total
    );
    if f.skipping_items > 0 {
        out.push_str(&format!(
            "            {} skipped broken items of the latest document (see `wirewatch feeds`)\n",
            counted(f.skipping_items, "feed", "feeds")
        ));
    }
    if let Some(o) = &s.oldest_failure {
        let since = o.failing_since.as_deref().map_or("failing".to_string(), |t| format!("failing since {t}"));
        let success = o.last_success.as_deref().map_or("never succeeded".to_string(), |t| format!("last success {t}"));
        out.push_str(&format!(
            "            longest failing: {} ({since}, {}, {success}): {}\n",
            o.url,
            counted(o.failures as usize, "failure", "failures"),
            o.error.as_deref().unwrap_or("-")
        ));
    }
    let stories = counted(s.stories_24h as usize, "new story", "new stories");
    out.push_str(&format!("last 24h:   {stories}, {}\n", counted(s.alerts_24h as usize, "alert", "alerts")));
    out.push_str(&format!("outbox:     {} queued, {} dead\n", s.outbox_queued, s.outbox_dead));
    out.push_str(&format!("last poll:  {}\n", s.last_poll.as_deref().unwrap_or("never")));
    out.push_str(&format!("database:   {} ({})\n", s.database, bytesize::ByteSize::b(s.database_bytes)));
    for (i, a) in s.articles.iter().enumerate() {
        let label = if i == 0 { "articles:" } else { "" };
        out.push_str(&format!(
            "{label:<11} {} fetched, {} failed, {} refused: {}\n",
            a.fetched, a.failed, a.refused, a.url
        ));
    }
    out.push_str(&storage_line(&s.storage));
    out.push_str(&delivery_lines(&s.delivery, s.delivery_fault.as_ref()));
    out
}

fn storage_line(s: &Storage) -> String {
    let free = s.available_bytes.map(|b| format!(" ({} free)", bytesize::ByteSize::b(b))).unwrap_or_default();
    match &s.problem {
        Some(problem) => format!("storage:    {}: {problem}\n", s.state.to_uppercase()),
        None => format!("storage:    {}{free}\n", s.state),
    }
}

/// `delivery:   ok`, or what stopped a daemon's delivery and a line per notifier with failed
/// alerts.
fn delivery_lines(delivery: &[Delivery], fault: Option<&Fault>) -> String {
    let mut out = match fault {
        Some(f) => format!("delivery:   stopped at {}: {}\n", f.at.as_deref().unwrap_or("-"), f.error),
        None if delivery.is_empty() => return "delivery:   ok\n".into(),
        None => String::new(),
    };
    for (i, d) in delivery.iter().enumerate() {
        let label = if i == 0 && fault.is_none() { "delivery:" } else { "" };
        let mut parts = Vec::new();
        if d.retrying > 0 {
            let since = d.failing_since.as_deref().map(|t| format!(" since {t}")).unwrap_or_default();
            parts.push(format!("{} waiting for retry{since}", d.retrying));
        }
        if d.dead > 0 {
            parts.push(format!("{} dead", d.dead));
        }
        let error = d.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default();
        out.push_str(&format!("{label:<11} {}: {}{error}\n", d.notifier, parts.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::store::Store;

    #[test]
    fn the_wal_counted_is_named_after_the_whole_file_name() {
        assert_eq!(Store::wal_path(Path::new("state.sqlite")), PathBuf::from("state.sqlite-wal"));
        assert_eq!(Store::wal_path(Path::new("/var/lib/w/wirewatch.db")), PathBuf::from("/var/lib/w/wirewatch.db-wal"));
    }
}
