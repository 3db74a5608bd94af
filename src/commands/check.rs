//! `wirewatch check`: the config is valid, every notifier can be built (its secrets read);
//! say what it holds.

use std::process::ExitCode;

use super::CommandError;
use crate::config::Config;
use crate::notify::Notifier;

pub fn check(config: &Config) -> Result<ExitCode, CommandError> {
    // Built as the daemon builds them at start, and dropped, inside a runtime: an SMTP
    // connection pool needs one even though nothing is sent.
    super::runtime()?.block_on(async { Notifier::all(config).map(drop) })?;
    println!(
        "{}: ok: {} feeds, {} entities ({} with the gazetteer), {} watches, {} notifiers",
        config.source.display(),
        config.feeds.len(),
        config.entity_count,
        config.matcher.entity_count(),
        config.watches.len(),
        config.notifiers.len()
    );
    println!("database: {}", config.storage.path.display());
    Ok(ExitCode::SUCCESS)
}
