//! Notifiers deliver independently, and delivery is supervised: an SMTP server that accepts
//! and never answers holds back neither a jsonl notifier beside it nor a SIGTERM; a server
//! that refuses connections costs one attempt, not one per alert; a delivery task that
//! crashes or stalls (faults injected through `WIREWATCH_FAULT`, compiled only into the test
//! build) turns `/healthz` to 503, stops the watchdog pings, shows in `status`, and stops the
//! daemon with exit 1.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::{Notifications, start, wait_for};
use common::smtp::SmtpSink;
use common::{FeedServer, Item, Setup, bin, free_port, rss};

/// An SMTP server that accepts connections and never says a word, holding them open.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    format!("smtp://{addr}")
}

/// Three matching stories; an email notifier on `smtp` and a jsonl notifier; `extra` config.
fn two_notifiers(server: &FeedServer, smtp: &str, extra: &str) -> Setup {
    let items: Vec<Item> = (0..3)
        .map(|i| Item::new(["s-0", "s-1", "s-2"][i], ["EU sanctions", "UK sanctions", "US sanctions"][i], "x"))
        .collect();
    server.set_rss("wire.xml", rss("Wire", &items));
    let notifiers = format!(
        "name = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\nfrom = \"alerts@example.org\"\nsmtp = \"{smtp}\"\n\
         [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n{extra}"
    );
    Setup::one_feed(&server.url("wire.xml"), "", &notifiers)
}

/// Each email row's (state, attempts, next attempt).
fn email_rows(setup: &Setup) -> Vec<(String, i64, i64)> {
    let db = setup.db();
    let mut stmt =
        db.prepare("SELECT state, attempts, next_attempt FROM outbox WHERE notifier = 'desk' ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_smtp_server_holds_back_neither_a_jsonl_notifier_nor_sigterm() {
    let server = FeedServer::start().await;
    let setup = two_notifiers(&server, &silent_server(), "");
    let mut daemon = start(&setup, &[]);

    wait_for("the jsonl alerts", Duration::from_secs(30), || setup.alerts().len() == 3);
    // The email notifier is still inside its first attempt (it waits 120 s for an answer):
    // nothing of it has concluded, and yet every jsonl alert is written.
    let rows = email_rows(&setup);
    assert!(rows.iter().all(|(_, attempts, _)| *attempts == 0), "{rows:?}");
    assert!(rows.iter().any(|(state, _, _)| state == "sending"), "{rows:?}");

    // SIGTERM: the silent attempt is abandoned after the grace period, not waited out.
    assert!(Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap().success());
    wait_for("the daemon to stop", Duration::from_secs(60), || daemon.try_wait().unwrap().is_some());
    assert!(daemon.wait().unwrap().success());
    let log = std::fs::read_to_string(setup.path("daemon.log")).unwrap();
    assert!(log.contains("abandoned") && log.contains("desk"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_costs_one_attempt_and_defers_the_other_alerts() {
    let server = FeedServer::start().await;
    let sink = SmtpSink::down();
    let setup = two_notifiers(&server, &sink.url(), "");

    let summary = wirewatch::engine::once(setup.load()).await.unwrap();
    assert_eq!(summary.delivered, 3, "the jsonl notifier delivers regardless");
    assert_eq!(summary.waiting, 3, "the tried alert and the two deferred ones");
    let rows = email_rows(&setup);
    let tried: Vec<_> = rows.iter().filter(|(_, attempts, _)| *attempts == 1).collect();
    assert_eq!(tried.len(), 1, "one attempt, then the notifier waits: {rows:?}");
    let next = tried[0].2;
    assert!(
        rows.iter().all(|(state, _, at)| state == "queued" && *at == next),
        "the others wait for the notifier's next attempt, untried: {rows:?}"
    );
}

async fn healthz(port: u16) -> Option<(u16, String)> {
    let r = common::http().get(format!("http://127.0.0.1:{port}/healthz")).send().await.ok()?;
    Some((r.status().as_u16(), r.text().await.unwrap_or_default()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_or_a_stall_in_delivery_stops_the_daemon_and_shows_why() {
    // A stall counts after 1 s of no progress here (300 s in a real build), only in the stall case:
    // printing a panic's backtrace can take longer than that.
    for (fault, says, stall_after) in [("delivery-panic", "crashed", "300"), ("delivery-stall", "stalled", "1")] {
        let server = FeedServer::start().await;
        let port = free_port();
        let setup =
            two_notifiers(&server, &SmtpSink::down().url(), &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
        let socket = setup.path("notify.sock");
        let notes = Notifications::bind(&socket);
        let env = [
            ("NOTIFY_SOCKET", socket.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
            ("WIREWATCH_FAULT", fault),
            ("WIREWATCH_STALL_AFTER", stall_after),
            ("RUST_BACKTRACE", "0"),
        ];
        let mut daemon = start(&setup, &env);

        let end = Instant::now() + Duration::from_secs(30);
        let body = loop {
            assert!(Instant::now() < end, "{fault}: /healthz never answered 503");
            match healthz(port).await {
                Some((503, body)) => break body,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        assert!(body.contains(says), "{fault}: {body}");
        let before = notes.drain(Duration::from_millis(1));
        assert!(before.contains("READY=1"), "{fault}: {before}");
        wait_for("the daemon to stop", Duration::from_secs(30), || daemon.try_wait().unwrap().is_some());
        assert_eq!(daemon.wait().unwrap().code(), Some(1), "{fault}: exit 1, so systemd restarts it");
        let after = notes.drain(Duration::from_millis(100));
        assert!(!after.contains("WATCHDOG=1"), "{fault}: no ping once delivery failed: {after}");

        let status = bin().arg("--config").arg(&setup.config).arg("status").output().unwrap();
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(text.contains("delivery:   stopped at") && text.contains(says), "{fault}: {text}");
        let log = std::fs::read_to_string(setup.path("daemon.log")).unwrap();
        assert!(log.contains(says), "{fault}: {log}");
    }
}
