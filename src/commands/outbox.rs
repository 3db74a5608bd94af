//! `wirewatch outbox` and `wirewatch outbox retry`.
//!
//! Listing only reads. Retrying writes, so it takes the database's lock; while a daemon owns
//! the database, `retry --all-dead` asks the daemon to requeue the dead alerts itself
//! (SIGUSR1), and other retries are refused.

use std::process::ExitCode;

use anyhow::Context;

use super::{CommandError, rfc3339};
use crate::cli::{OutboxAction, OutboxArgs, StateFilter};
use crate::config::Config;
use crate::store::{Holder, OutboxEntry, OutboxState, Owner, Store, StoreError, unix_now};

pub fn outbox(config: &Config, args: &OutboxArgs) -> Result<ExitCode, CommandError> {
    match &args.action {
        Some(OutboxAction::Retry { ids, all_dead }) => {
            let chosen = if *all_dead { None } else { Some(ids.as_slice()) };
            retry(&config.storage.path, chosen)
        }
        None => {
            let store = super::open_read_only(config)?;
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

/// Requeues the alerts `chosen` (every dead one for `None`) as the database's owner, or asks
/// the daemon that owns it to.
fn retry(path: &std::path::Path, chosen: Option<&[i64]>) -> Result<ExitCode, CommandError> {
    let context = "cannot requeue";
    // An existing database only; its lock is taken before anything else is opened.
    Store::open_read_only(path).context(context)?;
    let _owner = match Owner::acquire(path, "outbox retry") {
        Ok(owner) => owner,
        Err(StoreError::Locked { holder, .. }) => return ask_owner(path, &holder, chosen),
        Err(e) => return Err(anyhow::Error::new(e).context(context).into()),
    };
    let requeued = Store::open(path).and_then(|store| store.requeue(chosen, unix_now())).context(context)?;
    super::emit(format!("requeued {}{}\n", super::counted(requeued.len(), "alert", "alerts"), id_list(&requeued)))?;
    if let Some(ids) = chosen {
        let missed: Vec<i64> = ids.iter().copied().filter(|i| !requeued.contains(i)).collect();
        if !missed.is_empty() {
            eprintln!("not requeued (no such alert, or already sent):{}", id_list(&missed));
            return Ok(ExitCode::from(super::EXIT_FAILURE));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// While `holder` owns the database: a daemon (`run`) asked to requeue every dead alert
/// itself, with SIGUSR1; any other retry refused, saying what to do instead.
fn ask_owner(path: &std::path::Path, holder: &Holder, chosen: Option<&[i64]>) -> Result<ExitCode, CommandError> {
    let db = path.display();
    let daemon = holder.command.as_deref() == Some("run");
    let refuse = |how: String| {
        Err(anyhow::anyhow!("database {db} is in use by {holder}, which alone writes to it: {how}").into())
    };
    let Some(pid) = holder.pid.filter(|_| daemon) else {
        return refuse("retry once it has finished".into());
    };
    let signal = format!("`kill -USR1 {pid}`, or `systemctl kill --signal=SIGUSR1 wirewatch` for the service");
    if chosen.is_some() {
        return refuse(format!(
            "`wirewatch outbox retry --all-dead` asks it to requeue every dead alert (it sends SIGUSR1: {signal}); \
             to requeue particular alerts, stop it first"
        ));
    }
    if let Err(e) = super::run::ask_to_retry(pid) {
        return refuse(format!("cannot signal it ({e}): as its user or root, send it SIGUSR1 ({signal})"));
    }
    super::emit(format!(
        "asked {holder} to requeue every dead alert; `wirewatch outbox` shows them queued once it has\n"
    ))?;
    Ok(ExitCode::SUCCESS)
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
            rfc3339(r.created),
            r.notifier,
            r.watch
        ));
        if r.state == "queued" && r.attempts > 0 {
            out.push_str(&format!("        next attempt {}\n", rfc3339(r.next_attempt)));
        }
        if let Some(e) = &r.last_error {
            out.push_str(&format!("        last error: {e}\n"));
        }
    }
    out
}
