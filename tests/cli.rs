//! The command-line contract, exercised through the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::{FeedServer, Item, Setup, bin, rss};

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("wirewatch runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn check_summarises_a_valid_config_with_config_before_or_after_the_subcommand() {
    let setup = Setup::new(&["https://example.org/feed.xml".to_string()]);
    let (code, out, _) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 0);
    assert!(out.contains("1 feed,") && out.contains("1 watch,") && out.contains("1 notifier\n"), "{out}");
    let (code, _, _) = run(bin().arg("--config").arg(&setup.config).arg("check"));
    assert_eq!(code, 0);
    let (code, out, _) = run(bin().arg("check").env("WIREWATCH_CONFIG", &setup.config));
    assert_eq!(code, 0, "{out}");
}

/// `check` on config text, which must fail as a bad config (exit 2); returns standard error.
fn check_fails(toml: &str) -> String {
    let setup = Setup::with_config(toml);
    let (code, _, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 2, "{err}");
    err
}

#[test]
fn config_goes_anywhere_in_outbox_retry_and_list_flags_do_not_go_with_it() {
    let setup = Setup::new(&["https://example.org/feed.xml".to_string()]);
    drop(wirewatch::store::Store::open(&setup.path("state/wirewatch.db")).unwrap());
    for args in [["outbox", "--config", "C", "retry", "7"], ["outbox", "retry", "7", "--config", "C"]] {
        let args = args.map(|a| if a == "C" { setup.config.as_os_str() } else { a.as_ref() });
        let (code, out, err) = run(bin().args(args));
        assert_eq!((code, out.as_str()), (1, "requeued 0 alerts\n"), "{args:?}: {err}");
        assert!(err.contains("not requeued (no such alert, or already sent): 7"), "{err}");
    }
    let (code, _, err) =
        run(bin().args(["outbox", "--state", "dead", "retry", "7"]).arg("--config").arg(&setup.config));
    assert_eq!(code, 2);
    assert!(err.contains("--state and --limit choose what `outbox` lists"), "{err}");
}

#[test]
fn commands_that_read_the_database_never_create_one() {
    let setup = Setup::new(&["https://example.org/feed.xml".to_string()]);
    let db = setup.path("state/wirewatch.db");
    for command in [&["status"][..], &["feeds"], &["recent"], &["outbox"], &["outbox", "retry", "--all-dead"]] {
        let (code, _, err) = run(bin().args(command).arg("--config").arg(&setup.config));
        assert_eq!(code, 1, "{command:?}");
        let expected = format!("no database at {}: `wirewatch once` or `run` creates it", db.display());
        assert!(err.contains(&expected) && err.contains("STATE_DIRECTORY=/var/lib/wirewatch"), "{err}");
        assert!(!db.exists() && !setup.path("state").exists(), "{command:?} created it");
    }
}

#[test]
fn check_exits_2_naming_file_line_column_and_valid_keys() {
    let setup = Setup::with_config("[poll]\nintervall = \"5m\"\n");
    let (code, _, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 2);
    let expected = format!("{}:2:1: unknown field `intervall`, expected one of `interval`", setup.config.display());
    assert!(err.contains(&expected), "{err}");
}

#[test]
fn check_reports_every_bad_value_at_once() {
    let toml = "[poll]\ninterval = \"soon\"\n[[feed]]\nurl = \"ftp://example.org/x\"\n[[watch]]\nname = \"s\"\nquery = \"sanctions AND NOT\"\n";
    let err = check_fails(toml);
    assert!(err.contains(":2:12: invalid duration \"soon\" for poll.interval"), "{err}");
    assert!(err.contains(":4:7: unsupported URL scheme \"ftp\""), "{err}");
    assert!(err.contains(":7:9: watch \"s\": expected a term after NOT (column 15)"), "{err}");
    assert!(err.contains("    sanctions AND NOT\n                  ^"), "{err}");
}

#[test]
fn retention_and_dedupe_settings_are_checked_against_each_other() {
    let err = check_fails("[storage]\nretain = \"3d\"\n[dedupe]\nwindow = \"72h\"\ncross_feed = false\n");
    let expected = ":2:10: storage.retain (3d) must be at least twice dedupe.window (72h): at least 6d, so that";
    assert!(err.contains(expected), "{err}");
}

/// The rule once held only when `retain` was written, so a long window beside the default
/// retention passed.
#[test]
fn a_dedupe_window_longer_than_half_the_default_retention_is_an_error() {
    let err = check_fails("[dedupe]\nwindow = \"60d\"\n");
    let expected = ":2:10: storage.retain (90d, the default) must be at least twice dedupe.window (60d): at least 120d";
    assert!(err.contains(expected), "{err}");
}

#[test]
fn under_systemd_the_database_defaults_to_the_state_directory() {
    let setup = Setup::with_config("[[feed]]\nurl = \"feed.xml\"\n[[watch]]\nname = \"w\"\nquery = \"a\"\n");
    std::fs::write(setup.path("feed.xml"), rss("Wire", &[])).unwrap();
    let state = setup.path("var-lib-wirewatch");
    std::fs::create_dir(&state).unwrap();
    let (code, out, err) = run(bin()
        .arg("once")
        .arg("--config")
        .arg(&setup.config)
        .env("STATE_DIRECTORY", format!("{}:/elsewhere", state.display())));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        state.join("wirewatch.db").exists(),
        "{:?}",
        std::fs::read_dir(setup.dir.path()).unwrap().collect::<Vec<_>>()
    );
    assert!(!setup.path("wirewatch.db").exists());
}

/// `once` checks the database while it fetches: a damaged file stops the run with one message,
/// and nothing is written to it, though a feed changed meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_database_stops_once_with_exit_1_one_message_and_the_file_untouched() {
    let server = FeedServer::start().await;
    let titles: Vec<String> = (0..40).map(|i| format!("North Korea treaty talks, round {i}")).collect();
    let items = |n: usize| -> Vec<Item> { titles[..n].iter().map(|t| Item::new(t, t, "x")).collect() };
    server.set_rss("wire.xml", rss("Wire", &items(30)));
    let setup = Setup::new(&[server.url("wire.xml"), server.url("other.xml")]);
    server.set_rss("other.xml", rss("Other", &[Item::new("o", "Rain", "y")]));
    let db = setup.path("state/wirewatch.db");
    let config = setup.config.clone();
    let once = move || run(bin().arg("once").arg("--config").arg(&config));
    assert_eq!(tokio::task::spawn_blocking(once.clone()).await.unwrap().0, 0);
    // The stamp of a clean close vouches for the file only as wirewatch left it.
    assert!(setup.path("state/wirewatch.db-closed").exists());
    server.set_rss("wire.xml", rss("Wire", &items(40)));
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 3 * 4096, "a few pages to damage");
    bytes[2 * 4096..2 * 4096 + 64].fill(0xA5);
    for damaged in [bytes, b"these bytes are not a database at all, not even its header".repeat(100)] {
        std::fs::write(&db, &damaged).unwrap();
        let (code, out, err) = tokio::task::spawn_blocking(once.clone()).await.unwrap();
        assert_eq!(code, 1, "{out}{err}");
        let logged = err.contains("WARN") || err.contains("ERROR");
        assert!(err.starts_with("error: ") && err.matches("damaged").count() == 1 && !logged, "one message: {err}");
        assert!(err.contains("is damaged (PRAGMA quick_check:") && err.contains("writes nothing more to it"), "{err}");
        assert!(std::fs::read(&db).unwrap() == damaged, "the file is not touched");
        let wal = std::fs::metadata(setup.path("state/wirewatch.db-wal")).map_or(0, |m| m.len());
        assert_eq!(wal, 0, "nothing written ahead either");
    }
}

#[test]
fn json_logs_are_one_object_per_line_without_timestamps_under_journald() {
    let toml = "[log]\nformat = \"json\"\n[[feed]]\nurl = \"missing.xml\"\n[[watch]]\nname = \"s\"\nquery = \"x\"\n";
    let setup = Setup::with_config(toml);
    for journald in [false, true] {
        let mut cmd = bin();
        cmd.arg("once").arg("--config").arg(&setup.config);
        if journald {
            cmd.env("JOURNAL_STREAM", "8:1234");
        }
        let (code, _, err) = run(&mut cmd);
        assert_eq!(code, 1, "its only feed failed: {err}");
        let lines: Vec<serde_json::Value> = err.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
        let failed = lines.iter().find(|l| l["message"] == "feed poll failed").expect("the broken feed is logged");
        assert_eq!(failed["level"], "WARN");
        assert!(failed["feed"].as_str().unwrap().ends_with("missing.xml"), "{failed}");
        assert_eq!(failed.get("timestamp").is_some(), !journald, "{failed}");
    }
    std::fs::write(&setup.config, "[log]\nformat = \"xml\"\n").unwrap();
    let (code, _, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 2);
    assert!(err.contains(":2:10: unknown variant `xml`, expected `text` or `json`"), "{err}");
}

#[test]
fn a_missing_config_file_is_a_config_error() {
    let (code, _, err) = run(bin().args(["check", "--config", "/nonexistent/wirewatch.toml"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/wirewatch.toml: cannot read config file"), "{err}");
}

#[test]
fn match_json_prints_one_object_per_story_and_watch_with_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    let items = [
        Item {
            link: Some("https://example.org/visit?id=7"),
            ..Item::new(
                "visit-7",
                "Russian official in <b>Pyongyang</b> for treaty talks",
                "<p>The DPRK welcomed the delegation.</p>",
            )
        },
        Item::new("other", "Weather", "Rain."),
    ];
    std::fs::write(
        &feed,
        rss("Demo Wire", &items)
            .replace("<b>", "&lt;b&gt;")
            .replace("</b>", "&lt;/b&gt;")
            .replace("<p>", "&lt;p&gt;")
            .replace("</p>", "&lt;/p&gt;"),
    )
    .unwrap();
    let setup = Setup::new(&[]);
    let (code, out, err) = run(bin().args(["match", "--json"]).arg(&feed).arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{out}");
    let m = &lines[0];
    assert_eq!(m["watch"], "dprk");
    assert_eq!(m["feed"], "Demo Wire");
    assert_eq!(m["id"], "guid:visit-7");
    assert_eq!(m["url"], "https://example.org/visit?id=7");
    assert_eq!(m["title"], "Russian official in Pyongyang for treaty talks");
    assert_eq!(m["published"], "2026-11-28T09:00:00Z");
    let matched = m["matched"].as_array().unwrap();
    let triples: Vec<(String, String, String)> = matched
        .iter()
        .map(|t| {
            (
                t["term"].as_str().unwrap().into(),
                t["text"].as_str().unwrap().into(),
                t["field"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        triples,
        vec![
            ("North Korea".into(), "Pyongyang".into(), "title".into()),
            ("treaty".into(), "treaty".into(), "title".into()),
            ("North Korea".into(), "DPRK".into(), "body".into()),
        ]
    );
    assert_eq!((matched[0]["start"].as_u64(), matched[0]["end"].as_u64()), (Some(20), Some(29)));
    assert_eq!(m["lang"], "en");
    assert!(!dir.path().join("state").exists(), "match must not create a database");
}

#[test]
fn match_json_gives_each_story_its_language_and_languages_limits_a_watch() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    let items = [
        Item::new("ru", "КНДР и Россия подписали договор", "Договор между Россией и Северной Кореей вступил в силу."),
        Item::new("fr", "La Corée du Nord et la Russie signent un traité", "Le traité est entré en vigueur mercredi."),
    ];
    std::fs::write(&feed, rss("Wire", &items)).unwrap();
    let toml = "[[watch]]\nname = \"any\"\nquery = '\"North Korea\" AND Russia'\n\
                [[watch]]\nname = \"slavic\"\nquery = '\"North Korea\"'\nlanguages = [\"ru\", \"uk\"]\n";
    let setup = Setup::with_config(toml);
    let (code, out, err) = run(bin().args(["match", "--json"]).arg(&feed).arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(String, String, String)> = lines
        .iter()
        .map(|m| (m["id"].as_str().unwrap().into(), m["watch"].as_str().unwrap().into(), m["lang"].to_string()))
        .collect();
    let expected = [("guid:ru", "any", "\"ru\""), ("guid:ru", "slavic", "\"ru\""), ("guid:fr", "any", "\"fr\"")];
    assert_eq!(got, expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())), "{out}");

    let bad = check_fails("[[watch]]\nname = \"w\"\nquery = \"a\"\nlanguages = [\"xx\"]\n");
    assert!(bad.contains(":4:14: watch \"w\": unknown language \"xx\""), "{bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_process_on_the_same_database_alerts_nothing_old() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("t", "North Korea treaty signed", "x")]));
    let setup = Setup::new(&[server.url("wire.xml")]);
    let config = setup.config.clone();
    let once = move || run(bin().arg("once").arg("--config").arg(&config));
    let (code, out, _) = tokio::task::spawn_blocking(once.clone()).await.unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "polled 1 feed (0 failed), 1 new story, 1 alert delivered");
    // A changed body (so the server sends it in full) that still holds the old story.
    server.set_rss(
        "wire.xml",
        rss("Wire", &[Item::new("t", "North Korea treaty signed", "x"), Item::new("u", "Rain", "y")]),
    );
    let (code, out, _) = tokio::task::spawn_blocking(once).await.unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "polled 1 feed (0 failed), 1 new story, 0 alerts delivered");
    assert_eq!(setup.alerts().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_polls_alerts_and_exits_0_on_sigterm() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("t", "North Korea treaty signed", "x")]));
    let toml = format!(
        "[storage]\npath = \"w.db\"\n[poll]\nbackfill = \"100000d\"\narticle = \"never\"\n[[feed]]\nurl = \"{}\"\n{}",
        server.url("wire.xml"),
        common::WATCHES.replace("type = \"jsonl\"\npath = \"alerts.jsonl\"", "type = \"stdout\"")
    );
    let setup = Setup::with_config(&toml);
    let mut child = bin().arg("run").arg("--config").arg(&setup.config).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || line_tx.send(BufReader::new(stdout).lines().next().map(Result::unwrap)).unwrap());
    let first = line_rx.recv_timeout(Duration::from_secs(30));
    if first.is_err() {
        let _ = child.kill();
    }
    assert_eq!(first.expect("an alert within 30 s").as_deref(), Some("[dprk] North Korea treaty signed"));

    let status = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()).unwrap());
    let exit = rx.recv_timeout(Duration::from_secs(20)).expect("wirewatch stops after SIGTERM").unwrap();
    assert_eq!(exit.code(), Some(0));
    let db = rusqlite::Connection::open(setup.path("w.db")).unwrap();
    let sent: i64 = db.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", [], |r| r.get(0)).unwrap();
    assert_eq!(sent, 1);
}

#[test]
fn the_shipped_config_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let config = wirewatch::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!((10..=20).contains(&config.feeds.len()), "{} feeds", config.feeds.len());
    assert!(config.watches.iter().any(|w| w.name.contains("sanction")));
}

#[test]
fn the_demo_alerts_on_the_first_run_and_not_on_the_second() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let dir = tempfile::tempdir().unwrap();
    // The shipped files only: not the database a run of the quick start leaves beside them.
    for entry in std::fs::read_dir(&demo).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_name().to_string_lossy().starts_with("demo.db") {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    // A relative config path, as in the README's quick start.
    let config = std::path::Path::new(dir.path().file_name().unwrap()).join("demo.toml");
    let parent = dir.path().parent().unwrap();
    let (code, first, err) = run(bin().arg("once").arg("--config").arg(&config).current_dir(parent));
    assert_eq!(code, 0, "{err}");
    assert!(first.contains("[dprk-russia] "), "{first}");
    let summary = first.lines().last().unwrap();
    assert!(
        summary.starts_with("polled 4 feeds (0 failed), ") && !summary.ends_with(" 0 alerts delivered"),
        "{summary}"
    );
    let (code, second, _) = run(bin().arg("once").arg("--config").arg(&config).current_dir(parent));
    assert_eq!(code, 0);
    assert_eq!(second.trim(), "polled 4 feeds (0 failed), 0 new stories, 0 alerts delivered");
}

#[test]
fn match_explain_shows_aliases_failures_and_the_excluding_not() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    std::fs::write(&feed, rss("Wire", &[Item::new("x", "Trade envoy lands in Pyongyang", "Talks begin.")])).unwrap();
    let toml = "[[entity]]\nname = \"North Korea\"\naliases = [\"Pyongyang\"]\n[[watch]]\nname = \"w\"\nquery = '\"North Korea\" NOT trade OR sanctions'\n";
    let setup = Setup::with_config(toml);
    let (code, out, err) = run(bin().args(["match", "--explain"]).arg(&feed).arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    let expected = "story guid:x (Wire, language unknown): Trade envoy lands in Pyongyang
  watch w: no match
    ✗ OR
      ✗ AND
        ✓ \"North Korea\"
            title \"Pyongyang\" at 21..30 (via \"Pyongyang\")
        ✗ NOT
            excluded the story: the negated part matched
          ✓ trade
              title \"Trade\" at 0..5
      ✗ sanctions
          not found in title, body, article
";
    assert_eq!(out.trim_end(), expected.trim_end(), "{out}");
}

#[test]
fn import_opml_adds_new_feeds_keeps_comments_and_export_round_trips() {
    let shipped =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    let setup = Setup::with_config(&shipped);
    let opml = setup.path("in.opml");
    std::fs::write(
        &opml,
        r#"<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="Desk">
        <outline text="Farm &amp; Field" xmlUrl="https://example.org/farm.xml"/>
        <outline text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/></outline></body></opml>"#,
    )
    .unwrap();
    let (code, out, err) = run(bin().arg("--config").arg(&setup.config).arg("import-opml").arg(&opml));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("added 1 feed, skipped 1 already present\n"), "{out}");
    let edited = std::fs::read_to_string(&setup.config).unwrap();
    let added = "[[feed]]\nurl = \"https://example.org/farm.xml\"\nname = \"Farm & Field\"\n\n";
    assert!(edited.contains(added), "{edited}");
    assert_eq!(edited.replacen(added, "", 1), shipped, "every other line and comment is kept as it was");

    let (code, exported, _) = run(bin().arg("--config").arg(&setup.config).arg("export-opml"));
    assert_eq!(code, 0);
    assert!(
        exported.contains("<opml version=\"2.0\">") && exported.contains("text=\"Farm &amp; Field\""),
        "{exported}"
    );
    let copy = Setup::with_config("[[feed]]\nurl = \"https://example.org/only.xml\"\n");
    std::fs::write(copy.path("all.opml"), &exported).unwrap();
    let (code, out, _) = run(bin().arg("--config").arg(&copy.config).arg("import-opml").arg(copy.path("all.opml")));
    assert_eq!(code, 0);
    let feeds = exported.matches("xmlUrl=").count();
    assert!(out.ends_with(&format!("added {feeds} feeds, skipped 0 already present\n")), "{out}");
}

#[test]
fn import_opml_refuses_a_file_that_is_not_opml() {
    let setup = Setup::with_config("[[feed]]\nurl = \"https://example.org/only.xml\"\n");
    std::fs::write(setup.path("page.html"), "<html><body>hi</body></html>").unwrap();
    let before = std::fs::read_to_string(&setup.config).unwrap();
    let (code, _, err) = run(bin().arg("--config").arg(&setup.config).arg("import-opml").arg(setup.path("page.html")));
    assert_eq!(code, 1);
    assert!(err.contains("page.html: not an OPML document"), "{err}");
    assert_eq!(std::fs::read_to_string(&setup.config).unwrap(), before);
}

#[test]
fn a_config_with_no_feed_or_no_watch_fails_check_and_start() {
    for toml in ["", "[[feed]]\nurl = \"a.xml\"\n", "[[watch]]\nname = \"w\"\nquery = \"a\"\n"] {
        let setup = Setup::with_config(toml);
        for command in ["check", "once", "run"] {
            let (code, _, err) = run(bin().arg(command).arg("--config").arg(&setup.config));
            assert_eq!(code, 2, "{command} on {toml:?}: {err}");
            assert!(err.contains("no [[feed]] to poll") || err.contains("no [[watch]] to match"), "{err}");
        }
    }
}

#[test]
fn with_several_config_errors_every_error_line_starts_with_error() {
    let err = check_fails("[poll]\ninterval = \"soon\"\nmax_body = \"16EiB\"\nmax_interval = \"30d\"\n");
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(err.lines().all(|l| l.starts_with("error: ")), "{err}");
    assert!(err.contains("poll.max_body must be between 1KiB and 1GiB"), "{err}");
}

#[test]
fn without_a_config_the_message_names_the_flag_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(bin().arg("check").current_dir(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--config") && err.contains("$WIREWATCH_CONFIG"), "{err}");
}

#[test]
fn import_opml_keeps_categories_as_tags_so_export_then_import_round_trips() {
    let setup = Setup::with_config("[[feed]]\nurl = \"https://example.org/only.xml\"\n");
    let opml = r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
        <outline text="Wire" category="world, wire" xmlUrl="https://example.org/wire.xml"/></body></opml>"#;
    std::fs::write(setup.path("in.opml"), opml).unwrap();
    let (code, _, err) = run(bin().arg("--config").arg(&setup.config).arg("import-opml").arg(setup.path("in.opml")));
    assert_eq!(code, 0, "{err}");
    let tags = |config: &std::path::Path| {
        let c = wirewatch::config::Config::load(config).unwrap();
        c.feeds.iter().map(|f| (f.url(), f.tags.clone())).collect::<Vec<_>>()
    };
    let wire = ("https://example.org/wire.xml".to_string(), vec!["world".to_string(), "wire".to_string()]);
    assert!(tags(&setup.config).contains(&wire), "{:?}", tags(&setup.config));

    let (_, exported, _) = run(bin().arg("--config").arg(&setup.config).arg("export-opml"));
    let copy = Setup::with_config("");
    std::fs::write(copy.path("all.opml"), &exported).unwrap();
    let (code, _, err) = run(bin().arg("--config").arg(&copy.config).arg("import-opml").arg(copy.path("all.opml")));
    assert_eq!(code, 0, "{err}");
    assert_eq!(tags(&copy.config), tags(&setup.config));
}

/// `print!` panicked (exit 101) when the reader had gone (`wirewatch feeds | head -1`).
#[test]
fn every_printing_command_exits_quietly_when_its_output_is_closed() {
    let setup = Setup::with_config("[[feed]]\nurl = \"feed.xml\"\n[[watch]]\nname = \"w\"\nquery = \"sanction*\"\n");
    std::fs::write(setup.path("feed.xml"), rss("Wire", &[Item::new("g-1", "EU widens sanctions", "A package.")]))
        .unwrap();
    let (code, _, err) = run(bin().arg("once").arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    let feed = setup.path("feed.xml");
    let page = setup.path("page.html");
    std::fs::write(&page, "<html><body><article><p>EU widens sanctions.</p></article></body></html>").unwrap();
    let commands: [&[&str]; 10] = [
        &["status"],
        &["status", "--json"],
        &["feeds"],
        &["recent"],
        &["outbox", "--state", "all"],
        &["check"],
        &["export-opml"],
        &["once"],
        &["match", feed.to_str().unwrap()],
        &["extract", page.to_str().unwrap()],
    ];
    for args in commands {
        // The read end is gone before the command starts, so every write it makes fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = bin().args(args).arg("--config").arg(&setup.config).stdout(writer).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!((out.status.code(), err.as_ref()), (Some(0), ""), "{args:?}");
    }
}

/// A wildcard's `matched` term read "sanction", a term the query never wrote.
#[test]
fn the_matched_term_of_a_wildcard_shows_the_wildcard() {
    let setup = Setup::one_feed("feed.xml", "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    std::fs::write(setup.path("feed.xml"), rss("Wire", &[Item::new("g-1", "EU widens sanctions", "More.")])).unwrap();
    let (code, out, err) =
        run(bin().args(["match", "--json"]).arg(setup.path("feed.xml")).arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (line["matched"][0]["term"].as_str(), line["matched"][0]["text"].as_str()),
        (Some("sanction*"), Some("sanctions"))
    );
    let (code, _, err) = run(bin().arg("once").arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    assert_eq!(setup.alerts()[0]["matched"][0]["term"], "sanction*", "the jsonl alert");
    let (_, explained, _) =
        run(bin().args(["match", "--explain"]).arg(setup.path("feed.xml")).arg("--config").arg(&setup.config));
    assert!(explained.contains("sanction*") && !explained.contains("via"), "{explained}");
}

/// The README's test command stopped early on a machine without the test servers; `./test`
/// installs them, and CI must run exactly what the README tells a new user to run.
#[test]
fn ci_runs_the_readme_test_command_which_sets_itself_up() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert!(read("README.md").contains("\n./test "), "the quick start names ./test");
    assert_eq!(read(".ci/run").lines().last(), Some("./test"));
    let script = read("test");
    assert!(script.contains("smtp-sink") && script.contains("aiosmtpd"), "{script}");
    assert!(script.trim_end().ends_with("exec cargo test --locked \"$@\""), "{script}");
}

/// A first poll stored old stories without alerting, and said nothing about why none alerted.
#[test]
fn the_first_poll_of_a_feed_logs_how_many_stories_were_outside_backfill() {
    let setup = Setup::with_config("[[feed]]\nurl = \"feed.xml\"\n[[watch]]\nname = \"w\"\nquery = \"sanction*\"\n");
    let items = [Item::new("g-1", "EU widens sanctions", "A."), Item::new("g-2", "Weather", "Rain.")];
    std::fs::write(setup.path("feed.xml"), rss("Wire", &items)).unwrap();
    let log = |setup: &Setup| run(bin().arg("once").arg("--config").arg(&setup.config).env("RUST_LOG", "info")).2;
    let first = log(&setup);
    assert!(
        first.contains("first poll: 2 stories older than backfill (1day) or undated were stored without alerting"),
        "{first}"
    );
    assert!(!log(&setup).contains("first poll"), "only the first poll says it");
}

/// `check` passed a jsonl notifier whose folder did not exist, and one the unit cannot write.
#[test]
fn check_verifies_a_jsonl_folder_and_says_where_the_service_can_write() {
    let config = |path: &str| {
        format!(
            "[[feed]]\nurl = \"a.xml\"\n[[watch]]\nname = \"w\"\nquery = \"a\"\n\
             [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"{path}\"\n"
        )
    };
    let setup = Setup::with_config(&config("no-such-folder/alerts.jsonl"));
    let (code, _, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("notifier \"log\": the folder") && err.contains("no-such-folder of path"), "{err}");

    std::fs::write(&setup.config, config("/etc/alerts.jsonl")).unwrap();
    let (code, out, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("note: notifier \"log\" appends to /etc/alerts.jsonl; under the shipped unit (ProtectSystem=strict) the service can write only in /var/lib/wirewatch"), "{out}");

    // Under the unit's environment: the real database path, and its state folder is writable.
    let state = setup.path("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::write(&setup.config, config(state.join("alerts.jsonl").to_str().unwrap())).unwrap();
    let (code, out, err) = run(bin().arg("check").arg("--config").arg(&setup.config).env("STATE_DIRECTORY", &state));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("database: {}", state.join("wirewatch.db").display())), "{out}");
    assert!(!out.contains("note:"), "{out}");
}
