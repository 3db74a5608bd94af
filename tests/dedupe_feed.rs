//! One story, one alert within a feed: changed guids, tracking parameters, scheme changes and
//! edits are the same story (real HTTP server on 127.0.0.1, SQLite file in a temp dir).

mod common;

use common::{FeedServer, Item, Setup, rss};
use wirewatch::engine;
use wirewatch::store::{Store, unix_now};

const BODY: &str = "Ministers adopted a new package of measures against the shadow fleet on Thursday in Brussels.";

async fn polls(first: Vec<Item<'static>>, second: Vec<Item<'static>>) -> (Setup, usize, usize) {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &first));
    let setup =
        Setup::one_feed(&server.url("wire.xml"), "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    let a = engine::once(setup.load()).await.unwrap().delivered;
    server.set_rss("wire.xml", rss("Wire", &second));
    let b = engine::once(setup.load()).await.unwrap().delivered;
    (setup, a, b)
}

fn item(guid: Option<&'static str>, link: Option<&'static str>, title: &'static str) -> Item<'static> {
    Item { guid, link, ..Item::new("", title, BODY) }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_guid_with_the_same_link_is_not_a_new_story() {
    let l = Some("https://example.org/eu-sanctions");
    let (_, a, b) =
        polls(vec![item(Some("g-1"), l, "EU widens sanctions")], vec![item(Some("g-2"), l, "EU widens sanctions")])
            .await;
    assert_eq!((a, b), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn tracking_parameters_and_http_or_https_do_not_make_a_new_story() {
    let first = item(None, Some("http://example.org/eu-sanctions?utm_source=rss"), "EU widens sanctions");
    let second =
        item(None, Some("https://example.org/eu-sanctions?fbclid=abc&amp;utm_medium=feed"), "EU widens sanctions");
    let (_, a, b) = polls(vec![first], vec![second]).await;
    assert_eq!((a, b), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guid_scheme_change_without_links_is_recognised_by_its_text() {
    let first = item(Some("http://example.org/?p=1"), None, "EU widens sanctions");
    let second = item(Some("https://example.org/?p=1"), None, "EU widens sanctions");
    let (_, a, b) = polls(vec![first], vec![second]).await;
    assert_eq!((a, b), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_title_is_an_update_not_a_new_alert() {
    let l = Some("https://example.org/eu-sanctions");
    let (setup, a, b) = polls(
        vec![item(Some("g-1"), l, "EU widens sanctions")],
        vec![item(Some("g-1"), l, "EU widens sanctions on Russia")],
    )
    .await;
    assert_eq!((a, b), (1, 0));
    let title: String = setup.db().query_row("SELECT title FROM stories", [], |r| r.get(0)).unwrap();
    assert_eq!(title, "EU widens sanctions on Russia", "the newest text is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_different_story_at_a_different_link_still_alerts() {
    let first = item(Some("g-1"), Some("https://example.org/eu-sanctions"), "EU widens sanctions");
    let other = Item {
        guid: Some("g-2"),
        link: Some("https://example.org/uk-sanctions"),
        ..Item::new("", "UK adds sanctions", "London named twelve more vessels of the shadow fleet on Friday.")
    };
    let (_, a, b) = polls(vec![first.clone()], vec![other, first]).await;
    assert_eq!((a, b), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn pruning_never_causes_a_re_alert() {
    let server = FeedServer::start().await;
    let kept = item(Some("g-1"), Some("https://example.org/eu-sanctions"), "EU widens sanctions");
    let dropped = Item {
        guid: Some("g-2"),
        link: Some("https://example.org/uk-sanctions"),
        ..Item::new("", "UK adds sanctions", "London named twelve more vessels of the shadow fleet on Friday.")
    };
    server.set_rss("wire.xml", rss("Wire", &[kept.clone(), dropped]));
    let setup =
        Setup::one_feed(&server.url("wire.xml"), "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 2);
    server.set_rss("wire.xml", rss("Wire", std::slice::from_ref(&kept)));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);

    // A hundred days on, with the default 90-day retention.
    let mut store = Store::open(&setup.path("state/wirewatch.db")).unwrap();
    let day = 86_400;
    // In steps of one story, as a large prune runs in steps: the same outcome.
    let mut steps = 0;
    let pruned = store.prune_all(unix_now() + 100 * day, 90 * day, 6 * day, 1, |_| steps += 1).unwrap();
    assert_eq!((pruned.deleted, pruned.emptied), (1, 1), "{pruned:?}");
    assert!(steps >= 2, "a story deleted and one emptied take two steps of one: {steps}");
    drop(store);
    let rows: Vec<(String, String)> = setup
        .db()
        .prepare("SELECT key, title FROM stories")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, [("guid:g-1".to_string(), String::new())], "the listed story stays as a bare key");

    // The feed keeps listing the story, edited and under a new guid: still no alert.
    let edited = Item { guid: Some("g-1b"), ..item(Some("g-1"), kept.link, "EU widens sanctions on Russia") };
    server.set_rss("wire.xml", rss("Wire", &[edited]));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);
    assert_eq!(setup.alerts().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_short_document_does_not_let_pruning_forget_a_long_listed_story() {
    let server = FeedServer::start().await;
    let evergreen = item(Some("g-1"), Some("https://example.org/eu-sanctions"), "EU widens sanctions");
    server.set_rss("wire.xml", rss("Wire", std::slice::from_ref(&evergreen)));
    let setup =
        Setup::one_feed(&server.url("wire.xml"), "", "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"");
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    // First seen 100 days ago and listed ever since; then one document leaves it out.
    let day = 86_400;
    setup.db().execute("UPDATE stories SET first_seen = first_seen - ?1", [100 * day]).unwrap();
    server.set_rss("wire.xml", rss("Wire", &[]));
    engine::once(setup.load()).await.unwrap();

    let pruned =
        Store::open(&setup.path("state/wirewatch.db")).unwrap().prune(unix_now(), 90 * day, 6 * day, 1_000).unwrap();
    assert_eq!((pruned.deleted, pruned.emptied), (0, 1), "kept as a key: listed within the retention period");
    server.set_rss("wire.xml", rss("Wire", &[evergreen]));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0, "back in the feed, not a new story");
}
