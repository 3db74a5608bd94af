//! Delivery as the daemon runs it: one task per notifier, each draining its own outbox rows
//! whenever the writer commits alerts and every [`DELIVERY_TICK`], so one notifier's slow or
//! silent server never holds back another's alerts. The tasks are watched: one that panics,
//! or whose pass makes no progress for [`STALL_AFTER`], is a [`DeliveryFault`], which stops
//! the daemon (see `engine`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use super::Dispatcher;
use crate::store::StoreError;

/// How often a notifier looks for retries that came due, when nothing new arrives.
const DELIVERY_TICK: Duration = Duration::from_secs(15);
/// How long a notifier's pass may go without progress before it counts as stalled: more than
/// any one attempt may take (an SMTP delivery is cut off at 120 s, a webhook at 30 s), with
/// room for turns at the database's write lock.
pub const STALL_AFTER: Duration = Duration::from_secs(300);

/// Delivery stopped working: the daemon cannot keep its promise and must be restarted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryFault {
    #[error("delivery to notifier {notifier:?} crashed: {message}")]
    Panicked { notifier: String, message: String },
    #[error("delivery to notifier {notifier:?} stopped")]
    Ended { notifier: String },
    #[error("delivery to notifier {notifier:?} stalled: no progress for {}s", .after.as_secs())]
    Stalled { notifier: String, after: Duration },
}

impl DeliveryFault {
    /// The fault of a notifier's task that ended on `e` (a panic, or cancelled).
    pub fn ended(notifier: String, e: tokio::task::JoinError) -> DeliveryFault {
        match e.try_into_panic() {
            Ok(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                DeliveryFault::Panicked { notifier, message }
            }
            Err(_) => DeliveryFault::Ended { notifier },
        }
    }
}

/// The running delivery tasks, one per notifier.
pub struct Lanes {
    dispatcher: Arc<Dispatcher>,
    lanes: Vec<Option<JoinHandle<()>>>,
    stop: watch::Sender<bool>,
    /// Turns the writer's `committed` signal into a wake-up for every lane.
    waker: JoinHandle<()>,
    stall_after: Duration,
}

impl Lanes {
    /// Starts a task per notifier; `committed` is signalled when the writer queued alerts.
    pub fn start(dispatcher: Arc<Dispatcher>, committed: Arc<Notify>) -> Lanes {
        let (wake, _) = watch::channel(0u64);
        let (stop, _) = watch::channel(false);
        let lanes = (0..dispatcher.len())
            .map(|i| Some(tokio::spawn(lane(Arc::clone(&dispatcher), i, wake.subscribe(), stop.subscribe()))))
            .collect();
        let waker = tokio::spawn(async move {
            loop {
                committed.notified().await;
                wake.send_modify(|n| *n += 1);
            }
        });
        let stall_after = crate::fault::stall_after(STALL_AFTER);
        Lanes { dispatcher, lanes, stop, waker, stall_after }
    }

    /// A notifier's task that ended while it should run (a panic), or whose pass stalled.
    pub async fn fault(&mut self) -> Option<DeliveryFault> {
        for i in 0..self.lanes.len() {
            if self.lanes[i].as_ref().is_some_and(JoinHandle::is_finished) {
                let lane = self.lanes[i].take().expect("checked above");
                let notifier = self.dispatcher.name(i).to_string();
                return Some(match lane.await {
                    Ok(()) => DeliveryFault::Ended { notifier },
                    Err(e) => DeliveryFault::ended(notifier, e),
                });
            }
        }
        let i = self.dispatcher.stalled(self.stall_after)?;
        Some(DeliveryFault::Stalled { notifier: self.dispatcher.name(i).to_string(), after: self.stall_after })
    }

    /// Asks every task for a last pass and waits up to `grace` for them; a task still busy
    /// then (a silent server) is aborted, and its rows stay in `sending` for the next start.
    /// Returns whether every task finished its last pass.
    pub async fn stop(mut self, grace: Duration) -> bool {
        let _ = self.stop.send(true);
        self.waker.abort();
        let deadline = tokio::time::Instant::now() + grace;
        let mut clean = true;
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let Some(lane) = lane.take() else { continue };
            let abort = lane.abort_handle();
            if tokio::time::timeout_at(deadline, lane).await.is_err() {
                warn!(notifier = %self.dispatcher.name(i), "delivery still busy after the grace period; abandoned");
                abort.abort();
                clean = false;
            }
        }
        clean
    }

    /// Stops every task at once, without a last pass.
    pub async fn abort(mut self) {
        self.waker.abort();
        for lane in self.lanes.iter_mut().filter_map(Option::take) {
            lane.abort();
            let _ = lane.await;
        }
    }
}

/// Notifier `i`'s task: a pass at start, whenever alerts were committed, every
/// [`DELIVERY_TICK`], and a last one when asked to stop.
async fn lane(dispatcher: Arc<Dispatcher>, i: usize, mut wake: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) {
    loop {
        let last = *stop.borrow_and_update();
        // A damaged file stops the daemon, which says so once.
        if let Err(e) = dispatcher.drain_one(i).await
            && !matches!(e, StoreError::Corrupt { .. })
        {
            warn!(notifier = %dispatcher.name(i), error = %e, "alert delivery stopped on a database error; retrying");
        }
        if last {
            return;
        }
        tokio::select! {
            _ = wake.changed() => {}
            _ = tokio::time::sleep(DELIVERY_TICK) => {}
            _ = stop.changed() => {}
        }
    }
}
