//! `wirewatch backtest`: what a watch or a query would have alerted over the stored stories.
//! Opens the database read-only; sends nothing.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::CommandError;
use crate::backtest::{self, BacktestError};
use crate::config::Config;
use crate::store::{Store, unix_now};

pub fn backtest(
    config: &Config,
    watch: Option<&str>,
    query: Option<&str>,
    since: Duration,
    json: bool,
) -> Result<ExitCode, CommandError> {
    let matcher = backtest::matcher(config, watch, query).map_err(|e| match e {
        BacktestError::Query(q) => anyhow::anyhow!("{q}"),
        other => anyhow::Error::new(other),
    })?;
    let store = Store::open_read_only(&config.storage.path).context("cannot open the database")?;
    let outcome = backtest::run(config, &store, &matcher, since, unix_now()).context("backtest failed")?;
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for hit in &outcome.hits {
        if json {
            text.push_str(&hit.to_json());
            text.push('\n');
        } else {
            text.push_str(&crate::notify::stdout::render(&hit.alert));
            text.insert_str(text.len() - 1, &format!("  first seen {}\n", super::rfc3339(hit.first_seen)));
        }
    }
    out.write_all(text.as_bytes()).context("cannot write to stdout")?;
    // With --json, standard output holds only the stories' lines; the summary goes beside it.
    let mut lines = Vec::new();
    lines.extend(outcome.retention_note(config.storage.retain));
    lines.push(outcome.summary());
    for line in lines {
        if json {
            eprintln!("{line}");
        } else {
            writeln!(out, "{line}").context("cannot write to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
