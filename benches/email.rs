//! Email delivery throughput into a real SMTP server on loopback.
//!
//! Starts Postfix's `smtp-sink` (it accepts mail and throws it away; nothing is written to disk)
//! on a free 127.0.0.1 port, then delivers 2,000 alerts per configuration:
//!
//! * `reuse, 1 in flight`: one `EmailNotifier`, built once, so lettre's SMTP pool reuses its
//!   connections; one single-alert message after another;
//! * `reuse, 4 in flight`: the same notifier shared by 4 tasks sending at once;
//! * `no reuse`: a new `EmailNotifier` per message, so a new SMTP connection per message;
//! * `outbox`: 2,000 rows queued in a SQLite outbox in a temp dir, drained by `Dispatcher` with
//!   `burst = 10000`, so each alert goes as its own message (claiming and marking rows included);
//! * `outbox, digests`: the same with the default burst, so the due alerts go as digests (the
//!   dispatcher puts up to 500 alerts in one message).
//!
//! Each `summary` line is one timed run: messages per second (and alerts per second), the
//! messages smtp-sink counted and the SMTP sessions it served (connections, counted once closed;
//! the notifier is dropped before counting). Every send must succeed, else the bench panics.
//!
//! Run: `cargo bench --bench email`. Needs `smtp-sink` (Debian/Ubuntu: `apt-get install
//! postfix`); without it the bench prints `skipped: ...` and exits successfully. Session counting
//! reads `/proc/net/tcp` (Linux).
//!
//! Duration: about 5 minutes with lettre 0.11.23, which leaves Nagle's algorithm on: the
//! message's final `\r\n.\r\n` waits for the server's delayed ACK, about 40 ms per message on
//! Linux, so each one-at-a-time line takes about 90 s. (A raw SMTP client with `TCP_NODELAY`
//! sends to the same smtp-sink in about 0.1 ms a message.)

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::params;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use wirewatch::alert::Alert;
use wirewatch::config::{Config, DEFAULT_SUBJECT, Email, EmailTransport, Smtp, SmtpSecurity};
use wirewatch::matcher::{Field, MatchedTerm};
use wirewatch::notify::email::EmailNotifier;
use wirewatch::notify::{Dispatcher, Outgoing};
use wirewatch::store::{Store, unix_now};

/// Alerts delivered per summary line.
const ALERTS: usize = 2_000;
/// Sends in flight at once in the concurrent configuration.
const IN_FLIGHT: usize = 4;
/// Unmeasured messages sent first, so that the first measured line pays no start-up cost.
const WARM_UP: usize = 100;
/// Longest wait for smtp-sink to listen, or for its connections to close.
const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// smtp-sink
// ---------------------------------------------------------------------------------------------

/// smtp-sink's running counters (`-c` prints `sess=N quit=N mesg=N` after each event).
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    /// Sessions that have ended.
    sessions: u64,
    /// Messages received.
    messages: u64,
}

/// The running server; killed when dropped (also on panic).
struct SmtpSink {
    child: Child,
    port: u16,
    counters: Arc<Mutex<Counters>>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_smtp_sink() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("smtp-sink"))
        .find(|p| p.is_file())
}

/// smtp-sink refuses to run as root unless told which user to switch to.
fn running_as_root() -> bool {
    match Command::new("id").arg("-u").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim() == "0",
        _ => std::env::var("USER").is_ok_and(|u| u == "root"),
    }
}

fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("the bound address").port()
}

fn start_sink(bin: &Path) -> SmtpSink {
    let port = free_loopback_port();
    let mut cmd = Command::new(bin);
    if running_as_root() {
        cmd.args(["-u", "nobody"]);
    }
    // 256: the listen backlog.
    cmd.args(["-c", &format!("127.0.0.1:{port}"), "256"]).stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("smtp-sink's stdout is piped");
    let counters = Arc::new(Mutex::new(Counters::default()));
    let shared = Arc::clone(&counters);
    std::thread::spawn(move || read_counters(stdout, &shared));
    let mut sink = SmtpSink { child, port, counters };
    wait_until_listening(&mut sink);
    sink
}

fn wait_until_listening(sink: &mut SmtpSink) {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", sink.port)).is_err() {
        if let Ok(Some(status)) = sink.child.try_wait() {
            panic!("smtp-sink exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "smtp-sink is not listening on port {} after {PATIENCE:?}", sink.port);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Keeps `into` up to date with the counter lines smtp-sink prints (separated by `\r`).
fn read_counters(out: impl Read, into: &Mutex<Counters>) {
    for line in BufReader::new(out).split(b'\r') {
        let Ok(line) = line else { return };
        if let Some(c) = parse_counters(&String::from_utf8_lossy(&line)) {
            *into.lock().unwrap() = c;
        }
    }
}

fn parse_counters(line: &str) -> Option<Counters> {
    let field =
        |name: &str| line.split_whitespace().find_map(|f| f.strip_prefix(name)?.strip_prefix('=')?.parse().ok());
    Some(Counters { sessions: field("sess")?, messages: field("mesg")? })
}

/// Server-side connections on `port` whose socket smtp-sink still holds (established, being
/// accepted, or closed by the client only). 0 when `/proc/net/tcp` cannot be read.
fn open_connections(port: u16) -> usize {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return 0 };
    let local_port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            Some((cols.nth(1)?, cols.nth(1)?))
        })
        .filter(|(local, state)| local.ends_with(&local_port) && matches!(*state, "01" | "03" | "08"))
        .count()
}

/// Waits until every connection to the sink is closed (and its counter line read), then returns
/// the counters.
fn settle(sink: &SmtpSink) -> Counters {
    let deadline = Instant::now() + PATIENCE;
    let mut quiet_polls = 0;
    while quiet_polls < 2 {
        quiet_polls = if open_connections(sink.port) == 0 { quiet_polls + 1 } else { 0 };
        assert!(Instant::now() < deadline, "connections to smtp-sink still open after {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    *sink.counters.lock().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Alerts and notifiers
// ---------------------------------------------------------------------------------------------

/// A realistic single-story alert, distinct per `i`, with a ~200-character snippet.
fn alert(i: usize) -> Alert {
    const PLACES: [&str; 5] = ["Brussels", "Washington", "Tokyo", "Ottawa", "Canberra"];
    let place = PLACES[i % PLACES.len()];
    let snippet = format!(
        "…officials in {place} announced new sanctions on {} shipping companies and their owners on \
         Tuesday, widening measures aimed at oil exports; the list names tankers, insurers and traders…",
        3 + i % 17
    );
    // Character offsets, as the matcher gives them.
    let start = snippet[..snippet.find("sanctions").expect("the snippet names the term")].chars().count();
    Alert {
        watch: "bench".into(),
        feed: "Example Wire".into(),
        id: format!("https://news.example.org/world/{i}"),
        url: Some(format!("https://news.example.org/world/2025/06/03/sanctions-shipping-{i}")),
        title: format!("{place} widens sanctions on shipping firms and insurers ({i})"),
        published: Some("2025-06-03T09:15:00Z".into()),
        matched: vec![MatchedTerm {
            term: "sanctions".into(),
            text: "sanctions".into(),
            field: Field::Body,
            start,
            end: start + "sanctions".len(),
        }],
        snippet,
        lang: Some("en".into()),
        also_reported_by: Vec::new(),
    }
}

fn email_spec(port: u16) -> Email {
    Email {
        to: vec!["desk@example.org".into()],
        from: "wirewatch <alerts@example.org>".into(),
        transport: EmailTransport::Smtp(Smtp {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            user: None,
            password: None,
            ca_file: None,
        }),
        subject: DEFAULT_SUBJECT.into(),
    }
}

/// Must be called inside the runtime: lettre's pool spawns tasks, also when dropped.
fn notifier(spec: &Email) -> EmailNotifier {
    EmailNotifier::new(spec, chrono_tz::Tz::UTC).unwrap_or_else(|e| panic!("cannot build the notifier: {e}"))
}

fn single<'a>(alert: &'a Alert, run: &str, i: usize) -> Outgoing<'a> {
    Outgoing { alerts: std::slice::from_ref(alert), key: format!("bench/{run}/{i}"), digest: false }
}

async fn send_ok(notifier: &EmailNotifier, out: &Outgoing<'_>) {
    if let Err(e) = notifier.send(out).await {
        panic!("sending {} failed: {e}", out.key);
    }
}

// ---------------------------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------------------------

async fn one_after_another(notifier: &EmailNotifier, alerts: &[Alert], run: &str) {
    for (i, a) in alerts.iter().enumerate() {
        send_ok(notifier, &single(a, run, i)).await;
    }
}

/// `tasks` tasks share the notifier; task `t` sends alerts `t`, `t + tasks`, ...
async fn in_flight(notifier: Arc<EmailNotifier>, alerts: Arc<Vec<Alert>>, run: &'static str, tasks: usize) {
    let mut set = JoinSet::new();
    for t in 0..tasks {
        let (notifier, alerts) = (Arc::clone(&notifier), Arc::clone(&alerts));
        set.spawn(async move {
            for i in (t..alerts.len()).step_by(tasks) {
                send_ok(&notifier, &single(&alerts[i], run, i)).await;
            }
        });
    }
    while let Some(done) = set.join_next().await {
        if let Err(e) = done {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

async fn new_notifier_each(spec: &Email, alerts: &[Alert], run: &str) {
    for (i, a) in alerts.iter().enumerate() {
        send_ok(&notifier(spec), &single(a, run, i)).await;
    }
}

/// A config with one email notifier to the sink and the database in `dir`; `burst: None`
/// keeps the default (20).
fn outbox_config(dir: &Path, port: u16, burst: Option<usize>) -> Config {
    let burst = burst.map(|b| format!("burst = {b}\n")).unwrap_or_default();
    let text = format!(
        "[storage]\npath = '{db}'\n\n\
         [[feed]]\nurl = '{feed}'\n\n\
         [[watch]]\nname = \"bench\"\nquery = \"sanctions\"\n\n\
         [[notifier]]\nname = \"mail\"\ntype = \"email\"\nto = [\"desk@example.org\"]\n\
         from = \"wirewatch <alerts@example.org>\"\nsmtp = \"smtp://127.0.0.1:{port}\"\n{burst}",
        db = dir.join("bench.db").display(),
        feed = dir.join("feed.xml").display(),
    );
    Config::from_str(&text, &dir.join("bench.toml")).unwrap_or_else(|e| panic!("bench config:\n{e}"))
}

/// Creates the database (schema by `Store::open`) and queues one outbox row per alert.
fn fill_outbox(db: &Path, alerts: &[Alert]) -> rusqlite::Result<()> {
    drop(Store::open(db).unwrap_or_else(|e| panic!("cannot create {}: {e}", db.display())));
    let mut conn = rusqlite::Connection::open(db)?;
    let tx = conn.transaction()?;
    let now = unix_now();
    tx.execute("INSERT INTO feeds (url) VALUES ('https://news.example.org/world/feed.xml')", [])?;
    let feed_id = tx.last_insert_rowid();
    {
        let mut story = tx.prepare(
            "INSERT INTO stories (feed_id, key, url, title, body, author, categories, published, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, 'Wire staff', '[\"World\"]', ?6, ?6)",
        )?;
        let mut queue = tx.prepare(
            "INSERT INTO outbox (story_id, watch, notifier, payload, state, next_attempt, created)
             VALUES (?1, ?2, 'mail', ?3, 'queued', 0, ?4)",
        )?;
        for a in alerts {
            story.execute(params![feed_id, a.id, a.url, a.title, a.snippet, now])?;
            queue.execute(params![tx.last_insert_rowid(), a.watch, a.to_json(), now])?;
        }
    }
    tx.commit()
}

/// Queues `alerts` in a fresh database and times one `drain`.
fn drain_outbox(rt: &Runtime, port: u16, alerts: &[Alert], burst: Option<usize>) -> Duration {
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = outbox_config(dir.path(), port, burst);
    fill_outbox(&config.storage.path, alerts).expect("fill the outbox");
    rt.block_on(async {
        let dispatcher = std::sync::Arc::new(
            Dispatcher::new(&config).unwrap_or_else(|e| panic!("cannot start the dispatcher: {e}")),
        );
        let start = Instant::now();
        let delivered = dispatcher.drain().await.unwrap_or_else(|e| panic!("drain failed: {e}"));
        let elapsed = start.elapsed();
        assert_eq!(delivered, alerts.len(), "alerts delivered by one drain");
        elapsed
    })
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// Runs `scenario` (which returns its timed part and must drop its notifiers), prints its
/// summary line and returns the messages smtp-sink received meanwhile.
fn measure(sink: &SmtpSink, label: &str, scenario: impl FnOnce() -> Duration) -> u64 {
    let before = settle(sink);
    let elapsed = scenario();
    let after = settle(sink);
    let messages = after.messages - before.messages;
    let sessions = after.sessions - before.sessions;
    let secs = elapsed.as_secs_f64();
    println!(
        "summary {label:<18}: {ALERTS} alerts as {messages} messages in {:.3} s = {:.0} messages/s ({:.0} alerts/s); \
         {sessions} SMTP session{}",
        secs,
        messages as f64 / secs,
        ALERTS as f64 / secs,
        if sessions == 1 { "" } else { "s" },
    );
    messages
}

fn timed(rt: &Runtime, work: impl Future<Output = ()>) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        work.await;
        start.elapsed()
    })
}

fn main() {
    let Some(bin) = find_smtp_sink() else {
        println!("skipped: smtp-sink not found (install postfix)");
        return;
    };
    let sink = start_sink(&bin);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let spec = email_spec(sink.port);
    let alerts: Arc<Vec<Alert>> = Arc::new((0..ALERTS).map(alert).collect());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "email bench: {} on 127.0.0.1:{}, plain SMTP; {ALERTS} alerts per line, {cpus} CPUs; one timed run each",
        bin.display(),
        sink.port
    );
    rt.block_on(async { one_after_another(&notifier(&spec), &alerts[..WARM_UP], "warm-up").await });

    let expect_all = |label: &str, messages: u64| {
        assert_eq!(messages, ALERTS as u64, "{label}: messages smtp-sink received");
    };
    let m = measure(&sink, "reuse, 1 in flight", || {
        timed(&rt, async { one_after_another(&notifier(&spec), &alerts, "reuse-1").await })
    });
    expect_all("reuse, 1 in flight", m);
    let label = format!("reuse, {IN_FLIGHT} in flight");
    let m = measure(&sink, &label, || {
        timed(&rt, async { in_flight(Arc::new(notifier(&spec)), Arc::clone(&alerts), "reuse-n", IN_FLIGHT).await })
    });
    expect_all(&label, m);
    let m = measure(&sink, "no reuse", || timed(&rt, new_notifier_each(&spec, &alerts, "no-reuse")));
    expect_all("no reuse", m);
    let m = measure(&sink, "outbox", || drain_outbox(&rt, sink.port, &alerts, Some(10_000)));
    expect_all("outbox", m);
    measure(&sink, "outbox, digests", || drain_outbox(&rt, sink.port, &alerts, None));
}
