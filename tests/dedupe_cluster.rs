//! One alert per story across feeds: the same news from several outlets is one cluster, alerted
//! once per watch, with the other outlets named (real HTTP server on 127.0.0.1, SQLite file in a
//! temp dir, the `wirewatch recent` binary).

mod common;

use common::newsroom::{NK_NEWS, TASS, YONHAP};
use common::{FeedServer, Item, Setup, bin, rss};
use wirewatch::dedupe::LookupKeys;
use wirewatch::engine;
use wirewatch::feed::Story;
use wirewatch::store::{FetchMeta, Store};

/// Another launch ten days later, told in many of the same words.
const LATER_LAUNCH: Item<'static> = Item {
    guid: Some("yna-2"),
    link: Some("https://en.yna.example/view/AEN20261205"),
    title: "N. Korea fires cruise missiles into Yellow Sea: JCS",
    description: "North Korea fired several cruise missiles into the Yellow Sea on Saturday, South Korea's Joint \
                  Chiefs of Staff said. The missiles flew about 1,500 kilometers for two hours.",
    date: "Sat, 05 Dec 2026 03:10:00 GMT",
};

/// Three feeds named Yonhap, TASS and NK News, a `missiles` watch, the jsonl notifier, and
/// `extra` config.
fn setup(server: &FeedServer, extra: &str) -> Setup {
    let mut toml =
        String::from("[storage]\npath = \"state/wirewatch.db\"\n[poll]\nbackfill = \"100000d\"\narticle = \"never\"\n");
    toml.push_str(extra);
    for (file, name) in [("yna.xml", "Yonhap"), ("tass.xml", "TASS"), ("nkn.xml", "NK News")] {
        toml.push_str(&format!("[[feed]]\nurl = \"{}\"\nname = \"{name}\"\n", server.url(file)));
    }
    toml.push_str(
        "[[watch]]\nname = \"missiles\"\nquery = \"missile*\"\n\
         [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
    );
    Setup::with_config(&toml)
}

fn serve(server: &FeedServer, yonhap: &[Item], tass: &[Item], nk: &[Item]) {
    server.set_rss("yna.xml", rss("Yonhap", yonhap));
    server.set_rss("tass.xml", rss("TASS", tass));
    server.set_rss("nkn.xml", rss("NK News", nk));
}

/// One poll of the three feeds, each carrying its report of the same launch.
async fn one_story_three_reports(extra: &str) -> Setup {
    let server = FeedServer::start().await;
    serve(&server, &[YONHAP], &[TASS], &[NK_NEWS]);
    let setup = setup(&server, extra);
    engine::once(setup.load()).await.unwrap();
    setup
}

fn feeds_named(alert: &serde_json::Value) -> Vec<String> {
    let mut names = vec![alert["feed"].as_str().unwrap().to_string()];
    names.extend(alert["also_reported_by"].as_array().into_iter().flatten().map(|v| v.as_str().unwrap().to_string()));
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_news_from_three_feeds_alerts_once_and_names_the_other_feeds() {
    let setup = one_story_three_reports("").await;
    let alerts = setup.alerts();
    assert_eq!(alerts.len(), 1, "one alert for one story: {alerts:#?}");
    assert_eq!(feeds_named(&alerts[0]), ["NK News", "TASS", "Yonhap"]);

    let clusters: i64 =
        setup.db().query_row("SELECT COUNT(DISTINCT cluster_id) FROM matches", [], |r| r.get(0)).unwrap();
    assert_eq!(clusters, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn later_reports_join_the_cluster_without_alerting_and_recent_lists_them() {
    let server = FeedServer::start().await;
    serve(&server, &[YONHAP], &[], &[]);
    let setup = setup(&server, "");
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    serve(&server, &[YONHAP, LATER_LAUNCH], &[TASS], &[NK_NEWS]);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1, "only the different launch alerts");
    let titles: Vec<String> = setup.alerts().iter().map(|a| a["title"].as_str().unwrap().to_string()).collect();
    assert_eq!(titles, [YONHAP.title, LATER_LAUNCH.title]);

    let out =
        bin().args(["--config", setup.config.to_str().unwrap(), "recent", "--since", "1h", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let clusters: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(clusters.len(), 2, "{clusters:#?}");
    let launch = clusters.iter().find(|c| c["members"].as_array().unwrap().len() == 3).expect("a three-feed cluster");
    assert_eq!(launch["watch"], "missiles");
    assert_eq!(launch["members"][0]["feed"], "Yonhap", "first reporter first");
    assert_eq!(launch["members"][0]["title"], YONHAP.title);
    assert_eq!(launch["members"][0]["lang"], "en", "the language told from the story's text");

    let text =
        bin().args(["--config", setup.config.to_str().unwrap(), "recent", "--watch", "missiles"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("(3 feeds)") && text.contains("NK News"), "{text}");
}

/// The clusters `wirewatch recent --json` prints.
fn recent_json(setup: &Setup) -> Vec<serde_json::Value> {
    let out =
        bin().args(["--config", setup.config.to_str().unwrap(), "recent", "--since", "1h", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outlet_that_published_first_is_credited_first_not_the_feed_polled_first() {
    let server = FeedServer::start().await;
    // NK News published last (09:05) but is polled first; Yonhap published first (07:40).
    serve(&server, &[], &[], &[NK_NEWS]);
    let setup = setup(&server, "");
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    serve(&server, &[YONHAP], &[TASS], &[NK_NEWS]);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0, "the same launch alerts once");
    let clusters = recent_json(&setup);
    assert_eq!(clusters.len(), 1, "{clusters:#?}");
    let feeds: Vec<&str> =
        clusters[0]["members"].as_array().unwrap().iter().map(|m| m["feed"].as_str().unwrap()).collect();
    assert_eq!(feeds, ["Yonhap", "TASS", "NK News"], "by published time");
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_feed_off_alerts_every_feed() {
    let setup = one_story_three_reports("[dedupe]\ncross_feed = false\n").await;
    assert_eq!(setup.alerts().len(), 3);
}

#[test]
fn recent_names_the_watches_when_asked_for_an_unknown_one() {
    let setup = Setup::new(&[]);
    let out = bin().args(["--config", setup.config.to_str().unwrap(), "recent", "--watch", "nope"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no watch named \"nope\"") && err.contains("dprk"), "{err}");
}

/// One agency's template, told of a new target each time: the stock sentences (the Secretary's
/// line in the lead, the asset-freeze and secondary-sanctions lines) are the same in every story.
fn treasury_action(target: &str, day: &str, detail: &str, hour: i64) -> Story {
    let body = format!(
        "The U.S. Treasury on {day} sanctioned {target}. Treasury Secretary Scott Bessent said the United \
         States would keep cutting off the revenue Tehran uses to fund its proxies. {detail} The sanctions freeze any US assets of those designated and bar Americans \
         from dealing with them. Foreign banks that facilitate significant transactions for them risk secondary \
         sanctions."
    );
    Story {
        key: format!("{target}-{hour}"),
        url: None,
        title: format!("Treasury sanctions {target} in Iran oil network"),
        body,
        author: String::new(),
        categories: Vec::new(),
        published: chrono::DateTime::from_timestamp(1_800_000_000 + hour * 3600, 0),
        keys: LookupKeys::with_lang(None),
    }
}

/// A database in a temp dir, open for ingest.
struct Db {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let store = Store::open(&path).unwrap();
    Db { _dir: dir, path, store }
}

/// Polls `story` from the feed at `url`, as a story matching one watch; returns its cluster.
fn poll(db: &mut Db, url: &str, story: &Story) -> i64 {
    let store = &mut db.store;
    let id = store.feed_state(url).unwrap().id;
    let now = story.published.unwrap().timestamp() + 600;
    let stories = std::slice::from_ref(story);
    store
        .ingest(id, &FetchMeta::default(), stories, now, 72 * 3600, |_, _| {
            common::labelled::one_alert("sanctions", url)
        })
        .unwrap();
    let sql =
        "SELECT m.cluster_id FROM matches m JOIN stories s ON s.id = m.story_id WHERE s.feed_id = ?1 AND s.key = ?2";
    rusqlite::Connection::open(&db.path)
        .unwrap()
        .query_row(sql, rusqlite::params![id, story.key], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_template_seen_across_feeds_no_longer_merges_two_events_and_a_reprint_still_joins() {
    let vesta = treasury_action(
        "Vesta Shipping",
        "Thursday",
        "Vesta Shipping operated four tankers that switched off their transponders near Fujairah.",
        60,
    );
    let orion = treasury_action(
        "Orion Petroleum",
        "Thursday",
        "Orion Petroleum ran a storage terminal in Dalian that received the cargoes.",
        62,
    );
    // With nothing seen before, the stock sentences carry the two events into one cluster.
    let mut fresh = db();
    let first = poll(&mut fresh, "https://gulf.example/rss", &vesta);
    assert_eq!(poll(&mut fresh, "https://energy.example/rss", &orion), first, "the guard this test is about");

    // Three earlier events from one template, each from a feed of its own, a day apart: no feed
    // carries the stock sentences more than once, but three feeds' events do.
    let mut store = db();
    let earlier = [
        ("https://a.example/rss", "Caspian Freight", "Monday", "Caspian Freight chartered two ships to Iraq.", 0),
        ("https://b.example/rss", "Delta Bunkering", "Tuesday", "Delta Bunkering refuelled the tankers at sea.", 25),
        ("https://c.example/rss", "Nimbus Trading", "Wednesday", "Nimbus Trading forged the cargo papers.", 50),
    ];
    let mut clusters: Vec<i64> = earlier
        .iter()
        .map(|&(url, target, day, detail, hour)| poll(&mut store, url, &treasury_action(target, day, detail, hour)))
        .collect();
    // A restart in between: what the index knew of sentences is read back from the database.
    store.store = Store::open(&store.path).unwrap();
    clusters.push(poll(&mut store, "https://gulf.example/rss", &vesta));
    let orion_cluster = poll(&mut store, "https://energy.example/rss", &orion);
    clusters.push(orion_cluster);
    clusters.sort_unstable();
    clusters.dedup();
    assert_eq!(clusters.len(), 5, "five events, five clusters");

    // A reprint of one of them in another feed is still the same news.
    let mut reprint = orion.clone();
    reprint.key = "reprint".into();
    reprint.title = reprint.title.to_uppercase();
    reprint.published = reprint.published.map(|p| p + chrono::Duration::minutes(40));
    assert_eq!(poll(&mut store, "https://portal.example/rss", &reprint), orion_cluster);
}
