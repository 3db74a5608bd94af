//! The `wirewatch` binary: parse the command line, set up logging, run the command, map its
//! error to an exit code (0 ok, 1 fatal, 2 invalid config).

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wirewatch::cli::Cli;
use wirewatch::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match commands::execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            e.exit_code()
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`). Under journald, which stamps
/// every line itself, no timestamps of our own.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().with_ansi(false).init();
    } else {
        builder.init();
    }
}
