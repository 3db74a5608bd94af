//! The daemon under a service manager, without systemd: a Unix datagram socket stands in for
//! `NOTIFY_SOCKET`. wirewatch says READY once its config and database are open, pings the
//! watchdog while it makes progress, stops pinging while its writer is stuck, and says STOPPING
//! on SIGTERM.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{FeedServer, Item, Setup, bin, rss};

struct Notifications {
    socket: UnixDatagram,
}

impl Notifications {
    /// The next datagram, or `None` when nothing arrives within `wait`.
    fn next(&self, wait: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits up to `deadline` for a datagram containing `what`.
    fn expect(&self, what: &str, deadline: Duration) {
        let end = Instant::now() + deadline;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.next(left).is_some_and(|m| m.contains(what)) {
                return;
            }
        }
        panic!("no {what} within {deadline:?}");
    }

    /// Reads everything sent during `span`; how many watchdog pings came.
    fn pings_during(&self, span: Duration) -> usize {
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

fn start(setup: &Setup, socket: &std::path::Path) -> Child {
    bin()
        .args(["--config", setup.config.to_str().unwrap(), "run"])
        .env("NOTIFY_SOCKET", socket)
        .env("WATCHDOG_USEC", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_then_watchdog_pings_that_stop_while_the_writer_is_stuck() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("g-1", "EU widens sanctions", "A new package.")]));
    let setup =
        Setup::one_feed(&server.url("wire.xml"), "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    // Poll every second, so the writer has work all the time.
    let toml = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("[poll]\ntimeout", "[poll]\ninterval = \"1s\"\nmin_interval = \"1s\"\nadaptive = false\ntimeout");
    std::fs::write(&setup.config, toml).unwrap();
    let path = setup.path("notify.sock");
    let notes = Notifications { socket: UnixDatagram::bind(&path).unwrap() };
    let mut daemon = start(&setup, &path);

    notes.expect("READY=1", Duration::from_secs(30));
    assert!(notes.pings_during(Duration::from_secs(3)) >= 3, "a ping every half second while all is well");

    // Another connection holds the write lock: the writer's next write waits (up to its 10 s
    // busy timeout), the ping queued behind it goes unanswered, and the pings stop.
    let db = setup.db();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    notes.pings_during(Duration::from_secs(2));
    assert_eq!(notes.pings_during(Duration::from_secs(3)), 0, "no pings while the writer is stuck");
    db.execute_batch("ROLLBACK").unwrap();
    notes.expect("WATCHDOG=1", Duration::from_secs(20));

    let pid = daemon.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    notes.expect("STOPPING=1", Duration::from_secs(10));
    assert!(daemon.wait().unwrap().success());
}
