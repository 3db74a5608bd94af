//! Notifiers deliver alerts; the dispatcher drains the outbox into them.
//!
//! Only this module writes alerts anywhere. It never decides what matches (the matcher does) or
//! what is new (the store does): it takes queued outbox rows and reports each one delivered or
//! failed.

mod dispatch;
pub mod stdout;

use std::io::Write;
use std::path::PathBuf;

pub use dispatch::{Dispatcher, backoff};

use crate::alert::Alert;
use crate::config::{self, NotifierKind};

/// Why one delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (a server down, a full disk).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (the alert was refused for good).
    #[error("{0}")]
    Permanent(String),
}

/// A configured notifier, ready to deliver.
#[derive(Debug)]
pub enum Notifier {
    Stdout,
    Jsonl { path: PathBuf },
}

impl Notifier {
    pub fn new(spec: &config::Notifier) -> Notifier {
        match &spec.kind {
            NotifierKind::Stdout => Notifier::Stdout,
            NotifierKind::Jsonl { path } => Notifier::Jsonl { path: path.clone() },
        }
    }

    /// Delivers one alert.
    pub async fn deliver(&self, alert: &Alert) -> Result<(), DeliveryError> {
        match self {
            Notifier::Stdout => {
                let text = stdout::render(alert);
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| DeliveryError::Transient(format!("cannot write to stdout: {e}")))
            }
            Notifier::Jsonl { path } => append_line(path, &alert.to_json()).await,
        }
    }
}

async fn append_line(path: &std::path::Path, line: &str) -> Result<(), DeliveryError> {
    use tokio::io::AsyncWriteExt;
    let fail = |e: std::io::Error| DeliveryError::Transient(format!("cannot append to {}: {e}", path.display()));
    let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(path).await.map_err(fail)?;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    // One write call per line, so concurrent appenders never interleave within a line.
    file.write_all(buf.as_bytes()).await.map_err(fail)?;
    file.flush().await.map_err(fail)
}
