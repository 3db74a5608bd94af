//! `wirewatch backtest` over a database filled by a real `once` from loopback feeds: its stories
//! are what `match --json` finds in the same feeds, its summary and retention note, and that
//! it writes nothing.

mod common;

use common::newsroom::{Newsroom, run};
use serde_json::Value;

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `values` sorted by their text, for comparing as sets.
fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(|v| v.to_string());
    values
}

#[tokio::test(flavor = "multi_thread")]
async fn backtest_prints_what_match_json_finds_in_the_same_stories() {
    let room = Newsroom::start("").await;
    let db = room.setup.path("state/wirewatch.db");
    let before = std::fs::read(&db).unwrap();
    let urls: Vec<String> = ["yna.xml", "tass.xml", "nkn.xml"].iter().map(|f| room.server.url(f)).collect();
    let mut args = vec!["match", "--json"];
    args.extend(urls.iter().map(String::as_str));
    let matched = run(&room.setup, &args).await;
    assert!(matched.status.success(), "{}", String::from_utf8_lossy(&matched.stderr));
    let matched = lines(&matched.stdout);
    for watch in ["missiles", "dprk"] {
        let out = run(&room.setup, &["backtest", "--watch", watch, "--json"]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut found = lines(&out.stdout);
        for line in &mut found {
            let first_seen = line.as_object_mut().unwrap().remove("first_seen").expect("first_seen");
            assert!(chrono::DateTime::parse_from_rfc3339(first_seen.as_str().unwrap()).is_ok(), "{first_seen}");
        }
        let expected: Vec<Value> = matched.iter().filter(|m| m["watch"] == watch).cloned().collect();
        assert!(!expected.is_empty());
        assert_eq!(sorted(found), sorted(expected), "{watch}");
    }
    let out = run(&room.setup, &["backtest", "--watch", "missiles", "--json"]).await;
    let summary = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        summary.lines().last(),
        Some("would have alerted 3 stories in 1 clusters over 30 days (0.1 a day)"),
        "{summary}"
    );
    assert!(std::fs::read(&db).unwrap() == before, "the database is unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_text_output_and_the_retention_note() {
    let room = Newsroom::start("").await;
    let out = run(&room.setup, &["backtest", "--query", "\"ballistic missile\"", "--since", "7d"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("[query] ").count(), 3, "{text}");
    assert_eq!(text.matches("  first seen 20").count(), 3, "{text}");
    assert!(text.ends_with("would have alerted 3 stories in 1 clusters over 7 days (0.4 a day)\n"), "{text}");
    // The database is minutes old: the window reaches past its oldest text, and says so.
    let note = text.lines().find(|l| l.starts_with("note: ")).unwrap_or_else(|| panic!("a note: {text}"));
    assert!(note.contains("the oldest stored story text is from") && note.contains("(retain = 90d)"), "{note}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_say_what_would_be_valid() {
    let room = Newsroom::start("").await;
    let out = run(&room.setup, &["backtest", "--watch", "nope"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no watch named \"nope\" in the config; configured: missiles, dprk"), "{err}");
    let out = run(&room.setup, &["backtest", "--query", "sanctions AND NOT"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected a term after NOT") && err.contains('^'), "{err}");
    let out = run(&room.setup, &["backtest"]).await;
    assert_eq!(out.status.code(), Some(2), "clap asks for --watch or --query");
    std::fs::remove_file(room.setup.path("state/wirewatch.db")).unwrap();
    let out = run(&room.setup, &["backtest", "--watch", "dprk"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no database at") && err.contains("wirewatch.db"), "{err}");
}

/// `backtest --watch` compiled the watch without its `languages`, so a watch limited to Russian
/// reported the English launch stories that the daemon would never have alerted.
#[tokio::test(flavor = "multi_thread")]
async fn backtest_of_a_watch_limited_to_languages_skips_stories_in_others() {
    let extra = "[[watch]]\nname = \"missiles-ru\"\nquery = \"missile*\"\nlanguages = [\"ru\"]\n";
    let room = Newsroom::start(extra).await;
    for (watch, expected) in [("missiles", 3), ("missiles-ru", 0)] {
        let out = run(&room.setup, &["backtest", "--watch", watch, "--json"]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let found = lines(&out.stdout);
        assert_eq!(found.len(), expected, "{watch}: {found:?}");
    }
}
