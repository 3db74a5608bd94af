//! `wirewatch once` and `wirewatch run` (with SIGHUP reloads, and SIGUSR1 to requeue the dead
//! alerts).
//!
//! Both own their database for their whole life: they take its lock (`store::Owner`) before
//! anything else touches it, and a second writer is refused at once.

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tracing::{error, info};

use super::{CommandError, counted};
use crate::config::Config;
use crate::engine::{self, EngineError, Summary};
use crate::notify::{DispatchError, Notifier};
use crate::service;
use crate::store::{Owner, Store};

pub async fn once(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let _owner = Owner::acquire(&config.storage.path, "once").map_err(|e| failure(e.into(), "cannot poll"))?;
    let summary = engine::once(config).await.map_err(|e| failure(e, "poll failed"))?;
    super::emit(format!("{}\n", summary_line(&summary)))?;
    Ok(if summary.failed() { ExitCode::from(super::EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

/// `polled 4 feeds (1 failed), 19 new stories, 6 alerts delivered, 2 waiting for retry`: the
/// last part only when some are.
fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "polled {} ({} failed), {}, {} delivered",
        counted(s.polled, "feed", "feeds"),
        s.failed,
        counted(s.new_stories, "new story", "new stories"),
        counted(s.delivered, "alert", "alerts"),
    );
    if s.waiting > 0 {
        line.push_str(&format!(", {} waiting for retry", s.waiting));
    }
    if s.storage_failed {
        line.push_str("; the database could not store every poll");
    }
    line
}

/// A notifier that cannot be built (a secret missing) is a configuration problem: exit 2, so
/// systemd does not restart into the same failure.
fn failure(e: EngineError, what: &str) -> CommandError {
    match e {
        EngineError::Dispatch(DispatchError::Notifier(errors)) | EngineError::Web(errors) => {
            CommandError::Config(errors)
        }
        other => CommandError::Other(anyhow::Error::new(other).context(what.to_string())),
    }
}

/// Runs the daemon until SIGTERM or SIGINT. SIGHUP reloads the config: the new one is checked
/// first (file and notifiers); if it is bad the error is logged and the running engine goes
/// on; if it is good the engine stops as on shutdown (in-flight polls finish, the writer
/// commits) and starts again with it. Every feed's state and schedule is in the database, so
/// feeds added start, feeds removed stop, and nothing is lost or alerted twice.
pub async fn run(mut config: Arc<Config>) -> Result<ExitCode, CommandError> {
    // Before the lock: `outbox retry --all-dead` sends SIGUSR1 to the lock's holder, which
    // must never be its default action (ending the process).
    let mut signals = Signals::new();
    let mut _owner = Owner::acquire(&config.storage.path, "run").map_err(|e| failure(e.into(), "cannot start"))?;
    let retry_dead = Arc::new(Notify::new());
    // Feeds whose interval settings a reload changed: polled at once, then on the new plan.
    let mut reschedule = Vec::new();
    loop {
        let source = config.source.clone();
        let (stop, stopped) = watch::channel(false);
        let work = engine::run(Arc::clone(&config), stopped, Arc::clone(&retry_dead), std::mem::take(&mut reschedule));
        let mut engine = tokio::spawn(work);
        let next = tokio::select! {
            next = wait_for_good_config(&mut signals, &source, &retry_dead) => next,
            ended = &mut engine => {
                // The engine stopped by itself: a fatal error.
                ended_well(ended)?;
                return Ok(ExitCode::SUCCESS);
            }
        };
        if next.is_some() {
            service::reloading();
        }
        let _ = stop.send(true);
        ended_well(engine.await)?;
        match next {
            Some((new, owner)) => {
                reschedule = interval_changed(&config, &new);
                let (feeds, watches, rescheduled) = (new.feeds.len(), new.watches.len(), reschedule.len());
                info!(file = %source.display(), feeds, watches, rescheduled, "config reloaded");
                config = Arc::new(new);
                // The lock of the database the new config names (the same one, unless it moved).
                _owner = owner;
            }
            None => {
                service::stopping();
                info!("stopped");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// The feeds of `new` (by index) that `old` also polled with other interval settings: their
/// own `interval`, or `[poll]`'s `interval`, `min_interval`, `max_interval` or `adaptive`.
fn interval_changed(old: &Config, new: &Config) -> Vec<usize> {
    let (a, b) = (&old.poll, &new.poll);
    let poll_changed = (a.interval, a.min_interval, a.max_interval, a.adaptive)
        != (b.interval, b.min_interval, b.max_interval, b.adaptive);
    new.feeds
        .iter()
        .enumerate()
        .filter(|(_, f)| old.feed(&f.url()).is_some_and(|before| poll_changed || before.interval != f.interval))
        .map(|(i, _)| i)
        .collect()
}

/// How an engine task ended, as the command's error if it failed or panicked.
fn ended_well(joined: Result<Result<(), EngineError>, tokio::task::JoinError>) -> Result<(), CommandError> {
    let result = joined.map_err(|e| CommandError::Other(anyhow::anyhow!("the daemon panicked: {e}")))?;
    result.map_err(|e| failure(e, "daemon failed"))
}

/// Waits for SIGHUP with a config that passes every check (the file, every notifier's secret,
/// the web token, its database, whose lock it returns), returned; or for a shutdown signal (`None`). A bad
/// config is logged and waited past; SIGUSR1 is passed on to `retry_dead`.
async fn wait_for_good_config(
    signals: &mut Signals,
    source: &std::path::Path,
    retry_dead: &Notify,
) -> Option<(Config, Owner)> {
    loop {
        match signals.next().await {
            Signal::Stop(name) => {
                info!(signal = name, "shutting down");
                return None;
            }
            Signal::RetryDead => {
                info!("SIGUSR1: requeueing the dead alerts");
                retry_dead.notify_one();
            }
            Signal::Reload => {
                info!(file = %source.display(), "SIGHUP: reloading the config");
                let checked = Config::load(source)
                    .and_then(|c| c.require_work().map(|()| c))
                    .map_err(|e| e.to_string())
                    .and_then(|c| Notifier::all(&c).map(|_| c).map_err(|e| e.to_string()))
                    .and_then(|c| crate::web::read_token(&c).map(|_| c).map_err(|e| e.to_string()))
                    .and_then(|c| {
                        let owner = Owner::acquire(&c.storage.path, "run").map_err(|e| e.to_string())?;
                        Store::open_checked(&c.storage.path).map(|_| (c, owner)).map_err(|e| e.to_string())
                    });
                match checked {
                    Ok(config) => return Some(config),
                    Err(e) => error!(error = %e, "config not reloaded; the running config stays"),
                }
            }
        }
    }
}

enum Signal {
    Stop(&'static str),
    Reload,
    /// SIGUSR1: requeue every dead alert (`outbox retry --all-dead` beside the daemon).
    RetryDead,
}

/// Asks the daemon `pid` to requeue every dead alert: SIGUSR1, which [`Signals`] receives.
#[cfg(unix)]
pub(super) fn ask_to_retry(pid: u32) -> std::io::Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or(std::io::ErrorKind::InvalidInput)?;
    Ok(kill_process(pid, Signal::USR1)?)
}

#[cfg(not(unix))]
pub(super) fn ask_to_retry(_: u32) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            term: signal(SignalKind::terminate()).expect("SIGTERM can be handled"),
            hup: signal(SignalKind::hangup()).expect("SIGHUP can be handled"),
            usr1: signal(SignalKind::user_defined1()).expect("SIGUSR1 can be handled"),
        }
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop("SIGTERM"),
            _ = tokio::signal::ctrl_c() => Signal::Stop("SIGINT"),
            _ = self.hup.recv() => Signal::Reload,
            _ = self.usr1.recv() => Signal::RetryDead,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Signals {
        Signals
    }

    async fn next(&mut self) -> Signal {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Stop("SIGINT")
    }
}
