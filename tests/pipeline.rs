//! End to end over real parts: a feed server on 127.0.0.1, a SQLite file in a temp dir, the
//! jsonl notifier writing a real file.

mod common;

use common::{FeedServer, Item, Route, Setup, rss};
use wirewatch::engine;

const TREATY: &str = "North Korea and Russia sign a defence treaty";

fn base_items() -> Vec<Item<'static>> {
    vec![
        Item::new("a-1", TREATY, "Officials met in Pyongyang."),
        Item::new("a-2", "Weather in Lisbon", "Sunny spells."),
        Item::new("a-3", "Election results", "Turnout rose."),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn first_poll_stores_and_alerts_and_a_second_gets_304_and_nothing() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &base_items()));
    let setup = Setup::new(&[server.url("wire.xml")]);

    let first = engine::once(setup.load()).await.unwrap();
    assert_eq!((first.polled, first.failed, first.new_stories, first.delivered), (1, 0, 3, 1));
    let alerts = setup.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["title"], TREATY);
    assert_eq!(alerts[0]["watch"], "dprk");

    let second = engine::once(setup.load()).await.unwrap();
    assert_eq!((second.polled, second.failed, second.new_stories, second.delivered), (1, 0, 0, 0));
    assert_eq!(server.not_modified(), 1, "the second poll must be conditional");
    assert_eq!(setup.alerts().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_new_items_are_new_and_only_the_matching_one_alerts() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &base_items()));
    let setup = Setup::new(&[server.url("wire.xml")]);
    engine::once(setup.load()).await.unwrap();

    let mut items = base_items();
    items.insert(0, Item::new("a-4", "DPRK faces new sanctions", "The council voted."));
    items.insert(0, Item::new("a-5", "Markets close higher", "Shares rose."));
    server.set_rss("wire.xml", rss("Wire", &items));
    let s = engine::once(setup.load()).await.unwrap();
    assert_eq!((s.new_stories, s.delivered), (2, 1));
    let titles: Vec<_> = setup.alerts().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect();
    assert_eq!(titles, vec![TREATY.to_string(), "DPRK faces new sanctions".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_without_guids_keeps_stable_ids_across_polls() {
    let server = FeedServer::start().await;
    let items = |extra: bool| {
        let mut v = vec![
            Item { guid: None, link: Some("https://example.org/treaty"), ..Item::new("", TREATY, "Signed today.") },
            Item { guid: None, link: None, ..Item::new("", "North Korea sanctions eased", "No link here.") },
        ];
        if extra {
            v.push(Item { guid: None, link: None, ..Item::new("", "Quiet day", "Nothing.") });
        }
        v
    };
    server.set_rss("noguid.xml", rss("No guids", &items(false)));
    let setup = Setup::new(&[server.url("noguid.xml")]);
    let first = engine::once(setup.load()).await.unwrap();
    assert_eq!((first.new_stories, first.delivered), (2, 2));

    // A changed document (so no 304) that still lists the same two entries.
    server.set_rss("noguid.xml", rss("No guids", &items(true)));
    let second = engine::once(setup.load()).await.unwrap();
    assert_eq!((second.new_stories, second.delivered), (1, 0));
    assert_eq!(setup.alerts().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_feeds_are_recorded_while_the_others_succeed() {
    let server = FeedServer::start().await;
    server.set_rss("good.xml", rss("Good", &base_items()));
    server.set("e500.xml", Route::Status(500));
    server.set("hang.xml", Route::Hang);
    server.set(
        "page.html",
        Route::Feed { body: b"<!DOCTYPE html><html><body>Hi</body></html>".to_vec(), content_type: "text/html" },
    );
    server.set(
        "broken.xml",
        Route::Feed {
            body: b"<rss version=\"2.0\"><channel><item><title>x</ti".to_vec(),
            content_type: "application/xml",
        },
    );
    let names = ["good.xml", "e500.xml", "hang.xml", "page.html", "broken.xml"];
    let setup = Setup::new(&names.map(|n| server.url(n)));

    let s = engine::once(setup.load()).await.unwrap();
    assert_eq!((s.polled, s.failed, s.new_stories, s.delivered), (5, 4, 3, 1));

    let db = setup.db();
    let error = |name: &str| -> (Option<String>, i64) {
        db.query_row("SELECT last_error, consecutive_failures FROM feeds WHERE url = ?1", [server.url(name)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
    };
    assert_eq!(error("good.xml"), (None, 0));
    assert_eq!(error("e500.xml"), (Some("HTTP status 500".into()), 1));
    assert_eq!(error("hang.xml").0.unwrap(), "timed out after 2s");
    assert_eq!(error("page.html").0.unwrap(), "not a feed: the document is an HTML page");
    // Its one item is cut short: the document has items and yields none, which is an error
    // naming the parser's complaint.
    let broken = error("broken.xml").0.unwrap();
    assert!(broken.starts_with("no stories: the document has 1 item") && broken.contains("not closed"), "{broken}");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_sight_alerts_only_stories_newer_than_backfill() {
    let server = FeedServer::start().await;
    let recent = chrono::Utc::now().to_rfc2822();
    let items = vec![
        Item { date: "Mon, 02 Jan 2006 09:00:00 GMT", ..Item::new("old", "Old North Korea sanctions story", "x") },
        Item { date: &recent, ..Item::new("new", "New North Korea sanctions story", "x") },
    ];
    server.set_rss("wire.xml", rss("Wire", &items));
    let toml = std::fs::read_to_string(Setup::new(&[server.url("wire.xml")]).config).unwrap();
    let setup = Setup::with_config(&toml.replace("backfill = \"100000d\"", "backfill = \"24h\""));
    let s = engine::once(setup.load()).await.unwrap();
    assert_eq!((s.new_stories, s.delivered), (2, 1));
    assert_eq!(setup.alerts()[0]["id"], "guid:new");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_database_stores_nothing_says_so_once_and_loses_nothing() {
    let server = FeedServer::start().await;
    let body = "Ministers adopted a new package of sanctions against the shadow fleet. ".repeat(30);
    let guids: Vec<String> = (0..100).map(|i| format!("g-{i}")).collect();
    let titles: Vec<String> = (0..100).map(|i| format!("EU widens North Korea sanctions, package {i}")).collect();
    let mut urls = Vec::new();
    for feed in ["a.xml", "b.xml", "c.xml"] {
        let items: Vec<Item> = guids.iter().zip(&titles).map(|(g, t)| Item::new(g, t, &body)).collect();
        server.set_rss(feed, rss(feed, &items));
        urls.push(server.url(feed));
    }
    let setup = Setup::new(&urls);
    let db = setup.path("state/wirewatch.db");
    drop(wirewatch::store::Store::open(&db).unwrap());
    let empty = std::fs::metadata(&db).unwrap().len();
    let config = std::fs::read_to_string(&setup.config).unwrap();
    let once = || common::bin().arg("once").arg("--config").arg(&setup.config).output().unwrap();

    // Room for the schema and the feed rows, not for 300 stories of 2 KB.
    std::fs::write(
        &setup.config,
        config.replace("[storage]\n", &format!("[storage]\nmax_size = \"{}B\"\n", empty + 16384)),
    )
    .unwrap();
    let out = once();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("cannot write the database").count(), 1, "said once for three feeds: {err}");
    assert!(err.contains("database or disk is full"), "{err}");
    let stories: i64 = setup.db().query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0)).unwrap();
    assert_eq!(stories, 0, "nothing marked seen");

    std::fs::write(&setup.config, &config).unwrap();
    assert!(once().status.success());
    let stories: i64 = setup.db().query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0)).unwrap();
    assert_eq!(stories, 300, "every story is stored once there is room");
    // The three feeds carry the same 100 stories: one alert each.
    assert_eq!(setup.alerts().len(), 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_feeds_failing_the_last_day_and_the_outbox() {
    let server = FeedServer::start().await;
    server.set_rss("good.xml", rss("Good", &base_items()));
    server.set("e500.xml", Route::Status(500));
    server.set_rss("flaky.xml", rss("Flaky", &[]));
    let setup = Setup::new(&["good.xml", "e500.xml", "flaky.xml", "later.xml"].map(|n| server.url(n)));
    // later.xml is configured but never polled: the runs below cover the first three only.
    let first = std::fs::read_to_string(&setup.config).unwrap();
    let without_later = first.replace(&format!("[[feed]]\nurl = \"{}\"\n", server.url("later.xml")), "");
    std::fs::write(&setup.config, &without_later).unwrap();
    engine::once(setup.load()).await.unwrap();
    // flaky.xml worked, then fails: its streak began a month ago, long before e500's, which
    // never worked. The feed failing longest is flaky.xml.
    server.set("flaky.xml", Route::Status(500));
    engine::once(setup.load()).await.unwrap();
    let month_ago = wirewatch::store::unix_now() - 30 * 86_400;
    let url = server.url("flaky.xml");
    setup
        .db()
        .execute("UPDATE feeds SET failing_since = ?1 WHERE url = ?2", rusqlite::params![month_ago, url])
        .unwrap();
    std::fs::write(&setup.config, &first).unwrap();

    let status = |json: bool| {
        let mut cmd = common::bin();
        cmd.arg("--config").arg(&setup.config).arg("status");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let s: serde_json::Value = serde_json::from_str(&status(true)).unwrap();
    assert_eq!(
        s["feeds"],
        serde_json::json!({"total": 4, "ok": 1, "failing": 2, "gone": 0, "new": 1, "skipping_items": 0})
    );
    let oldest = &s["oldest_failure"];
    assert_eq!(
        (&oldest["url"], &oldest["error"], &oldest["failures"]),
        (&url.into(), &"HTTP status 500".into(), &1.into())
    );
    let since = chrono::DateTime::parse_from_rfc3339(oldest["failing_since"].as_str().unwrap()).unwrap();
    assert_eq!(since.timestamp(), month_ago);
    assert!(oldest["last_success"].is_string(), "{oldest}");
    assert_eq!((s["stories_24h"].as_i64(), s["alerts_24h"].as_i64()), (Some(3), Some(1)));
    assert_eq!((s["outbox_queued"].as_i64(), s["outbox_dead"].as_i64()), (Some(0), Some(0)));
    assert!(s["last_poll"].is_string() && s["database_bytes"].as_u64().unwrap() > 0, "{s}");
    let text = status(false);
    assert!(text.contains("1 ok, 2 failing, 0 gone, 1 not polled yet (4 configured)"), "{text}");
    assert!(text.contains("flaky.xml (failing since ") && text.contains(", 1 failure, last success "), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_failing_past_alert_after_alerts_once_and_once_more_when_it_recovers() {
    let server = FeedServer::start().await;
    server.set("wire.xml", Route::Status(500));
    let setup = Setup::health_alerting(&server.url("wire.xml"));
    let titles =
        || -> Vec<String> { setup.alerts().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect() };
    engine::once(setup.load()).await.unwrap();
    engine::once(setup.load()).await.unwrap();
    assert_eq!(titles(), ["Feed failing for 0s: Wire"], "one alert per failure streak");
    let failing = &setup.alerts()[0];
    assert_eq!(failing["watch"], "feed-health");
    assert_eq!(failing["snippet"], "Last error: HTTP status 500");

    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", "EU widens sanctions on Russia", "A new package.")]));
    engine::once(setup.load()).await.unwrap();
    let titles = titles();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.iter().any(|t| t.starts_with("Feed recovered after ") && t.ends_with(": Wire")), "{titles:?}");
    assert!(titles.contains(&"EU widens sanctions on Russia".to_string()), "{titles:?}");
}

/// Bodies waiting for the writer were bounded by count alone (`concurrency` x `max_body`);
/// with `[poll] memory` smaller than the bodies of one pass together, every feed still gets
/// polled and stored: a poll waits for its share of the budget, never for ever.
#[tokio::test(flavor = "multi_thread")]
async fn a_memory_budget_smaller_than_the_pass_still_polls_every_feed() {
    let server = FeedServer::start().await;
    let filler = "word ".repeat(6_000);
    let mut feeds = Vec::new();
    for f in 0..4 {
        let guids: Vec<String> = (0..10).map(|i| format!("f{f}-{i}")).collect();
        let titles: Vec<String> = guids.iter().map(|g| format!("Sanctions widen on {g}")).collect();
        let bodies: Vec<String> = guids.iter().map(|g| format!("{g} {filler}")).collect();
        let items: Vec<Item> = (0..10).map(|i| Item::new(&guids[i], &titles[i], &bodies[i])).collect();
        server.set_rss(&format!("big{f}.xml"), rss("Big", &items));
        feeds.push(server.url(&format!("big{f}.xml")));
    }
    let setup = Setup::new(&feeds);
    let config = std::fs::read_to_string(&setup.config).unwrap();
    // Each body is about 300 KiB, charged twice that: one at a time fits 1 MiB.
    let budget = "[poll]\nmemory = \"1MiB\"\nmax_body = \"1MiB\"\nconcurrency = 4\nper_host = 4\n";
    std::fs::write(&setup.config, config.replace("[poll]\n", budget)).unwrap();
    let summary = engine::once(setup.load()).await.unwrap();
    assert_eq!((summary.polled, summary.failed, summary.new_stories), (4, 0, 40));
}
