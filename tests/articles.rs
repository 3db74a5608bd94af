//! The article step end to end: a loopback feed whose items link to article pages on the same
//! server (two real pages from the extraction benchmark, see tests/fixtures/articles/SOURCE),
//! a robots.txt disallowing one page, one page that hangs and one that answers 500.

mod common;

use std::io::Read;

use common::{FeedServer, Item, Route, Setup, rss};
use wirewatch::engine;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/articles").join(name);
    let mut html = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut html).unwrap();
    html
}

fn html(body: Vec<u8>) -> Route {
    Route::Feed { body, content_type: "text/html; charset=utf-8" }
}

const WATCHES: &str = r#"
[[watch]]
name = "keck"
query = '"Keck Observatory"'

[[watch]]
name = "paganini"
query = "article:Paganini"

[[watch]]
name = "softbank"
query = "SoftBank AND WeWork"

[[watch]]
name = "wework"
query = "title:WeWork"

[[watch]]
name = "sanctions"
query = "sanction*"

[[notifier]]
name = "log"
type = "jsonl"
path = "alerts.jsonl"
"#;

/// The server with its pages and robots.txt, and a config polling its feed.
async fn setup() -> (FeedServer, Setup) {
    let server = FeedServer::start().await;
    server.set("news/europa.html", html(fixture("europa.html.gz")));
    server.set("news/wework.html", html(fixture("wework.html.gz")));
    server.set("private/report.html", html(b"<p>SoftBank WeWork Keck Observatory sanctions</p>".to_vec()));
    server.set("news/hang.html", Route::Hang);
    server.set("news/broken.html", Route::Status(500));
    server.set("news/long.html", html(b"<article><p>Keck Observatory</p></article>".to_vec()));
    let robots = b"User-agent: *\nDisallow: /private/\n".to_vec();
    server.set("robots.txt", Route::Feed { body: robots, content_type: "text/plain" });
    let long = "The council met for hours and discussed the budget at length. ".repeat(20);
    let link = |path: &str| server.url(path);
    let (europa, wework, private, hang, broken, long_link) = (
        link("news/europa.html"),
        link("news/wework.html"),
        link("private/report.html"),
        link("news/hang.html"),
        link("news/broken.html"),
        link("news/long.html"),
    );
    let items = [
        Item {
            link: Some(&europa),
            ..Item::new("e", "Water found above Jupiter moon", "Traces of vapour, a team says.")
        },
        Item { link: Some(&wework), ..Item::new("w", "WeWork under investigation", "The state asks questions.") },
        Item { link: Some(&private), ..Item::new("p", "Sanctions report leaked", "A draft circulates.") },
        Item { link: Some(&hang), ..Item::new("h", "Sanctions talks stall", "No date for the next round.") },
        Item { link: Some(&broken), ..Item::new("b", "Sanctions lifted on grain", "Ships may sail.") },
        Item { link: Some(&long_link), ..Item::new("l", "Budget debate drags on", &long) },
    ];
    server.set_rss("feed.xml", rss("Wire", &items));
    let setup = Setup::with_config(&format!(
        "[storage]\npath = \"state/wirewatch.db\"\n\
         [poll]\ntimeout = \"2s\"\nbackfill = \"100000d\"\narticle_timeout = \"1s\"\narticle_wait = \"30s\"\n\
         [[feed]]\nurl = \"{}\"\nname = \"Wire\"\n{WATCHES}",
        server.url("feed.xml")
    ));
    (server, setup)
}

/// (story key, watch) of every alert delivered, sorted.
fn delivered(setup: &Setup) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = setup
        .alerts()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_string(), a["watch"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    got
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list.iter().map(|(k, w)| (format!("guid:{k}"), w.to_string())).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn articles_add_the_watches_they_match_once_and_failures_lose_nothing() {
    let (server, setup) = setup().await;
    engine::once(setup.load()).await.unwrap();

    let expected = pairs(&[
        ("e", "keck"),
        ("e", "paganini"),
        ("w", "softbank"),
        ("w", "wework"),
        ("p", "sanctions"),
        ("h", "sanctions"),
        ("b", "sanctions"),
    ]);
    assert_eq!(delivered(&setup), expected);
    let alerts = setup.alerts();
    let keck = alerts.iter().find(|a| a["watch"] == "keck").unwrap();
    assert_eq!(keck["matched"][0]["field"], "article");
    assert!(keck["snippet"].as_str().unwrap().contains("Keck Observatory"), "{keck}");
    let softbank = alerts.iter().find(|a| a["watch"] == "softbank").unwrap();
    assert!(
        softbank["snippet"].as_str().unwrap().contains("SoftBank"),
        "the snippet comes from the article: {softbank}"
    );

    assert_eq!(server.requests_to("private/report.html"), 0, "robots.txt disallows it");
    assert_eq!(server.requests_to("news/long.html"), 0, "a story with 150 words of its own is not fetched");
    assert_eq!(server.requests_to("robots.txt"), 1, "robots.txt is cached");
    let states: Vec<(String, Option<String>)> = setup
        .db()
        .prepare("SELECT key, article_state FROM stories ORDER BY key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let state = |k: &str| states.iter().find(|(key, _)| key == &format!("guid:{k}")).unwrap().1.clone();
    assert_eq!(state("e").as_deref(), Some("fetched"));
    assert_eq!(state("w").as_deref(), Some("fetched"));
    assert_eq!(state("p").as_deref(), Some("refused"));
    assert_eq!(state("h").as_deref(), Some("timeout"));
    assert_eq!(state("b").as_deref(), Some("failed"));
    assert_eq!(state("l"), None);
    let counts: (i64, i64, i64) = setup
        .db()
        .query_row("SELECT articles_fetched, articles_failed, articles_refused FROM feeds", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(counts, (2, 2, 1));

    // A second pass stores nothing new and fetches no article again.
    let pages =
        ["news/europa.html", "news/wework.html", "news/hang.html", "news/broken.html"].map(|p| server.requests_to(p));
    engine::once(setup.load()).await.unwrap();
    assert_eq!(delivered(&setup), expected);
    assert_eq!(
        ["news/europa.html", "news/wework.html", "news/hang.html", "news/broken.html"].map(|p| server.requests_to(p)),
        pages
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_step_is_a_row_taken_up_by_the_next_run_until_its_time_runs_out() {
    let (server, setup) = setup().await;
    // A first pass that fetches no article, then two stories set pending as a run stopped
    // mid-fetch would leave them: one still in time, one whose time ran out.
    std::fs::write(
        &setup.config,
        std::fs::read_to_string(&setup.config).unwrap().replace("[poll]\n", "[poll]\narticle = \"never\"\n"),
    )
    .unwrap();
    engine::once(setup.load()).await.unwrap();
    assert_eq!(
        delivered(&setup),
        pairs(&[("w", "wework"), ("p", "sanctions"), ("h", "sanctions"), ("b", "sanctions")])
    );
    let now = chrono::Utc::now().timestamp();
    let db = setup.db();
    db.execute("UPDATE stories SET article_state = 'pending', article_due = ?1 WHERE key = 'guid:e'", [now + 60])
        .unwrap();
    db.execute("UPDATE stories SET article_state = 'pending', article_due = ?1 WHERE key = 'guid:w'", [now - 1])
        .unwrap();
    drop(db);

    engine::once(setup.load()).await.unwrap();
    let got = delivered(&setup);
    assert!(got.contains(&("guid:e".into(), "keck".into())), "{got:?}");
    assert!(!got.iter().any(|(_, w)| w == "softbank"), "an expired step fetches nothing: {got:?}");
    assert_eq!(server.requests_to("news/wework.html"), 0);
    let expired: String =
        setup.db().query_row("SELECT article_state FROM stories WHERE key = 'guid:w'", [], |r| r.get(0)).unwrap();
    assert_eq!(expired, "expired");
}
