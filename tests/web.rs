//! The web view and the Atom feeds over a database filled by a real `wirewatch once` from
//! loopback feeds: every page and feed at the HTTP level, hostile titles shown as text, Atom
//! parsed back with feed-rs, conditional GET, the token, and that nothing is written.

mod common;

use common::newsroom::{HOSTILE_TITLE, NK_NEWS, Newsroom, TASS, YONHAP, run};
use common::{FeedServer, Item, Setup, rss};
use reqwest::StatusCode;

async fn get(url: &str) -> (StatusCode, String) {
    let response = common::http().get(url).send().await.expect("the web view answers");
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// The `/story/ID` links of a page, in order.
fn story_links(html: &str) -> Vec<String> {
    html.split("href=\"/story/").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

/// Every `<article>` of a page.
fn articles(html: &str) -> Vec<&str> {
    html.split("<article").skip(1).map(|s| &s[..s.find("</article>").unwrap()]).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alerts_page_lists_newest_first_with_highlights_clusters_and_filters() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let (status, html) = get(&format!("{base}/")).await;
    assert_eq!(status, StatusCode::OK);
    let items = articles(&html);
    // The launch (one cluster of three, under `missiles` and, for the NK News report, `dprk`
    // does not match), the treaty, the hostile story: one alert per cluster and watch.
    let alerts: Vec<serde_json::Value> = room.setup.alerts();
    assert_eq!(items.len(), alerts.len(), "{alerts:#?} {html}");
    let launch = items.iter().find(|a| a.contains("missiles</a>")).expect("the launch alert");
    assert!(launch.contains("ballistic <mark>missile</mark>"), "matched term marked: {launch}");
    assert!(launch.contains("Also reported by: "), "{launch}");
    for other in ["TASS", "NK News"].iter().filter(|f| !launch.contains(&format!("· {f} ·"))) {
        assert!(launch.contains(&format!(">{other}</a>")), "{other} listed: {launch}");
    }
    assert!(launch.contains("Read at the source"));

    let (_, dprk) = get(&format!("{base}/?watch=dprk")).await;
    assert!(articles(&dprk).iter().all(|a| a.contains("dprk</a>")), "{dprk}");
    assert!(dprk.contains("ratifies defence") && !dprk.contains("East Sea: JCS"), "{dprk}");
    let (_, none) = get(&format!("{base}/?since=1s&watch=missiles")).await;
    assert!(none.contains("No alerts match") || articles(&none).len() <= 1, "{none}");
    let feed_id = room.setup.db().query_row("SELECT id FROM feeds WHERE title = 'NK News'", [], |r| r.get::<_, i64>(0));
    let (_, nk) = get(&format!("{base}/?feed={}", feed_id.unwrap())).await;
    assert!(articles(&nk).iter().all(|a| a.contains("NK News")), "{nk}");
    let (status, bad) = get(&format!("{base}/?since=soon")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("since: &quot;soon&quot; is not a duration"), "{bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_title_is_shown_as_text_everywhere() {
    let room = Newsroom::start("").await;
    let stored: String =
        room.setup.db().query_row("SELECT title FROM stories WHERE key = 'guid:tass-78'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, HOSTILE_TITLE);
    let base = room.serve_web().await;
    let id: i64 =
        room.setup.db().query_row("SELECT id FROM stories WHERE key = 'guid:tass-78'", [], |r| r.get(0)).unwrap();
    for path in ["/".to_string(), format!("/story/{id}"), "/watch/dprk".to_string(), "/try?query=sanctions".to_string()]
    {
        let (status, html) = get(&format!("{base}{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path} shows the title as text: {html}");
        assert!(!html.contains("<script"), "{path} has no script element");
    }
    let (_, atom) = get(&format!("{base}/alerts.atom")).await;
    let feed = feed_rs::parser::parse(atom.as_bytes()).expect("valid Atom");
    let entry = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content == HOSTILE_TITLE);
    assert!(entry.is_some(), "the title comes back as the same text: {atom}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_story_page_shows_text_hits_and_the_explain_tree() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let id: i64 =
        room.setup.db().query_row("SELECT id FROM stories WHERE key = 'guid:yna-2'", [], |r| r.get(0)).unwrap();
    let (status, html) = get(&format!("{base}/story/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<mark>Pyongyang</mark> ratifies defence <mark>treaty</mark> with Moscow"), "{html}");
    assert!(html.contains("Feed text") && html.contains("<mark>North Korea</mark>'s legislature"), "{html}");
    assert!(html.contains("<td>North Korea</td><td><mark>Pyongyang</mark></td><td>title</td><td>0–9</td>"), "{html}");
    // The explain tree of each configured watch: dprk matches, missiles does not.
    assert!(html.contains("dprk: <span class=\"ok\">matches</span>"), "{html}");
    assert!(html.contains("missiles: <span class=\"fail\">no match</span>"), "{html}");
    assert!(html.contains("<strong>AND</strong>") && html.contains("<strong>OR</strong>"), "{html}");
    for path in ["/story/999999", "/story/abc"] {
        assert_eq!(get(&format!("{base}{path}")).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_page_charts_30_days_and_names_co_occurring_entities() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let (status, html) = get(&format!("{base}/watch/missiles")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<rect class=\"bar\"").count(), 30, "one bar a day: {html}");
    let today = chrono::Utc::now().format("%m-%d: 1</title>").to_string();
    assert!(html.contains(&today), "today's bar counts the one launch alert: {html}");
    assert!(html.contains("Alerts per day, last 30 days (1)"), "{html}");
    let named = &html[html.find("Named most often").unwrap()..html.find("Latest alerts").unwrap()];
    for entity in ["South Korea", "North Korea"] {
        assert!(named.contains(entity), "{entity} co-occurs: {named}");
    }
    assert!(!named.contains("Missile"), "{named}");
    assert!(html.contains("href=\"/watch/missiles.atom\""));
    assert_eq!(get(&format!("{base}/watch/nope")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feeds_page_shows_health_errors_and_the_outbox() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let (status, html) = get(&format!("{base}/feeds")).await;
    assert_eq!(status, StatusCode::OK);
    for name in ["Yonhap", "TASS", "NK News", "Broken"] {
        assert!(html.contains(name), "{name}: {html}");
    }
    assert!(html.contains("<td class=\"fail\">failing</td>"), "{html}");
    assert!(html.contains("last error at") && html.contains("500"), "{html}");
    let sent =
        room.setup.db().query_row("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", [], |r| r.get::<_, i64>(0));
    assert!(sent.unwrap() > 0);
    assert!(html.contains(" sent</td>"), "outbox counts per feed: {html}");
    assert!(html.contains("Nothing is waiting; nothing is dead."), "{html}");
}

/// One feed whose URL carries a token, with no configured name and no title of its own (so
/// the URL is its name), polled by a real `once`: one story, one `dprk` alert.
async fn feed_with_a_secret_in_its_url() -> Newsroom {
    let server = FeedServer::start().await;
    let story = Item::new("w-1", "North Korea faces new sanctions", "Diplomats said North Korea faces new sanctions.");
    server.set_rss("wire.xml", rss("", &[story]).replacen("<title></title>", "", 1));
    let setup = Setup::new(&[format!("{}?token=s3cret", server.url("wire.xml"))]);
    let out = run(&setup, &["once"]).await;
    assert!(out.status.success(), "once failed: {}", String::from_utf8_lossy(&out.stderr));
    Newsroom { server, setup }
}

/// The feeds page found each feed's row by its shown URL, which is redacted: a feed with a
/// token in its URL lost its link and its outbox counts.
#[tokio::test(flavor = "multi_thread")]
async fn the_feeds_page_links_and_counts_a_feed_with_a_secret_in_its_url() {
    let room = feed_with_a_secret_in_its_url().await;
    let id: i64 = room.setup.db().query_row("SELECT id FROM feeds", [], |r| r.get(0)).unwrap();
    let base = room.serve_web().await;
    let (status, html) = get(&format!("{base}/feeds")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("wire.xml?token=***"), "{html}");
    assert!(html.contains(&format!("href=\"/?feed={id}\"")), "the feed links to its alerts: {html}");
    assert!(html.contains("<td>1 sent</td>"), "the feed's outbox counts: {html}");
}

/// Pages named a feed without a name or title by its URL as stored, secret and all.
#[tokio::test(flavor = "multi_thread")]
async fn a_feed_named_by_its_url_never_shows_its_secret() {
    let room = feed_with_a_secret_in_its_url().await;
    let story: i64 = room.setup.db().query_row("SELECT id FROM stories", [], |r| r.get(0)).unwrap();
    let base = room.serve_web().await;
    for path in ["/".to_string(), format!("/story/{story}"), "/watch/dprk".to_string(), "/try?query=sanctions".into()] {
        let (status, html) = get(&format!("{base}{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("wire.xml?token=***"), "{path} names the feed by its URL: {html}");
        assert!(!html.contains("s3cret"), "{path} shows the secret: {html}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn try_a_query_runs_the_backtest() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let (status, html) = get(&format!("{base}/try")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<textarea name=\"query\""), "{html}");
    let (_, html) = get(&format!("{base}/try?query=%22ballistic+missile%22&since=30d")).await;
    assert!(html.contains("would have alerted 3 stories in 1 clusters over 30 days (0.1 a day)"), "{html}");
    for title in [YONHAP.title, TASS.title, NK_NEWS.title] {
        let shown = title.replace("ballistic missile", "<mark>ballistic missile</mark>");
        assert!(html.contains(&shown) || html.contains(title), "{title}: {html}");
    }
    // A configured watch fills the form; editing it runs the edit.
    let (_, html) = get(&format!("{base}/try?watch=dprk")).await;
    assert!(html.contains("&quot;North Korea&quot; AND (treaty OR sanctions)</textarea>"), "{html}");
    assert!(html.contains("would have alerted 2 stories"), "{html}");
    let (_, html) = get(&format!("{base}/try?watch=dprk&query=%22North+Korea%22+AND+treaty")).await;
    assert!(html.contains("would have alerted 1 stories"), "{html}");
    let (status, html) = get(&format!("{base}/try?query=sanctions+AND+NOT")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("expected a term after NOT"), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn atom_feeds_parse_back_with_stable_ids_and_answer_304_to_their_etag() {
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let client = common::http();
    let first = client.get(format!("{base}/alerts.atom")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "application/atom+xml; charset=utf-8");
    let etag = first.headers()["etag"].clone();
    let body = first.text().await.unwrap();
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("valid Atom");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), room.setup.alerts().len());
    let launch = feed.entries.iter().find(|e| e.categories.iter().any(|c| c.term == "missiles")).expect("launch");
    let content = launch.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(content.contains("missile* → “<mark>missile</mark>” in title"), "{content}");
    assert!(launch.id.starts_with("urn:uuid:"), "{}", launch.id);
    let links = [YONHAP.link, TASS.link, NK_NEWS.link].map(Option::unwrap);
    assert!(links.contains(&launch.links[0].href.as_str()), "{:?}", launch.links);

    let again = client.get(format!("{base}/alerts.atom")).header("If-None-Match", etag.clone()).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.text().await.unwrap().is_empty());
    let stale = client.get(format!("{base}/alerts.atom")).header("If-None-Match", "\"old\"").send().await.unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    let reparsed = feed_rs::parser::parse(stale.text().await.unwrap().as_bytes()).unwrap();
    assert_eq!(reparsed.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>(), ids, "ids are stable");

    let (status, watch) = get(&format!("{base}/watch/dprk.atom")).await;
    assert_eq!(status, StatusCode::OK);
    let dprk = feed_rs::parser::parse(watch.as_bytes()).expect("valid Atom");
    assert_eq!(dprk.entries.len(), 2, "the treaty and the hostile story");
    assert!(dprk.entries.iter().all(|e| e.categories.iter().any(|c| c.term == "dprk")));
    assert_eq!(get(&format!("{base}/watch/nope.atom")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_change_nothing_in_the_database() {
    let room = Newsroom::start("").await;
    let db = room.setup.path("state/wirewatch.db");
    let before = std::fs::read(&db).unwrap();
    let stamps = |state: &std::path::Path| {
        let mut names: Vec<String> =
            std::fs::read_dir(state).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.retain(|n| n.ends_with("-closed"));
        names
    };
    let stamp = stamps(&room.setup.path("state"));
    assert_eq!(stamp.len(), 1, "once left its clean-close stamp");
    let base = room.serve_web().await;
    let html = get(&format!("{base}/")).await.1;
    let mut paths: Vec<String> = story_links(&html).into_iter().map(|id| format!("/story/{id}")).collect();
    paths.extend(
        ["/watch/dprk", "/watch/missiles", "/feeds", "/try?query=missile", "/alerts.atom", "/watch/dprk.atom"]
            .map(String::from),
    );
    for p in &paths {
        assert_eq!(get(&format!("{base}{p}")).await.0, StatusCode::OK, "{p}");
    }
    assert!(std::fs::read(&db).unwrap() == before, "the database file is unchanged");
    assert_eq!(stamps(&room.setup.path("state")), stamp, "the clean-close stamp is kept");
    // A read-only connection may leave SQLite's -wal and -shm beside a file nothing else has
    // open; the log holds nothing.
    let wal = room.setup.path("state/wirewatch.db-wal");
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0, "nothing written to the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn run_serves_the_view_and_a_token_guards_every_path() {
    let room = Newsroom::start("").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut toml = std::fs::read_to_string(&room.setup.config).unwrap();
    toml = toml.replacen(
        "[poll]",
        &format!("[web]\nlisten = \"127.0.0.1:{port}\"\ntoken_env = \"WW_TEST_TOKEN\"\n[poll]"),
        1,
    );
    std::fs::write(&room.setup.config, toml).unwrap();
    let mut child = common::bin()
        .args(["--config", room.config(), "run"])
        .env("WW_TEST_TOKEN", "s3cret")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The daemon logs when it listens: wait for that line, and keep reading its log after it
    // (a closed pipe would fail its next log line).
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("serving the web view") {
                let _ = tx.send(());
            }
        }
    });
    // Bounded, so a daemon that never listens fails the test instead of hanging it.
    let wait = std::time::Duration::from_secs(120);
    if tokio::task::spawn_blocking(move || rx.recv_timeout(wait)).await.unwrap().is_err() {
        let _ = child.kill();
        panic!("the daemon did not serve the web view");
    }
    let base = format!("http://127.0.0.1:{port}");
    let client = common::http();
    for path in ["/", "/feeds", "/alerts.atom", "/style.css"] {
        let refused = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(refused.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        let wrong = client.get(format!("{base}{path}")).bearer_auth("s3cre").send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
        let bearer = client.get(format!("{base}{path}")).bearer_auth("s3cret").send().await.unwrap();
        assert_eq!(bearer.status(), StatusCode::OK, "{path}");
        let basic = client.get(format!("{base}{path}")).basic_auth("analyst", Some("s3cret")).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::OK, "{path}");
    }
    let term = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(term.success());
    let code = tokio::task::spawn_blocking(move || child.wait().unwrap().code()).await.unwrap();
    assert_eq!(code, Some(0), "SIGTERM stops it cleanly");
}
