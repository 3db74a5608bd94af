//! The web view in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed with apt-get when missing), driven over WebDriver with fantoccini: load the alerts
//! page, follow a story link, find the highlighted term. Screenshots of both pages, at a
//! phone's size, are saved under `target/web-screenshots/`.

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::newsroom::Newsroom;
use fantoccini::{ClientBuilder, Locator};

/// Chromium's flags: headless, nothing fetched or synced behind the test's back.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=412,915",
];

/// The Chromium binary and its WebDriver, installing Debian's packages when they are missing.
fn chromium() -> Option<(PathBuf, PathBuf)> {
    let find = || Some((which("chromium")?, which("chromedriver")?));
    if let Some(found) = find() {
        return Some(found);
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let apt = |args: &[&str]| {
        let mut c = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive").status().is_ok_and(|s| s.success())
    };
    let _ = apt(&["update", "-qq"]);
    let _ = apt(&["install", "-y", "-qq", "--no-install-recommends", "chromium", "chromium-driver"]);
    find()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| PathBuf::from(d).join(name)).find(|p| p.is_file())
}

/// A chromedriver on a free loopback port, once it says it has started.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(path: &PathBuf) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let stdout = child.stdout.take().unwrap();
        let started =
            std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("started successfully"));
        assert!(started, "chromedriver did not start");
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_loads_the_alerts_follows_a_story_and_finds_the_highlighted_term() {
    let Some((browser, driver)) = tokio::task::spawn_blocking(chromium).await.unwrap() else {
        eprintln!("skipped: chromium and chromedriver are not installed and apt-get could not install them");
        return;
    };
    let room = Newsroom::start("").await;
    let base = room.serve_web().await;
    let driver = tokio::task::spawn_blocking(move || Driver::start(&driver)).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": browser, "args": args }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client =
        ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a WebDriver session");

    client.goto(&format!("{base}/")).await.unwrap();
    let heading = client.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "Alerts");
    std::fs::write(artifacts().join("alerts.png"), client.screenshot().await.unwrap()).unwrap();
    // Whichever report of the launch was polled first heads its cluster: all three say missile.
    let link = client.find(Locator::XPath("//article//h2/a[contains(., 'missile')]")).await.unwrap();
    let title = link.text().await.unwrap();
    link.click().await.unwrap();
    client.wait().for_element(Locator::Css("section.card mark")).await.unwrap();
    assert!(client.current_url().await.unwrap().path().starts_with("/story/"));
    assert_eq!(client.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap(), title);
    let marks = client.find_all(Locator::Css("main h1 mark")).await.unwrap();
    let mut marked = Vec::new();
    for m in &marks {
        marked.push(m.text().await.unwrap());
    }
    assert!(marked.iter().any(|t| t.eq_ignore_ascii_case("missile")), "highlighted in the title: {marked:?}");
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(artifacts().join("story.png"), png).unwrap();
    client.close().await.unwrap();
}
