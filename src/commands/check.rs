//! `wirewatch check`: the config is valid; say what it holds.
//!
//! Secrets are not read here: `check` runs where the service's environment and credentials
//! may not be (an admin's shell, before `LoadCredential=` puts the file in place). Start-up
//! reads them and stops with exit 2, naming the notifier's line, when one is missing.
//!
//! Files the service writes are checked: a jsonl notifier's folder must exist, and a file
//! outside the places the shipped unit lets the service write (`ProtectSystem=strict` makes
//! everything else read-only) gets a note saying where it can.

use std::process::ExitCode;

use std::path::Path;

use super::{CommandError, counted};
use crate::config::{Config, ConfigError, ConfigErrors, NotifierKind};

/// Where the shipped unit's service may write: its `StateDirectory=` (and the temporary
/// folders). Everything else is read-only under `ProtectSystem=strict` and `ProtectHome=yes`.
const UNIT_STATE_DIRECTORY: &str = "/var/lib/wirewatch";

pub fn check(config: &Config) -> Result<ExitCode, CommandError> {
    let files = written_files(config);
    let missing: Vec<ConfigError> = files
        .iter()
        .filter(|(_, path)| path.parent().is_some_and(|dir| !dir.is_dir()))
        .map(|(name, path)| {
            let dir = path.parent().unwrap_or(Path::new("")).display();
            let message = format!("notifier {name:?}: the folder {dir} of path {} does not exist", path.display());
            ConfigError::whole_file(&config.source, message)
        })
        .collect();
    if !missing.is_empty() {
        return Err(ConfigErrors(missing).into());
    }
    super::emit(format!(
        "{}: ok: {}, {} ({} with the gazetteer), {}, {}\n",
        config.source.display(),
        counted(config.feeds.len(), "feed", "feeds"),
        counted(config.entities.len(), "entity", "entities"),
        config.matcher.entity_count(),
        counted(config.watches.len(), "watch", "watches"),
        counted(config.notifiers.len(), "notifier", "notifiers")
    ))?;
    super::emit(format!("database: {}\n", config.storage.path.display()))?;
    let writable = writable_places();
    for (name, path) in &files {
        if !writable.iter().any(|dir| path.starts_with(dir)) {
            super::emit(format!(
                "note: notifier {name:?} appends to {}; under the shipped unit (ProtectSystem=strict) the service can write only in {}\n",
                path.display(),
                writable.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The files notifiers append to, by notifier name.
fn written_files(config: &Config) -> Vec<(&str, &Path)> {
    config
        .notifiers
        .iter()
        .filter_map(|n| match &n.kind {
            NotifierKind::Jsonl { path } => Some((n.name.as_str(), path.as_path())),
            _ => None,
        })
        .collect()
}

/// The folders the service can write in: `$STATE_DIRECTORY` under the unit (each of them),
/// else the shipped unit's state directory; and the temporary folders.
fn writable_places() -> Vec<std::path::PathBuf> {
    let state = std::env::var_os("STATE_DIRECTORY").filter(|d| !d.is_empty());
    let mut places: Vec<std::path::PathBuf> = match state {
        Some(dirs) => std::env::split_paths(&dirs).collect(),
        None => vec![UNIT_STATE_DIRECTORY.into()],
    };
    places.extend(["/tmp", "/var/tmp"].map(std::path::PathBuf::from));
    places
}
