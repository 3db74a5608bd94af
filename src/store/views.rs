//! Reading for the web view and `backtest`: a connection that cannot write, stored stories as
//! the matcher saw them, and alerts with their clusters.
//!
//! Everything here runs on [`Store::open_read_only`] connections: the web view runs beside the
//! daemon's writer, and `backtest` beside a running daemon or none.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::feed::Story;
use crate::matcher::MatchedTerm;

/// A stored story with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRow {
    pub id: i64,
    pub feed_id: i64,
    /// The feed's URL, which finds its config (name, tags).
    pub feed_url: String,
    /// The feed's own title as last fetched.
    pub feed_title: Option<String>,
    pub story: Story,
    /// When wirewatch first saw it (Unix seconds).
    pub first_seen: i64,
    /// The cluster a watch filed it in, if any matched it.
    pub cluster: Option<i64>,
    /// Whether retention emptied its text.
    pub pruned: bool,
    /// The text of its article page, where one was fetched and stored.
    pub article: Option<String>,
}

impl StoryRow {
    /// The matcher's view of the story, its article included, under feed `name` and `tags`.
    pub fn document(&self, name: &str, tags: &[String]) -> crate::matcher::Document {
        let mut doc = crate::alert::document(&self.story, name, tags);
        doc.article = self.article.clone().unwrap_or_default();
        doc
    }
}

/// One alert: the first story of a cluster to match a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub stored: StoryRow,
    pub watch: String,
    /// The feed name the alert showed.
    pub feed: String,
    pub matched: Vec<MatchedTerm>,
    /// When it matched (Unix seconds).
    pub created: i64,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub watch: Option<String>,
    pub feed: Option<i64>,
    pub lang: Option<String>,
    /// Matched at or after (Unix seconds).
    pub since: i64,
    pub limit: usize,
}

/// Another report of an alert's cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub story: i64,
    pub feed: String,
    pub title: String,
    pub url: Option<String>,
}

/// The columns [`story_at`] reads, in its order: a macro, so that queries can `concat!` it.
/// (Every file a reader opens has this build's schema, these columns included: see
/// [`Store::open_read_only`].)
macro_rules! story_columns {
    () => {
        "s.key, s.url, s.title, s.body, s.author, s.categories, s.published, s.lang"
    };
}
pub(super) use story_columns;

/// The story in the [`story_columns`] of `r`, from column `first` on.
pub(super) fn story_at(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Story> {
    let categories: String = r.get(first + 5)?;
    let published: Option<i64> = r.get(first + 6)?;
    Ok(Story {
        key: r.get(first)?,
        url: r.get(first + 1)?,
        title: r.get(first + 2)?,
        body: r.get(first + 3)?,
        author: r.get(first + 4)?,
        categories: serde_json::from_str(&categories).unwrap_or_default(),
        published: published.and_then(|p| chrono::DateTime::from_timestamp(p, 0)),
        keys: crate::dedupe::LookupKeys::with_lang(r.get(first + 7)?),
    })
}

/// The columns of a [`StoryRow`], the story's from 6 on.
const STORY_COLUMNS: &str = concat!(
    "s.id, s.feed_id, f.url, f.title, s.first_seen, (SELECT cluster_id FROM matches WHERE story_id = s.id LIMIT 1), ",
    story_columns!(),
    ", s.pruned_at IS NOT NULL, s.article"
);

/// Reads the columns of [`STORY_COLUMNS`] from `r`, starting at 0.
fn stored_story(r: &rusqlite::Row) -> rusqlite::Result<StoryRow> {
    Ok(StoryRow {
        id: r.get(0)?,
        feed_id: r.get(1)?,
        feed_url: r.get(2)?,
        feed_title: r.get(3)?,
        story: story_at(r, 6)?,
        first_seen: r.get(4)?,
        cluster: r.get(5)?,
        pruned: r.get(14)?,
        article: super::articles::unpack(r.get_ref(15)?),
    })
}

impl Store {
    /// Calls `each` with every story first seen at or after `since` whose text is still stored,
    /// oldest first.
    pub fn stories_since(&self, since: i64, mut each: impl FnMut(StoryRow)) -> Result<usize, StoreError> {
        let sql = format!(
            "SELECT {STORY_COLUMNS} FROM stories s JOIN feeds f ON f.id = s.feed_id
             WHERE s.first_seen >= ?1 AND s.pruned_at IS NULL ORDER BY s.first_seen, s.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut n = 0;
        for row in stmt.query_map([since], stored_story)? {
            each(row?);
            n += 1;
        }
        Ok(n)
    }

    /// When the oldest story whose text is still stored was first seen.
    pub fn oldest_text(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row("SELECT MIN(first_seen) FROM stories WHERE pruned_at IS NULL", [], |r| r.get(0))?)
    }

    /// One stored story by id.
    pub fn stored_story(&self, id: i64) -> Result<Option<StoryRow>, StoreError> {
        let sql = format!("SELECT {STORY_COLUMNS} FROM stories s JOIN feeds f ON f.id = s.feed_id WHERE s.id = ?1");
        Ok(self.conn.query_row(&sql, [id], stored_story).optional()?)
    }

    /// The watches a story matched, with their terms.
    pub fn story_matches(&self, id: i64) -> Result<Vec<(String, Vec<MatchedTerm>)>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT watch, matched FROM matches WHERE story_id = ?1 ORDER BY watch")?;
        let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (watch, matched) = row?;
            out.push((watch, serde_json::from_str(&matched).unwrap_or_default()));
        }
        Ok(out)
    }

    /// The terms every watch matched in each of the stories `ids`, by story.
    pub fn terms_matched(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<MatchedTerm>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT story_id, matched FROM matches WHERE story_id IN (SELECT value FROM json_each(?1))",
        )?;
        let ids = serde_json::to_string(ids).expect("ids serialise");
        let mut out: HashMap<i64, Vec<MatchedTerm>> = HashMap::new();
        for row in stmt.query_map([ids], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (story, matched) = row?;
            out.entry(story)
                .or_default()
                .extend(serde_json::from_str::<Vec<MatchedTerm>>(&matched).unwrap_or_default());
        }
        Ok(out)
    }

    /// Alerts under `filter`, newest first: for each cluster and watch, the first story that
    /// matched (the one whose alert was queued).
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRow>, StoreError> {
        let sql = format!(
            "SELECT {STORY_COLUMNS}, m.watch, COALESCE(m.feed, f.title, f.url), m.matched, m.created
             FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE m.created >= ?1 AND (?2 IS NULL OR m.watch = ?2) AND (?3 IS NULL OR s.feed_id = ?3)
               AND (?4 IS NULL OR s.lang = ?4) AND {FIRST_OF_CLUSTER}
             ORDER BY m.created DESC, m.story_id DESC LIMIT ?5"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let limit = filter.limit as i64;
        let rows = stmt.query_map(params![filter.since, filter.watch, filter.feed, filter.lang, limit], |r| {
            let matched: String = r.get(18)?;
            Ok(AlertRow {
                stored: stored_story(r)?,
                watch: r.get(16)?,
                feed: r.get(17)?,
                matched: serde_json::from_str(&matched).unwrap_or_default(),
                created: r.get(19)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The other reports of the cluster `cluster` for `watch`, besides story `except`.
    pub fn reports(&self, cluster: i64, watch: &str, except: i64) -> Result<Vec<Report>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, COALESCE(m.feed, f.title, f.url), s.title, s.url
             FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE m.cluster_id = ?1 AND m.watch = ?2 AND m.story_id != ?3 ORDER BY m.story_id",
        )?;
        let rows = stmt.query_map(params![cluster, watch, except], |r| {
            Ok(Report { story: r.get(0)?, feed: r.get(1)?, title: r.get(2)?, url: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every report of the clusters `clusters`, by cluster and watch, in story order.
    pub fn cluster_reports(&self, clusters: &[i64]) -> Result<HashMap<(i64, String), Vec<Report>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.cluster_id, m.watch, s.id, COALESCE(m.feed, f.title, f.url), s.title, s.url
             FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE m.cluster_id IN (SELECT value FROM json_each(?1)) ORDER BY m.story_id",
        )?;
        let clusters = serde_json::to_string(clusters).expect("ids serialise");
        let rows = stmt.query_map([clusters], |r| {
            let report = Report { story: r.get(2)?, feed: r.get(3)?, title: r.get(4)?, url: r.get(5)? };
            Ok(((r.get::<_, i64>(0)?, r.get::<_, String>(1)?), report))
        })?;
        let mut out: HashMap<(i64, String), Vec<Report>> = HashMap::new();
        for row in rows {
            let (key, report) = row?;
            out.entry(key).or_default().push(report);
        }
        Ok(out)
    }

    /// Alerts of `watch` per UTC day (days since the epoch) matched at or after `since`.
    pub fn alerts_per_day(&self, watch: &str, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = format!(
            "SELECT m.created / 86400, COUNT(*) FROM matches m
             WHERE m.watch = ?1 AND m.created >= ?2 AND {FIRST_OF_CLUSTER} GROUP BY 1 ORDER BY 1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![watch, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The stories `watch` matched at or after `since` (every report, not only the alerted
    /// ones), newest first, at most `limit`.
    pub fn watch_stories(&self, watch: &str, since: i64, limit: usize) -> Result<Vec<StoryRow>, StoreError> {
        let sql = format!(
            "SELECT {STORY_COLUMNS} FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE m.watch = ?1 AND m.created >= ?2 ORDER BY m.created DESC LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![watch, since, limit as i64], stored_story)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Outbox rows per state for each feed's stories (feed health alerts are counted under
    /// no feed), as (feed id, state, count).
    pub fn outbox_by_feed(&self) -> Result<Vec<(Option<i64>, String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.feed_id, o.state, COUNT(*) FROM outbox o LEFT JOIN stories s ON s.id = o.story_id
             GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every feed the database knows: id, URL, title as last fetched.
    pub fn feeds_known(&self) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, url, title FROM feeds ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The condition that row `m` of `matches` is the first of its cluster for its watch, which is
/// the one that queued the alert.
const FIRST_OF_CLUSTER: &str = "NOT EXISTS (SELECT 1 FROM matches e
      WHERE e.cluster_id = m.cluster_id AND e.watch = m.watch AND e.story_id < m.story_id)";
