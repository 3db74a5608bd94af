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
}

/// A feed's row, for status listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    pub url: String,
    pub title: Option<String>,
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub consecutive_failures: i64,
    pub stories: i64,
}

impl Store {
    /// The state of the feed at `url`, creating its row on first sight.
    pub fn feed_state(&self, url: &str) -> Result<FeedState, StoreError> {
        self.conn.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?1)", [url])?;
        let state = self.conn.query_row(
            "SELECT id, etag, last_modified, last_success IS NOT NULL FROM feeds WHERE url = ?1",
            [url],
            |r| Ok(FeedState { id: r.get(0)?, etag: r.get(1)?, last_modified: r.get(2)?, seen_before: r.get(3)? }),
        )?;
        Ok(state)
    }

    /// Records a successful poll that brought nothing new (HTTP 304, or an unchanged body).
    pub fn record_unchanged(&self, feed_id: i64, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE feeds SET last_poll = ?2, last_success = ?2, consecutive_failures = 0 WHERE id = ?1",
            params![feed_id, now],
        )?;
        Ok(())
    }

    /// Records a failed poll; validators and stories are left as they were.
    pub fn record_failure(&self, feed_id: i64, error: &str, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE feeds SET last_poll = ?2, last_error = ?3, last_error_at = ?2,
                consecutive_failures = consecutive_failures + 1 WHERE id = ?1",
            params![feed_id, now, error],
        )?;
        Ok(())
    }

    /// The title the feed gave itself, if a poll has recorded one.
    pub fn feed_title(&self, url: &str) -> Result<Option<String>, StoreError> {
        let title = self.conn.query_row("SELECT title FROM feeds WHERE url = ?1", [url], |r| r.get(0)).optional()?;
        Ok(title.flatten())
    }

    /// Every feed row with its story count, ordered by URL.
    pub fn feed_rows(&self) -> Result<Vec<FeedRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT url, title, last_success, last_error, last_error_at, consecutive_failures,
                (SELECT COUNT(*) FROM stories s WHERE s.feed_id = f.id)
             FROM feeds f ORDER BY url",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FeedRow {
                url: r.get(0)?,
                title: r.get(1)?,
                last_success: r.get(2)?,
                last_error: r.get(3)?,
                last_error_at: r.get(4)?,
                consecutive_failures: r.get(5)?,
                stories: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
