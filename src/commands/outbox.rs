//! `wirewatch outbox` and `wirewatch outbox retry`.

use std::process::ExitCode;

use anyhow::Context;

use super::{CommandError, time};
use crate::cli::{OutboxAction, OutboxArgs, StateFilter};
use crate::config::Config;
use crate::store::{OutboxEntry, OutboxState, unix_now};

pub fn outbox(config: &Config, args: &OutboxArgs) -> Result<ExitCode, CommandError> {
    let mut store = super::open_existing(config)?;
    match &args.action {
        Some(OutboxAction::Retry { ids, all_dead }) => {
            let chosen = if *all_dead { None } else { Some(ids.as_slice()) };
            let requeued = store.requeue(chosen, unix_now()).context("cannot requeue")?;
            super::emit(format!("requeued {} alert(s){}\n", requeued.len(), id_list(&requeued)))?;
            if let Some(ids) = chosen {
                let missed: Vec<i64> = ids.iter().copied().filter(|i| !requeued.contains(i)).collect();
                if !missed.is_empty() {
                    eprintln!("not requeued (no such alert, or already sent):{}", id_list(&missed));
                    return Ok(ExitCode::from(super::EXIT_FAILURE));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let states: &[OutboxState] = match args.state {
                None => &[OutboxState::Queued, OutboxState::Sending, OutboxState::Dead],
                Some(StateFilter::Queued) => &[OutboxState::Queued, OutboxState::Sending],
                Some(StateFilter::Dead) => &[OutboxState::Dead],
                Some(StateFilter::All) => &OutboxState::ALL,
            };
            let rows = store.outbox_list(states, args.limit.unwrap_or(100)).context("cannot read the outbox")?;
            super::emit(table(&rows))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(|i| format!(" {i}")).collect()
}

/// The listing: one line per alert, then its last error indented below it.
pub fn table(rows: &[OutboxEntry]) -> String {
    if rows.is_empty() {
        return "no alerts\n".into();
    }
    let mut out = format!(
        "{:>6}  {:<7}  {:>8}  {:<20}  {:<14}  {:<14}  TITLE\n",
        "ID", "STATE", "ATTEMPTS", "CREATED", "NOTIFIER", "WATCH"
    );
    for r in rows {
        let title = super::clip(&r.title, 60);
        out.push_str(&format!(
            "{:>6}  {:<7}  {:>8}  {:<20}  {:<14}  {:<14}  {title}\n",
            r.id,
            r.state,
            r.attempts,
            time(r.created),
            r.notifier,
            r.watch
        ));
        if r.state == "queued" && r.attempts > 0 {
            out.push_str(&format!("        next attempt {}\n", time(r.next_attempt)));
        }
        if let Some(e) = &r.last_error {
            out.push_str(&format!("        last error: {e}\n"));
        }
    }
    out
}
