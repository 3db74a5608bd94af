//! What a retry looks like, against a real SMTP server (smtp-sink on loopback): alerts that
//! failed apart come back apart, with their first `Message-ID`s; a story matching several
//! watches is one message, retried as one; only more than `burst` messages due at once become
//! a digest. smtp-sink's `-r .` and `-f .` refuse a message (4xx, 5xx) after receiving it, so
//! every attempt leaves a copy to compare.

mod common;

use common::smtp::{SmtpSink, email_setup, header, parse};
use common::{FeedServer, Item, Setup, bin, rss};
use wirewatch::engine;

/// The `Message-ID` and `Subject` of every message the server has received (in order of
/// arrival only to the second: smtp-sink names its files by time).
fn received(sink: &SmtpSink) -> Vec<(String, String)> {
    sink.messages()
        .iter()
        .map(|raw| {
            let m = parse(raw);
            (header(&m, "Message-ID"), header(&m, "Subject"))
        })
        .collect()
}

/// `messages` in one order, to compare sets of them.
fn sorted(messages: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = messages.to_vec();
    all.sort();
    all
}

/// Every outbox row's (state, attempts), by id.
fn states(setup: &Setup) -> Vec<(String, i64)> {
    let db = setup.db();
    let mut stmt = db.prepare("SELECT state, attempts FROM outbox ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// Time passes until every queued row is due: move them rather than wait.
fn make_due(setup: &Setup) {
    setup.db().execute("UPDATE outbox SET next_attempt = 0 WHERE state = 'queued'", []).unwrap();
}

fn story(i: usize) -> (String, String) {
    (format!("s-{i}"), format!("Sanctions story number {i}"))
}

fn items(stories: &[(String, String)]) -> Vec<Item<'_>> {
    stories.iter().map(|(guid, title)| Item::new(guid, title, "New measures.")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_that_failed_apart_are_retried_apart_with_their_message_ids() {
    let server = FeedServer::start().await;
    let stories: Vec<_> = (0..2).map(story).collect();
    server.set_rss("wire.xml", rss("Wire", &items(&stories)));
    let mut sink = SmtpSink::start(&["-r", "."]);
    let setup = email_setup(&server.url("wire.xml"), &sink.url(), "");

    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);
    let first = received(&sink);
    assert_eq!(first.len(), 2, "one message per story, each refused with a 4xx: {first:?}");
    assert_eq!(states(&setup), [("queued".to_string(), 1), ("queued".to_string(), 1)]);

    sink.restart(&[]);
    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 2);
    let all = received(&sink);
    assert_eq!(sorted(&all), sorted(&[first.clone(), first.clone()].concat()), "the same two messages again");
    assert!(all.iter().all(|(_, subject)| !subject.contains("digest")), "{all:?}");
    assert!(states(&setup).iter().all(|(s, _)| s == "sent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_burst_separately_failed_alerts_come_back_as_one_digest() {
    let server = FeedServer::start().await;
    let mut sink = SmtpSink::start(&["-r", "."]);
    let setup = email_setup(&server.url("wire.xml"), &sink.url(), "burst = 2");
    // Three polls, a new story each: three messages, each failing on its own.
    let mut stories = Vec::new();
    for i in 0..3 {
        stories.push(story(i));
        server.set_rss("wire.xml", rss("Wire", &items(&stories)));
        engine::once(setup.load()).await.unwrap();
    }
    assert_eq!(received(&sink).len(), 3);

    sink.restart(&[]);
    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 3);
    let all = received(&sink);
    let digests: Vec<_> = all.iter().filter(|(_, subject)| subject.contains("digest")).collect();
    assert_eq!(all.len(), 4, "three messages due at once, burst 2: one digest: {all:?}");
    assert_eq!(digests.len(), 1, "{all:?}");
    assert_eq!(digests[0].1, "[wirewatch] digest: 3 stories (sanctions 3)");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_story_matching_two_watches_is_one_message_and_is_retried_as_one() {
    let server = FeedServer::start().await;
    let title = "Pyongyang faces new sanctions";
    server.set_rss("wire.xml", rss("Wire", &[Item::new("d-1", title, "North Korea sanctions widen.")]));
    let mut sink = SmtpSink::start(&["-r", "."]);
    let setup = email_setup(&server.url("wire.xml"), &sink.url(), "");

    engine::once(setup.load()).await.unwrap();
    let first = received(&sink);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, format!("[wirewatch] sanctions, dprk: {title}"));
    let m = sink.messages().remove(0);
    let text = parse(&m).subparts[0].get_body().unwrap();
    assert!(text.contains("watches: sanctions, dprk"), "{text}");
    assert!(text.contains("— sanctions —") && text.contains("— dprk —"), "a section per watch: {text}");
    assert!(text.contains("Why: sanction") && text.contains("Why: North Korea: title, body"), "{text}");
    assert_eq!(states(&setup), [("queued".to_string(), 1), ("queued".to_string(), 1)], "a row per (story, watch)");

    sink.restart(&[]);
    make_due(&setup);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 2);
    assert_eq!(received(&sink), [first.clone(), first].concat(), "retried together, as the same message");
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_alerts_requeued_by_hand_keep_their_shape_and_message_ids() {
    let server = FeedServer::start().await;
    let stories: Vec<_> = (0..2).map(story).collect();
    server.set_rss("wire.xml", rss("Wire", &items(&stories)));
    let mut sink = SmtpSink::start(&["-f", "."]);
    let setup = email_setup(&server.url("wire.xml"), &sink.url(), "");

    engine::once(setup.load()).await.unwrap();
    let first = received(&sink);
    assert_eq!(states(&setup), [("dead".to_string(), 1), ("dead".to_string(), 1)], "a 5xx is permanent");

    sink.restart(&[]);
    let out = bin().arg("--config").arg(&setup.config).args(["outbox", "retry", "--all-dead"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 2);
    assert_eq!(sorted(&received(&sink)), sorted(&[first.clone(), first].concat()));
}
