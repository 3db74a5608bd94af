//! Clusters across feeds: the same news told by several outlets is one cluster, alerted once
//! per watch.
//!
//! Every matched story's similarity features are stored with a few index keys
//! ([`Features::bands`]). A new matched story looks up the stories filed under its keys within
//! the dedupe window (a bounded number per key, newest first, so the cost does not grow with
//! the number of stored stories), compares itself with each by [`similarity`], and joins the
//! cluster of the most similar one from another feed. Features older than the window are
//! pruned.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError};
use crate::dedupe::{Features, similarity};

/// Stories read per index key: the newest within the window.
const CANDIDATES_PER_KEY: i64 = 16;

/// A story's place in time for the window: its date, or when it was seen if undated or dated
/// in the future.
fn placed_at(features: &Features, now: i64) -> i64 {
    features.published.map_or(now, |p| p.min(now))
}

/// Files a new matched story (`story_id`, of feed `feed_id`) into a cluster and returns the
/// cluster's id: the id of the first story of a cluster it joins, else its own id.
pub(super) fn join(
    tx: &Transaction<'_>,
    story_id: i64,
    feed_id: i64,
    features: &Features,
    now: i64,
    window: i64,
) -> Result<i64, StoreError> {
    let at = placed_at(features, now);
    let bands = features.bands();
    let mut by_band = tx.prepare_cached(
        "SELECT story_id FROM sketch_bands WHERE band = ?1 AND at BETWEEN ?2 AND ?3 ORDER BY at DESC LIMIT ?4",
    )?;
    let mut candidates: HashSet<i64> = HashSet::new();
    for band in &bands {
        let ids =
            by_band.query_map(params![band, at - window, at + window, CANDIDATES_PER_KEY], |r| r.get::<_, i64>(0))?;
        for id in ids {
            candidates.insert(id?);
        }
    }
    let mut sketch =
        tx.prepare_cached("SELECT feed_id, cluster_id, published, features FROM sketches WHERE story_id = ?1")?;
    let mut best: Option<(f64, i64)> = None;
    for id in candidates {
        let row = sketch
            .query_row([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get(2)?, r.get::<_, Vec<u8>>(3)?)))
            .optional()?;
        let Some((other_feed, cluster, published, bytes)) = row else { continue };
        if other_feed == feed_id {
            continue;
        }
        let Some(other) = Features::from_bytes(&bytes, published) else { continue };
        if let Some(score) = similarity(features, &other, window)
            && best.is_none_or(|(s, c)| score > s || (score == s && cluster < c))
        {
            best = Some((score, cluster));
        }
    }
    let cluster = best.map_or(story_id, |(_, c)| c);
    tx.prepare_cached(
        "INSERT OR REPLACE INTO sketches (story_id, feed_id, cluster_id, at, published, features)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![story_id, feed_id, cluster, at, features.published, features.to_bytes()])?;
    let mut file = tx.prepare_cached("INSERT OR IGNORE INTO sketch_bands (band, at, story_id) VALUES (?1, ?2, ?3)")?;
    for band in bands {
        file.execute(params![band, at, story_id])?;
    }
    Ok(cluster)
}

/// Whether the cluster already has a match for `watch` (so a new member must not alert again).
pub(super) fn already_matched(tx: &Transaction<'_>, cluster: i64, watch: &str) -> Result<bool, StoreError> {
    let found = tx
        .prepare_cached("SELECT 1 FROM matches WHERE cluster_id = ?1 AND watch = ?2 LIMIT 1")?
        .query_row(params![cluster, watch], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

impl Store {
    /// Drops the features of stories placed before `before`: no new story can join them.
    pub fn prune_sketches(&mut self, before: i64) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM sketch_bands WHERE at < ?1", [before])?;
        let n = tx.execute("DELETE FROM sketches WHERE at < ?1", [before])?;
        tx.commit()?;
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
    /// First reporter first.
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
}

impl Store {
    /// Clusters with a member matched since `since`, for `watch` or every watch, newest first,
    /// at most `limit`.
    pub fn recent(&self, since: i64, watch: Option<&str>, limit: usize) -> Result<Vec<RecentCluster>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT m.cluster_id, m.watch, COALESCE(m.feed, f.title, f.url), s.title, s.url, s.published, m.created
             FROM matches m JOIN stories s ON s.id = m.story_id JOIN feeds f ON f.id = s.feed_id
             WHERE (m.cluster_id, m.watch) IN
                (SELECT cluster_id, watch FROM matches WHERE created >= ?1 AND (?2 IS NULL OR watch = ?2))
             ORDER BY m.cluster_id, m.watch, m.story_id",
        )?;
        let rows = stmt.query_map(params![since, watch], |r| {
            let member =
                Member { feed: r.get(2)?, title: r.get(3)?, url: r.get(4)?, published: r.get(5)?, matched: r.get(6)? };
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
