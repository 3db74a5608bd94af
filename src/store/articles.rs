//! Article steps: the stories waiting for their article page (rows, so they survive a
//! restart), the outcome of each step with the alerts the article adds, and the article text.
//!
//! The text is stored deflated where that saves at least a tenth (a BLOB), else as TEXT.
//! Writes happen only on the ingest writer's connection, inside its batches.

use std::io::{Read, Write};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use super::clusters::FeedBoilerplate;
use super::stories::{IngestStats, Placed, Raised, queue};
use super::views::{story_at, story_columns};
use super::{Store, StoreError, Work};
use crate::feed::Story;

/// A story whose article page is still to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingArticle {
    pub story_id: i64,
    /// The URL of the story's feed, as stored (the config's key for it).
    pub feed: String,
    /// The article page.
    pub url: String,
    /// When the step must end (Unix seconds).
    pub due: i64,
    /// Words of the story's own text: an article with fewer adds nothing.
    pub feed_words: usize,
}

/// How an article step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleOutcome {
    /// Fetched and extracted to more words than the feed gave: matched on the full text.
    Fetched,
    /// Fetched, but the extraction gave no more words than the feed's own text.
    Short,
    /// The server answered with an error, or the page could not be read.
    Failed,
    /// The page did not arrive in time.
    Timeout,
    /// robots.txt disallows the page for wirewatch.
    Refused,
    /// The step was still pending when its time ran out (a restart in between).
    Expired,
}

impl ArticleOutcome {
    /// The name stored on the story and used as the metrics label.
    pub fn label(self) -> &'static str {
        match self {
            ArticleOutcome::Fetched => "fetched",
            ArticleOutcome::Short => "short",
            ArticleOutcome::Failed => "failed",
            ArticleOutcome::Timeout => "timeout",
            ArticleOutcome::Refused => "refused",
            ArticleOutcome::Expired => "expired",
        }
    }

    /// The per-feed counter (`fetched`, `failed` or `refused`) this outcome adds to.
    fn counter(self) -> &'static str {
        match self {
            ArticleOutcome::Fetched | ArticleOutcome::Short => "articles_fetched",
            ArticleOutcome::Refused => "articles_refused",
            ArticleOutcome::Failed | ArticleOutcome::Timeout | ArticleOutcome::Expired => "articles_failed",
        }
    }
}

/// A stored story as the article step re-matches it.
#[derive(Debug, Clone)]
pub struct StoredStory {
    /// The URL of its feed, as stored.
    pub feed: String,
    /// The feed's own title, as last polled.
    pub feed_title: Option<String>,
    pub story: Story,
    /// The watches it matched already.
    pub matched: Vec<String>,
}

impl Store {
    /// Up to `limit` pending article steps, the earliest deadline first.
    pub fn pending_articles(&self, limit: usize) -> Result<Vec<PendingArticle>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, f.url, s.url, s.article_due, s.body FROM stories s JOIN feeds f ON f.id = s.feed_id
             WHERE s.article_state = 'pending' ORDER BY s.article_due, s.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(PendingArticle {
                story_id: r.get(0)?,
                feed: r.get(1)?,
                url: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                due: r.get(3)?,
                feed_words: crate::article::words(&r.get::<_, String>(4)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ends the article step of story `story_id` with `outcome`, storing `text` with it. With
    /// text, `raise` is asked what the story raises now, and its alerts are queued as a new
    /// story's would be (once per story, watch and notifier), all in one transaction. `None`
    /// when the story was no longer pending: its step had ended already, or the story is gone.
    pub fn apply_article(
        &mut self,
        story_id: i64,
        outcome: ArticleOutcome,
        text: Option<&str>,
        now: i64,
        window: i64,
        raise: impl FnOnce(&StoredStory) -> Raised,
    ) -> Result<Option<IngestStats>, StoreError> {
        self.sketch_index()?;
        let Store { conn, sketches, batch, .. } = self;
        let index = sketches.as_mut().expect("loaded above");
        let tx = Work::begin(conn, *batch)?;
        let ended = tx
            .prepare_cached(
                "UPDATE stories SET article_state = ?2, article = ?3 WHERE id = ?1 AND article_state = 'pending'
                 RETURNING feed_id",
            )?
            .query_row(params![story_id, outcome.label(), text.map(pack)], |r| r.get::<_, i64>(0))
            .optional()?;
        let Some(feed_id) = ended else { return Ok(None) };
        let counter = outcome.counter();
        tx.execute(&format!("UPDATE feeds SET {counter} = {counter} + 1 WHERE id = ?1"), [feed_id])?;
        let mut stats = IngestStats::default();
        let mut filed = None;
        if text.is_some() {
            let stored = stored_story(&tx, story_id)?;
            let cluster = tx
                .prepare_cached("SELECT cluster_id FROM matches WHERE story_id = ?1 LIMIT 1")?
                .query_row([story_id], |r| r.get::<_, Option<i64>>(0))
                .optional()?
                .flatten();
            let place = Placed { story_id, feed_id, story: &stored.story, cluster, now, window };
            // A story clustered once its article is in keeps every sentence, as it always has:
            // learning its feed's boilerplate here (from the stored stories alone, its document
            // being gone) would change which clusters such stories join.
            filed = queue(&tx, index, &place, raise(&stored), &mut FeedBoilerplate::none(), &mut stats)?;
        }
        tx.commit()?;
        if let Some(f) = filed {
            f.into_index(index);
        }
        Ok(Some(stats))
    }

    /// The article text stored with story `story_id`, if any.
    pub fn article_text(&self, story_id: i64) -> Result<Option<String>, StoreError> {
        let text = self
            .conn
            .query_row("SELECT article FROM stories WHERE id = ?1", [story_id], |r| Ok(unpack(r.get_ref(0)?)))
            .optional()?;
        Ok(text.flatten())
    }
}

/// The story `story_id` with its feed and the watches it matched.
fn stored_story(tx: &Connection, story_id: i64) -> Result<StoredStory, StoreError> {
    let (feed, feed_title, story) = tx
        .prepare_cached(concat!(
            "SELECT f.url, f.title, ",
            story_columns!(),
            " FROM stories s JOIN feeds f ON f.id = s.feed_id WHERE s.id = ?1"
        ))?
        .query_row([story_id], |r| Ok((r.get(0)?, r.get(1)?, story_at(r, 2)?)))?;
    let matched = tx
        .prepare_cached("SELECT watch FROM matches WHERE story_id = ?1")?
        .query_map([story_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(StoredStory { feed, feed_title, story, matched })
}

/// Article text as stored: deflated when that saves at least a tenth.
fn pack(text: &str) -> Value {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let packed = z.write_all(text.as_bytes()).and_then(|()| z.finish());
    match packed {
        Ok(bytes) if bytes.len() * 10 < text.len() * 9 => Value::Blob(bytes),
        _ => Value::Text(text.to_string()),
    }
}

/// Article text as read back.
pub(super) fn unpack(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => {
            let mut out = String::new();
            flate2::read::DeflateDecoder::new(b).read_to_string(&mut out).ok()?;
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_deflated_only_when_that_pays_and_reads_back_the_same() {
        let long = "The ministry said the talks would resume next week in Geneva. ".repeat(40);
        let packed = pack(&long);
        assert!(matches!(&packed, Value::Blob(b) if b.len() < long.len() / 4));
        for text in [long.as_str(), "Short."] {
            let v = pack(text);
            let back = match &v {
                Value::Blob(b) => unpack(ValueRef::Blob(b)),
                Value::Text(t) => unpack(ValueRef::Text(t.as_bytes())),
                _ => None,
            };
            assert_eq!(back.as_deref(), Some(text));
        }
        assert!(matches!(pack("Short."), Value::Text(_)));
    }
}
