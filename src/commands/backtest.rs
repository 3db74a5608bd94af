//! `wirewatch backtest`: what a watch or a query would have alerted over the stored stories.
//! Opens the database read-only; sends nothing.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::CommandError;
use crate::backtest::{self, BacktestError};
use crate::config::Config;
use crate::store::unix_now;

pub fn backtest(
    config: &Config,
    watch: Option<&str>,
    query: Option<&str>,
    since: Duration,
    json: bool,
) -> Result<ExitCode, CommandError> {
    let tested = backtest::matcher(config, watch, query).map_err(|e| match e {
        BacktestError::Query(q) => anyhow::anyhow!("{q}"),
        other => anyhow::Error::new(other),
    })?;
    let store = super::open_read_only(config)?;
    let outcome = backtest::run(config, &store, &tested, since, unix_now()).context("backtest failed")?;
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
    let mut summary = String::new();
    for line in outcome.retention_note(config.storage.retain).into_iter().chain([outcome.summary()]) {
        summary.push_str(&line);
        summary.push('\n');
    }
    // With --json, standard output holds only the stories' lines; the summary goes beside it.
    if json {
        super::emit(text)?;
        eprint!("{summary}");
    } else {
        super::emit(text + &summary)?;
    }
    Ok(ExitCode::SUCCESS)
}
