//! `wirewatch once` and `wirewatch run`.

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

use super::CommandError;
use crate::config::{Config, ConfigError, ConfigErrors};
use crate::engine::{self, EngineError};
use crate::notify::DispatchError;

pub async fn once(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let source = config.source.clone();
    let summary = engine::once(config).await.map_err(|e| failure(e, &source, "poll failed"))?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// A notifier that cannot be built (a secret missing) is a configuration problem: exit 2, so
/// systemd does not restart into the same failure.
fn failure(e: EngineError, source: &std::path::Path, what: &str) -> CommandError {
    match e {
        EngineError::Dispatch(DispatchError::Notifier(msg)) => {
            CommandError::Config(ConfigErrors(vec![ConfigError::whole_file(source, msg)]))
        }
        other => CommandError::Other(anyhow::Error::new(other).context(what.to_string())),
    }
}

pub async fn run(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let (tx, rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        let signal = wait_for_signal().await;
        info!(signal, "shutdown requested");
        let _ = tx.send(true);
    });
    let source = config.source.clone();
    engine::run(config, rx).await.map_err(|e| failure(e, &source, "daemon failed"))?;
    signals.abort();
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM can be handled");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}
