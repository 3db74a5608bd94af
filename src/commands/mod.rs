//! One function per subcommand. Each loads what it needs, calls the library and reports; errors
//! come back typed so `main` can map them to exit codes.

mod backtest;
mod check;
mod extract;
pub mod feeds;
mod match_cmd;
mod notify_test;
mod opml;
mod outbox;
mod recent;
mod run;
mod status;
mod storage;

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigErrors};
pub use crate::store::rfc3339;

/// Exit code for an invalid config, so systemd's `RestartPreventExitStatus=2` stops a restart loop.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for any other fatal error.
pub const EXIT_FAILURE: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// Standard output was closed under us (`wirewatch feeds | head -1`): not a failure.
    #[error("standard output closed")]
    OutputClosed,
}

impl CommandError {
    /// The error as standard error shows it: every config error on a line of its own that
    /// starts with `error:` (a query's caret lines follow it, indented).
    pub fn report(&self) -> String {
        match self {
            CommandError::Config(errors) => {
                errors.0.iter().map(|e| format!("error: {e}")).collect::<Vec<_>>().join("\n")
            }
            CommandError::Other(e) => format!("error: {e:#}"),
            CommandError::OutputClosed => String::new(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Config(_) => ExitCode::from(EXIT_CONFIG),
            CommandError::Other(_) => ExitCode::from(EXIT_FAILURE),
            CommandError::OutputClosed => ExitCode::SUCCESS,
        }
    }
}

/// The database of `config`, read-only, for a command that only looks at it: never a new one,
/// never a change, beside a running daemon or as a user who may only read the file.
fn open_read_only(config: &Config) -> Result<crate::store::Store, CommandError> {
    use anyhow::Context;
    Ok(crate::store::Store::open_read_only(&config.storage.path).context("cannot open the database")?)
}

/// Runs the command `cli` names.
pub fn execute(cli: Cli) -> Result<ExitCode, CommandError> {
    // Extraction needs no config: it is a tool for choosing `article_selector`s.
    if let Command::Extract { json, sources } = &cli.command {
        crate::logging::init(crate::config::LogFormat::Text);
        return runtime()?.block_on(extract::run(*json, sources));
    }
    let path = Config::resolve_path(cli.config.as_deref());
    let config = Config::load(&path)?;
    crate::logging::init(config.log.format);
    if matches!(cli.command, Command::Check | Command::Once | Command::Run) {
        config.require_work()?;
    }
    match cli.command {
        Command::Check => check::check(&config),
        Command::Once => runtime()?.block_on(run::once(Arc::new(config))),
        Command::Run => runtime()?.block_on(run::run(Arc::new(config))),
        Command::Extract { .. } => unreachable!("handled before the config is read"),
        Command::Match { json, explain, articles, sources } => {
            let format = match (json, explain) {
                (true, _) => match_cmd::Format::Json,
                (_, true) => match_cmd::Format::Explain,
                _ => match_cmd::Format::Text,
            };
            runtime()?.block_on(match_cmd::run(&config, format, articles, &sources))
        }
        Command::Outbox(args) => outbox::outbox(&config, &args),
        Command::Feeds { json } => feeds::feeds(&config, json),
        Command::Status { json } => status::status(&config, json),
        Command::Recent { watch, since, limit, json } => {
            recent::recent(&config, watch.as_deref(), since.into(), limit, json)
        }
        Command::Backtest { watch, query, since, json } => {
            backtest::backtest(&config, watch.as_deref(), query.as_deref(), since.into(), json)
        }
        Command::ImportOpml { file } => opml::import(&config, &file),
        Command::ExportOpml { with_secrets } => opml::export(&config, with_secrets),
        Command::NotifyTest { notifier } => runtime()?.block_on(notify_test::notify_test(&config, notifier.as_deref())),
    }
}

/// Writes `text` to standard output. A reader that went away (a closed pipe) ends the command
/// quietly with exit 0, as `head` expects, instead of the panic of `print!`.
fn emit(text: impl AsRef<str>) -> Result<(), CommandError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref().as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CommandError::OutputClosed),
        Err(e) => Err(CommandError::Other(anyhow::Error::new(e).context("cannot write to standard output"))),
    }
}

/// `text` cut to at most `width` characters for a table column, ending in `…` when cut.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `n` with the noun in the number it takes: "1 feed", "2 feeds", "0 alerts".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Unix seconds as [`rfc3339`] writes them, if there is a time and the calendar holds it.
fn utc(t: Option<i64>) -> Option<String> {
    t.map(rfc3339).filter(|t| t != "-")
}

fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Other(anyhow::anyhow!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_take_the_noun_in_their_number() {
        assert_eq!(super::counted(1, "feed", "feeds"), "1 feed");
        assert_eq!(super::counted(0, "alert", "alerts"), "0 alerts");
        assert_eq!(super::counted(19, "new story", "new stories"), "19 new stories");
    }

    #[test]
    fn clip_marks_what_it_cut() {
        assert_eq!(super::clip("Demo Wire", 20), "Demo Wire");
        assert_eq!(super::clip("Demo Wire: World Service", 20), "Demo Wire: World Se…");
        assert_eq!(super::clip("Ελληνικά νέα", 5).chars().count(), 5);
    }
}
