//! What `once` and `status` say when delivery or storage fails, through the real binary.

mod common;

use common::{FeedServer, Item, Setup, rss, text, wirewatch};

fn status_json(setup: &Setup) -> serde_json::Value {
    let out = wirewatch(setup, &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A loopback port nobody listens on: every delivery to it is refused.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn one_story_setup(notifier: &str) -> (FeedServer, Setup) {
    let server = FeedServer::start().await;
    let story = Item::new("t1", "Sanctions on shippers", "New sanctions were announced.");
    server.set_rss("wire.xml", rss("Wire", &[story]));
    let setup = Setup::one_feed(&server.url("wire.xml"), "", notifier);
    (server, setup)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_that_could_not_be_delivered_shows_in_once_and_status() {
    let hook = format!("name = \"hook\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{}/hook\"", closed_port());
    let (_server, setup) = one_story_setup(&hook).await;
    let once = wirewatch(&setup, &["once"]);
    assert_eq!(once.status.code(), Some(0), "the feed was polled: {}", text(&once));
    let summary = String::from_utf8_lossy(&once.stdout);
    assert_eq!(summary.trim(), "polled 1 feed (0 failed), 1 new story, 0 alerts delivered, 1 waiting for retry");

    let status = wirewatch(&setup, &["status"]);
    let said = String::from_utf8_lossy(&status.stdout);
    let line = said.lines().find(|l| l.starts_with("delivery:")).unwrap_or_default();
    assert!(
        line.starts_with("delivery:   hook: 1 waiting for retry since 20") && line.contains("; last error: "),
        "{said}"
    );
    assert!(said.contains("\nstorage:    ok ("), "{said}");
    let json = status_json(&setup);
    assert_eq!(json["delivery"][0]["notifier"], "hook");
    assert_eq!((json["delivery"][0]["retrying"].as_i64(), json["delivery"][0]["dead"].as_i64()), (Some(1), Some(0)));
    assert!(json["delivery"][0]["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{json}");
    assert_eq!(json["storage"]["state"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_cannot_be_written_fails_once_and_shows_in_status() {
    let jsonl = "name = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"";
    let (server, setup) = one_story_setup(jsonl).await;
    // A story larger than the pages of an empty database hold.
    let long = "New sanctions were announced on shippers and refiners. ".repeat(1000);
    server.set_rss("wire.xml", rss("Wire", &[Item::new("t1", "Sanctions on shippers", &long)]));
    let toml = std::fs::read_to_string(&setup.config).unwrap();
    let full = toml.replacen("path = \"state/wirewatch.db\"", "path = \"state/wirewatch.db\"\nmax_size = \"4KiB\"", 1);
    assert_ne!(full, toml);
    std::fs::write(&setup.config, &full).unwrap();

    // Full from the first story on: nothing stored, so the pass failed.
    let once = wirewatch(&setup, &["once"]);
    assert_eq!(once.status.code(), Some(1), "{}", text(&once));
    assert!(text(&once).contains("polled 1 feed (1 failed), 0 new stories"), "{}", text(&once));
    assert!(text(&once).contains("the database could not store every poll"), "{}", text(&once));
    let said = String::from_utf8_lossy(&wirewatch(&setup, &["status"]).stdout).to_string();
    assert!(said.contains("storage:    FULL: ") && said.contains("has reached [storage] max_size (4.0 KiB)"), "{said}");
    assert_eq!(status_json(&setup)["storage"]["state"], "full");

    // Read-only by its permissions.
    std::fs::write(&setup.config, toml).unwrap();
    let db = setup.path("state/wirewatch.db");
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&db, perms).unwrap();
    let json = status_json(&setup);
    assert_eq!(json["storage"]["state"], "read-only", "{json}");
    assert!(json["storage"]["problem"].as_str().unwrap().contains("may not be written"), "{json}");
}
