//! Webhooks end to end: a receiver on 127.0.0.1 that records each request and answers with the
//! statuses it is told to, a feed server, and a SQLite file in a temp dir.

mod common;

use std::sync::Arc;

use common::recorder::Recorder;
use common::{FeedServer, Item, Setup, bin, rss};
use wirewatch::engine;
use wirewatch::notify::webhook::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature};

/// A receiver answering `statuses` in turn (then 200); the URL to post to is its `/hook`.
async fn receiver(statuses: &[u16]) -> (String, Arc<Recorder>) {
    let answers: Vec<(u16, &str)> = statuses.iter().map(|&code| (code, "")).collect();
    let (root, recorder) = Recorder::start(&answers).await;
    (format!("{root}/hook"), recorder)
}

fn setup(feed: &str, hook: &str, format: &str) -> Setup {
    let notifier = format!(
        "name = \"chat\"\ntype = \"webhook\"\nurl = \"{hook}\"\nformat = \"{format}\"\nsecret_file = \"hook.secret\""
    );
    let setup = Setup::one_feed(feed, "", &notifier);
    std::fs::write(setup.path("hook.secret"), "s3cret\n").unwrap();
    setup
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_gets_signed_json_and_a_500_is_retried() {
    let server = FeedServer::start().await;
    let item = Item { link: Some("https://example.org/s"), ..Item::new("s-1", "EU widens sanctions", "A package.") };
    server.set_rss("wire.xml", rss("Wire", &[item]));
    let (url, hook) = receiver(&[500]).await;
    let setup = setup(&server.url("wire.xml"), &url, "generic");

    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0, "the receiver answered 500");
    let (id, state): (i64, String) =
        setup.db().query_row("SELECT id, state FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(state, "queued", "a 500 is transient");
    let out = bin().arg("--config").arg(&setup.config).args(["outbox", "retry", &id.to_string()]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);

    let seen = hook.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/hook"));
        let sig = s.headers.get(SIGNATURE_HEADER).expect("signed").to_str().unwrap();
        assert_eq!(sig, signature(b"s3cret", &s.body), "the signature covers the exact body");
        assert_eq!(s.headers.get("content-type").unwrap(), "application/json");
    }
    let key =
        |i: usize| seen[i].headers.get(IDEMPOTENCY_HEADER).expect("an Idempotency-Key").to_str().unwrap().to_string();
    assert!(key(0).len() >= 16, "{}", key(0));
    assert_eq!(key(0), key(1), "a resend of the same message carries the same key");
    let json: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(json["kind"], "alert");
    assert_eq!(json["count"], 1);
    let alert = &json["alerts"][0];
    assert_eq!(alert["watch"], "sanctions");
    assert_eq!(alert["title"], "EU widens sanctions");
    assert_eq!(alert["url"], "https://example.org/s");
    assert_eq!(alert["matched"][0]["text"], "sanctions");
    assert_eq!(alert["feed"], "Wire");
}

/// One alert posted to a receiver that answers `status`: the outbox row's state and error.
async fn outcome_of_one_answer(status: u16) -> (String, String) {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", "EU widens sanctions", "A package.")]));
    let (url, _hook) = receiver(&[status]).await;
    let setup = setup(&server.url("wire.xml"), &url, "generic");
    engine::once(setup.load()).await.unwrap();
    setup.db().query_row("SELECT state, last_error FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_is_retried_later() {
    let (state, error) = outcome_of_one_answer(429).await;
    assert_eq!(state, "queued");
    assert!(error.contains("429") && !error.contains("/hook"), "the error names no URL path: {error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_is_down_is_retried_and_the_error_says_why() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", "EU widens sanctions", "A package.")]));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let setup = setup(&server.url("wire.xml"), &url, "generic");
    engine::once(setup.load()).await.unwrap();
    let (state, error): (String, String) =
        setup.db().query_row("SELECT state, last_error FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(state, "queued");
    assert!(error.contains("Connection refused"), "the cause, not just 'error sending request': {error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_4xx_other_than_429_is_dead_at_once() {
    let (state, error) = outcome_of_one_answer(404).await;
    assert_eq!(state, "dead");
    assert!(error.contains("404"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_formats_carry_the_alert_as_text() {
    let server = FeedServer::start().await;
    // Double-escaped, so that after XML and HTML decoding the title reads `<!channel>`.
    let title = "EU widens sanctions &amp;lt;!channel&amp;gt; @everyone";
    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", title, "A package.")]));
    for (format, field) in [("slack", "text"), ("discord", "content"), ("ntfy", "message")] {
        let (url, hook) = receiver(&[]).await;
        let setup = setup(&server.url("wire.xml"), &url, format);
        assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1, "{format}");
        let seen = hook.seen();
        // ntfy publishes JSON to the server root, the others to the URL as given.
        let path = if format == "ntfy" { "/" } else { "/hook" };
        assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", path), "{format}");
        let json: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
        let text = json[field].as_str().unwrap_or_else(|| panic!("{format}: no {field} in {json}"));
        assert!(text.contains("EU widens sanctions") && text.contains("*sanctions*"), "{format}: {text}");
        match format {
            "slack" => assert!(text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"), "{text}"),
            "discord" => assert_eq!(json["allowed_mentions"]["parse"], serde_json::json!([])),
            _ => {
                assert_eq!(json["topic"], "hook");
                assert_eq!(json["title"], "sanctions: EU widens sanctions <!channel> @everyone");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slack_webhook_url_can_be_kept_in_a_secret_file_or_variable() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", "EU widens sanctions", "A package.")]));
    for (key, value) in [("url_file", "hook.url"), ("url_env", "WW_TEST_SLACK_HOOK_URL")] {
        let (url, hook) = receiver(&[]).await;
        let notifier = format!("name = \"chat\"\ntype = \"webhook\"\nformat = \"slack\"\n{key} = \"{value}\"");
        let setup = Setup::one_feed(&server.url("wire.xml"), "", &notifier);
        std::fs::write(setup.path("hook.url"), format!("{url}\n")).unwrap();
        let out = bin()
            .arg("--config")
            .arg(&setup.config)
            .arg("once")
            .env("WW_TEST_SLACK_HOOK_URL", &url)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && printed.contains(", 1 alert"), "{key}: {printed}");
        let seen = hook.seen();
        assert_eq!(seen.len(), 1, "{key}");
        assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/hook"), "{key}");
        assert!(!printed.contains("/hook"), "{key}: the URL's path is a secret: {printed}");
    }
}
