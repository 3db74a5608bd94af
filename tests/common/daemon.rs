//! `wirewatch run` as a child process: started with its log beside the config, waited on, and
//! a Unix datagram socket standing in for systemd's `NOTIFY_SOCKET`.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{Setup, bin};

/// Starts `run` on `setup` with `env` set, its standard error in `daemon.log` beside the config.
pub fn start(setup: &Setup, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(setup.path("daemon.log")).unwrap();
    let mut cmd = bin();
    cmd.args(["--config", setup.config.to_str().unwrap(), "run"]).stdout(Stdio::null()).stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits up to `within` for `ready` to hold.
pub fn wait_for(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A notify socket standing in for systemd's.
pub struct Notifications(UnixDatagram);

impl Notifications {
    pub fn bind(path: &Path) -> Notifications {
        Notifications(UnixDatagram::bind(path).unwrap())
    }

    /// The next datagram, or `None` when nothing arrives within `wait`.
    pub fn next(&self, wait: Duration) -> Option<String> {
        self.0.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.0.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Everything received until nothing more comes within `wait`, one datagram after another.
    pub fn drain(&self, wait: Duration) -> String {
        let mut out = String::new();
        while let Some(m) = self.next(wait) {
            out.push_str(&m);
            out.push('\n');
        }
        out
    }

    /// Waits up to `deadline` for a datagram containing `what`.
    pub fn expect(&self, what: &str, deadline: Duration) {
        let end = Instant::now() + deadline;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.next(left).is_some_and(|m| m.contains(what)) {
                return;
            }
        }
        panic!("no {what} within {deadline:?}");
    }

    /// Waits up to `deadline` for the pings to stop: a `quiet` span with none.
    pub fn expect_silence(&self, quiet: Duration, deadline: Duration) {
        let end = Instant::now() + deadline;
        while Instant::now() < end {
            if self.pings_during(quiet) == 0 {
                return;
            }
        }
        panic!("the pings did not stop within {deadline:?}");
    }

    /// Reads everything sent during `span`; how many watchdog pings came.
    pub fn pings_during(&self, span: Duration) -> usize {
        let end = Instant::now() + span;
        let mut pings = 0;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.next(left) {
                Some(m) => pings += m.lines().filter(|l| *l == "WATCHDOG=1").count(),
                None => break,
            }
        }
        pings
    }
}
