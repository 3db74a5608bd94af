//! One owner per database, through the real binary: a second `run` or `once` beside a running
//! one is refused at once and writes nothing, the alerts go out once, `status` beside a daemon
//! creating its database never breaks it, `outbox retry --all-dead` asks the daemon to requeue,
//! and the commands that read work for a user who may only read the file.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::newsroom::run;
use common::{FeedServer, Item, Route, Setup, bin, bin_at, rss, text, wirewatch};

/// How long a condition the test waits for may take: far more than it needs.
const LIMIT: Duration = Duration::from_secs(30);

/// A feed of one matching story, told in words of its own for each `guid`.
fn treaty(guid: &str) -> String {
    let (title, body) = (format!("North Korea treaty {guid} signed"), format!("The DPRK signed treaty {guid}."));
    rss("Wire", &[Item::new(guid, &title, &body)])
}

/// Checks `done` every 20 ms until it holds, failing the test after [`LIMIT`].
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited {LIMIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The names in `dir` and the database's bytes: what a refused writer must leave as it was.
fn snapshot(dir: &Path, db: &Path) -> (Vec<std::ffi::OsString>, Vec<u8>) {
    let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    (names, std::fs::read(db).unwrap_or_default())
}

/// Asserts that `out` is the refusal of a second writer naming `pid`'s `command`.
fn assert_refused(out: &Output, pid: u32, command: &str) {
    let said = text(out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let owner = format!("is in use by `wirewatch {command}` (PID {pid})");
    assert!(said.starts_with("error: ") && said.contains(&owner), "{said}");
    assert!(said.contains("`wirewatch status`") && said.lines().count() == 1, "one message: {said}");
}

/// A `wirewatch run` process; killed if dropped while running.
struct Daemon(Child);

impl Daemon {
    fn start(setup: &Setup) -> Daemon {
        let child = bin()
            .arg("--config")
            .arg(&setup.config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the daemon starts");
        Daemon(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Whether it holds the database's lock: its lock file names it.
    fn owns(&self, setup: &Setup) -> bool {
        let named = std::fs::read_to_string(setup.path("state/wirewatch.db-lock")).unwrap_or_default();
        named == format!("{} run\n", self.pid())
    }

    fn running(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then its exit code.
    async fn stop(mut self) -> Option<i32> {
        let pid = self.pid().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        wait_for("the daemon to stop", || !self.running()).await;
        self.0.wait().unwrap().code()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two `once` on one database, fresh and then existing: the second, started while the first
/// holds the database (fetching a feed that does not answer), is refused at once and writes
/// nothing; the first delivers each alert once. Before the lock, the second failed on a
/// fresh database with "table feeds already exists" and sent every alert again on an
/// existing one.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_once_is_refused_while_the_first_runs_and_each_alert_goes_out_once() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", treaty("t1"));
    server.set("slow.xml", Route::Hang);
    let setup = Setup::new(&[server.url("wire.xml"), server.url("slow.xml")]);
    let db = setup.path("state/wirewatch.db");
    for (pass, guid) in ["fresh", "existing"].into_iter().zip(["t1", "t2"]) {
        server.set_rss("wire.xml", treaty(guid));
        let asked = server.requests();
        let first = run(&setup, &["once"]);
        // The first has the lock before it fetches: once the slow feed is asked, it holds it.
        wait_for("the first once to fetch", || server.requests() >= asked + 2).await;
        let lock = std::fs::read_to_string(setup.path("state/wirewatch.db-lock")).unwrap();
        let pid: u32 = lock.split_whitespace().next().unwrap().parse().unwrap();
        let before = snapshot(&setup.path("state"), &db);
        let second = wirewatch(&setup, &["once"]);
        assert_refused(&second, pid, "once");
        assert_eq!(snapshot(&setup.path("state"), &db), before, "{pass}: the refused once wrote nothing");

        let first = first.await;
        assert_eq!(first.status.code(), Some(0), "{pass}: {}", text(&first));
        assert!(text(&first).contains("polled 2 feeds (1 failed), 1 new story, 1 alert delivered"), "{}", text(&first));
    }
    let ids: Vec<String> = setup.alerts().iter().map(|a| a["id"].to_string()).collect();
    assert_eq!(ids.len(), 2, "each story alerted once: {ids:?}");
    assert_ne!(ids[0], ids[1]);
}

/// Beside a running daemon, a second `run`, a `once` and an `outbox retry` of particular
/// alerts are refused, naming the daemon, and write nothing; the daemon goes on and every
/// alert is delivered once. Before the lock, a second `run` requeued the first one's messages
/// in flight as "left in sending by an earlier run", and they went out twice.
#[tokio::test(flavor = "multi_thread")]
async fn run_beside_a_running_daemon_is_refused_and_nothing_goes_out_twice() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", treaty("t1"));
    let setup = Setup::new(&[server.url("wire.xml")]);
    let db = setup.path("state/wirewatch.db");
    let mut daemon = Daemon::start(&setup);
    wait_for("the daemon's alert", || setup.alerts().len() == 1).await;
    assert!(daemon.owns(&setup));

    let before = snapshot(&setup.path("state"), &db);
    for args in [&["run"][..], &["once"]] {
        let refused = tokio::time::timeout(LIMIT, run(&setup, args)).await.expect("refused at once");
        assert_refused(&refused, daemon.pid(), "run");
    }
    let retry = wirewatch(&setup, &["outbox", "retry", "1"]);
    assert_eq!(retry.status.code(), Some(1), "{}", text(&retry));
    let said = text(&retry);
    assert!(said.contains(&format!("`wirewatch run` (PID {})", daemon.pid())), "{said}");
    assert!(said.contains("`wirewatch outbox retry --all-dead`") && said.contains("stop it first"), "{said}");
    assert_eq!(snapshot(&setup.path("state"), &db), before, "the refused commands wrote nothing");

    assert!(daemon.running(), "the daemon goes on");
    assert_eq!(daemon.stop().await, Some(0));
    assert_eq!(setup.alerts().len(), 1, "delivered once");
    let sent: i64 = setup.db().query_row("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", [], |r| r.get(0)).unwrap();
    assert_eq!(sent, 1);
}

/// `status` started together with `run` on a database being created: every `status` either
/// reads it or says why it cannot yet (no database, no tables yet), changes nothing, and the
/// daemon survives. Before, `status` migrated the file too and the daemon died on "no such
/// index" or "table feeds already exists".
#[tokio::test(flavor = "multi_thread")]
async fn status_beside_a_daemon_creating_its_database_never_breaks_it() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", treaty("t1"));
    for round in 0..3 {
        let setup = Setup::new(&[server.url("wire.xml")]);
        let mut daemon = Daemon::start(&setup);
        let mut answers = Vec::new();
        while setup.alerts().is_empty() {
            assert!(daemon.running(), "round {round}: the daemon died beside status: {answers:?}");
            let out = run(&setup, &["status"]).await;
            let said = text(&out);
            let clean = out.status.success()
                || said.contains("no database at")
                || said.contains("has no tables yet")
                || said.contains("older than this wirewatch reads");
            assert!(clean && !said.contains("no such"), "round {round}: {said}");
            answers.push(out.status.code());
        }
        assert_eq!(daemon.stop().await, Some(0), "round {round}");
        assert_eq!(setup.alerts().len(), 1, "round {round}");
    }
}

/// `outbox retry --all-dead` beside a daemon asks it (SIGUSR1) to requeue the dead alerts,
/// which it then delivers.
#[tokio::test(flavor = "multi_thread")]
async fn outbox_retry_all_dead_beside_a_daemon_has_the_daemon_requeue_them() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", treaty("t1"));
    let setup = Setup::new(&[server.url("wire.xml")]);
    assert!(wirewatch(&setup, &["once"]).status.success());
    // As if delivery had failed for good.
    setup.db().execute("UPDATE outbox SET state = 'dead', last_error = 'refused'", []).unwrap();
    std::fs::remove_file(setup.path("alerts.jsonl")).unwrap();

    let daemon = Daemon::start(&setup);
    wait_for("the daemon to own the database", || daemon.owns(&setup)).await;
    let asked = wirewatch(&setup, &["outbox", "retry", "--all-dead"]);
    assert_eq!(asked.status.code(), Some(0), "{}", text(&asked));
    let expected = format!("asked `wirewatch run` (PID {}) to requeue every dead alert", daemon.pid());
    assert!(text(&asked).contains(&expected), "{}", text(&asked));
    wait_for("the requeued alert", || setup.alerts().len() == 1).await;
    assert_eq!(daemon.stop().await, Some(0));
    let dead: i64 = setup.db().query_row("SELECT COUNT(*) FROM outbox WHERE state = 'dead'", [], |r| r.get(0)).unwrap();
    assert_eq!(dead, 0);
}

/// The commands that read work for a user who may only read the database and its folder,
/// and leave both as they were; a database of a newer schema is refused, naming the binary
/// to use.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn reading_commands_work_for_a_user_who_may_only_read_the_database() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    let server = FeedServer::start().await;
    server.set_rss("wire.xml", treaty("t1"));
    let setup = Setup::new(&[server.url("wire.xml")]);
    assert!(wirewatch(&setup, &["once"]).status.success());
    let (state, db) = (setup.path("state"), setup.path("state/wirewatch.db"));
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(setup.dir.path(), 0o755);
    mode(&state, 0o555);
    mode(&db, 0o444);
    // Root may write anything: read as nobody instead, through a copy of the binary in the
    // test's own folder, since nobody may not reach the build folder (a clone under a private
    // temporary folder, for one).
    let root = rustix::process::geteuid().is_root();
    let exe = setup.path("wirewatch");
    if root {
        std::fs::copy(env!("CARGO_BIN_EXE_wirewatch"), &exe).unwrap();
        mode(&exe, 0o755);
    }
    let reader = |args: &[&str]| {
        let mut cmd = if root { bin_at(&exe) } else { bin() };
        cmd.arg("--config").arg(&setup.config).args(args);
        if root {
            cmd.uid(65534).gid(65534);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success() && !text(&out).contains("error"), "{args:?}: {}", text(&out));
    };
    let before = snapshot(&state, &db);
    for args in [&["status"][..], &["feeds"], &["recent"], &["outbox", "--state", "all"], &["status", "--json"]] {
        reader(args);
        assert_eq!(snapshot(&state, &db), before, "{args:?} changed or created nothing");
    }
    mode(&state, 0o755);
    mode(&db, 0o644);
    // Beside a daemon, through the WAL and the index the daemon keeps beside the file.
    let daemon = Daemon::start(&setup);
    wait_for("the daemon to own the database", || daemon.owns(&setup)).await;
    wait_for("the daemon's WAL", || setup.path("state/wirewatch.db-shm").exists()).await;
    reader(&["status"]);
    assert_eq!(daemon.stop().await, Some(0));
    setup.db().pragma_update(None, "user_version", 99).unwrap();
    let newer = wirewatch(&setup, &["status"]);
    assert_eq!(newer.status.code(), Some(1));
    assert!(
        text(&newer).contains("has schema version 99, newer than") && text(&newer).contains("use the newer wirewatch")
    );
}
