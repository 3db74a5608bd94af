//! Email alerts end to end: a feed server on 127.0.0.1, a SQLite file in a temp dir, and a real
//! SMTP server (Postfix's smtp-sink) on 127.0.0.1 with its fault injection.

mod common;

use std::time::{Duration, Instant};

use common::smtp::{SmtpSink, email_setup, header, parse};
use common::{FeedServer, Item, Setup, bin, rss, wirewatch};
use mailparse::MailHeaderMap;
use wirewatch::engine;

const TREATY: &str = "North Korea and Russia sign a defence treaty";

fn setup(feed: &str, smtp: &str, notifier_extra: &str) -> Setup {
    email_setup(feed, smtp, notifier_extra)
}

fn treaty_item() -> Item<'static> {
    Item {
        link: Some("https://example.org/treaty"),
        ..Item::new("t-1", TREATY, "Officials met in Pyongyang to sign the treaty on Friday.")
    }
}

fn outbox(setup: &Setup) -> Vec<(i64, String, i64, Option<String>)> {
    let db = setup.db();
    let mut stmt = db.prepare("SELECT id, state, attempts, last_error FROM outbox ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_arrives_as_a_multipart_email_that_explains_itself() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let sink = SmtpSink::start(&[]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");

    let s = engine::once(setup.load()).await.unwrap();
    assert_eq!(s.delivered, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = parse(&messages[0]);
    assert_eq!(header(&m, "Subject"), format!("[wirewatch] dprk: {TREATY}"));
    assert_eq!(header(&m, "From"), "wirewatch <alerts@example.org>");
    assert_eq!(header(&m, "To"), "desk@example.org");
    assert_eq!(header(&m, "List-Id"), "<dprk.wirewatch>");
    assert_eq!(header(&m, "Auto-Submitted"), "auto-generated");
    assert!(header(&m, "Message-ID").starts_with("<wirewatch.") && header(&m, "Date").contains("20"));
    assert_eq!(m.ctype.mimetype, "multipart/alternative");
    assert_eq!(m.subparts.len(), 2);
    let text = m.subparts[0].get_body().unwrap();
    let html = m.subparts[1].get_body().unwrap();
    assert_eq!(m.subparts[0].ctype.mimetype, "text/plain");
    assert_eq!(m.subparts[1].ctype.mimetype, "text/html");
    assert!(text.contains(TREATY) && text.contains("https://example.org/treaty"), "{text}");
    assert!(text.contains("Wire · 2026-11-28 09:00 UTC · en · watch: dprk"), "{text}");
    assert!(text.contains("Why: North Korea: title, body · treaty: title, body"), "{text}");
    assert!(text.contains("met in *Pyongyang* to sign the *treaty*"), "{text}");
    assert!(html.contains("<a href=\"https://example.org/treaty\">North Korea and Russia"), "{html}");
    assert!(html.contains(">Pyongyang</mark>") && !html.contains("<img"), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_title_and_summary_inject_neither_headers_nor_markup() {
    let server = FeedServer::start().await;
    let item = Item::new(
        "evil-1",
        "New sanctions on DPRK&#13;&#10;Bcc: spy@evil.example",
        "&lt;script&gt;alert(1)&lt;/script&gt;North Korea sanctions &lt;b onclick=\"x()\"&gt;widen&lt;/b&gt; &amp;lt;i&amp;gt;",
    );
    server.set_rss("wire.xml", rss("Wire", &[item]));
    let sink = SmtpSink::start(&[]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");

    engine::once(setup.load()).await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one message for the story, listing both watches (dprk, sanctions)");
    for raw in &messages {
        let m = parse(raw);
        assert_eq!(m.headers.get_all_values("Subject").len(), 1);
        assert!(m.headers.get_first_value("Bcc").is_none(), "{raw}");
        assert!(raw.contains("X-Rcpt-Args: <desk@example.org>") && !raw.contains("spy@evil.example>"), "{raw}");
        assert_eq!(header(&m, "Subject"), "[wirewatch] sanctions, dprk: New sanctions on DPRK Bcc: spy@evil.example");
        let html = m.subparts[1].get_body().unwrap();
        assert!(!html.contains("<script") && !html.contains("onclick") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;i&gt;"), "literal text stays visible as text: {html}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_down_at_first_gets_the_alert_once_after_a_retry() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let mut sink = SmtpSink::down();
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");

    let s = engine::once(setup.load()).await.unwrap();
    assert_eq!(s.delivered, 0);
    let rows = outbox(&setup);
    assert_eq!(rows.len(), 1);
    let (id, state, attempts, error) = &rows[0];
    assert_eq!((state.as_str(), *attempts), ("queued", 1));
    assert!(error.as_deref().unwrap_or_default().contains(&sink.addr.to_string()), "{error:?}");

    sink.restart(&[]);
    let out = wirewatch(&setup, &["outbox", "retry", &id.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(outbox(&setup)[0].1, "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_4xx_is_retried_and_a_5xx_is_dead_until_retried_by_hand() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let mut sink = SmtpSink::start(&["-r", "RCPT"]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");

    engine::once(setup.load()).await.unwrap();
    let (id, state, _, error) = outbox(&setup).remove(0);
    assert_eq!(state, "queued", "a 4xx is transient: {error:?}");

    sink.restart(&["-f", "RCPT"]);
    assert!(wirewatch(&setup, &["outbox", "retry", &id.to_string()]).status.success());
    engine::once(setup.load()).await.unwrap();
    let (_, state, attempts, error) = outbox(&setup).remove(0);
    assert_eq!((state.as_str(), attempts), ("dead", 2), "a 5xx is permanent: {error:?}");
    let error = error.unwrap();
    assert!(
        error.contains(": 5") || error.contains(" 5.") || error.contains("550"),
        "the server's reply is kept: {error}"
    );

    let listed = wirewatch(&setup, &["outbox", "--state", "dead"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("dead") && listed.contains(TREATY) && listed.contains(&error), "{listed}");
    let queued = wirewatch(&setup, &["outbox", "--state", "queued"]);
    assert_eq!(String::from_utf8_lossy(&queued.stdout), "no alerts\n");

    sink.restart(&[]);
    let retried = wirewatch(&setup, &["outbox", "retry", "--all-dead"]);
    assert_eq!(String::from_utf8_lossy(&retried.stdout), format!("requeued 1 alert {id}\n"));
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 1);
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_alerts_arrives_as_one_digest() {
    let server = FeedServer::start().await;
    let titles: Vec<String> = (0..50).map(|i| format!("Sanctions story number {i}")).collect();
    let guids: Vec<String> = (0..50).map(|i| format!("s-{i}")).collect();
    let items: Vec<Item> = titles.iter().zip(&guids).map(|(t, g)| Item::new(g, t, "New measures.")).collect();
    server.set_rss("wire.xml", rss("Wire", &items));
    let sink = SmtpSink::start(&[]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");

    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 50);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = parse(&messages[0]);
    assert_eq!(header(&m, "Subject"), "[wirewatch] digest: 50 stories (sanctions 50)");
    let text = m.subparts[0].get_body().unwrap();
    assert!(titles.iter().all(|t| text.contains(t.as_str())), "{text}");
    assert!(outbox(&setup).iter().all(|r| r.1 == "sent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_digest_groups_stories_by_watch() {
    let server = FeedServer::start().await;
    let items = [
        treaty_item(),
        Item::new("s-1", "EU widens sanctions", "A new package."),
        Item::new("s-2", "Pyongyang faces new sanctions", "Measures widen."),
    ];
    server.set_rss("wire.xml", rss("Wire", &items));
    let sink = SmtpSink::start(&[]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "mode = \"digest\"\ndigest = \"1h\"");

    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0, "the first hour starts now");
    assert_eq!(sink.messages().len(), 0);
    // An hour passes: move the last digest back rather than wait.
    setup.db().execute("UPDATE digests SET last_sent = last_sent - 3600", []).unwrap();
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 4);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = parse(&messages[0]);
    assert_eq!(header(&m, "Subject"), "[wirewatch] digest: 4 stories (dprk 2, sanctions 2)");
    assert_eq!(header(&m, "List-Id"), "<digest.wirewatch>");
    let text = m.subparts[0].get_body().unwrap();
    let dprk = text.find("== dprk (2) ==").expect("a dprk group");
    let sanctions = text.find("== sanctions (2) ==").expect("a sanctions group");
    assert!(dprk < sanctions, "{text}");
    assert_eq!(engine::once(setup.load()).await.unwrap().delivered, 0, "nothing new until the next hour");
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_survive_a_kill_during_delivery_and_a_resent_message_keeps_its_message_id() {
    let server = FeedServer::start().await;
    let items = [
        treaty_item(),
        Item::new("d-2", "Pyongyang faces new sanctions", "Measures widen."),
        Item::new("d-3", "DPRK treaty talks resume", "Envoys meet."),
    ];
    server.set_rss("wire.xml", rss("Wire", &items));
    // The server takes the whole first message and then stalls before answering the final
    // dot: the daemon is killed with a message the server has but never acknowledged.
    let mut sink = SmtpSink::start(&["-W", ".:60"]);
    let setup = setup(&server.url("wire.xml"), &sink.url(), "");
    let mut daemon = bin().arg("--config").arg(&setup.config).arg("run").spawn().unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.messages().is_empty() {
        assert!(Instant::now() < deadline, "the daemon never handed the server a message");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let first_id = header(&parse(&sink.messages()[0]), "Message-ID");
    // One message per story, whatever watches it matched.
    let messages = |filter: &str| -> i64 {
        let sql = format!("SELECT COUNT(DISTINCT story_id) FROM outbox {filter}");
        setup.db().query_row(&sql, [], |r| r.get(0)).unwrap()
    };
    let (total, sending) = (messages(""), messages("WHERE state = 'sending'"));
    assert_eq!(sending, 1, "the kill caught one message in flight");

    sink.restart(&[]);
    engine::once(setup.load()).await.unwrap();
    let ids: Vec<String> = sink.messages().iter().map(|raw| header(&parse(raw), "Message-ID")).collect();
    assert_eq!(ids.len() as i64, total + 1, "every alert arrives; the interrupted one twice");
    assert_eq!(ids.iter().filter(|id| **id == first_id).count(), 2, "the resent copy keeps its Message-ID: {ids:?}");
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len() as i64, total, "no other duplicate");
    assert!(outbox(&setup).iter().all(|r| r.1 == "sent"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_appears_in_no_log_line_or_message() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let sink = SmtpSink::start(&[]);
    let url = format!("smtp://alerts@{}", sink.addr);
    let setup = setup(&server.url("wire.xml"), &url, "password_file = \"smtp.secret\"");
    let password = "hunter2-very-secret";
    std::fs::write(setup.path("smtp.secret"), format!("{password}\n")).unwrap();

    let mut printed = String::new();
    for (args, expect) in [
        (&["once"][..], "1 alert delivered"),
        (&["check"][..], "1 notifier"),
        (&["notify-test"][..], "desk: ok: smtp 127.0.0.1"),
    ] {
        let out = bin().arg("--config").arg(&setup.config).args(args).env("RUST_LOG", "trace").output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(text.contains(expect), "{args:?}: {text}");
        printed.push_str(&text);
    }
    assert!(!printed.contains(password), "{printed}");
    sink.messages().iter().for_each(|m| assert!(!m.contains(password)));
}

#[test]
fn a_missing_password_variable_is_a_config_error_naming_it_and_its_line_at_start() {
    let setup = setup(
        "https://example.org/feed.xml",
        "smtp://alerts@127.0.0.1:25",
        "password_env = \"WW_TEST_UNSET_PASSWORD\"",
    );
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let line = text.lines().position(|l| l.starts_with("name = \"desk\"")).unwrap() + 1;
    let expected = format!(
        "{}:{line}:8: notifier \"desk\": environment variable WW_TEST_UNSET_PASSWORD is not set",
        setup.config.display()
    );
    let out =
        bin().arg("--config").arg(&setup.config).arg("once").env_remove("WW_TEST_UNSET_PASSWORD").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&expected), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_failing_past_max_age_is_dead() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let sink = SmtpSink::down();
    let setup = setup(&server.url("wire.xml"), &sink.url(), "max_age = \"1h\"");

    engine::once(setup.load()).await.unwrap();
    assert_eq!(outbox(&setup)[0].1, "queued", "young enough to retry");
    // Two hours of failing pass and the retry comes due: move the row back rather than wait.
    setup.db().execute("UPDATE outbox SET retrying_since = retrying_since - 7200, next_attempt = 0", []).unwrap();
    engine::once(setup.load()).await.unwrap();
    let (_, state, attempts, error) = outbox(&setup).remove(0);
    assert_eq!((state.as_str(), attempts), ("dead", 2), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_and_sendmail_transports_write_the_same_message() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[treaty_item()]));
    let base = |transport: &str| {
        format!(
            "name = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\nfrom = \"wirewatch <alerts@example.org>\"\n{transport}"
        )
    };
    let dprk = "[[entity]]\nname = \"North Korea\"\n[[watch]]\nname = \"dprk\"\nquery = '\"North Korea\" AND treaty'";

    let files = Setup::one_feed(&server.url("wire.xml"), dprk, &base("transport = \"file\"\npath = \"mail\""));
    assert_eq!(engine::once(files.load()).await.unwrap().delivered, 1);
    let eml: Vec<_> = std::fs::read_dir(files.path("mail")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(eml.len(), 1);
    assert_eq!(eml[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let text = std::fs::read_to_string(&eml[0]).unwrap();
    assert_eq!(header(&parse(&text), "Subject"), format!("[wirewatch] dprk: {TREATY}"));

    // A stand-in sendmail that keeps its arguments and the message it is given.
    let sent =
        Setup::one_feed(&server.url("wire.xml"), dprk, &base("transport = \"sendmail\"\npath = \"fake-sendmail\""));
    let script = sent.path("fake-sendmail");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {0}/args\ncat > {0}/message\n", sent.dir.path().display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(engine::once(sent.load()).await.unwrap().delivered, 1);
    let args = std::fs::read_to_string(sent.path("args")).unwrap();
    assert!(args.contains("desk@example.org"), "{args}");
    let message = std::fs::read_to_string(sent.path("message")).unwrap();
    assert_eq!(header(&parse(&message), "List-Id"), "<dprk.wirewatch>");
}
