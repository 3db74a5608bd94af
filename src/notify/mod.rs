//! Notifiers deliver alerts; the dispatcher drains the outbox into them.
//!
//! Only this module writes alerts anywhere. It never decides what matches (the matcher does) or
//! what is new (the store does): it takes queued outbox rows and reports each one delivered or
//! failed.

pub mod chat;
mod dispatch;
pub mod email;
mod error;
mod http;
mod lanes;
pub mod render;
pub mod schedule;
pub mod stdout;
pub mod webhook;

use std::io::Write;
use std::path::PathBuf;

pub use dispatch::{DispatchError, Dispatcher, backoff};
pub use error::{BuildError, DeliveryError};
pub use lanes::{DeliveryFault, Lanes};

use crate::alert::Alert;
use crate::config::{self, Delivery, NotifierKind};

/// What one delivery carries: one story's alerts (one per watch it matched), or several
/// stories as a digest.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub alerts: &'a [Alert],
    /// Stable across retries of the same rows; [`Outgoing::id`] is made of it.
    pub key: String,
    pub digest: bool,
}

impl Outgoing<'_> {
    /// Whether this goes as one story's message: not a digest, and every alert of one story
    /// (one per watch it matched). Anything else is written as a digest.
    pub fn one_story(&self) -> bool {
        !self.digest && render::one_story(self.alerts)
    }

    /// The message's subject or title: `template` filled in for one story (see
    /// [`render::subject`]), a digest's count of stories per watch otherwise.
    pub fn subject(&self, template: &str) -> String {
        if self.one_story() { render::subject(template, self.alerts) } else { render::digest_subject(self.alerts) }
    }

    /// The message's id, a hash of its key: the same for every resend of the same rows. Email
    /// makes its `Message-ID` of it, webhooks send it as `Idempotency-Key`, Matrix as the
    /// event's transaction id, so each receiving end can fold a resend after a crash.
    pub fn id(&self) -> String {
        crate::digest::short_hash(&[self.key.as_bytes()])
    }
}

/// A configured notifier, ready to deliver.
#[derive(Debug)]
pub struct Notifier {
    pub name: String,
    pub delivery: Delivery,
    /// Whether several alerts can go as one message (see [`NotifierKind::batches`]).
    batches: bool,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Stdout,
    Jsonl { path: PathBuf },
    Email(email::EmailNotifier),
    Webhook(webhook::WebhookNotifier),
    Chat(chat::ChatNotifier),
}

impl Notifier {
    /// Builds the notifier; secrets are read here, and the error says which one is missing.
    pub fn new(spec: &config::Notifier) -> Result<Notifier, BuildError> {
        let tz = spec.delivery.timezone;
        let sink = match &spec.kind {
            NotifierKind::Stdout => Sink::Stdout,
            NotifierKind::Jsonl { path } => Sink::Jsonl { path: path.clone() },
            NotifierKind::Email(e) => Sink::Email(email::EmailNotifier::new(e, tz)?),
            NotifierKind::Webhook(w) => Sink::Webhook(webhook::WebhookNotifier::new(w, tz)?),
            NotifierKind::Telegram(t) => Sink::Chat(chat::ChatNotifier::telegram(t, tz)?),
            NotifierKind::Matrix(m) => Sink::Chat(chat::ChatNotifier::matrix(m, tz)?),
        };
        Ok(Notifier { name: spec.name.clone(), delivery: spec.delivery.clone(), batches: spec.kind.batches(), sink })
    }

    /// Builds every configured notifier, or says which cannot be built and where each stands
    /// in the config file.
    pub fn all(config: &config::Config) -> Result<Vec<Notifier>, config::ConfigErrors> {
        let (mut built, mut errors) = (Vec::new(), Vec::new());
        for spec in &config.notifiers {
            match Notifier::new(spec) {
                Ok(n) => built.push(n),
                Err(e) => errors.push(config::ConfigError {
                    file: config.source.clone(),
                    position: spec.position,
                    message: format!("notifier {:?}: {e}", spec.name),
                }),
            }
        }
        if errors.is_empty() { Ok(built) } else { Err(config::ConfigErrors(errors)) }
    }

    /// Whether several alerts can go as one message (email, webhooks, chats).
    pub fn batches(&self) -> bool {
        self.batches
    }

    /// Delivers `out`; returns what the receiving end answered.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        match &self.sink {
            Sink::Stdout => {
                let text: String = out.alerts.iter().map(stdout::render).collect();
                let mut so = std::io::stdout().lock();
                so.write_all(text.as_bytes())
                    .and_then(|()| so.flush())
                    .map(|()| "written to standard output".to_string())
                    .map_err(|source| DeliveryError::Io { what: "write to standard output".into(), source })
            }
            Sink::Jsonl { path } => {
                let lines: String = out.alerts.iter().map(|a| a.to_json() + "\n").collect();
                append(path, &lines).await.map(|()| format!("appended to {}", path.display()))
            }
            Sink::Email(e) => e.send(out).await,
            Sink::Webhook(w) => w.send(out).await,
            Sink::Chat(c) => c.send(out).await,
        }
    }
}

async fn append(path: &std::path::Path, lines: &str) -> Result<(), DeliveryError> {
    use tokio::io::AsyncWriteExt;
    let fail = |source| DeliveryError::Io { what: format!("append to {}", path.display()), source };
    let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(path).await.map_err(fail)?;
    // One write call, so concurrent appenders never interleave within a line.
    file.write_all(lines.as_bytes()).await.map_err(fail)?;
    file.flush().await.map_err(fail)
}
