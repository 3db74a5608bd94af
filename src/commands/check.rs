//! `wirewatch check`: the config is valid; say what it holds.

use std::process::ExitCode;

use crate::config::Config;

pub fn check(config: &Config) -> ExitCode {
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
    ExitCode::SUCCESS
}
