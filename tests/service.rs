//! The daemon under a service manager, without systemd: a Unix datagram socket stands in for
//! `NOTIFY_SOCKET`. wirewatch says READY once its config and database are open, pings the
//! watchdog while it makes progress, stops pinging while its writer is stuck, and says STOPPING
//! on SIGTERM.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::daemon::{Notifications, start, wait_for};
use common::{FeedServer, Item, Setup, free_port, rss};

/// Polls every second, so the writer has work all the time.
const FAST: &str = "[poll]\ninterval = \"1s\"\nmin_interval = \"1s\"\nadaptive = false\ntimeout";

/// How long the daemon has to do what a test waits for.
const WAIT: Duration = Duration::from_secs(30);

fn titles(setup: &Setup) -> Vec<String> {
    setup.alerts().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect()
}

/// Sends `daemon` a signal (`"-TERM"`, `"-HUP"`).
fn signal(daemon: &Child, which: &str) {
    assert!(Command::new("kill").args([which, &daemon.id().to_string()]).status().unwrap().success());
}

fn terminate(daemon: &mut Child) {
    signal(daemon, "-TERM");
    assert!(daemon.wait().unwrap().success());
}

/// Starts the daemon on `setup` with a notify socket beside it.
fn launch(setup: &Setup) -> (Notifications, Child) {
    let path = setup.path("notify.sock");
    let notes = Notifications::bind(&path);
    let env = [("NOTIFY_SOCKET", path.to_str().unwrap()), ("WATCHDOG_USEC", "1000000"), ("RUST_LOG", "info")];
    let daemon = start(setup, &env);
    (notes, daemon)
}

/// One feed with one matching story, polled every second so the writer always has work, to a
/// jsonl notifier; `extra` config appended.
fn fast_wire(server: &FeedServer, extra: &str) -> Setup {
    server.set_rss("wire.xml", rss("Wire", &[Item::new("g-1", "EU widens sanctions", "A new package.")]));
    let setup =
        Setup::one_feed(&server.url("wire.xml"), "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    let toml = std::fs::read_to_string(&setup.config).unwrap().replace("[poll]\ntimeout", FAST);
    std::fs::write(&setup.config, format!("{toml}{extra}")).unwrap();
    setup
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_then_watchdog_pings_that_stop_while_the_writer_is_stuck() {
    let server = FeedServer::start().await;
    let setup = fast_wire(&server, "");
    let (notes, mut daemon) = launch(&setup);

    notes.expect("READY=1", Duration::from_secs(30));
    assert!(notes.pings_during(Duration::from_secs(3)) >= 3, "a ping every half second while all is well");

    // Another connection holds the write lock: the writer's next write waits (up to its 10 s
    // busy timeout), the ping queued behind it goes unanswered, and the pings stop.
    let db = setup.db();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    notes.expect_silence(Duration::from_secs(3), Duration::from_secs(8));
    db.execute_batch("ROLLBACK").unwrap();
    notes.expect("WATCHDOG=1", Duration::from_secs(20));

    terminate(&mut daemon);
    notes.expect("STOPPING=1", Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_a_good_config_and_keeps_running_on_a_bad_one() {
    let server = FeedServer::start().await;
    let mut a = vec![Item::new("a-1", "EU widens sanctions", "A new package.")];
    server.set_rss("a.xml", rss("A", &a));
    server.set_rss(
        "b.xml",
        rss(
            "B",
            &[Item::new("b-1", "Talks on the treaty", "Envoys met."), Item::new("b-2", "Shipping sanctions", "More.")],
        ),
    );
    let config = |feed: &str, watch: &str| {
        format!(
            "[storage]\npath = \"state/wirewatch.db\"\n{FAST} = \"2s\"\nbackfill = \"100000d\"\n\
             [[feed]]\nurl = \"{}\"\n[[watch]]\nname = \"{watch}\"\nquery = \"{watch}*\"\n\
             [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
            server.url(feed)
        )
    };
    let setup = Setup::with_config(&config("a.xml", "sanction"));
    let (notes, mut daemon) = launch(&setup);
    notes.expect("READY=1", Duration::from_secs(30));
    wait_for("the first alert", WAIT, || titles(&setup).len() == 1);

    // A bad config: logged with its line, and the running config goes on alerting.
    std::fs::write(&setup.config, "[poll]\nintervall = \"1s\"\n").unwrap();
    signal(&daemon, "-HUP");
    let log = || std::fs::read_to_string(setup.path("daemon.log")).unwrap();
    wait_for("the reload error in the log", WAIT, || log().contains("config not reloaded"));
    assert!(log().contains("config.toml:2:1: unknown field `intervall`"), "{}", log());
    a.push(Item::new("a-2", "UK sanctions list grows", "Twelve names."));
    server.set_rss("a.xml", rss("A", &a));
    wait_for("an alert under the old config", WAIT, || titles(&setup).len() == 2);
    assert!(daemon.try_wait().unwrap().is_none(), "still running");

    // A good config: feed A out, feed B in, the watch changed.
    std::fs::write(&setup.config, config("b.xml", "treat")).unwrap();
    signal(&daemon, "-HUP");
    notes.expect("RELOADING=1", Duration::from_secs(10));
    notes.expect("READY=1", Duration::from_secs(30));
    wait_for("an alert under the new config", WAIT, || titles(&setup).len() == 3);
    // A reload says so, and never that the daemon is going away.
    let reloads = log();
    assert!(reloads.contains("reloading") && reloads.contains("config reloaded"), "{reloads}");
    assert!(!reloads.contains("shutting down") && !reloads.contains("stopped"), "{reloads}");
    terminate(&mut daemon);
    assert!(log().contains("shutting down") && log().contains("stopped"), "{}", log());
    assert_eq!(titles(&setup), ["EU widens sanctions", "UK sanctions list grows", "Talks on the treaty"]);
    // A clean stop leaves the stamp that spares the next start the integrity check.
    assert!(setup.path("state/wirewatch.db-closed").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_work_and_healthz_reports_a_stall() {
    let server = FeedServer::start().await;
    let port = free_port();
    let setup = fast_wire(&server, &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"));
    let (notes, mut daemon) = launch(&setup);
    notes.expect("READY=1", Duration::from_secs(30));

    let get = |what: &str| {
        let url = format!("http://127.0.0.1:{port}/{what}");
        async move {
            let r = common::http().get(url).send().await.ok()?;
            Some((r.status().as_u16(), r.text().await.unwrap_or_default()))
        }
    };
    let metrics = || async { get("metrics").await.map(|(_, body)| body).unwrap_or_default() };
    let end = Instant::now() + Duration::from_secs(30);
    while !metrics().await.contains("wirewatch_alerts_total{state=\"sent\"} 1") {
        assert!(Instant::now() < end, "no sent alert counted:\n{}", metrics().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = metrics().await;
    for line in [
        "wirewatch_new_stories_total 1",
        "wirewatch_matches_total{watch=\"sanctions\"} 1",
        "wirewatch_outbox_alerts{state=\"sent\"} 1",
        "wirewatch_outbox_alerts{state=\"queued\"} 0",
        "wirewatch_feeds_failing 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    assert!(text.contains("wirewatch_fetches_total{outcome=\"ok\"}"), "{text}");
    assert!(text.contains("wirewatch_fetch_duration_seconds_bucket{le="), "{text}");
    assert_eq!(get("healthz").await, Some((200, "ok\n".to_string())));

    // The writer stuck behind another connection's write lock: /healthz turns 503, then 200.
    let db = setup.db();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let health = |want: u16| async move {
        let end = Instant::now() + Duration::from_secs(20);
        while get("healthz").await.map(|(s, _)| s) != Some(want) {
            assert!(Instant::now() < end, "/healthz never answered {want}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    health(503).await;
    db.execute_batch("ROLLBACK").unwrap();
    health(200).await;
    terminate(&mut daemon);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_daemon_while_a_fetch_hangs() {
    let server = FeedServer::start().await;
    server.set("hang.xml", common::Route::Hang);
    let setup = Setup::new(&[server.url("hang.xml")]);
    let toml = std::fs::read_to_string(&setup.config).unwrap().replace("timeout = \"2s\"", "timeout = \"60s\"");
    std::fs::write(&setup.config, toml).unwrap();
    let (notes, mut daemon) = launch(&setup);
    notes.expect("READY=1", Duration::from_secs(30));
    wait_for("the fetch to start", WAIT, || server.requests() > 0);
    // The poll outlives the 5 s grace period: it is abandoned, and the daemon still exits.
    signal(&daemon, "-TERM");
    wait_for("the daemon to exit", WAIT, || daemon.try_wait().unwrap().is_some());
    assert!(daemon.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn damage_found_by_a_check_while_running_stops_the_daemon_with_one_message() {
    let server = FeedServer::start().await;
    let setup = fast_wire(&server, "");
    let toml =
        std::fs::read_to_string(&setup.config).unwrap().replace("[storage]\n", "[storage]\ncheck_every = \"1s\"\n");
    std::fs::write(&setup.config, toml).unwrap();
    // Pages of a table wirewatch never touches, in the file itself (not in a WAL).
    std::fs::create_dir_all(setup.path("state")).unwrap();
    let db = setup.db();
    db.execute_batch(
        "CREATE TABLE filler (x);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
         INSERT INTO filler SELECT randomblob(3000) FROM n;",
    )
    .unwrap();
    let page: i64 = db.query_row("SELECT max(pageno) FROM dbstat WHERE name = 'filler'", [], |r| r.get(0)).unwrap();
    drop(db);

    let (notes, mut daemon) = launch(&setup);
    notes.expect("READY=1", Duration::from_secs(30));
    wait_for("the first alert", WAIT, || titles(&setup).len() == 1);

    // A disk's bit rot in a page no write of the daemon would meet.
    use std::io::{Seek, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(setup.path("state/wirewatch.db")).unwrap();
    file.seek(std::io::SeekFrom::Start((page as u64 - 1) * 4096)).unwrap();
    file.write_all(&[0xA5; 64]).unwrap();
    drop(file);

    wait_for("the daemon to stop", WAIT, || daemon.try_wait().unwrap().is_some());
    assert_eq!(daemon.wait().unwrap().code(), Some(1));
    let log = std::fs::read_to_string(setup.path("daemon.log")).unwrap();
    assert_eq!(log.matches("is damaged").count(), 1, "{log}");
    assert!(log.contains("database") && log.contains("wirewatch.db is damaged (PRAGMA quick_check:"), "{log}");
    assert!(!setup.path("state/wirewatch.db-closed").exists(), "no stamp for a damaged file");
}

/// A reload that shortened a feed's interval left it waiting out the old, long one.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_changes_a_feeds_interval_polls_it_at_once() {
    let server = FeedServer::start().await;
    let mut items = vec![Item::new("a-1", "EU widens sanctions", "A new package.")];
    server.set_rss("a.xml", rss("A", &items));
    let config = |interval: &str| {
        format!(
            "[storage]\npath = \"state/wirewatch.db\"\n[poll]\nmin_interval = \"1s\"\nadaptive = false\n\
             backfill = \"100000d\"\n[[feed]]\nurl = \"{}\"\ninterval = \"{interval}\"\n\
             [[watch]]\nname = \"s\"\nquery = \"sanction*\"\n\
             [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
            server.url("a.xml")
        )
    };
    let setup = Setup::with_config(&config("5h"));
    let (notes, mut daemon) = launch(&setup);
    notes.expect("READY=1", Duration::from_secs(30));
    wait_for("the first alert", WAIT, || titles(&setup).len() == 1);

    items.push(Item::new("a-2", "UK sanctions list grows", "Twelve names."));
    server.set_rss("a.xml", rss("A", &items));
    std::fs::write(&setup.config, config("30s")).unwrap();
    signal(&daemon, "-HUP");
    notes.expect("RELOADING=1", Duration::from_secs(10));
    wait_for("the feed polled at once under its new interval", WAIT, || titles(&setup).len() == 2);
    terminate(&mut daemon);
}
