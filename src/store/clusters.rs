//! Clusters across feeds: the same news told by several outlets is one cluster, alerted once
//! per watch.
//!
//! Every matched story's similarity features are stored in `sketches`, and filed in the
//! candidate index ([`SketchIndex`]) under a few keys ([`Features::bands`]). A new matched
//! story looks up the stories filed under its keys within the dedupe window (a bounded number
//! per key, newest first, so the cost does not grow with the number of stored stories),
//! compares itself with those sharing the most keys, and joins the cluster of the most similar
//! one from another feed, if it is the same news as every indexed member of that cluster.
//! Features leave out the sentences the story's feed repeats (its boilerplate, learnt here from
//! the feed's stored stories and its new document) and those the index finds in stories of
//! several clusters from several feeds (boilerplate across feeds). Features older than twice
//! the window are pruned.

use rusqlite::{Connection, OptionalExtension, params};

use super::sketch_index::{self, SketchIndex};
use super::stories::Placed;
use super::{Store, StoreError};
use crate::dedupe::{Boilerplate, Features, Packed, STORED_HEAD};
use crate::feed::Story;

/// Stored stories of a feed read to learn its boilerplate: its newest within the window.
const BOILERPLATE_STORIES: usize = 200;

/// The boilerplate left out of the features of a feed's stories as they join clusters: learnt
/// when the first of them needs it, once per ingest.
pub(super) struct FeedBoilerplate<'d> {
    /// The document being ingested, learnt from with the stored stories; `None` to learn none.
    document: Option<&'d [Story]>,
    learnt: Option<Boilerplate>,
}

impl<'d> FeedBoilerplate<'d> {
    /// The boilerplate of the feed whose `document` is being ingested.
    pub(super) fn of_document(document: &'d [Story]) -> FeedBoilerplate<'d> {
        FeedBoilerplate { document: Some(document), learnt: None }
    }

    /// No boilerplate: every sentence counts.
    pub(super) fn none() -> FeedBoilerplate<'static> {
        FeedBoilerplate { document: None, learnt: Some(Boilerplate::default()) }
    }

    /// The boilerplate of feed `feed_id`, learnt on first use from its stories first seen since
    /// `since` and the document.
    pub(super) fn get(&mut self, tx: &Connection, feed_id: i64, since: i64) -> Result<&Boilerplate, StoreError> {
        if self.learnt.is_none() {
            self.learnt = Some(boilerplate(tx, feed_id, self.document.unwrap_or_default(), since)?);
        }
        Ok(self.learnt.as_ref().expect("learnt above"))
    }
}

/// The boilerplate of feed `feed_id`, learnt from its stories first seen since `since` (the
/// newest [`BOILERPLATE_STORIES`]) and those of the document being ingested (`document`): the
/// same whichever other feed's poll came first, since it reads this feed's stories alone.
fn boilerplate(tx: &Connection, feed_id: i64, document: &[Story], since: i64) -> Result<Boilerplate, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT body FROM stories WHERE feed_id = ?1 AND first_seen >= ?2 AND pruned_at IS NULL
         ORDER BY id DESC LIMIT ?3",
    )?;
    let stored: Vec<String> =
        stmt.query_map(params![feed_id, since, BOILERPLATE_STORIES as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(Boilerplate::learn(stored.iter().map(String::as_str).chain(document.iter().map(|s| s.body.as_str()))))
}

/// A story's place in time for the window: its date, or when it was seen if undated or dated
/// in the future.
fn placed_at(published: Option<i64>, now: i64) -> i64 {
    published.map_or(now, |p| p.min(now))
}

/// A story filed in `sketches` by an open transaction, for the index once it commits.
pub(super) struct Filed {
    story_id: i64,
    feed_id: i64,
    cluster: i64,
    at: i64,
    features: Packed,
}

/// Files a new matched story into a cluster, by its features without its feed's `boilerplate`
/// and the sentences boilerplate across feeds:
/// returns the cluster's id (the id of the first story of a cluster it joins, else its own) and
/// what the index must learn once the transaction commits.
pub(super) fn join(
    tx: &Connection,
    index: &SketchIndex,
    place: &Placed<'_>,
    boilerplate: &Boilerplate,
) -> Result<(i64, Filed), StoreError> {
    let Placed { story_id, feed_id, story, now, window, .. } = *place;
    let published = story.published.map(|p| p.timestamp());
    let at = placed_at(published, now);
    let stock = |s| boilerplate.contains(s) || index.is_stock(s, at, window);
    let features = Features::learnt(&story.title, &story.body, published, stock);
    let cluster = index.most_similar(feed_id, &features, at, window).unwrap_or(story_id);
    let features = features.pack();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO sketches (story_id, feed_id, cluster_id, at, published, features)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![story_id, feed_id, cluster, at, features.view().published, features.to_bytes()])?;
    Ok((cluster, Filed { story_id, feed_id, cluster, at, features }))
}

impl Filed {
    pub(super) fn into_index(self, index: &mut SketchIndex) {
        index.insert(self.story_id, self.feed_id, self.cluster, self.at, self.features);
    }
}

/// Whether the cluster already has a match for `watch` (so a new member must not alert again).
pub(super) fn already_matched(tx: &Connection, cluster: i64, watch: &str) -> Result<bool, StoreError> {
    let found = tx
        .prepare_cached("SELECT 1 FROM matches WHERE cluster_id = ?1 AND watch = ?2 LIMIT 1")?
        .query_row(params![cluster, watch], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

impl Store {
    /// Starts loading the candidate index from `sketches` on a thread of its own, over a
    /// read-only connection, so that the first story that needs it waits less or not at all.
    /// Sketches are only ever written through the loaded index, so what that thread reads is
    /// all there is.
    pub fn preload_sketch_index(&mut self) {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from) else { return };
        let budget = self.sketch_memory;
        if self.sketches.is_none() && self.sketches_loading.is_none() {
            self.sketches_loading = Some(std::thread::spawn(move || {
                let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                load_sketch_index(&Connection::open_with_flags(path, flags)?, budget)
            }));
        }
    }

    /// Bounds the candidate index to about `bytes` (`[dedupe] memory`): set before it is loaded.
    pub fn limit_sketch_memory(&mut self, bytes: u64) {
        self.sketch_memory = usize::try_from(bytes).unwrap_or(usize::MAX);
    }

    /// Waits for a preload still running and keeps what it loaded. Its connection is then
    /// closed: the last connection to close checkpoints the WAL, which a read-only one cannot,
    /// and a reader left open would hold checkpoints back to its snapshot.
    pub(super) fn finish_preload(&mut self) {
        if self.sketches.is_none() {
            self.sketches = self.join_preload();
        }
    }

    /// The preloaded index, once its thread is done; `None` when none was started or it failed
    /// (which is logged: the index is then loaded on the writer's connection).
    pub(super) fn join_preload(&mut self) -> Option<SketchIndex> {
        match self.sketches_loading.take()?.join() {
            Ok(Ok(index)) => Some(index),
            Ok(Err(e)) => {
                if self.met(&e) {
                    tracing::warn!(error = %e, "cannot preload the candidate index; loading it now");
                }
                None
            }
            Err(_) => {
                tracing::warn!("preloading the candidate index panicked; loading it now");
                None
            }
        }
    }

    /// The candidate index: the preloaded one, else loaded here from `sketches` on first use.
    pub(super) fn sketch_index(&mut self) -> Result<&mut SketchIndex, StoreError> {
        self.finish_preload();
        if self.sketches.is_none() {
            self.sketches = Some(load_sketch_index(&self.conn, self.sketch_memory)?);
        }
        Ok(self.sketches.as_mut().expect("loaded above"))
    }

    /// The cluster a new story of feed `feed_id` with `features` would join, without filing it
    /// (the lookup alone, for measurements).
    pub fn cluster_for(
        &mut self,
        feed_id: i64,
        features: &Features,
        now: i64,
        window: i64,
    ) -> Result<Option<i64>, StoreError> {
        let at = placed_at(features.published, now);
        Ok(self.sketch_index()?.most_similar(feed_id, features, at, window))
    }

    /// Drops the features of stories placed before `before` (at most `limit` rows of them): no
    /// new story can join them.
    pub(super) fn prune_sketches(&mut self, before: i64, limit: usize) -> Result<usize, StoreError> {
        // What a preload reads may include rows deleted here: finish it first.
        self.finish_preload();
        let n = self.conn.execute(
            "DELETE FROM sketches WHERE story_id IN (SELECT story_id FROM sketches WHERE at < ?1 LIMIT ?2)",
            params![before, limit as i64],
        )?;
        if let Some(index) = &mut self.sketches {
            index.prune(before);
        }
        Ok(n)
    }
}

/// A matched cluster for `wirewatch recent`: one watch, the stories of every feed that told it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecentCluster {
    pub watch: String,
    /// The id of the cluster's first story.
    pub cluster: i64,
    /// When its newest member was matched (Unix seconds).
    #[serde(skip)]
    pub latest: i64,
    /// First reporter first: by published time (when it was matched, if undated), not by
    /// which feed was polled first.
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub feed: String,
    pub title: String,
    pub url: Option<String>,
    /// Unix seconds.
    pub published: Option<i64>,
    /// When it was matched (Unix seconds).
    pub matched: i64,
    /// The story's language (ISO 639-1), when it was told.
    pub lang: Option<String>,
}

impl Store {
    /// Clusters with a member matched since `since`, for `watch` or every watch, newest first,
    /// at most `limit`.
    pub fn recent(&self, since: i64, watch: Option<&str>, limit: usize) -> Result<Vec<RecentCluster>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT m.cluster_id, m.watch, COALESCE(m.feed, f.title, f.url), s.title, s.url, s.published, m.created, s.lang
             FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE (m.cluster_id, m.watch) IN
                (SELECT cluster_id, watch FROM matches WHERE created >= ?1 AND (?2 IS NULL OR watch = ?2))
             ORDER BY m.cluster_id, m.watch, COALESCE(s.published, m.created), m.story_id",
        )?;
        let rows = stmt.query_map(params![since, watch], |r| {
            let member = Member {
                feed: r.get(2)?,
                title: r.get(3)?,
                url: r.get(4)?,
                published: r.get(5)?,
                matched: r.get(6)?,
                lang: r.get(7)?,
            };
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, member))
        })?;
        let mut out: Vec<RecentCluster> = Vec::new();
        for row in rows {
            let (cluster, watch, member) = row?;
            match out.last_mut() {
                Some(c) if c.cluster == cluster && c.watch == watch => {
                    c.latest = c.latest.max(member.matched);
                    c.members.push(member);
                }
                _ => out.push(RecentCluster { watch, cluster, latest: member.matched, members: vec![member] }),
            }
        }
        out.sort_by(|a, b| b.latest.cmp(&a.latest).then(b.cluster.cmp(&a.cluster)));
        out.truncate(limit);
        Ok(out)
    }
}

/// The candidate index over the rows of `sketches`, the newest that fit in `budget` bytes, read
/// oldest first (the order each key's list keeps). The rows that fit are found first from their
/// sizes alone, so a database holding more than the budget is never loaded whole.
fn load_sketch_index(conn: &Connection, budget: usize) -> Result<SketchIndex, StoreError> {
    let mut index = SketchIndex::with_budget(budget);
    let mut since = i64::MIN;
    let mut sizes =
        conn.prepare("SELECT at, length(features), substr(features, 1, ?1) FROM sketches ORDER BY at DESC")?;
    let mut rows = sizes.query([STORED_HEAD as i64])?;
    let mut total = 0usize;
    while let Some(row) = rows.next()? {
        // Bytes stored are about the bytes held, plus the entry's own and its sentences'.
        let sentences = Packed::stored_sentences(&row.get::<_, Vec<u8>>(2)?);
        total += row.get::<_, i64>(1)? as usize + sketch_index::entry_bytes(sentences);
        if total > budget {
            since = row.get::<_, i64>(0)? + 1;
            break;
        }
    }
    let mut stmt = conn.prepare(
        "SELECT story_id, feed_id, cluster_id, at, published, features FROM sketches WHERE at >= ?1 ORDER BY at",
    )?;
    let rows = stmt
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, Vec<u8>>(5)?)))?;
    for row in rows {
        let (story_id, feed_id, cluster, at, published, bytes) = row?;
        if let Some(features) = Packed::from_bytes(&bytes, published) {
            index.insert(story_id, feed_id, cluster, at, features);
        }
    }
    Ok(index)
}
