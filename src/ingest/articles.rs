//! The writer's side of the article step: pending steps for the fetcher, and each outcome
//! stored with the alerts the article adds, in batches that take their turn at the write lock
//! like every other write.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{info, warn};

use super::{BATCH, Job, Writer};
use crate::article::ArticleDone;
use crate::store::{PendingArticle, StoreError, unix_now};

type ArticleJob = (ArticleDone, oneshot::Sender<bool>);

impl Writer {
    /// Up to `limit` pending article steps (none when the database cannot be read).
    pub(super) fn pending_articles(&self, limit: usize) -> Vec<PendingArticle> {
        self.store.pending_articles(limit).unwrap_or_else(|e| {
            if self.store.met(&e) {
                warn!(error = %e, "cannot read the pending article fetches; trying again later");
            }
            Vec::new()
        })
    }

    /// Applies `first` and the article outcomes queued behind it (up to [`BATCH`]) in one
    /// transaction, then answers each; returns a job of another kind taken from the queue on
    /// the way. An outcome not stored leaves its step pending.
    pub(super) fn article_batch(
        &mut self,
        first: ArticleJob,
        jobs: &mut mpsc::Receiver<Job>,
        committed: &Notify,
    ) -> Option<Job> {
        if let Err(e) = self.store.begin_batch() {
            if self.store.met(&e) {
                warn!(error = %e, "cannot store an article; its story stays pending");
            }
            let _ = first.1.send(false);
            return None;
        }
        let (mut replies, mut alerts, mut other) = (Vec::new(), 0, None);
        let mut job = Some(first);
        while let Some((done, reply)) = job.take() {
            match self.apply_article(&done) {
                Ok(n) => {
                    alerts += n;
                    replies.push(reply);
                }
                Err(e) => {
                    if self.store.met(&e) {
                        warn!(story = done.story_id, error = %e, "cannot store an article; its story stays pending");
                    }
                    let _ = reply.send(false);
                }
            }
            if self.store.batch_lost() || replies.len() == BATCH {
                break;
            }
            match jobs.try_recv() {
                Ok(Job::Article { done, reply }) => job = Some((done, reply)),
                Ok(job) => other = Some(job),
                Err(_) => {}
            }
        }
        let stored = match self.store.commit_batch() {
            Ok(()) => true,
            Err(e) => {
                if self.store.met(&e) {
                    warn!(error = %e, "cannot store articles; their stories stay pending");
                }
                false
            }
        };
        if stored && alerts > 0 {
            committed.notify_one();
        }
        for reply in replies {
            let _ = reply.send(stored);
        }
        other
    }

    /// Records one step's outcome; with an article, matches the story again and queues the
    /// alerts of the watches the article adds. Returns the alerts queued.
    fn apply_article(&mut self, done: &ArticleDone) -> Result<usize, StoreError> {
        let config = Arc::clone(&self.config);
        let window = config.dedupe.window.as_secs() as i64;
        let article = done.text.as_deref();
        // As on the parse pool: a panic in matching (a bug) fails this outcome, not the writer.
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.store.apply_article(done.story_id, done.outcome, article, unix_now(), window, |stored| {
                super::counted(crate::raise::with_article(&config, stored, article.unwrap_or_default()))
            })
        }));
        let Some(stats) = applied.map_err(|_| StoreError::MatchCrashed)?? else { return Ok(0) };
        if stats.alerts + stats.clustered > 0 {
            info!(
                story = done.story_id,
                alerts = stats.alerts,
                already_alerted_in_cluster = stats.clustered,
                "article matched"
            );
        }
        Ok(stats.alerts)
    }
}
