//! `wirewatch check`: the config is valid; say what it holds.
//!
//! Secrets are not read here: `check` runs where the service's environment and credentials
//! may not be (an admin's shell, before `LoadCredential=` puts the file in place). Start-up
//! reads them and stops with exit 2, naming the notifier's line, when one is missing.

use std::process::ExitCode;

use super::CommandError;
use crate::config::Config;

pub fn check(config: &Config) -> Result<ExitCode, CommandError> {
    super::emit(format!(
        "{}: ok: {} feeds, {} entities ({} with the gazetteer), {} watches, {} notifiers\n",
        config.source.display(),
        config.feeds.len(),
        config.entity_count,
        config.matcher.entity_count(),
        config.watches.len(),
        config.notifiers.len()
    ))?;
    super::emit(format!("database: {}\n", config.storage.path.display()))?;
    Ok(ExitCode::SUCCESS)
}
