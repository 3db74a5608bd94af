//! Prometheus metrics and a health check over HTTP (`[metrics] listen`).
//!
//! Counters live in one process-wide registry that the poller, the writer and the dispatcher
//! add to; gauges that describe the database (outbox depth, failing feeds) are read from it at
//! each scrape, so they are right even across restarts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::{info, warn};

use crate::store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WatchLabel {
    watch: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertState {
    state: &'static str,
}

pub struct Metrics {
    registry: Registry,
    fetches: Family<Outcome, Counter>,
    fetch_seconds: Histogram,
    new_stories: Counter,
    matches: Family<WatchLabel, Counter>,
    alerts: Family<AlertState, Counter>,
    outbox: Family<AlertState, Gauge>,
    feeds_failing: Gauge,
    article_fetches: Family<Outcome, Counter>,
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Metrics {
        let (fetches, new_stories, matches, alerts) =
            (Family::default(), Counter::default(), Family::default(), Family::default());
        // 50 ms to about 50 s.
        let fetch_seconds = Histogram::new(exponential_buckets(0.05, 2.0, 11));
        let (outbox, feeds_failing) = (Family::default(), Gauge::default());
        let mut registry = Registry::with_prefix("wirewatch");
        registry.register("fetches", "Feed fetches by outcome", fetches.clone());
        registry.register("fetch_duration_seconds", "Time to fetch a feed", fetch_seconds.clone());
        registry.register("new_stories", "Stories seen for the first time", new_stories.clone());
        registry.register("matches", "Stories matched, by watch", matches.clone());
        registry.register("alerts", "Alerts by what became of them: sent, retried or dead", alerts.clone());
        registry.register("outbox_alerts", "Alerts in the outbox by state", outbox.clone());
        registry.register("feeds_failing", "Feeds whose last poll failed", feeds_failing.clone());
        let article_fetches = Family::default();
        registry.register(
            "article_fetches",
            "Article steps by outcome: fetched, short, failed, timeout, refused, expired",
            article_fetches.clone(),
        );
        Metrics {
            registry,
            fetches,
            fetch_seconds,
            new_stories,
            matches,
            alerts,
            outbox,
            feeds_failing,
            article_fetches,
        }
    }

    /// One fetch ended with `outcome` (`ok`, `not_modified`, `failed`, `gone`).
    pub fn fetched(&self, outcome: &'static str, took: Duration) {
        self.fetches.get_or_create(&Outcome { outcome }).inc();
        self.fetch_seconds.observe(took.as_secs_f64());
    }

    /// One article step ended with `outcome` (see [`crate::store::ArticleOutcome::label`]).
    pub fn article(&self, outcome: &'static str) {
        self.article_fetches.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn stored(&self, new_stories: usize) {
        self.new_stories.inc_by(new_stories as u64);
    }

    pub fn matched(&self, watch: &str) {
        self.matches.get_or_create(&WatchLabel { watch: watch.to_string() }).inc();
    }

    /// `n` alerts were sent, will be retried, or are dead.
    pub fn alerts(&self, state: &'static str, n: usize) {
        self.alerts.get_or_create(&AlertState { state }).inc_by(n as u64);
    }

    fn encode(&self, store: Option<&Store>) -> String {
        if let Some(Ok(gauges)) = store.map(|s| {
            s.gauges().inspect_err(|e| {
                s.met(e);
            })
        }) {
            for (state, n) in gauges.outbox {
                self.outbox.get_or_create(&AlertState { state }).set(n);
            }
            self.feeds_failing.set(gauges.feeds_failing);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

/// Whether the daemon is making progress: the scheduler loop and the writer both report in,
/// and delivery has not failed.
#[derive(Clone)]
pub struct Liveness {
    last: Arc<Mutex<Instant>>,
    allowed: Duration,
    /// What stopped the daemon for good, once something did.
    failed: Arc<Mutex<Option<String>>>,
}

impl Liveness {
    pub fn new(allowed: Duration) -> Liveness {
        Liveness { last: Arc::new(Mutex::new(Instant::now())), allowed, failed: Arc::default() }
    }

    pub fn progressed(&self) {
        *self.last.lock().expect("never poisoned") = Instant::now();
    }

    /// Marks the daemon failed for good: every later check says why.
    pub fn fail(&self, why: String) {
        *self.failed.lock().expect("never poisoned") = Some(why);
    }

    /// Why the daemon is not healthy, if it is not.
    pub fn problem(&self) -> Option<String> {
        if let Some(why) = self.failed.lock().expect("never poisoned").clone() {
            return Some(format!("failed: {why}"));
        }
        let stalled = self.last.lock().expect("never poisoned").elapsed() > self.allowed;
        stalled.then(|| "stalled: the scheduler or the database writer stopped making progress".to_string())
    }
}

#[derive(Clone)]
struct Served {
    db: PathBuf,
    liveness: Liveness,
}

/// Serves `/metrics` and `/healthz` on `listen` until the task is dropped.
pub async fn serve(listen: SocketAddr, db: PathBuf, liveness: Liveness) {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            warn!(%listen, error = %e, "cannot listen for metrics; running without them");
            return;
        }
    };
    info!(%listen, "serving /metrics and /healthz");
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(healthz))
        .with_state(Served { db, liveness });
    if let Err(e) = axum::serve(listener, app).await {
        warn!(error = %e, "the metrics server stopped");
    }
}

async fn metrics(State(s): State<Served>) -> impl IntoResponse {
    let text = tokio::task::spawn_blocking(move || get().encode(Store::open_read_only(&s.db).ok().as_ref()))
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
}

async fn healthz(State(s): State<Served>) -> impl IntoResponse {
    match s.liveness.problem() {
        None => (StatusCode::OK, "ok\n".to_string()),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}
