//! Chat notifiers against loopback servers that speak the relevant endpoints of each API:
//! Telegram's `sendMessage` and Matrix's `PUT /rooms/{room}/send/m.room.message/{txn}`. The
//! tests check what wirewatch sends (method, path, auth, body) and how it takes a 429 with the
//! service's own `retry_after`, a 5xx, and a success.

mod common;

use axum::http::Method;
use common::recorder::Recorder;
use common::{FeedServer, Item, Setup, rss};
use wirewatch::engine;
use wirewatch::store::unix_now;

/// One matching story with a link, and `notifier`; the token in `token.secret`.
async fn chat_setup(notifier: &str, token: &str) -> (FeedServer, Setup) {
    let server = FeedServer::start().await;
    let item = Item { link: Some("https://example.org/s-1"), ..Item::new("s-1", "EU widens sanctions", "A package.") };
    server.set_rss("wire.xml", rss("Wire", &[item]));
    let setup = Setup::one_feed(&server.url("wire.xml"), "", notifier);
    std::fs::write(setup.path("token.secret"), format!("{token}\n")).unwrap();
    (server, setup)
}

/// The only outbox row: (state, next attempt, last error).
fn row(setup: &Setup) -> (String, i64, Option<String>) {
    setup
        .db()
        .query_row("SELECT state, next_attempt, last_error FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
}

fn make_due(setup: &Setup) {
    setup.db().execute("UPDATE outbox SET next_attempt = 0", []).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_gets_send_message_and_honours_retry_after() {
    let limited = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 600","parameters":{"retry_after":600}}"#;
    let (url, api) = Recorder::start(&[(429, limited), (502, "bad gateway")]).await;
    let notifier = format!(
        "name = \"tg\"\ntype = \"telegram\"\ntoken_file = \"token.secret\"\nchat_id = \"-1001234\"\napi_url = \"{url}\""
    );
    let (_server, setup) = chat_setup(&notifier, "123456:SECRET-token").await;

    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);
    let (state, next, error) = row(&setup);
    assert_eq!(state, "queued", "a 429 is retried");
    assert!(next >= unix_now() + 590, "the service's retry_after (600 s) is honoured: {}", next - unix_now());
    let error = error.unwrap();
    assert!(error.contains("429") && !error.contains("SECRET"), "the token is never shown: {error}");

    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);
    assert_eq!(row(&setup).0, "queued", "a 502 is retried");
    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    assert_eq!(row(&setup).0, "sent");

    let seen = api.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/bot123456:SECRET-token/sendMessage"));
        assert_eq!(s.headers.get("content-type").unwrap(), "application/json");
        let body = s.json();
        assert_eq!(body["chat_id"], "-1001234");
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with("EU widens sanctions\nhttps://example.org/s-1\nwatch: sanctions · Wire"), "{text}");
        assert!(text.contains("Why: sanction") && text.chars().count() <= 4096, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_telegram_refusal_other_than_429_is_dead_at_once() {
    let kicked = r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked"}"#;
    let (url, _api) = Recorder::start(&[(403, kicked)]).await;
    let notifier = format!(
        "name = \"tg\"\ntype = \"telegram\"\ntoken_file = \"token.secret\"\nchat_id = \"@desk\"\napi_url = \"{url}\""
    );
    let (_server, setup) = chat_setup(&notifier, "1:t").await;
    engine::once(setup.load()).await.unwrap();
    let (state, _, error) = row(&setup);
    assert_eq!(state, "dead");
    assert!(error.unwrap().contains("bot was kicked"), "the service's reply is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn matrix_gets_a_room_message_with_a_stable_transaction_id() {
    let limited = r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":900000}"#;
    let (url, api) = Recorder::start(&[(429, limited), (500, "{}"), (200, r#"{"event_id":"$e1"}"#)]).await;
    let notifier = format!(
        "name = \"mx\"\ntype = \"matrix\"\nhomeserver = \"{url}\"\ntoken_file = \"token.secret\"\nroom_id = \"!room:example.org\""
    );
    let (_server, setup) = chat_setup(&notifier, "syt_access_token").await;

    engine::once(setup.load()).await.unwrap();
    let (state, next, _) = row(&setup);
    assert_eq!(state, "queued");
    assert!(next >= unix_now() + 890, "retry_after_ms (900 s) is honoured: {}", next - unix_now());
    make_due(&setup);
    engine::once(setup.load()).await.unwrap();
    assert_eq!(row(&setup).0, "queued", "a 500 is retried");
    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);

    let seen = api.seen();
    assert_eq!(seen.len(), 3);
    let prefix = "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/";
    for s in &seen {
        assert_eq!(s.method, Method::PUT);
        assert!(s.path.starts_with(prefix), "{}", s.path);
        assert_eq!(s.headers.get("authorization").unwrap(), "Bearer syt_access_token");
        let body = s.json();
        assert_eq!(body["msgtype"], "m.text");
        let text = body["body"].as_str().unwrap();
        assert!(text.contains("EU widens sanctions") && text.contains("https://example.org/s-1"), "{text}");
    }
    assert!(seen.iter().all(|s| s.path == seen[0].path), "one transaction id for every attempt of one message");
}

#[test]
fn chat_notifiers_say_what_they_miss() {
    let setup = Setup::one_feed(
        "https://example.org/feed.xml",
        "",
        "name = \"mx\"\ntype = \"matrix\"\nhomeserver = \"ftp://example.org\"\nroom_id = \"#desk:example.org\"",
    );
    let err = wirewatch::config::Config::load(&setup.config).unwrap_err().to_string();
    assert!(err.contains("homeserver must be http:// or https://"), "{err}");
    assert!(err.contains("an access token in token_env or token_file"), "{err}");
    assert!(err.contains("room_id is a room's id, starting with !"), "{err}");
}
