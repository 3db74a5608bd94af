//! The ingest writer: one thread that owns the writing database connection and applies every
//! poll outcome to it in order.
//!
//! Poll tasks send [`Job`]s over a bounded channel and get a [`FeedReport`] back once the
//! outcome is committed, so a feed's validators are only ever advanced together with its stories.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{info, warn};

use crate::alert::{Alert, document};
use crate::config::{Config, Feed};
use crate::feed::Story;
use crate::poller::{PollOutcome, Validators};
use crate::store::{FetchMeta, IngestStats, NewAlert, Store, StoreError, unix_now};

/// What the writer did with one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedReport {
    pub url: String,
    pub result: Result<IngestStats, String>,
    /// The validators now stored for the feed, for its next fetch.
    pub validators: Validators,
}

pub enum Job {
    /// Look up the stored validators of every configured feed, in config order.
    Validators {
        reply: oneshot::Sender<Vec<Validators>>,
    },
    Ingest {
        feed: usize,
        outcome: PollOutcome,
        reply: oneshot::Sender<FeedReport>,
    },
}

/// Starts the writer thread. `committed` is notified after each ingest that queued alerts.
pub fn spawn(
    config: Arc<Config>,
    store: Store,
    mut jobs: mpsc::Receiver<Job>,
    committed: Arc<Notify>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("wirewatch-ingest".into())
        .spawn(move || {
            let mut w = Writer { config, store };
            while let Some(job) = jobs.blocking_recv() {
                match job {
                    Job::Validators { reply } => {
                        let _ = reply.send(w.validators());
                    }
                    Job::Ingest { feed, outcome, reply } => {
                        let config = Arc::clone(&w.config);
                        let report = w.apply(&config.feeds[feed], outcome);
                        if matches!(report.result, Ok(s) if s.alerts > 0) {
                            committed.notify_one();
                        }
                        let _ = reply.send(report);
                    }
                }
            }
        })
        .expect("the OS can start a thread")
}

struct Writer {
    config: Arc<Config>,
    store: Store,
}

impl Writer {
    fn validators(&self) -> Vec<Validators> {
        self.config
            .feeds
            .iter()
            .map(|f| match self.store.feed_state(&f.url()) {
                Ok(s) => Validators { etag: s.etag, last_modified: s.last_modified },
                Err(e) => {
                    warn!(feed = %f.url(), error = %e, "cannot read feed state; fetching unconditionally");
                    Validators::default()
                }
            })
            .collect()
    }

    fn apply(&mut self, feed: &Feed, outcome: PollOutcome) -> FeedReport {
        let url = feed.url();
        let (result, validators) = match self.try_apply(feed, outcome) {
            Ok(r) => r,
            Err(e) => (Err(format!("cannot store poll result: {e}")), Validators::default()),
        };
        if let Err(reason) = &result {
            warn!(feed = %url, error = %reason, "feed poll failed");
        }
        FeedReport { url, result, validators }
    }

    fn try_apply(
        &mut self,
        feed: &Feed,
        outcome: PollOutcome,
    ) -> Result<(Result<IngestStats, String>, Validators), StoreError> {
        let url = feed.url();
        let state = self.store.feed_state(&url)?;
        let now = unix_now();
        let kept = Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
        match outcome {
            PollOutcome::NotModified => {
                self.store.record_unchanged(state.id, now)?;
                Ok((Ok(IngestStats::default()), kept))
            }
            PollOutcome::Failed(reason) => {
                self.store.record_failure(state.id, &reason, now)?;
                Ok((Err(reason), kept))
            }
            PollOutcome::Parsed { feed: parsed, etag, last_modified } => {
                let name = feed.name.clone().or(parsed.title.clone()).unwrap_or_else(|| url.clone());
                let meta = FetchMeta {
                    title: parsed.title.as_deref(),
                    etag: etag.as_deref(),
                    last_modified: last_modified.as_deref(),
                };
                let backfill_cutoff = (!state.seen_before).then(|| now - self.config.poll.backfill.as_secs() as i64);
                let config = Arc::clone(&self.config);
                let stats = self.store.ingest(state.id, &meta, &parsed.stories, now, |story| {
                    alerts_for(&config, feed, &name, story, backfill_cutoff)
                })?;
                if stats.new_stories > 0 {
                    info!(feed = %url, new_stories = stats.new_stories, alerts = stats.alerts, "feed polled");
                }
                Ok((Ok(stats), Validators { etag, last_modified }))
            }
        }
    }
}

/// The alerts to queue for a story seen for the first time. On a feed's first sight, stories
/// older than the backfill cutoff, or undated, are stored without alerting.
fn alerts_for(config: &Config, feed: &Feed, name: &str, story: &Story, backfill_cutoff: Option<i64>) -> Vec<NewAlert> {
    if let Some(cutoff) = backfill_cutoff {
        if story.published.is_none_or(|p| p.timestamp() < cutoff) {
            return Vec::new();
        }
    }
    let doc = document(story, name, &feed.tags);
    config
        .matcher
        .match_document(&doc)
        .into_iter()
        .map(|m| {
            let notifiers = config.watches[m.index].notify.clone();
            let alert = Alert::new(name, story, &doc, m);
            NewAlert {
                watch: alert.watch.clone(),
                matched: serde_json::to_string(&alert.matched).expect("matches serialise"),
                notifiers,
                payload: alert.to_json(),
            }
        })
        .collect()
}
