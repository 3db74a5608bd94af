//! Credentials and tokens in feed URLs never show: not in log lines, `feeds`, `status`,
//! `export-opml` or health alerts; and a feed may take its URL from `url_env` or `url_file`.

mod common;

use common::{FeedServer, Item, Setup, bin, rss};

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("wirewatch runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

/// One feed that works and one whose server refuses connections, both with credentials in
/// their URLs, and health alerts from the first failure.
fn setup(server: &FeedServer) -> Setup {
    server.set_rss("wire.xml", rss("Wire", &[Item::new("g-1", "EU widens sanctions", "A new package.")]));
    let working = server.url("wire.xml").replace("http://", "http://reader:hunter2@") + "?token=tok-SECRET1";
    let refused = "http://ops:hunter3@127.0.0.1:9/down.xml?apikey=key-SECRET2&page=1";
    Setup::with_config(&format!(
        "[storage]\npath = \"state/wirewatch.db\"\n[poll]\ntimeout = \"2s\"\nbackfill = \"100000d\"\n\
         alert_after = \"1ms\"\n[health]\nnotify = [\"log\"]\n\
         [[feed]]\nurl = \"{working}\"\n[[feed]]\nurl = \"{refused}\"\n\
         [[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n\
         [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n"
    ))
}

fn assert_clean(what: &str, text: &str) {
    for secret in ["hunter2", "hunter3", "SECRET1", "SECRET2"] {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_feed_urls_are_masked_everywhere_they_are_shown_or_sent() {
    let server = FeedServer::start().await;
    let setup = setup(&server);
    let at = |args: &[&str]| {
        let mut cmd = bin();
        cmd.args(args).arg("--config").arg(&setup.config).env("RUST_LOG", "info");
        run(&mut cmd)
    };
    let (_, out, log) = at(&["once"]);
    assert!(log.contains("feed polled") && log.contains("feed poll failed"), "{log}");
    assert!(log.contains("reader:***@") && log.contains("token=***"), "{log}");
    assert_clean("the poll log", &format!("{out}{log}"));
    assert_eq!(setup.alerts().len(), 2, "the story and the health alert: {:?}", setup.alerts());
    assert_clean("the alerts sent", &std::fs::read_to_string(setup.path("alerts.jsonl")).unwrap());
    let health = setup.alerts().into_iter().find(|a| a["watch"] == "feed-health").unwrap();
    assert_eq!(health["url"], "http://ops:***@127.0.0.1:9/down.xml?apikey=***&page=1");

    for args in [&["feeds"][..], &["feeds", "--json"], &["status"], &["status", "--json"], &["export-opml"]] {
        let (code, out, err) = at(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("***"), "{args:?} masks: {out}");
        assert_clean(&format!("{args:?}"), &format!("{out}{err}"));
    }
    let (_, all, _) = at(&["export-opml", "--with-secrets"]);
    assert!(all.contains("hunter2") && all.contains("tok-SECRET1") && all.contains("key-SECRET2"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_url_may_come_from_an_environment_variable_or_a_file() {
    let server = FeedServer::start().await;
    server.set_rss("a.xml", rss("A", &[Item::new("a-1", "Sanctions on shipping", "More.")]));
    server.set_rss("b.xml", rss("B", &[Item::new("b-1", "Sanctions on banks", "More.")]));
    let setup = Setup::with_config(
        "[storage]\npath = \"state/wirewatch.db\"\n[poll]\nbackfill = \"100000d\"\n\
         [[feed]]\nurl_env = \"WIREWATCH_TEST_FEED\"\n[[feed]]\nurl_file = \"feed-url\"\n\
         [[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n\
         [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n",
    );
    std::fs::write(setup.path("feed-url"), format!("{}?key=SECRET2\n", server.url("b.xml"))).unwrap();
    let (code, _, err) = run(bin().arg("once").arg("--config").arg(&setup.config));
    assert_eq!(code, 2, "the variable is not set: {err}");
    assert!(err.contains(":6:11: feed URL: environment variable WIREWATCH_TEST_FEED is not set"), "{err}");

    let with_env = |args: &[&str]| {
        let mut cmd = bin();
        cmd.args(args).arg("--config").arg(&setup.config);
        run(cmd.env("WIREWATCH_TEST_FEED", server.url("a.xml").replace("http://", "http://u:hunter2@")))
    };
    let (code, out, err) = with_env(&["once"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("polled 2 feeds (0 failed)"), "{out}");
    assert_eq!(setup.alerts().len(), 2);
    let (_, listed, _) = with_env(&["feeds"]);
    assert_clean("feeds", &listed);

    let both = "[[feed]]\nurl = \"a.xml\"\nurl_env = \"X\"\n[[watch]]\nname = \"w\"\nquery = \"a\"\n";
    std::fs::write(&setup.config, both).unwrap();
    let (code, _, err) = run(bin().arg("check").arg("--config").arg(&setup.config));
    assert_eq!(code, 2);
    assert!(err.contains(":3:11: set one of url, url_env and url_file in a [[feed]], not several"), "{err}");
}
