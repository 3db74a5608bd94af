//! The hostile-input matrix: a loopback server answers each feed with one kind of abuse. Each
//! feed's poll ends in one clear error (or the right result), the good feed in the same run
//! still alerts, nothing connects where an external entity points, and memory stays bounded.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use common::{Item, Setup, rss};
use wirewatch::engine;

struct Server {
    addr: std::net::SocketAddr,
    hits: Arc<Hits>,
}

#[derive(Default)]
struct Hits {
    total: AtomicUsize,
    etag_changes: AtomicUsize,
    old_home: AtomicUsize,
    gone: AtomicUsize,
}

const GOOD: &str = "good.xml";

fn xml(body: String) -> Response {
    Response::builder().header(header::CONTENT_TYPE, "application/rss+xml").body(Body::from(body)).unwrap()
}

fn status(code: u16, headers: &[(&str, &str)]) -> Response {
    let mut b = Response::builder().status(code);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(format!("status {code}"))).unwrap()
}

/// An endless stream of `chunk`, handed out as fast as the client reads.
fn endless(chunk: Vec<u8>) -> Body {
    let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    Body::from_stream(stream)
}

/// A gzip body of 64 MiB of zeros, about 64 KiB on the wire. Compressed once, before any timed
/// fetch, so the server's own work never counts against the client's timeout.
static GZIP_BOMB: LazyLock<Bytes> = LazyLock::new(|| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    Bytes::from(gz.finish().unwrap())
});

async fn route(State(hits): State<Arc<Hits>>, Path(path): Path<String>) -> Response {
    hits.total.fetch_add(1, Ordering::SeqCst);
    if let Some(port) = path.strip_prefix("xxe-").and_then(|p| p.strip_suffix(".xml")) {
        // An external entity pointing at a port the test watches.
        return xml(format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"http://127.0.0.1:{port}/secret\">]>\
             <rss version=\"2.0\"><channel><title>XXE</title><item><guid>x</guid><title>&xxe; sanctions</title></item></channel></rss>"
        ));
    }
    match path.as_str() {
        GOOD => xml(rss("Good", &[Item::new("g-1", "EU widens sanctions", "A new package.")])),
        "endless.xml" => Response::builder().body(endless(b"<rss><channel>".repeat(4096))).unwrap(),
        "bomb.xml" => {
            Response::builder().header(header::CONTENT_ENCODING, "gzip").body(Body::from(GZIP_BOMB.clone())).unwrap()
        }
        "drip.xml" => {
            let stream = futures_util::stream::unfold((), |()| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Some((Ok::<_, std::io::Error>(vec![b'<']), ()))
            });
            Response::builder().body(Body::from_stream(stream)).unwrap()
        }
        "hang.xml" => std::future::pending().await,
        "loop.xml" => status(302, &[("location", "/loop.xml")]),
        "html.xml" => Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from("<!DOCTYPE html><html><body>Hi</body></html>"))
            .unwrap(),
        "empty.xml" => Response::builder().body(Body::empty()).unwrap(),
        "badutf8.xml" => {
            let mut b = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>T</title><item><guid>u</guid><title>Caf".to_vec();
            b.extend_from_slice(b"\xe9 \xff\xfe sanctions</title></item></channel></rss>");
            Response::builder().body(Body::from(b)).unwrap()
        }
        "wrongenc.xml" => {
            let b = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>T</title><item><guid>w</guid><title>Café</title></item></channel></rss>";
            Response::builder().body(Body::from(b)).unwrap()
        }
        "laughs.xml" => {
            let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
            for i in 1..10 {
                let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
                doc.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
            }
            doc.push_str("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title></channel></rss>");
            xml(doc)
        }
        "attrs.xml" => {
            let attrs: String = (0..80_000).map(|i| format!(" a{i}=\"v\"")).collect();
            xml(format!("<rss version=\"2.0\"><channel{attrs}><title>T</title></channel></rss>"))
        }
        "nested.xml" => {
            let depth = 100_000;
            xml(format!(
                "<rss version=\"2.0\"><channel><title>T</title>{}{}</channel></rss>",
                "<x>".repeat(depth),
                "</x>".repeat(depth)
            ))
        }
        "many.xml" => {
            let mut s = String::from("<rss version=\"2.0\"><channel><title>Many</title>");
            for i in 0..100_000 {
                s.push_str(&format!("<item><guid>m-{i}</guid><title>Item {i}</title></item>"));
            }
            s.push_str("</channel></rss>");
            xml(s)
        }
        "bigtitle.xml" => xml(format!(
            "<rss version=\"2.0\"><channel><title>T</title><item><guid>b</guid><title>{}</title></item></channel></rss>",
            "sanctions ".repeat(1_000_000)
        )),
        "dupes.xml" => xml(rss("Dupes", &[Item::new("same", "First", "a"), Item::new("same", "Second", "b")])),
        "noid.xml" => xml(rss(
            "No ids",
            &[
                Item { guid: None, link: None, ..Item::new("", "Untitled one", "x") },
                Item { guid: None, link: None, ..Item::new("", "Untitled two", "y") },
            ],
        )),
        "dates.xml" => xml(rss(
            "Dates",
            &[
                Item { date: "not a date at all", ..Item::new("d-1", "Garbage date", "x") },
                Item { date: "Fri, 31 Dec 9999 23:59:59 GMT", ..Item::new("d-2", "Far future", "y") },
            ],
        )),
        "busy.xml" => status(429, &[("retry-after", "7200")]),
        "gone.xml" => {
            hits.gone.fetch_add(1, Ordering::SeqCst);
            status(410, &[])
        }
        "old-home.xml" => {
            hits.old_home.fetch_add(1, Ordering::SeqCst);
            status(301, &[("location", "/new-home.xml")])
        }
        "new-home.xml" => xml(rss("Moved", &[Item::new("n-1", "Moved feed story", "x")])),
        "etag.xml" => {
            let n = hits.etag_changes.fetch_add(1, Ordering::SeqCst);
            Response::builder()
                .header(header::ETAG, format!("\"v{n}\""))
                .body(Body::from(rss("Same", &[Item::new("e-1", "Same body", "x")])))
                .unwrap()
        }
        _ => status(404, &[]),
    }
}

async fn server() -> Server {
    LazyLock::force(&GZIP_BOMB);
    let hits = Arc::new(Hits::default());
    let app = axum::Router::new().route("/{*path}", axum::routing::get(route)).with_state(Arc::clone(&hits));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { addr, hits }
}

fn config(server: &Server, feeds: &[String]) -> Setup {
    let mut toml = String::from(
        "[storage]\npath = \"state/wirewatch.db\"\n[poll]\ntimeout = \"3s\"\nmax_body = \"16MiB\"\nbackfill = \"100000d\"\narticle = \"never\"\n",
    );
    for f in feeds {
        toml.push_str(&format!("[[feed]]\nurl = \"http://{}/{f}\"\n", server.addr));
    }
    toml.push_str("[[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n[[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n");
    Setup::with_config(&toml)
}

/// (state, last error, stories) of each feed, by the last part of its URL.
fn feeds(setup: &Setup) -> std::collections::HashMap<String, (bool, Option<String>, i64)> {
    let db = setup.db();
    let mut stmt = db
        .prepare("SELECT url, consecutive_failures > 0 OR gone, last_error, (SELECT COUNT(*) FROM stories s WHERE s.feed_id = f.id) FROM feeds f")
        .unwrap();
    stmt.query_map([], |r| {
        let url: String = r.get(0)?;
        Ok((url.rsplit('/').next().unwrap().to_string(), (r.get(1)?, r.get(2)?, r.get(3)?)))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib / 1024)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_feed_fails_alone_and_the_good_one_still_alerts() {
    let server = server().await;
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let xxe = format!("xxe-{}.xml", trap.local_addr().unwrap().port());
    let names = [
        GOOD,
        "endless.xml",
        "bomb.xml",
        "drip.xml",
        "hang.xml",
        "loop.xml",
        "html.xml",
        "empty.xml",
        "badutf8.xml",
        "wrongenc.xml",
        "laughs.xml",
        &xxe,
        "attrs.xml",
        "nested.xml",
        "many.xml",
        "bigtitle.xml",
        "dupes.xml",
        "noid.xml",
        "dates.xml",
    ];
    let setup = config(&server, &names.iter().map(|n| n.to_string()).collect::<Vec<_>>());

    let summary = engine::once(setup.load()).await.unwrap();
    assert_eq!(summary.polled, names.len());
    let alerts = setup.alerts();
    assert!(alerts.iter().any(|a| a["title"] == "EU widens sanctions"), "the good feed still alerts");

    let feeds = feeds(&setup);
    let failed = |name: &str, expect: &str| {
        let (failing, error, _) = &feeds[name];
        let error = error.clone().unwrap_or_default();
        assert!(*failing && error.contains(expect), "{name}: expected an error with {expect:?}, got {error:?}");
    };
    failed("endless.xml", "larger than the 16777216-byte limit");
    failed("bomb.xml", "larger than the 16777216-byte limit");
    failed("drip.xml", "timed out");
    failed("hang.xml", "timed out");
    failed("loop.xml", "more than 5 redirects");
    failed("html.xml", "HTML");
    failed("empty.xml", "empty");
    let stories = |name: &str, n: i64| {
        let (failing, error, count) = &feeds[name];
        assert!(!failing && *count == n, "{name}: {count} stories (expected {n}), error {error:?}");
    };
    stories(GOOD, 1);
    stories("many.xml", 100_000);
    stories("bigtitle.xml", 1);
    stories("dupes.xml", 1);
    stories("noid.xml", 2);
    stories("dates.xml", 2);
    stories("wrongenc.xml", 1);
    // These may parse or be refused, but each ends in a recorded result with a short error.
    for name in ["badutf8.xml", "laughs.xml", "attrs.xml", "nested.xml", xxe.as_str()] {
        let (_, error, _) = &feeds[name];
        assert!(error.as_deref().unwrap_or_default().len() < 1000, "{name}: {error:?}");
    }
    assert!(trap.accept().is_err(), "nothing connected to the external entity's address");
    if let Some(peak) = peak_rss_mib() {
        assert!(peak < 768, "peak memory {peak} MiB: a body was not capped");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn busy_gone_moved_and_restless_etags_are_handled_across_polls() {
    let server = server().await;
    let names: Vec<String> =
        ["busy.xml", "gone.xml", "old-home.xml", "etag.xml", GOOD].iter().map(|s| s.to_string()).collect();
    let setup = config(&server, &names);
    engine::once(setup.load()).await.unwrap();

    let db = setup.db();
    let plan = |suffix: &str| -> (Option<i64>, i64, Option<String>, Option<String>) {
        db.query_row("SELECT next_poll, gone, moved_to, etag FROM feeds WHERE url LIKE '%/' || ?1", [suffix], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
    };
    let now = wirewatch::store::unix_now();
    let (busy_next, ..) = plan("busy.xml");
    assert!(busy_next.unwrap() >= now + 6000, "Retry-After: 7200 is honoured (jitter aside): {busy_next:?}");
    assert_eq!(plan("gone.xml").1, 1, "410 marks the feed gone");
    let moved = plan("old-home.xml").2.expect("the 301 is recorded");
    assert!(moved.ends_with("/new-home.xml"), "{moved}");
    assert_eq!(plan("etag.xml").3.as_deref(), Some("\"v0\""));

    engine::once(setup.load()).await.unwrap();
    assert_eq!(server.hits.gone.load(Ordering::SeqCst), 1, "a gone feed is not polled again");
    assert_eq!(server.hits.old_home.load(Ordering::SeqCst), 1, "a moved feed is polled at its new address");
    assert_eq!(plan("etag.xml").3.as_deref(), Some("\"v1\""), "the new ETag is kept");
    let stories: i64 = db.query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0)).unwrap();
    assert_eq!(stories, 3, "the identical body added nothing");
    let listed = common::bin().arg("--config").arg(&setup.config).args(["feeds", "--json"]).output().unwrap();
    let listed: Vec<serde_json::Value> =
        String::from_utf8_lossy(&listed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let state =
        |suffix: &str| listed.iter().find(|f| f["url"].as_str().unwrap().ends_with(suffix)).unwrap()["state"].clone();
    assert_eq!((state("gone.xml"), state("busy.xml"), state(GOOD)), ("gone".into(), "failing".into(), "ok".into()));
    // Every story was first seen this week: the week's count is the whole count.
    let seen: i64 = listed.iter().map(|f| f["stories"].as_i64().unwrap()).sum();
    let per_day: f64 = listed.iter().map(|f| f["new_per_day"].as_f64().unwrap()).sum();
    assert_eq!(seen, 3);
    assert!(per_day > 0.0 && (per_day - 3.0 / 7.0).abs() < 0.15, "{per_day}");
}
