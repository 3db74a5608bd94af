//! `wirewatch check`: the config is valid; say what it holds.
//!
//! Secrets are not read here: `check` runs where the service's environment and credentials
//! may not be (an admin's shell, before `LoadCredential=` puts the file in place). Start-up
//! reads them and stops with exit 2, naming the notifier's line, when one is missing.

use std::process::ExitCode;

use super::{CommandError, counted};
use crate::config::Config;

pub fn check(config: &Config) -> Result<ExitCode, CommandError> {
    println!(
        "{}: ok: {}, {} ({} with the gazetteer), {}, {}",
        config.source.display(),
        counted(config.feeds.len(), "feed", "feeds"),
        counted(config.entity_count, "entity", "entities"),
        config.matcher.entity_count(),
        counted(config.watches.len(), "watch", "watches"),
        counted(config.notifiers.len(), "notifier", "notifiers")
    );
    println!("database: {}", config.storage.path.display());
    Ok(ExitCode::SUCCESS)
}
