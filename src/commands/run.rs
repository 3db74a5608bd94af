//! `wirewatch once` and `wirewatch run` (with SIGHUP reloads).

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::{error, info};

use super::CommandError;
use crate::config::Config;
use crate::engine::{self, EngineError};
use crate::notify::{DispatchError, Notifier};
use crate::service;
use crate::store::Store;

pub async fn once(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let summary = engine::once(config).await.map_err(|e| failure(e, "poll failed"))?;
    super::emit(format!("{summary}\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// A notifier that cannot be built (a secret missing) is a configuration problem: exit 2, so
/// systemd does not restart into the same failure.
fn failure(e: EngineError, what: &str) -> CommandError {
    match e {
        EngineError::Dispatch(DispatchError::Notifier(errors)) => CommandError::Config(errors),
        other => CommandError::Other(anyhow::Error::new(other).context(what.to_string())),
    }
}

/// Runs the daemon until SIGTERM or SIGINT. SIGHUP reloads the config: the new one is checked
/// first (file and notifiers); if it is bad the error is logged and the running engine goes
/// on; if it is good the engine stops as on shutdown (in-flight polls finish, the writer
/// commits) and starts again with it. Every feed's state and schedule is in the database, so
/// feeds added start, feeds removed stop, and nothing is lost or alerted twice.
pub async fn run(mut config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let mut signals = Signals::new();
    loop {
        let source = config.source.clone();
        let (stop, stopped) = watch::channel(false);
        let mut engine = tokio::spawn(engine::run(Arc::clone(&config), stopped));
        let next = tokio::select! {
            next = wait_for_good_config(&mut signals, &source) => next,
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
            Some(new) => {
                info!(file = %source.display(), feeds = new.feeds.len(), watches = new.watches.len(), "config reloaded");
                config = Arc::new(new);
            }
            None => {
                service::stopping();
                info!("stopped");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// How an engine task ended, as the command's error if it failed or panicked.
fn ended_well(joined: Result<Result<(), EngineError>, tokio::task::JoinError>) -> Result<(), CommandError> {
    let result = joined.map_err(|e| CommandError::Other(anyhow::anyhow!("the daemon panicked: {e}")))?;
    result.map_err(|e| failure(e, "daemon failed"))
}

/// Waits for SIGHUP with a config that passes every check (the file, every notifier's secret,
/// its database), returned; or for a shutdown signal (`None`). A bad config is logged and
/// waited past.
async fn wait_for_good_config(signals: &mut Signals, source: &std::path::Path) -> Option<Config> {
    loop {
        match signals.next().await {
            Signal::Stop(name) => {
                info!(signal = name, "shutting down");
                return None;
            }
            Signal::Reload => {
                info!(file = %source.display(), "SIGHUP: reloading the config");
                let checked = Config::load(source)
                    .and_then(|c| c.require_work().map(|()| c))
                    .map_err(|e| e.to_string())
                    .and_then(|c| Notifier::all(&c).map(|_| c).map_err(|e| e.to_string()))
                    .and_then(|c| Store::open_checked(&c.storage.path).map(|_| c).map_err(|e| e.to_string()));
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
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            term: signal(SignalKind::terminate()).expect("SIGTERM can be handled"),
            hup: signal(SignalKind::hangup()).expect("SIGHUP can be handled"),
        }
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop("SIGTERM"),
            _ = tokio::signal::ctrl_c() => Signal::Stop("SIGINT"),
            _ = self.hup.recv() => Signal::Reload,
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
