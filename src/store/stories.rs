//! Ingesting a polled feed: stories, matches and outbox rows in one transaction.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::feed::Story;

/// An alert to queue for a new story: one watch, delivered to each of `notifiers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub watch: String,
    /// The matched terms as JSON, kept with the match.
    pub matched: String,
    pub notifiers: Vec<String>,
    /// The alert as JSON, delivered as is.
    pub payload: String,
}

/// What one ingest added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub new_stories: usize,
    /// Outbox rows queued.
    pub alerts: usize,
}

/// HTTP validators and title from a successful fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchMeta<'a> {
    pub title: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    /// SHA-256 of the body these stories came from.
    pub content_hash: Option<&'a str>,
}

impl Store {
    /// Stores the stories of one successful poll. A story is known when its feed already has its
    /// key, its canonical link or its text fingerprint (a changed guid is not a new story); an
    /// edited known story gets its newest text and no alert. `alerts_for` is called once for
    /// each story not seen before, with its index, and returns the alerts to queue for it. The feed's validators are saved in the
    /// same transaction, so a crash cannot record a feed as fetched without its stories.
    pub fn ingest(
        &mut self,
        feed_id: i64,
        meta: &FetchMeta<'_>,
        stories: &[Story],
        now: i64,
        mut alerts_for: impl FnMut(usize, &Story) -> Vec<NewAlert>,
    ) -> Result<IngestStats, StoreError> {
        let tx = self.conn.transaction()?;
        let mut stats = IngestStats::default();
        {
            let mut insert_story = tx.prepare_cached(
                "INSERT OR IGNORE INTO stories
                    (feed_id, key, url, title, body, author, categories, published, first_seen, canon_url, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            // The same story under a new guid keeps its canonical link or its text. Three lookups,
            // each on its own index (an OR of them would scan the feed's stories).
            let mut by_key =
                tx.prepare_cached("SELECT id, title, body FROM stories WHERE feed_id = ?1 AND key = ?2")?;
            let mut by_canon =
                tx.prepare_cached("SELECT id, title, body FROM stories WHERE feed_id = ?1 AND canon_url = ?2 LIMIT 1")?;
            let mut by_text = tx.prepare_cached(
                "SELECT id, title, body FROM stories WHERE feed_id = ?1 AND fingerprint = ?2 LIMIT 1",
            )?;
            let mut edit = tx.prepare_cached("UPDATE stories SET title = ?2, body = ?3, url = ?4 WHERE id = ?1")?;
            let mut insert_match = tx.prepare_cached(
                "INSERT OR IGNORE INTO matches (story_id, watch, matched, created) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut insert_alert = tx.prepare_cached(
                "INSERT OR IGNORE INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5)",
            )?;
            for (i, story) in stories.iter().enumerate() {
                let (canon, fingerprint) = (&story.canon_url, &story.fingerprint);
                let row = |r: &rusqlite::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
                let mut seen: Option<(i64, String, String)> =
                    by_key.query_row(params![feed_id, story.key], row).optional()?;
                if let (None, Some(c)) = (&seen, canon) {
                    seen = by_canon.query_row(params![feed_id, c], row).optional()?;
                }
                if let (None, Some(f)) = (&seen, fingerprint) {
                    seen = by_text.query_row(params![feed_id, f], row).optional()?;
                }
                if let Some((id, title, body)) = seen {
                    // An edit under the same guid (or a moved guid): keep the newest text, no alert.
                    if title != story.title || body != story.body {
                        edit.execute(params![id, story.title, story.body, story.url])?;
                    }
                    continue;
                }
                let categories = serde_json::to_string(&story.categories).expect("strings serialise");
                let inserted = insert_story.execute(params![
                    feed_id,
                    story.key,
                    story.url,
                    story.title,
                    story.body,
                    story.author,
                    categories,
                    story.published.map(|p| p.timestamp()),
                    now,
                    canon,
                    fingerprint,
                ])?;
                if inserted == 0 {
                    continue;
                }
                stats.new_stories += 1;
                let story_id = tx.last_insert_rowid();
                for alert in alerts_for(i, story) {
                    insert_match.execute(params![story_id, alert.watch, alert.matched, now])?;
                    for notifier in &alert.notifiers {
                        stats.alerts +=
                            insert_alert.execute(params![story_id, alert.watch, notifier, alert.payload, now])?;
                    }
                }
            }
        }
        tx.execute(
            "UPDATE feeds SET title = COALESCE(?2, title), etag = ?3, last_modified = ?4, last_poll = ?5,
                last_success = ?5, consecutive_failures = 0, content_hash = ?6 WHERE id = ?1",
            params![feed_id, meta.title, meta.etag, meta.last_modified, now, meta.content_hash],
        )?;
        tx.commit()?;
        Ok(stats)
    }
}
