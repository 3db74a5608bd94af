//! The feeds table: one row per feed URL with its HTTP validators and health.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// What the poller needs to know about a feed before fetching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    pub id: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Whether a poll of this feed has ever succeeded: before that, stories are backfill.
    pub seen_before: bool,
    pub content_hash: Option<String>,
    /// Where a permanent redirect moved the feed.
    pub moved_to: Option<String>,
    /// Whether the server said 410 Gone: the feed is not polled any more.
    pub gone: bool,
    pub consecutive_failures: i64,
    /// The feed's current interval, once one was planned.
    pub interval_secs: Option<i64>,
    /// When the next poll is planned (Unix seconds).
    pub next_poll: Option<i64>,
    /// When the current failure streak began.
    pub failing_since: Option<i64>,
    /// When a health alert said the feed was failing (cleared by the recovery alert).
    pub health_alerted_at: Option<i64>,
}

/// A feed's row, for status listings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedRow {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub moved_to: Option<String>,
    pub gone: bool,
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub consecutive_failures: i64,
    /// When the current failure streak began.
    pub failing_since: Option<i64>,
    pub interval_secs: Option<i64>,
    pub next_poll: Option<i64>,
    pub stories: i64,
    /// Stories first seen in the last 7 days.
    pub stories_7d: i64,
    /// Items of the latest document skipped as unreadable.
    pub skipped_items: i64,
    /// Article steps that fetched the page, that failed (error, timeout, out of time), and
    /// that robots.txt refused.
    pub articles: [i64; 3],
}

impl Store {
    /// The state of the feed at `url`, creating its row on first sight.
    pub fn feed_state(&self, url: &str) -> Result<FeedState, StoreError> {
        if let Some(state) = self.known_feed_state(url)? {
            return Ok(state);
        }
        self.conn.prepare_cached("INSERT OR IGNORE INTO feeds (url) VALUES (?1)")?.execute([url])?;
        self.known_feed_state(url)?.ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The state of the feed at `url`, if it has a row.
    fn known_feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, etag, last_modified, last_success IS NOT NULL, content_hash, moved_to, gone,
                consecutive_failures, interval_secs, next_poll, failing_since, health_alerted_at
             FROM feeds WHERE url = ?1",
        )?;
        let row = |r: &rusqlite::Row| {
            Ok(FeedState {
                id: r.get(0)?,
                etag: r.get(1)?,
                last_modified: r.get(2)?,
                seen_before: r.get(3)?,
                content_hash: r.get(4)?,
                moved_to: r.get(5)?,
                gone: r.get(6)?,
                consecutive_failures: r.get(7)?,
                interval_secs: r.get(8)?,
                next_poll: r.get(9)?,
                failing_since: r.get(10)?,
                health_alerted_at: r.get(11)?,
            })
        };
        Ok(stmt.query_row([url], row).optional()?)
    }

    /// [`Store::feed_state`] of every url, in one transaction. Read only when every feed has its
    /// row (any start after the first), so start-up need not wait for the integrity check;
    /// else in a write that creates the missing rows.
    pub fn feed_states(&self, urls: &[String]) -> Result<Vec<FeedState>, StoreError> {
        let read = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Deferred)?;
        // `known_feed_state` runs on this store's connection, so inside the transaction.
        let known: Option<Vec<FeedState>> =
            urls.iter().map(|url| self.known_feed_state(url)).collect::<Result<_, _>>()?;
        read.finish()?;
        match known {
            Some(states) => Ok(states),
            None => self.write(|_| urls.iter().map(|url| self.feed_state(url)).collect()),
        }
    }

    /// Records a successful poll that brought nothing new (HTTP 304, or an unchanged body),
    /// with the validators the server sent this time when it sent any.
    pub fn record_unchanged(
        &self,
        feed_id: i64,
        now: i64,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_success = ?2, consecutive_failures = 0, failing_since = NULL,
                etag = COALESCE(?3, etag), last_modified = COALESCE(?4, last_modified) WHERE id = ?1",
            )?
            .execute(params![feed_id, now, etag, last_modified])?;
        Ok(())
    }

    /// Records a failed poll; validators and stories are left as they were. Returns the number
    /// of failures in a row, this one included.
    pub fn record_failure(&self, feed_id: i64, error: &str, now: i64) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_error = ?3, last_error_at = ?2,
                consecutive_failures = consecutive_failures + 1, failing_since = COALESCE(failing_since, ?2)
             WHERE id = ?1 RETURNING consecutive_failures",
            )?
            .query_row(params![feed_id, now, error], |r| r.get(0))?)
    }

    /// Marks a feed gone (HTTP 410): it is not polled again.
    pub fn record_gone(&self, feed_id: i64, error: &str, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_error = ?3, last_error_at = ?2, gone = 1, next_poll = NULL
             WHERE id = ?1",
            )?
            .execute(params![feed_id, now, error])?;
        Ok(())
    }

    /// Records where a feed moved for good.
    pub fn record_moved(&self, feed_id: i64, to: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached("UPDATE feeds SET moved_to = ?2 WHERE id = ?1")?.execute(params![feed_id, to])?;
        Ok(())
    }

    /// Records a feed's interval and next planned poll.
    pub fn record_plan(&self, feed_id: i64, interval_secs: i64, next_poll: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE feeds SET interval_secs = ?2, next_poll = ?3 WHERE id = ?1")?
            .execute(params![feed_id, interval_secs, next_poll])?;
        Ok(())
    }

    /// Every feed row with its story count, ordered by URL.
    pub fn feed_rows(&self) -> Result<Vec<FeedRow>, StoreError> {
        let week_ago = super::unix_now() - 7 * 86_400;
        let mut stmt = self.conn.prepare(
            "SELECT url, title, moved_to, gone, last_success, last_error, last_error_at, consecutive_failures,
                interval_secs, next_poll, failing_since,
                (SELECT COUNT(*) FROM stories s WHERE s.feed_id = f.id),
                COALESCE(week.n, 0), skipped_items, articles_fetched, articles_failed, articles_refused, f.id
             FROM feeds f
             LEFT JOIN (SELECT feed_id, COUNT(*) AS n FROM stories WHERE first_seen >= ?1 GROUP BY feed_id) week
                ON week.feed_id = f.id
             ORDER BY url",
        )?;
        let rows = stmt.query_map([week_ago], |r| {
            Ok(FeedRow {
                url: r.get(0)?,
                title: r.get(1)?,
                moved_to: r.get(2)?,
                gone: r.get(3)?,
                last_success: r.get(4)?,
                last_error: r.get(5)?,
                last_error_at: r.get(6)?,
                consecutive_failures: r.get(7)?,
                interval_secs: r.get(8)?,
                next_poll: r.get(9)?,
                failing_since: r.get(10)?,
                stories: r.get(11)?,
                stories_7d: r.get(12)?,
                skipped_items: r.get(13)?,
                articles: [r.get(14)?, r.get(15)?, r.get(16)?],
                id: r.get(17)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Recent activity, for `wirewatch status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// Stories first seen since the given time.
    pub stories: i64,
    /// Alerts (outbox rows) queued since then.
    pub alerts: i64,
    /// Alerts waiting for delivery (queued or being sent).
    pub queued: i64,
    pub dead: i64,
    /// The latest poll of any feed (Unix seconds).
    pub last_poll: Option<i64>,
}

impl Store {
    pub fn activity(&self, since: i64) -> Result<Activity, StoreError> {
        let since_then =
            |sql: &str| -> Result<i64, StoreError> { Ok(self.conn.query_row(sql, [since], |r| r.get(0))?) };
        let outbox = self.gauges()?.outbox;
        let count = |states: &[&str]| outbox.iter().filter(|(s, _)| states.contains(s)).map(|(_, n)| n).sum();
        Ok(Activity {
            stories: since_then("SELECT COUNT(*) FROM stories WHERE first_seen >= ?1")?,
            alerts: since_then("SELECT COUNT(*) FROM outbox WHERE created >= ?1")?,
            queued: count(&["queued", "sending"]),
            dead: count(&["dead"]),
            last_poll: self.conn.query_row("SELECT MAX(last_poll) FROM feeds", [], |r| r.get(0))?,
        })
    }
}

impl Store {
    /// Queues a feed health alert (`payload`) for each of `notifiers`, and records whether the
    /// feed now stands alerted as failing (`alerted_at`) or not (`None`, after a recovery).
    pub fn queue_health(
        &mut self,
        feed_id: i64,
        notifiers: &[String],
        payload: &str,
        alerted_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = super::Work::begin(&mut self.conn, self.batch)?;
        for notifier in notifiers {
            tx.execute(
                "INSERT INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
                 VALUES (NULL, ?1, ?2, ?3, 'queued', ?4, ?4)",
                params![crate::alert::HEALTH_WATCH, notifier, payload, now],
            )?;
        }
        tx.execute("UPDATE feeds SET health_alerted_at = ?2 WHERE id = ?1", params![feed_id, alerted_at])?;
        tx.commit()?;
        Ok(())
    }
}

/// What the metrics gauges read from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Outbox rows by state.
    pub outbox: Vec<(&'static str, i64)>,
    /// Feeds whose last poll failed (not gone).
    pub feeds_failing: i64,
}

impl Store {
    pub fn gauges(&self) -> Result<Gauges, StoreError> {
        let mut outbox = Vec::new();
        for state in ["queued", "sending", "sent", "dead"] {
            let n = self.conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = ?1", [state], |r| r.get(0))?;
            outbox.push((state, n));
        }
        let sql = "SELECT COUNT(*) FROM feeds WHERE consecutive_failures > 0 AND gone = 0";
        let feeds_failing = self.conn.query_row(sql, [], |r| r.get(0))?;
        Ok(Gauges { outbox, feeds_failing })
    }
}
