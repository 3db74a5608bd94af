//! Crash safety, end to end: `wirewatch run` polls loopback feeds that keep gaining stories and
//! mails every match to a real SMTP server (Postfix's smtp-sink), and is killed with SIGKILL at
//! random moments and restarted, over and over; a last run drains the outbox and stops on
//! SIGTERM. Then every matching story has exactly one alert row, every alert was sent and
//! received, SQLite's integrity check passes, and no alert arrived twice except as the
//! duplicate RFC 1047 describes: a message the server took although its sender died before it
//! could record the reply (the final dot may even still be in the kernel's buffer when the
//! process dies; the kernel delivers it anyway). To tell that duplicate from any other, each
//! received message is attributed to the run that sent it (after every kill the test waits until
//! the server has closed every connection), and the copies of a message must come from
//! different runs, carry the same Message-ID and the same stories, and each run may leave at
//! most one message to be sent again: the one it was killed during.
//!
//! Every story links to an article page on the same server, which the daemon fetches (its
//! teaser is short): a third of the stories whose feed text matches nothing match through
//! their article, and now and then a page hangs past `article_timeout`, so kills also land
//! while articles are fetched, extracted and stored. Those stories too must alert exactly once.
//!
//! Cross-feed dedupe is off so that every matching story alerts (clustering is tested
//! elsewhere). The run is reproducible up to timing: it prints its seed, and
//! `WIREWATCH_CRASH_SEED` repeats it. On failure the config dir (database, `daemon.log` with
//! every run's log at `info`) and the received mail are kept, and their paths printed.
#![cfg(target_os = "linux")]

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::smtp::SmtpSink;
use common::{FeedServer, Item, Route, Setup, bin, rss};
use futures_util::FutureExt;
use mailparse::MailHeaderMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const FEEDS: usize = 4;
const KILLS: usize = 32;
const SIGKILL: i32 = 9;
/// How long each run lives before its SIGKILL, in milliseconds.
const KILL_AFTER_MS: std::ops::RangeInclusive<u64> = 100..=1500;
/// Pause between two additions to the feeds, in milliseconds.
const PAUSE_MS: std::ops::RangeInclusive<u64> = 50..=150;
/// Now and then a feed gains this many stories at once: more than the notifier's `burst` (20),
/// so they go out as a digest.
const BURST_ITEMS: usize = 30;
/// Every story's guid starts with this; its alert shows the guid in the title.
const GUID_PREFIX: &str = "crash-";
/// Longest the last run may take to send every alert.
const DRAIN_DEADLINE: Duration = Duration::from_secs(60);
/// Longest the SMTP server may take to finish with a daemon's connections once it ended.
const SETTLE_DEADLINE: Duration = Duration::from_secs(10);
/// Longest the daemon may take to stop after SIGTERM.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn alerts_survive_repeated_sigkills_exactly_once() {
    let seed = std::env::var("WIREWATCH_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("crash: seed {seed} (WIREWATCH_CRASH_SEED={seed} repeats it)");
    let server = FeedServer::start().await;
    let mut sink = SmtpSink::start(&[]);
    let mut setup = Setup::with_config(&config(&server, &sink.url()));
    let outcome = AssertUnwindSafe(experiment(&server, &sink, &setup, seed)).catch_unwind().await;
    if let Err(panic) = outcome {
        setup.dir.disable_cleanup(true);
        sink.dir.disable_cleanup(true);
        eprintln!(
            "crash: seed {seed}; kept the config dir {} (daemon.log, state/wirewatch.db) and the mail in {}",
            setup.dir.path().display(),
            sink.dir.path().join("mail").display()
        );
        std::panic::resume_unwind(panic);
    }
}

/// Kills and restarts the daemon while the feeds grow, lets a last run deliver everything, then
/// checks the database and the mailbox.
async fn experiment(server: &FeedServer, sink: &SmtpSink, setup: &Setup, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let producer = Producer::start(server.clone(), StdRng::from_rng(&mut rng));
    let mut mailbox = Mailbox::new(sink);
    let mut log = File::options().create(true).append(true).open(setup.path("daemon.log")).unwrap();
    for round in 1..=KILLS {
        let after = Duration::from_millis(rng.random_range(KILL_AFTER_MS));
        writeln!(log, "--- run {round}: SIGKILL after {} ms", after.as_millis()).unwrap();
        let mut daemon = Daemon::start(setup, &log);
        tokio::time::sleep(after).await;
        let status = daemon.kill();
        assert_eq!(status.signal(), Some(SIGKILL), "run {round} ended before its SIGKILL: {status}");
        mailbox.end_run().await;
    }
    let published = producer.stop().await;

    writeln!(log, "--- last run: SIGTERM once every alert is sent").unwrap();
    let mut daemon = Daemon::start(setup, &log);
    let drained = wait_until(DRAIN_DEADLINE, || delivered(&stories(setup), &published)).await;
    let status = daemon.terminate().await;
    assert!(drained, "the last run did not send every alert within {DRAIN_DEADLINE:?}");
    assert_eq!(status.code(), Some(0), "the last run's exit after SIGTERM: {status}");
    mailbox.end_run().await;

    let mut problems = check_store(setup, &published);
    let mail = check_mail(&mailbox.runs, &published, &mut problems);
    let integrity = integrity(setup);
    println!(
        "crash: {KILLS} kills, {} alerts, {} received twice with the same Message-ID, {} lost, \
         {} duplicated with a different Message-ID, integrity {integrity} \
         ({} stories published; {} messages received, {} of them digests, {} sent again after a kill)",
        mail.alerts,
        mail.resent,
        mail.lost,
        mail.mixed,
        published.len(),
        mail.messages,
        mail.digests,
        mail.repeats
    );
    if integrity != "ok" {
        problems.push(format!("PRAGMA integrity_check: {integrity}"));
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

fn config(server: &FeedServer, smtp: &str) -> String {
    let mut toml = String::from(
        "[storage]\npath = \"state/wirewatch.db\"\n\
         [poll]\ninterval = \"1s\"\nmin_interval = \"1s\"\nadaptive = false\ntimeout = \"2s\"\nbackfill = \"100000d\"\n\
         article_timeout = \"1s\"\narticle_wait = \"10m\"\n\
         [dedupe]\ncross_feed = false\n",
    );
    for i in 0..FEEDS {
        toml.push_str(&format!("[[feed]]\nurl = \"{}\"\nname = \"Feed {i}\"\n", server.url(&feed_path(i))));
    }
    toml.push_str(&format!(
        "[[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n\
         [[notifier]]\nname = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\n\
         from = \"wirewatch <alerts@example.org>\"\nsmtp = \"{smtp}\"\n"
    ));
    toml
}

fn feed_path(feed: usize) -> String {
    format!("feed-{feed}.xml")
}

/// One story a feed was given.
struct Published {
    guid: String,
    title: String,
    /// Whether its feed text or its article matches the watch.
    matching: bool,
    /// Whether its feed text does.
    by_feed: bool,
    /// The address of its article page.
    link: String,
}

impl Published {
    /// A new story, matching the watch four times in five, and a third of the rest through
    /// its article; its article page is served from now on (one in ten hangs).
    fn new(rng: &mut StdRng, server: &FeedServer, feed: usize, n: usize) -> Published {
        let guid = format!("{GUID_PREFIX}{feed}-{n:05}");
        let by_feed = rng.random_ratio(4, 5);
        let by_article = !by_feed && rng.random_ratio(1, 3);
        let title = if by_feed {
            format!("New sanctions target exporters {guid}")
        } else {
            format!("Weather turns mild {guid}")
        };
        let path = format!("article/{guid}.html");
        let page = if by_article { ARTICLE_MATCHING } else { ARTICLE_OTHER };
        let hangs = !by_article && rng.random_ratio(1, 10);
        let route =
            if hangs { Route::Hang } else { Route::Feed { body: page.as_bytes().to_vec(), content_type: "text/html" } };
        server.set(&path, route);
        Published { guid, title, matching: by_feed || by_article, by_feed, link: server.url(&path) }
    }

    fn item(&self) -> Item<'_> {
        let description = if self.by_feed { "Ministers agreed a new package." } else { "Clear skies expected." };
        Item { link: Some(&self.link), ..Item::new(&self.guid, &self.title, description) }
    }
}

/// An article page that matches the watch, and one that does not.
const ARTICLE_MATCHING: &str = "<html><body><article><h1>Weather turns mild</h1>\
    <p>Clear skies are expected across the region for the rest of the week, forecasters said.</p>\
    <p>Farmers said the mild spell came as ministers prepared new sanctions on grain exporters.</p>\
    <p>The weather service expects rain to return on Sunday in the north of the country.</p>\
    </article></body></html>";
const ARTICLE_OTHER: &str = "<html><body><article><h1>Weather turns mild</h1>\
    <p>Clear skies are expected across the region for the rest of the week, forecasters said.</p>\
    <p>Farmers welcomed the mild spell after a wet autumn that delayed the harvest.</p>\
    <p>The weather service expects rain to return on Sunday in the north of the country.</p>\
    </article></body></html>";

/// A background task adding stories to the feeds until stopped; it keeps every story it
/// published.
struct Producer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<Published>>,
}

impl Producer {
    fn start(server: FeedServer, rng: StdRng) -> Producer {
        let (stop, stopped) = oneshot::channel();
        Producer { stop, task: tokio::spawn(produce(server, rng, stopped)) }
    }

    /// Stops adding stories; returns every story published.
    async fn stop(self) -> Vec<Published> {
        let _ = self.stop.send(());
        self.task.await.expect("the producer does not panic")
    }
}

async fn produce(server: FeedServer, mut rng: StdRng, mut stopped: oneshot::Receiver<()>) -> Vec<Published> {
    let mut feeds: Vec<Vec<Published>> = (0..FEEDS).map(|_| Vec::new()).collect();
    for (i, stories) in feeds.iter().enumerate() {
        publish(&server, i, stories);
    }
    let mut count = 0;
    loop {
        let pause = Duration::from_millis(rng.random_range(PAUSE_MS));
        tokio::select! {
            _ = &mut stopped => break,
            () = tokio::time::sleep(pause) => {}
        }
        let feed = rng.random_range(0..FEEDS);
        let added = if rng.random_ratio(1, 20) { BURST_ITEMS } else { 1 };
        for _ in 0..added {
            count += 1;
            feeds[feed].push(Published::new(&mut rng, &server, feed, count));
        }
        publish(&server, feed, &feeds[feed]);
    }
    feeds.into_iter().flatten().collect()
}

fn publish(server: &FeedServer, feed: usize, stories: &[Published]) {
    let items: Vec<Item> = stories.iter().rev().map(Published::item).collect();
    server.set_rss(&feed_path(feed), rss(&format!("Feed {feed}"), &items));
}

/// A `wirewatch run` process, logging at `info` into `log`; killed if dropped while running.
struct Daemon(Child);

impl Daemon {
    fn start(setup: &Setup, log: &File) -> Daemon {
        let child = bin()
            .arg("--config")
            .arg(&setup.config)
            .arg("run")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log.try_clone().unwrap())
            .spawn()
            .expect("the daemon starts");
        Daemon(child)
    }

    /// SIGKILL; returns how the process ended.
    fn kill(&mut self) -> ExitStatus {
        self.0.kill().unwrap();
        self.0.wait().unwrap()
    }

    /// SIGTERM; returns how the process ended.
    async fn terminate(&mut self) -> ExitStatus {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the daemon did not stop within {STOP_DEADLINE:?} of SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Checks `done` every 100 ms until it holds (true) or `limit` has passed (false).
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// A stored story's outbox rows.
struct Stored {
    alerts: i64,
    sent: i64,
}

/// The stored stories by guid (several entries if a guid was stored more than once).
fn stories(setup: &Setup) -> HashMap<String, Vec<Stored>> {
    let db = setup.db();
    let mut stmt = db
        .prepare(
            "SELECT s.key, COUNT(o.id), COUNT(o.id) FILTER (WHERE o.state = 'sent')
             FROM stories s LEFT JOIN outbox o ON o.story_id = s.id GROUP BY s.id",
        )
        .unwrap();
    let mut out: HashMap<String, Vec<Stored>> = HashMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, Stored { alerts: r.get(1)?, sent: r.get(2)? })));
    for row in rows.unwrap() {
        let (key, stored) = row.unwrap();
        out.entry(key.trim_start_matches("guid:").to_string()).or_default().push(stored);
    }
    out
}

/// Whether every published story is stored and every matching one has a sent alert.
fn delivered(stored: &HashMap<String, Vec<Stored>>, published: &[Published]) -> bool {
    published.iter().all(|p| match stored.get(&p.guid) {
        None => false,
        Some(rows) => !p.matching || rows.iter().any(|s| s.sent > 0),
    })
}

/// Exactly one story row per published story, exactly one alert row per matching one (none
/// for the others), no story that was never published, and every alert sent.
fn check_store(setup: &Setup, published: &[Published]) -> Vec<String> {
    let mut problems = Vec::new();
    let stored = stories(setup);
    for p in published {
        let rows = stored.get(&p.guid).map_or(&[][..], Vec::as_slice);
        let alerts: Vec<i64> = rows.iter().map(|s| s.alerts).collect();
        let expected = i64::from(p.matching);
        if alerts != [expected] {
            problems.push(format!(
                "story {} (matching: {}): alert rows per stored copy {alerts:?}, expected [{expected}]: {}",
                p.guid,
                p.matching,
                outbox_rows(setup, &p.guid)
            ));
        }
    }
    let known: BTreeSet<&str> = published.iter().map(|p| p.guid.as_str()).collect();
    problems.extend(stored.keys().filter(|k| !known.contains(k.as_str())).map(|k| format!("unpublished story {k}")));
    let db = setup.db();
    let mut stmt = db.prepare("SELECT state, COUNT(*) FROM outbox WHERE state != 'sent' GROUP BY state").unwrap();
    let unsent = stmt.query_map([], |r| Ok(format!("{} alerts {}", r.get::<_, i64>(1)?, r.get::<_, String>(0)?)));
    problems.extend(unsent.unwrap().map(|r| format!("{} after the last run", r.unwrap())));
    problems
}

/// The outbox rows of the story with `guid`, for a problem report.
fn outbox_rows(setup: &Setup, guid: &str) -> String {
    let db = setup.db();
    let mut stmt = db
        .prepare(
            "SELECT o.id, o.state, o.attempts, o.created, o.sent_at, o.last_error FROM outbox o
             JOIN stories s ON s.id = o.story_id WHERE s.key = ?1 ORDER BY o.id",
        )
        .unwrap();
    let rows = stmt.query_map([format!("guid:{guid}")], |r| {
        Ok(format!(
            "(id {}, {}, attempts {}, created {}, sent_at {:?}, last_error {:?})",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<String>>(5)?
        ))
    });
    let rows: Vec<String> = rows.unwrap().map(Result::unwrap).collect();
    if rows.is_empty() { "no outbox rows".to_string() } else { rows.join(" ") }
}

/// One message the SMTP server took.
struct Received {
    message_id: String,
    digest: bool,
    /// The guids of the stories it carries.
    stories: BTreeSet<String>,
}

fn received(raw: &str) -> Received {
    let m = mailparse::parse_mail(raw.as_bytes()).expect("the server received a parseable message");
    let message_id = m.headers.get_first_value("Message-ID").expect("every message has a Message-ID");
    let digest = m.headers.get_first_value("Subject").is_some_and(|s| s.starts_with("[wirewatch] digest:"));
    let text = m.subparts.first().unwrap_or(&m).get_body().expect("a readable text part");
    let stories = text.split_whitespace().filter(|w| w.starts_with(GUID_PREFIX)).map(String::from).collect();
    Received { message_id, digest, stories }
}

/// The messages the SMTP server took, by the daemon run that sent them.
struct Mailbox<'a> {
    sink: &'a SmtpSink,
    seen: HashSet<String>,
    runs: Vec<Vec<Received>>,
}

impl Mailbox<'_> {
    fn new(sink: &SmtpSink) -> Mailbox<'_> {
        Mailbox { sink, seen: HashSet::new(), runs: Vec::new() }
    }

    /// Files every message not seen before under a new run, once the server has finished with
    /// every connection of the ended daemon (a dead process's socket still sends what it
    /// buffered).
    async fn end_run(&mut self) {
        let port = self.sink.addr.port();
        let idle = wait_until(SETTLE_DEADLINE, || !connections_open(port)).await;
        assert!(idle, "the SMTP server still has connections open {SETTLE_DEADLINE:?} after the daemon ended");
        let raw = self.sink.messages();
        let fresh = raw.into_iter().filter(|m| self.seen.insert(m.clone())).map(|m| received(&m)).collect();
        self.runs.push(fresh);
    }
}

/// Whether a TCP connection to `port` on this machine is still open on the server's side
/// (anything but listening or closed): Linux's `/proc/net/tcp*` tables.
fn connections_open(port: u16) -> bool {
    let local = format!(":{port:04X}");
    let (listen, time_wait, close) = ("0A", "06", "07");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().filter_map(|t| std::fs::read_to_string(t).ok()).any(|table| {
        table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields[1].ends_with(&local) && ![listen, time_wait, close].contains(&fields[3])
        })
    })
}

/// What the mailbox shows.
struct Mail {
    messages: usize,
    digests: usize,
    /// Matching stories, one alert each.
    alerts: usize,
    /// Alerts received more than once, always with the same Message-ID.
    resent: usize,
    /// Alerts never received.
    lost: usize,
    /// Alerts received under more than one Message-ID.
    mixed: usize,
    /// Messages received again in a later run.
    repeats: usize,
}

/// Every matching story arrived, under one Message-ID only; the copies of a Message-ID carry
/// the same stories and come from different runs, and each run left at most one message to be
/// sent again; nothing arrived for a story that does not match.
fn check_mail(runs: &[Vec<Received>], published: &[Published], problems: &mut Vec<String>) -> Mail {
    let mut copies: HashMap<&str, Vec<(usize, &Received)>> = HashMap::new();
    for (run, m) in runs.iter().enumerate().flat_map(|(run, list)| list.iter().map(move |m| (run + 1, m))) {
        if m.stories.is_empty() {
            problems.push(format!("message {} carries no known story", m.message_id));
        }
        copies.entry(&m.message_id).or_default().push((run, m));
    }
    let mut repeated_by_run: HashMap<usize, Vec<&str>> = HashMap::new();
    for (id, list) in &copies {
        let runs: Vec<usize> = list.iter().map(|(run, _)| *run).collect();
        if runs.windows(2).any(|w| w[0] >= w[1]) {
            problems.push(format!("Message-ID {id} was received more than once from one run: runs {runs:?}"));
        }
        if list.iter().any(|(_, m)| m.stories != list[0].1.stories) {
            let carried: Vec<_> = list.iter().map(|(run, m)| (run, &m.stories)).collect();
            problems.push(format!("the copies of Message-ID {id} carry different stories: {carried:?}"));
        }
        for (run, _) in &list[..list.len() - 1] {
            repeated_by_run.entry(*run).or_default().push(id);
        }
    }
    for (run, ids) in &repeated_by_run {
        if ids.len() > 1 {
            problems.push(format!("run {run} left {} messages to be sent again: {ids:?}", ids.len()));
        }
    }
    let mut by_story: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in runs.iter().flatten() {
        for s in &m.stories {
            by_story.entry(s).or_default().push(&m.message_id);
        }
    }
    let all = || runs.iter().flatten();
    let mut mail = Mail {
        messages: all().count(),
        digests: all().filter(|m| m.digest).count(),
        alerts: 0,
        resent: 0,
        lost: 0,
        mixed: 0,
        repeats: repeated_by_run.values().map(Vec::len).sum(),
    };
    for p in published {
        let ids = by_story.remove(p.guid.as_str()).unwrap_or_default();
        let distinct: BTreeSet<&str> = ids.iter().copied().collect();
        if !p.matching {
            if !ids.is_empty() {
                problems.push(format!("story {} does not match but was mailed in {distinct:?}", p.guid));
            }
            continue;
        }
        mail.alerts += 1;
        match (ids.len(), distinct.len()) {
            (0, _) => {
                mail.lost += 1;
                problems.push(format!("story {} was never received", p.guid));
            }
            (1, _) => {}
            (_, 1) => mail.resent += 1,
            _ => {
                mail.mixed += 1;
                problems.push(format!("story {} was received under several Message-IDs: {ids:?}", p.guid));
            }
        }
    }
    problems.extend(by_story.keys().map(|s| format!("a message carried {s}, which was never published")));
    mail
}

/// What `PRAGMA integrity_check` says, its lines joined.
fn integrity(setup: &Setup) -> String {
    let db = setup.db();
    let mut stmt = db.prepare("PRAGMA integrity_check").unwrap();
    let lines: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    lines.join("; ")
}
