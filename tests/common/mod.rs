//! Test helpers: a real HTTP feed server on 127.0.0.1, config files in a temp dir, and feed
//! builders. Shared by the integration tests.
#![allow(dead_code)]

pub mod daemon;
pub mod labelled;
pub mod newsroom;
pub mod recorder;
pub mod smtp;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub enum Route {
    /// A body with an ETag derived from it; `If-None-Match` with that ETag gets 304.
    Feed { body: Vec<u8>, content_type: &'static str },
    /// A bare status code with a short text body.
    Status(u16),
    /// Accepts the request and never answers.
    Hang,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    /// Requests per path.
    hits: Mutex<HashMap<String, usize>>,
}

/// A feed server on an ephemeral loopback port; routes can change between polls.
#[derive(Clone)]
pub struct FeedServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new().route("/{*path}", axum::routing::get(serve)).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FeedServer { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    pub fn set(&self, path: &str, route: Route) {
        self.shared.routes.lock().unwrap().insert(path.trim_start_matches('/').to_string(), route);
    }

    pub fn set_rss(&self, path: &str, xml: String) {
        self.set(path, Route::Feed { body: xml.into_bytes(), content_type: "application/rss+xml" });
    }

    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests so far for `path`.
    pub fn requests_to(&self, path: &str) -> usize {
        self.shared.hits.lock().unwrap().get(path.trim_start_matches('/')).copied().unwrap_or(0)
    }

    pub fn not_modified(&self) -> usize {
        self.shared.not_modified.load(Ordering::SeqCst)
    }
}

async fn serve(State(shared): State<Arc<Shared>>, UrlPath(path): UrlPath<String>, headers: HeaderMap) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    *shared.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let route = shared.routes.lock().unwrap().get(&path).cloned();
    match route {
        None => status(404),
        Some(Route::Status(code)) => status(code),
        Some(Route::Hang) => std::future::pending().await,
        Some(Route::Feed { body, content_type }) => {
            let etag = format!("\"{:x}\"", fxhash(&body));
            if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
                shared.not_modified.fetch_add(1, Ordering::SeqCst);
                return Response::builder().status(304).header(header::ETAG, etag).body(Body::empty()).unwrap();
            }
            Response::builder()
                .header(header::CONTENT_TYPE, content_type)
                .header(header::ETAG, etag)
                .body(Body::from(body))
                .unwrap()
        }
    }
}

fn status(code: u16) -> Response {
    Response::builder().status(StatusCode::from_u16(code).unwrap()).body(Body::from(format!("status {code}"))).unwrap()
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ x as u64).wrapping_mul(0x100_0000_01b3))
}

/// One RSS item for [`rss`].
#[derive(Clone, Debug)]
pub struct Item<'a> {
    pub guid: Option<&'a str>,
    pub link: Option<&'a str>,
    pub title: &'a str,
    pub description: &'a str,
    pub date: &'a str,
}

impl<'a> Item<'a> {
    pub fn new(guid: &'a str, title: &'a str, description: &'a str) -> Item<'a> {
        Item { guid: Some(guid), link: None, title, description, date: "Sat, 28 Nov 2026 09:00:00 GMT" }
    }
}

/// An RSS 2.0 document with the given items.
pub fn rss(title: &str, items: &[Item]) -> String {
    let mut s =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title>\n");
    for i in items {
        s.push_str("<item>");
        if let Some(g) = i.guid {
            s.push_str(&format!("<guid isPermaLink=\"false\">{g}</guid>"));
        }
        if let Some(l) = i.link {
            s.push_str(&format!("<link>{l}</link>"));
        }
        s.push_str(&format!(
            "<title>{}</title><description>{}</description><pubDate>{}</pubDate></item>\n",
            i.title, i.description, i.date
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// A temp dir holding a config file; the database and alert log live beside it.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

/// The start of most test configs: the database under `state/` beside the config, a 2s fetch
/// timeout, a backfill long enough that every dated story alerts on first sight, and no article
/// fetches. It ends inside `[poll]`, so more poll keys may follow.
pub const BASE: &str =
    "[storage]\npath = \"state/wirewatch.db\"\n[poll]\ntimeout = \"2s\"\nbackfill = \"100000d\"\narticle = \"never\"\n";

/// Watches used by most tests: `dprk` on North Korea (an entity with aliases) and `sanctions`.
pub const WATCHES: &str = r#"
[[entity]]
name = "North Korea"
aliases = ["DPRK", "Pyongyang", "North Korean"]

[[watch]]
name = "dprk"
query = '"North Korea" AND (treaty OR sanctions)'

[[notifier]]
name = "log"
type = "jsonl"
path = "alerts.jsonl"
"#;

impl Setup {
    /// A config with `feeds` (URLs) on [`BASE`] and [`WATCHES`].
    pub fn new(feeds: &[String]) -> Setup {
        let mut toml = String::from(BASE);
        for f in feeds {
            toml.push_str(&format!("[[feed]]\nurl = \"{f}\"\n"));
        }
        toml.push_str(WATCHES);
        Setup::with_config(&toml)
    }

    /// A config on [`BASE`] polling one feed named "Wire" with the `sanctions` watch
    /// (`sanction*`), `extra` tables (entities, watches) and one `[[notifier]]` whose keys are
    /// `notifier`.
    pub fn one_feed(feed: &str, extra: &str, notifier: &str) -> Setup {
        Setup::with_config(&format!(
            "{BASE}[[feed]]\nurl = \"{feed}\"\nname = \"Wire\"\n\
             [[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n{extra}\n[[notifier]]\n{notifier}\n"
        ))
    }

    /// A config on [`BASE`] polling `feed` (named "Wire") whose failures alert at once
    /// (`alert_after` 1ms) through the jsonl notifier "log", with the `sanctions` watch.
    pub fn health_alerting(feed: &str) -> Setup {
        Setup::with_config(&format!(
            "{BASE}alert_after = \"1ms\"\n\
             [health]\nnotify = [\"log\"]\n[[feed]]\nurl = \"{feed}\"\nname = \"Wire\"\n\
             [[watch]]\nname = \"sanctions\"\nquery = \"sanction*\"\n\
             [[notifier]]\nname = \"log\"\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n"
        ))
    }

    pub fn with_config(toml: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, toml).unwrap();
        Setup { dir, config }
    }

    pub fn load(&self) -> Arc<wirewatch::config::Config> {
        Arc::new(wirewatch::config::Config::load(&self.config).unwrap_or_else(|e| panic!("{e}")))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every alert the jsonl notifier wrote, parsed.
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        read_jsonl(&self.path("alerts.jsonl"))
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path("state/wirewatch.db")).unwrap()
    }
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        Err(_) => Vec::new(),
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `wirewatch` binary under test.
pub fn bin() -> std::process::Command {
    bin_at(Path::new(env!("CARGO_BIN_EXE_wirewatch")))
}

/// A copy of the binary under test at `exe`, run as `bin` runs it.
pub fn bin_at(exe: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(exe);
    c.env_remove("WIREWATCH_CONFIG").env("RUST_LOG", "warn");
    c
}

/// An HTTP client for the daemon's own endpoints (rustls's provider installed first, as the
/// daemon does).
pub fn http() -> reqwest::Client {
    wirewatch::install_crypto();
    reqwest::Client::new()
}

/// `wirewatch --config <setup> args…`, run to its end.
pub fn wirewatch(setup: &Setup, args: &[&str]) -> std::process::Output {
    bin().arg("--config").arg(&setup.config).args(args).output().expect("wirewatch runs")
}

/// What a run of the binary said: its standard output, then its standard error.
pub fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
