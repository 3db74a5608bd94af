//! `wirewatch once` and `wirewatch run`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;
use tracing::info;

use super::CommandError;
use crate::config::Config;
use crate::engine;

pub async fn once(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let summary = engine::once(config).await.context("poll failed")?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

pub async fn run(config: Arc<Config>) -> Result<ExitCode, CommandError> {
    let (tx, rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        let signal = wait_for_signal().await;
        info!(signal, "shutdown requested");
        let _ = tx.send(true);
    });
    engine::run(config, rx).await.context("daemon failed")?;
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
