//! Ingesting a polled feed: stories, matches and outbox rows in one transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::clusters::{self, FeedBoilerplate};
use super::sketch_index::SketchIndex;
use super::{Store, StoreError, Work};
use crate::feed::Story;

/// An alert to queue for a new story: one watch, delivered to each of `notifiers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub watch: String,
    /// The feed's name as the alert shows it.
    pub feed: String,
    /// The matched terms as JSON, kept with the match.
    pub matched: String,
    pub notifiers: Vec<String>,
    /// The alert as JSON, delivered as is.
    pub payload: String,
}

/// What a new story raises: its alerts, and whether it is clustered across feeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Raised {
    pub alerts: Vec<NewAlert>,
    /// Whether a story with alerts joins a cluster across feeds (`[dedupe] cross_feed`). Its
    /// similarity features are worked out by the store, where its feed's boilerplate is known.
    pub cluster: bool,
    /// When the story's article step must end (Unix seconds), if its article page is to be
    /// fetched: it is then pending until [`Store::apply_article`] records the outcome.
    pub article_due: Option<i64>,
}

/// What one ingest added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub new_stories: usize,
    /// Outbox rows queued.
    pub alerts: usize,
    /// Matches not alerted because their cluster was already alerted for the watch.
    pub clustered: usize,
    /// New stories whose article page is now to be fetched.
    pub articles: usize,
}

/// HTTP validators and title from a successful fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchMeta<'a> {
    pub title: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    /// SHA-256 of the body these stories came from.
    pub content_hash: Option<&'a str>,
    /// Items of that body skipped as unreadable.
    pub skipped_items: usize,
}

impl Store {
    /// Stores the stories of one successful poll. A story is known when its feed already has its
    /// key, its canonical link or its text fingerprint (a changed guid is not a new story); an
    /// edited known story gets its newest text and no alert. `raised` is called once for each
    /// story not seen before, with its index; a story with alerts to be clustered joins a
    /// cluster (within `window` seconds), and its alerts are queued only for watches its cluster
    /// has not matched yet. The feed's validators and its listed stories are saved in the same
    /// transaction, so a crash cannot record a feed as fetched without its stories. A story
    /// whose article is wanted is recorded pending in the same transaction.
    pub fn ingest(
        &mut self,
        feed_id: i64,
        meta: &FetchMeta<'_>,
        stories: &[Story],
        now: i64,
        window: i64,
        mut raised: impl FnMut(usize, &Story) -> Raised,
    ) -> Result<IngestStats, StoreError> {
        self.sketch_index()?;
        let Store { conn, sketches, batch, .. } = self;
        let index = sketches.as_mut().expect("loaded above");
        let tx = Work::begin(conn, *batch)?;
        let mut stats = IngestStats::default();
        let mut listed = Vec::with_capacity(stories.len());
        let mut filed = Vec::new();
        let mut boilerplate = FeedBoilerplate::of_document(stories);
        for (i, story) in stories.iter().enumerate() {
            if let Some(id) = known(&tx, feed_id, story, now)? {
                listed.push(id);
                continue;
            }
            let Some(story_id) = insert(&tx, feed_id, story, now)? else { continue };
            listed.push(story_id);
            stats.new_stories += 1;
            let raised = raised(i, story);
            if let Some(due) = raised.article_due {
                stats.articles += 1;
                tx.prepare_cached("UPDATE stories SET article_state = 'pending', article_due = ?2 WHERE id = ?1")?
                    .execute(params![story_id, due])?;
            }
            let place = Placed { story_id, feed_id, story, cluster: None, now, window };
            filed.extend(queue(&tx, index, &place, raised, &mut boilerplate, &mut stats)?);
        }
        let listed = serde_json::to_string(&listed).expect("ids serialise");
        tx.execute("UPDATE feeds SET listed = ?2 WHERE id = ?1", params![feed_id, listed])?;
        tx.execute(
            "UPDATE feeds SET title = COALESCE(?2, title), etag = ?3, last_modified = ?4, last_poll = ?5,
                last_success = ?5, consecutive_failures = 0, failing_since = NULL, content_hash = ?6,
                skipped_items = ?7 WHERE id = ?1",
            params![
                feed_id,
                meta.title,
                meta.etag,
                meta.last_modified,
                now,
                meta.content_hash,
                meta.skipped_items as i64
            ],
        )?;
        tx.commit()?;
        for f in filed {
            f.into_index(index);
        }
        Ok(stats)
    }
}

/// Where a story's alerts go: the story, its feed, the cluster it is already in (if any), and
/// the time and dedupe window for joining one.
pub(super) struct Placed<'s> {
    pub story_id: i64,
    pub feed_id: i64,
    pub story: &'s Story,
    pub cluster: Option<i64>,
    pub now: i64,
    pub window: i64,
}

/// Records the matches of a story and queues its alerts, once per story, watch and notifier:
/// a story to be clustered and in no cluster yet joins one (its features leaving out
/// `boilerplate`), and a watch its cluster has matched already is recorded but not alerted
/// again. Returns what the candidate index must learn once the transaction commits.
pub(super) fn queue(
    tx: &Connection,
    index: &SketchIndex,
    at: &Placed<'_>,
    raised: Raised,
    boilerplate: &mut FeedBoilerplate<'_>,
    stats: &mut IngestStats,
) -> Result<Option<clusters::Filed>, StoreError> {
    let Raised { alerts, cluster, .. } = raised;
    let story_id = at.story_id;
    if alerts.is_empty() {
        return Ok(None);
    }
    let (cluster, filed) = match at.cluster {
        Some(cluster) => (cluster, None),
        None if cluster => {
            let learnt = boilerplate.get(tx, at.feed_id, at.now - at.window)?;
            let (cluster, f) = clusters::join(tx, index, at, learnt)?;
            (cluster, Some(f))
        }
        None => (story_id, None),
    };
    for alert in alerts {
        let earlier = cluster != story_id && clusters::already_matched(tx, cluster, &alert.watch)?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO matches (story_id, watch, matched, created, cluster_id, feed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![story_id, alert.watch, alert.matched, at.now, cluster, alert.feed])?;
        if earlier {
            stats.clustered += 1;
            continue;
        }
        let mut outbox = tx.prepare_cached(
            "INSERT OR IGNORE INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5)",
        )?;
        for notifier in &alert.notifiers {
            stats.alerts += outbox.execute(params![story_id, alert.watch, notifier, alert.payload, at.now])?;
        }
    }
    Ok(filed)
}

/// How stale a listed story's `last_listed` may get before a poll refreshes it: one write per
/// story per day at most, which is all retention needs.
const LISTED_REFRESH: i64 = 24 * 3600;

/// A stored story as `known` reads it: id, title, body, whether retention emptied it, and when
/// its feed last listed it.
type Seen = (i64, String, String, bool, i64);

/// The query for a stored story of feed `?1` under `condition` on `?2`, as a literal (it runs
/// for every story of every changed feed, so it is not formatted each time).
macro_rules! seen_where {
    ($condition:literal) => {
        concat!(
            "SELECT id, title, body, pruned_at IS NOT NULL, COALESCE(last_listed, first_seen) FROM stories ",
            "WHERE feed_id = ?1 AND ",
            $condition
        )
    };
}

/// The story of feed `feed_id` that `sql` finds for `value`, if any.
fn lookup(tx: &Connection, sql: &str, feed_id: i64, value: impl rusqlite::ToSql) -> Result<Option<Seen>, StoreError> {
    let row = |r: &rusqlite::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
    Ok(tx.prepare_cached(sql)?.query_row(params![feed_id, value], row).optional()?)
}

/// The id of the stored story `story` is, when its feed has it under its key, its canonical link
/// or its text; an edited one gets its newest text, and a listed one a fresh `last_listed`. Three
/// lookups, each on its own index (an OR of them would scan the feed's stories).
fn known(tx: &Connection, feed_id: i64, story: &Story, now: i64) -> Result<Option<i64>, StoreError> {
    let mut seen = lookup(tx, seen_where!("key = ?2"), feed_id, &story.key)?;
    if seen.is_none()
        && let Some(c) = story.canon_key()
    {
        seen = lookup(tx, seen_where!("canon_key = ?2 LIMIT 1"), feed_id, c)?;
    }
    if seen.is_none()
        && let Some(f) = story.text_key()
    {
        seen = lookup(tx, seen_where!("text_key = ?2 LIMIT 1"), feed_id, f)?;
    }
    let Some((id, title, body, pruned, listed)) = seen else { return Ok(None) };
    // An edit under the same guid (or a moved guid): keep the newest text, no alert. A story
    // whose text retention pruned stays a bare key.
    if !pruned && (title != story.title || body != story.body) {
        tx.prepare_cached("UPDATE stories SET title = ?2, body = ?3, url = ?4 WHERE id = ?1")?.execute(params![
            id,
            story.title,
            story.body,
            story.url
        ])?;
    }
    if listed < now - LISTED_REFRESH {
        tx.prepare_cached("UPDATE stories SET last_listed = ?2 WHERE id = ?1")?.execute(params![id, now])?;
    }
    Ok(Some(id))
}

/// Inserts a new story; `None` when the same document listed its key twice.
fn insert(tx: &Connection, feed_id: i64, story: &Story, now: i64) -> Result<Option<i64>, StoreError> {
    let categories = serde_json::to_string(&story.categories).expect("strings serialise");
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO stories
                (feed_id, key, url, title, body, author, categories, published, first_seen, canon_key, text_key,
                 last_listed, lang)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?9, ?12)",
        )?
        .execute(params![
            feed_id,
            story.key,
            story.url,
            story.title,
            story.body,
            story.author,
            categories,
            story.published.map(|p| p.timestamp()),
            now,
            story.canon_key(),
            story.text_key(),
            story.lang(),
        ])?;
    Ok((inserted > 0).then(|| tx.last_insert_rowid()))
}
