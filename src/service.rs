//! Telling the service manager how the daemon is doing (the sd_notify protocol): ready,
//! stopping, reloading, and watchdog pings. Without `NOTIFY_SOCKET` every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::debug;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        debug!(error = %e, "cannot notify the service manager");
    }
}

/// The config is valid and the database open: systemd may consider the service started.
pub fn ready(feeds: usize) {
    let feeds = if feeds == 1 { "1 feed".to_string() } else { format!("{feeds} feeds") };
    send(&[NotifyState::Ready, NotifyState::Status(&format!("polling {feeds}"))]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// A reload has started (with the monotonic time systemd wants beside it); [`ready`] ends it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// How often to ping the watchdog: half its timeout, as systemd advises; `None` without one.
pub fn watchdog_period() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|timeout| timeout / 2)
}

/// Tells the watchdog the daemon made progress.
pub fn watchdog_ping() {
    send(&[NotifyState::Watchdog]);
}
