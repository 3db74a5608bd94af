//! Broken feeds over real parts (a loopback HTTP server, a SQLite file): a document whose items
//! yield no story fails the poll like any failing feed (counted, shown by `feeds` and
//! `status`, raising the health alert), and a broken item is skipped, counted in the feed's
//! state and shown, while the others are stored.

mod common;

use common::{FeedServer, Route, Setup, bin};
use wirewatch::engine;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parsing").join(name);
    std::fs::read(path).unwrap()
}

fn serve(server: &FeedServer, path: &str, name: &str) {
    server.set(path, Route::Feed { body: fixture(name), content_type: "application/xml" });
}

fn run(setup: &Setup, args: &[&str]) -> String {
    let out = bin().arg("--config").arg(&setup.config).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_with_items_but_no_story_fails_the_poll_and_raises_the_health_alert() {
    let server = FeedServer::start().await;
    serve(&server, "empty.xml", "no_stories.xml");
    let setup = Setup::health_alerting(&server.url("empty.xml"));
    let first = engine::once(setup.load()).await.unwrap();
    assert_eq!((first.polled, first.failed), (1, 1), "an error for that poll, not an empty success");
    engine::once(setup.load()).await.unwrap();

    let feeds: serde_json::Value = serde_json::from_str(run(&setup, &["feeds", "--json"]).trim()).unwrap();
    assert_eq!(feeds["state"], "failing");
    assert_eq!(feeds["consecutive_failures"], 2);
    let error = feeds["last_error"].as_str().unwrap();
    assert!(error.starts_with("no stories: the document has 2 item or entry elements"), "{error}");
    let status = run(&setup, &["status"]);
    assert!(status.contains("0 ok, 1 failing") && status.contains("no stories: the document has 2"), "{status}");
    let alerts = setup.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["watch"], "feed-health");
    assert!(alerts[0]["snippet"].as_str().unwrap().contains("no stories"), "{:?}", alerts[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_item_is_skipped_counted_and_shown_while_the_others_are_stored() {
    let server = FeedServer::start().await;
    serve(&server, "wire.xml", "broken_item.xml");
    let setup = Setup::new(&[server.url("wire.xml")]);
    let polled = engine::once(setup.load()).await.unwrap();
    assert_eq!((polled.failed, polled.new_stories), (0, 2));

    let feeds: serde_json::Value = serde_json::from_str(run(&setup, &["feeds", "--json"]).trim()).unwrap();
    assert_eq!((feeds["state"].as_str(), feeds["skipped_items"].as_i64()), (Some("ok"), Some(1)));
    let table = run(&setup, &["feeds"]);
    assert!(table.contains("skipped 1 broken item of the latest document"), "{table}");
    let status = run(&setup, &["status"]);
    assert!(status.contains("1 feed skipped broken items of the latest document"), "{status}");

    // Mended: the count goes back to zero with the next document.
    server.set_rss("wire.xml", common::rss("Wire", &[common::Item::new("g-1", "Good one", "Fine.")]));
    engine::once(setup.load()).await.unwrap();
    let feeds: serde_json::Value = serde_json::from_str(run(&setup, &["feeds", "--json"]).trim()).unwrap();
    assert_eq!(feeds["skipped_items"], 0);
}
