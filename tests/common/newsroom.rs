//! A small newsroom for the web view and backtest tests: three loopback feeds telling one
//! missile launch (one cluster), a DPRK treaty story, a story titled
//! `<script>alert(1)</script>`, and a feed answering 500; a database filled by the real
//! `wirewatch once`; the web view served in-process on a loopback port.

use std::sync::Arc;

use super::{FeedServer, Item, Route, Setup, bin, rss};

pub const YONHAP: Item<'static> = Item {
    guid: Some("yna-1"),
    link: Some("https://en.yna.example/view/AEN20261125"),
    title: "N. Korea fires ballistic missile into East Sea: JCS",
    description: "North Korea fired a ballistic missile into the East Sea on Wednesday, South Korea's Joint Chiefs \
                  of Staff said. The missile flew about 620 kilometers after its launch from the Sunan area of \
                  Pyongyang.",
    date: "Wed, 25 Nov 2026 07:40:00 GMT",
};

pub const TASS: Item<'static> = Item {
    guid: Some("tass-77"),
    link: Some("https://tass.example/world/77"),
    title: "DPRK launches ballistic missile, Seoul says",
    description: "Pyongyang launched a ballistic missile toward the East Sea early on Wednesday, the Joint Chiefs \
                  of Staff in Seoul said, adding that it travelled roughly 620 kilometers from Sunan.",
    date: "Wed, 25 Nov 2026 08:15:00 GMT",
};

pub const NK_NEWS: Item<'static> = Item {
    guid: Some("nkn-5"),
    link: Some("https://nknews.example/2026/11/missile"),
    title: "North Korea test-fires missile from Sunan",
    description: "North Korea fired a ballistic missile from Sunan on Wednesday morning that flew 620 km into the \
                  East Sea, according to the South Korean military's Joint Chiefs of Staff.",
    date: "Wed, 25 Nov 2026 09:05:00 GMT",
};

pub const TREATY: Item<'static> = Item {
    guid: Some("yna-2"),
    link: Some("https://en.yna.example/view/AEN20261126"),
    title: "Pyongyang ratifies defence treaty with Moscow",
    description: "North Korea's legislature ratified the mutual defence treaty with Russia on Thursday, state media \
                  said, as China urged restraint.",
    date: "Thu, 26 Nov 2026 05:00:00 GMT",
};

/// The hostile title, as the feed escapes it inside `<title>`.
pub const HOSTILE_TITLE: &str = "<script>alert(1)</script>";

pub const HOSTILE: Item<'static> = Item {
    guid: Some("tass-78"),
    link: Some("https://tass.example/world/78"),
    // Escaped twice: once for XML, once because feeds' titles are read as HTML.
    title: "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    description: "North Korea faces new sanctions over its arms deals, diplomats in New York said.",
    date: "Thu, 26 Nov 2026 10:00:00 GMT",
};

/// The watches: `missiles`, and the shared `dprk` (with North Korea as an entity) and notifier.
fn watches() -> String {
    format!("[[watch]]\nname = \"missiles\"\nquery = \"missile*\"\n{}", super::WATCHES)
}

pub struct Newsroom {
    pub server: FeedServer,
    pub setup: Setup,
}

impl Newsroom {
    /// The feeds served, a config naming them (plus `extra` top-level tables), and one real
    /// `wirewatch once` over them.
    pub async fn start(extra: &str) -> Newsroom {
        let server = FeedServer::start().await;
        server.set_rss("yna.xml", rss("Yonhap", &[YONHAP, TREATY]));
        server.set_rss("tass.xml", rss("TASS", &[TASS, HOSTILE]));
        server.set_rss("nkn.xml", rss("NK News", &[NK_NEWS]));
        server.set("broken.xml", Route::Status(500));
        let mut toml = format!("{}{extra}\n", super::BASE);
        for (file, name) in
            [("yna.xml", "Yonhap"), ("tass.xml", "TASS"), ("nkn.xml", "NK News"), ("broken.xml", "Broken")]
        {
            toml.push_str(&format!("[[feed]]\nurl = \"{}\"\nname = \"{name}\"\n", server.url(file)));
        }
        toml.push_str(&watches());
        let setup = Setup::with_config(&toml);
        let out = run(&setup, &["once"]).await;
        assert!(out.status.success(), "once failed: {}", String::from_utf8_lossy(&out.stderr));
        Newsroom { server, setup }
    }

    /// Serves the web view of this newsroom's config on a loopback port; returns its base URL.
    pub async fn serve_web(&self) -> String {
        let site = wirewatch::web::Site::new(Arc::clone(&self.setup.load())).expect("the token reads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, wirewatch::web::router(site)).await.unwrap() });
        base
    }

    pub fn config(&self) -> &str {
        self.setup.config.to_str().unwrap()
    }
}

/// Runs the binary with `args` and this setup's config, off the async workers (the feed server
/// keeps answering meanwhile). It starts at once: the test may go on while it runs, and await
/// its output later.
pub fn run(setup: &Setup, args: &[&str]) -> impl Future<Output = std::process::Output> + use<> {
    let mut cmd = bin();
    cmd.arg("--config").arg(&setup.config).args(args);
    let running = tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"));
    async { running.await.unwrap() }
}
