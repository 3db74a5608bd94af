//! One alert per story across feeds: the same news from several outlets is one cluster, alerted
//! once per watch, with the other outlets named (real HTTP server on 127.0.0.1, SQLite file in a
//! temp dir, the `wirewatch recent` binary).

mod common;

use common::newsroom::{NK_NEWS, TASS, YONHAP};
use common::{FeedServer, Item, Setup, bin, rss};
use wirewatch::engine;

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

    let text =
        bin().args(["--config", setup.config.to_str().unwrap(), "recent", "--watch", "missiles"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("(3 feeds)") && text.contains("NK News"), "{text}");
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
