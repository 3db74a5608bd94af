//! Logs: to standard error through `tracing`, filtered by `RUST_LOG` (default `info`), as text
//! or one JSON object per line (`[log] format`). Under journald (`JOURNAL_STREAM` set), which
//! stamps every line itself, no timestamps of our own and no colours.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    // `try_init`: a second call (tests running commands in one process) keeps the first.
    let _ = match (format, journald) {
        (LogFormat::Text, false) => builder.try_init(),
        (LogFormat::Text, true) => builder.without_time().with_ansi(false).try_init(),
        (LogFormat::Json, false) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Json, true) => builder.json().flatten_event(true).without_time().try_init(),
    };
}
