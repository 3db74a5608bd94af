//! Why a notifier could not be built, or one delivery failed: typed, with the cause kept, so
//! the dispatcher can branch on the kind (retry, give up, or pause the notifier) and an
//! operator still reads the whole chain.
//!
//! Messages never hold a secret: a webhook URL is shown as its scheme, host and port only.

use std::time::Duration;

/// Why a configured notifier cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A secret named by `*_env` or `*_file` cannot be read (the message names where it was
    /// looked for, never a value).
    #[error("{0}")]
    Secret(String),
    #[error("invalid {field} address: {source}")]
    Address {
        field: &'static str,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("cannot create mail folder {path}: {source}")]
    MailFolder {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read ca_file {path}: {source}")]
    CaFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ca_file {path}: {source}")]
    CaCert {
        path: std::path::PathBuf,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("TLS setup for {host}: {source}")]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("cannot build HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The SMTP server refused the message or the session (its reply is in the source), or
    /// could not be reached.
    #[error("{at}: {source}")]
    Smtp {
        at: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// The receiving end accepted the connection and then said nothing for this long.
    #[error("{at}: no answer within {}s", .after.as_secs())]
    Silent { at: String, after: Duration },
    /// An HTTP request got no answer (connection refused, DNS, TLS, timeout).
    #[error("{at}: {source}")]
    Http {
        at: String,
        #[source]
        source: reqwest::Error,
    },
    /// An HTTP endpoint answered with a status other than success.
    #[error("{at}: HTTP {status}{}", detail_suffix(.detail))]
    Status {
        at: String,
        status: reqwest::StatusCode,
        /// The start of the response body, for a refusal.
        detail: String,
        /// How long the server asked us to wait (`Retry-After`, or the API's own field).
        retry_after: Option<Duration>,
    },
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sendmail: {0}")]
    Sendmail(#[source] lettre::transport::sendmail::Error),
    #[error("cannot write mail file: {0}")]
    MailFile(#[source] lettre::transport::file::Error),
    #[error("cannot build the message: {0}")]
    Build(#[source] lettre::error::Error),
    /// The payload stored in the outbox is not an alert.
    #[error("unreadable alert payload: {0}")]
    Payload(#[source] serde_json::Error),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(" {detail}") }
}

impl DeliveryError {
    /// Retrying cannot help: the message was refused for good.
    pub fn permanent(&self) -> bool {
        match self {
            DeliveryError::Smtp { source, .. } => source.is_permanent(),
            DeliveryError::Status { status, .. } => status.is_client_error() && !matches!(status.as_u16(), 408 | 429),
            DeliveryError::Build(_) | DeliveryError::Payload(_) => true,
            _ => false,
        }
    }

    /// The receiving end is down or asks for a pause, not just this message refused: no
    /// answer in time, no connection at all, or 429 Too Many Requests. The notifier's other
    /// messages would meet the same, so they wait for its next attempt instead of each waiting
    /// out a timeout.
    pub fn pauses_notifier(&self) -> bool {
        match self {
            DeliveryError::Silent { .. } | DeliveryError::Http { .. } => true,
            DeliveryError::Status { status, .. } => status.as_u16() == 429,
            // No reply code: the connection failed, timed out or broke.
            DeliveryError::Smtp { source, .. } => !source.is_transient() && !source.is_permanent(),
            _ => false,
        }
    }

    /// How long the server asked us to wait before the next attempt, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The message with its causes, as kept in the outbox's `last_error`.
    pub fn chain(&self) -> String {
        crate::error_chain(self)
    }
}
