//! The alert outbox: queued alerts are claimed, delivered, and marked sent or failed.
//!
//! States move queued -> sending -> sent, or back to queued with a later `next_attempt`, or to
//! dead. A row left in `sending` by a crash is queued again at startup.

use rusqlite::params;

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Dead,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [OutboxState::Queued, OutboxState::Sending, OutboxState::Sent, OutboxState::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }
}

/// One notifier's failing deliveries, for `wirewatch status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTrouble {
    pub notifier: String,
    /// Alerts that failed and wait for another attempt.
    pub retrying: i64,
    pub dead: i64,
    /// When the oldest of the retrying alerts first failed (Unix seconds).
    pub failing_since: Option<i64>,
    /// The latest failure's error.
    pub last_error: Option<String>,
}

/// One outbox row as `wirewatch outbox` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub state: String,
    pub attempts: i64,
    pub notifier: String,
    pub watch: String,
    pub created: i64,
    pub next_attempt: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub title: String,
}

/// An alert claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub payload: String,
    pub attempts: i64,
    /// Other feeds in the story's cluster that matched the same watch, first reporter first.
    pub also: Vec<String>,
    /// When the row's first attempt failed, or it was last requeued by hand: `max_age` counts
    /// from here (now, for a row never tried).
    pub since: i64,
}

/// The due rows of one message being retried, and whether that message was a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryGroup {
    pub ids: Vec<i64>,
    pub digest: bool,
}

/// The columns of a claimed row, with the feeds that reported the same news later; the
/// `WHERE` clause follows.
const CLAIM_COLUMNS: &str = "SELECT id, payload, attempts, max(coalesce(retrying_since, ?2), coalesce(retried_at, 0)),
        (SELECT group_concat(feed, char(10)) FROM (
            SELECT m2.feed AS feed FROM matches m1 JOIN matches m2
                ON m2.cluster_id = m1.cluster_id AND m2.watch = m1.watch AND m2.feed != m1.feed
                JOIN stories s2 ON s2.id = m2.story_id
            WHERE m1.story_id = outbox.story_id AND m1.watch = outbox.watch
            GROUP BY m2.feed ORDER BY min(COALESCE(s2.published, m2.created)), min(m2.story_id)))
     FROM outbox ";

/// The condition of a notifier's queued rows due at `?2`, then `filter` (which of them: retries
/// or fresh ones). The partial index `outbox_queued` serves it; the `+` keeps the planner on it.
/// A macro, so that each statement stays one `&'static str`, prepared once and cached.
macro_rules! due {
    ($filter:literal) => {
        concat!("notifier = ?1 AND state = 'queued' AND +next_attempt <= ?2 AND ", $filter)
    };
}

/// A notifier's due rows, oldest first: retries (`?4` true) or fresh ones.
const DUE: &str = concat!("WHERE ", due!("(retrying_since IS NOT NULL) = ?4"), " ORDER BY id LIMIT ?3");

/// The first due fresh row of a notifier, and every other due fresh row of the same story:
/// one message.
const STORY: &str = concat!(
    "WHERE ",
    due!("retrying_since IS NULL"),
    " AND coalesce(story_id, -id) = (SELECT coalesce(story_id, -id) FROM outbox WHERE ",
    due!("retrying_since IS NULL"),
    " ORDER BY id LIMIT 1) ORDER BY id LIMIT ?3"
);

/// How many messages a notifier's new rows make (one per story; a health alert alone).
const FRESH_DUE: &str =
    concat!("SELECT COUNT(DISTINCT coalesce(story_id, -id)) FROM outbox WHERE ", due!("retrying_since IS NULL"));

/// A notifier's due retries with the message each was last claimed for.
const DUE_RETRIES: &str = concat!(
    "SELECT id, story_id, message FROM outbox WHERE ",
    due!("retrying_since IS NOT NULL"),
    " ORDER BY id LIMIT ?3"
);

/// The rows that wait for a retry: queued after a failed attempt, or deferred because their
/// notifier's server was down. `status` and the summary of `once` count them alike.
macro_rules! waiting_for_retry {
    () => {
        "(state = 'queued' AND (attempts > 0 OR next_attempt > created))"
    };
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        payload: r.get(1)?,
        attempts: r.get(2)?,
        since: r.get(3)?,
        also: r.get::<_, Option<String>>(4)?.map(|s| s.lines().map(String::from).collect()).unwrap_or_default(),
    })
}

/// Marks `rows` as sending, as one message (`digest:ID` or `alert:ID`, ID its first row).
fn mark_sending(tx: &rusqlite::Connection, rows: &[OutboxRow], digest: bool) -> Result<(), StoreError> {
    let Some(first) = rows.iter().map(|r| r.id).min() else { return Ok(()) };
    let message = format!("{}:{first}", if digest { "digest" } else { "alert" });
    let mut mark = tx.prepare_cached("UPDATE outbox SET state = 'sending', message = ?2 WHERE id = ?1")?;
    for r in rows {
        mark.execute(params![r.id, message])?;
    }
    Ok(())
}

impl Store {
    /// Queues again every row a previous process left in `sending`, as a retry due now, so the
    /// interrupted message goes out again with the same rows; returns how many. Only the owner
    /// of the database's lock can write (`lock.rs`), and owners never overlap, so the rows found
    /// in `sending` as it starts delivering are an earlier owner's, never a live process's.
    pub fn requeue_sending(&self, now: i64) -> Result<usize, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE outbox SET state = 'queued', next_attempt = ?1, retrying_since = COALESCE(retrying_since, ?1)
                 WHERE state = 'sending'",
                [now],
            )?)
        })
    }

    /// Marks dead every queued row of a notifier not in `configured`; returns how many per notifier.
    pub fn bury_orphans(&self, configured: &[&str]) -> Result<Vec<(String, i64)>, StoreError> {
        let names = serde_json::to_string(configured).expect("strings serialise");
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "UPDATE outbox SET state = 'dead', last_error = 'notifier ' || notifier || ' is no longer configured'
                 WHERE state IN ('queued', 'sending') AND notifier NOT IN (SELECT value FROM json_each(?1))
                 RETURNING notifier",
            )?;
            let mut counts: Vec<(String, i64)> = Vec::new();
            for n in stmt.query_map([names], |r| r.get::<_, String>(0))? {
                let n = n?;
                match counts.iter_mut().find(|(x, _)| *x == n) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((n, 1)),
                }
            }
            Ok(counts)
        })
    }

    /// Marks up to `limit` of `notifier`'s due rows as sending, as one message (a digest when
    /// `digest`), and returns them, oldest first: only rows being retried (`retries`), or only
    /// fresh ones.
    pub fn claim_due(
        &self,
        notifier: &str,
        now: i64,
        limit: usize,
        retries: bool,
        digest: bool,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.claim_where(DUE, params![notifier, now, limit as i64, retries], digest)
    }

    /// Claims the next new message of `notifier`: the oldest due fresh row and every other due
    /// fresh row of its story (one per watch it matched), at most `limit`.
    pub fn claim_story(&self, notifier: &str, now: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        self.claim_where(STORY, params![notifier, now, limit as i64], false)
    }

    /// Claims the rows `ids` that are still queued, as one message.
    pub fn claim_ids(&self, ids: &[i64], now: i64, digest: bool) -> Result<Vec<OutboxRow>, StoreError> {
        let json = serde_json::to_string(ids).expect("ids serialise");
        let sql = "WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'queued' ORDER BY id";
        self.claim_where(sql, params![json, now], digest)
    }

    fn claim_where(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
        digest: bool,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.write(|tx| {
            let rows = tx
                .prepare_cached(&format!("{CLAIM_COLUMNS}{filter}"))?
                .query_map(args, read_row)?
                .collect::<Result<Vec<_>, _>>()?;
            mark_sending(tx, &rows, digest)?;
            Ok(rows)
        })
    }

    /// `notifier`'s due retries (at most `limit` rows), grouped by the message each was last
    /// claimed for, in order of their first row. A row never claimed (buried, then requeued by
    /// hand) goes with its story's other such rows.
    pub fn due_retries(&self, notifier: &str, now: i64, limit: usize) -> Result<Vec<RetryGroup>, StoreError> {
        let mut stmt = self.conn.prepare_cached(DUE_RETRIES)?;
        let rows = stmt.query_map(params![notifier, now, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<String>>(2)?))
        })?;
        let mut groups: Vec<(String, RetryGroup)> = Vec::new();
        for row in rows {
            let (id, story, message) = row?;
            let key = message.unwrap_or_else(|| story.map_or(format!("row:{id}"), |s| format!("story:{s}")));
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.ids.push(id),
                None => {
                    let digest = key.starts_with("digest:");
                    groups.push((key, RetryGroup { ids: vec![id], digest }));
                }
            }
        }
        Ok(groups.into_iter().map(|(_, g)| g).collect())
    }

    /// How many messages `notifier`'s new (never tried) due rows make: one per story.
    pub fn fresh_due(&self, notifier: &str, now: i64) -> Result<usize, StoreError> {
        let n: i64 = self.conn.query_row(FRESH_DUE, params![notifier, now], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Marks rows delivered, in one transaction.
    pub fn mark_sent(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id, now])?;
            }
            Ok(())
        })
    }

    /// Records a failed attempt of each row: queued again for `next_attempt`, or dead when `None`.
    pub fn mark_failed(&self, failures: &[(i64, Option<i64>)], error: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3,
                    next_attempt = CASE WHEN ?2 = 'queued' THEN ?4 ELSE next_attempt END,
                    retrying_since = COALESCE(retrying_since, ?5) WHERE id = ?1",
            )?;
            let now = super::unix_now();
            for &(id, next_attempt) in failures {
                let (state, next) = match next_attempt {
                    Some(t) => ("queued", t),
                    None => ("dead", 0),
                };
                stmt.execute(params![id, state, error, next, now])?;
            }
            Ok(())
        })
    }

    /// Holds every queued row of `notifier` due before `until` back to `until`, without
    /// counting an attempt: its server is down, and its next attempt is then. Returns how many.
    pub fn defer(&self, notifier: &str, until: i64) -> Result<usize, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE outbox SET next_attempt = ?2 WHERE notifier = ?1 AND state = 'queued' AND next_attempt < ?2",
                params![notifier, until],
            )?)
        })
    }

    /// When `notifier` last sent a scheduled digest, if ever.
    pub fn digest_last(&self, notifier: &str) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT last_sent FROM digests WHERE notifier = ?1")?;
        let mut rows = stmt.query([notifier])?;
        Ok(match rows.next()? {
            Some(r) => Some(r.get(0)?),
            None => None,
        })
    }

    pub fn set_digest_last(&self, notifier: &str, at: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO digests (notifier, last_sent) VALUES (?1, ?2)
                 ON CONFLICT (notifier) DO UPDATE SET last_sent = excluded.last_sent",
                params![notifier, at],
            )?;
            Ok(())
        })
    }

    /// Alerts in the given states, newest first, at most `limit`.
    pub fn outbox_list(&self, states: &[OutboxState], limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let mut stmt = self.conn.prepare(
            "SELECT id, state, attempts, notifier, watch, created, next_attempt, sent_at, last_error, payload
             FROM outbox WHERE state IN (SELECT value FROM json_each(?1)) ORDER BY id DESC LIMIT ?2",
        )?;
        let json = serde_json::to_string(&names).expect("strings serialise");
        let rows = stmt.query_map(params![json, limit as i64], |r| {
            let payload: String = r.get(9)?;
            let title = serde_json::from_str::<serde_json::Value>(&payload)
                .ok()
                .and_then(|v| v.get("title").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_default();
            Ok(OutboxEntry {
                id: r.get(0)?,
                state: r.get(1)?,
                attempts: r.get(2)?,
                notifier: r.get(3)?,
                watch: r.get(4)?,
                created: r.get(5)?,
                next_attempt: r.get(6)?,
                sent_at: r.get(7)?,
                last_error: r.get(8)?,
                title,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Queues dead or queued rows again, due now, with a fresh `max_age`; returns the ids
    /// requeued (a sent row is never sent again).
    pub fn requeue(&self, ids: Option<&[i64]>, now: i64) -> Result<Vec<i64>, StoreError> {
        self.write(|tx| {
            let chosen: Vec<i64> = match ids {
                Some(ids) => ids.to_vec(),
                None => {
                    let mut stmt = tx.prepare("SELECT id FROM outbox WHERE state = 'dead' ORDER BY id")?;
                    stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
                }
            };
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET state = 'queued', next_attempt = ?2, retried_at = ?2, retrying_since = ?2
                 WHERE id = ?1 AND state IN ('dead', 'queued')",
            )?;
            let mut done = Vec::new();
            for id in chosen {
                if stmt.execute(params![id, now])? == 1 {
                    done.push(id);
                }
            }
            Ok(done)
        })
    }

    /// Each notifier with alerts waiting for a retry or dead, by name.
    pub fn delivery_trouble(&self) -> Result<Vec<DeliveryTrouble>, StoreError> {
        let mut stmt = self.conn.prepare(concat!(
            "SELECT notifier, SUM(state = 'queued'), SUM(state = 'dead'),
                MIN(CASE WHEN state = 'queued' THEN retrying_since END),
                (SELECT last_error FROM outbox l WHERE l.notifier = o.notifier AND l.last_error IS NOT NULL
                    AND (l.state = 'dead' OR (l.state = 'queued' AND l.attempts > 0)) ORDER BY l.id DESC LIMIT 1)
             FROM outbox o WHERE state = 'dead' OR ",
            waiting_for_retry!(),
            " GROUP BY notifier ORDER BY notifier"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(DeliveryTrouble {
                notifier: r.get(0)?,
                retrying: r.get(1)?,
                dead: r.get(2)?,
                failing_since: r.get(3)?,
                last_error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many alerts failed, or were deferred because their notifier's server was down,
    /// and wait for another attempt.
    pub fn waiting_for_retry(&self) -> Result<usize, StoreError> {
        let sql = concat!("SELECT COUNT(*) FROM outbox WHERE ", waiting_for_retry!());
        Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_due_counts_search_the_queued_rows_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("o.db")).unwrap();
        let plan = |sql: &str, n: usize| -> String {
            let args = [&"log" as &dyn rusqlite::ToSql, &0, &10, &false];
            let mut stmt = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps: Vec<String> =
                stmt.query_map(&args[..n], |r| r.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
            steps.join("; ")
        };
        let due = plan(FRESH_DUE, 2);
        let claim = plan(&format!("{CLAIM_COLUMNS}{DUE}"), 4);
        let story = plan(&format!("{CLAIM_COLUMNS}{STORY}"), 3);
        let retries = plan(DUE_RETRIES, 3);
        for (what, steps) in [("claim", claim), ("count", due), ("story", story), ("retries", retries)] {
            assert!(steps.contains("SEARCH outbox USING INDEX outbox_queued"), "{what}: {steps}");
        }
    }
}
