//! Backtest speed and web page render times over 100,000 stored stories (set
//! `WIREWATCH_BENCH_STORIES` for another count), with the shipped `config.toml`'s watches.
//!
//! Stories are written through the same ingest transaction the daemon uses, spread over the
//! last 29 days, from 100 feeds, each assembled from stock news sentences naming states and
//! organisations; the ones the shipped watches match get their matches and outbox rows, so the
//! alerts pages have something to show. Then: `backtest` of every shipped watch over 30 days on
//! one thread (stories per second), and each page of the web view fetched over loopback ten
//! times (median). Run: `cargo bench --bench web`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wirewatch::config::Config;
use wirewatch::dedupe::LookupKeys;
use wirewatch::feed::Story;
use wirewatch::store::{FetchMeta, Raised, Store, unix_now};

const FEEDS: usize = 100;
const DOCUMENT: usize = 100;
const DAYS: i64 = 29;

const SENTENCES: &[&str] = &[
    "North Korea fired a ballistic missile into the East Sea on Wednesday, officials in Seoul said.",
    "Russia and North Korea signed a treaty on military cooperation during a visit to Pyongyang.",
    "The European Union adopted new sanctions on Iran over drone supplies to Russia.",
    "China urged restraint after the launch and called for talks at the United Nations.",
    "The United States announced export controls on chips bound for China.",
    "Ukraine said Russian troops had shelled the city overnight, killing three people.",
    "Japan and South Korea held a summit on security cooperation in Tokyo.",
    "The IAEA said inspectors had returned to the plant after a week away.",
    "NATO ministers met in Brussels to discuss munitions production.",
    "Markets in Germany and France rose after the central bank held rates.",
    "Flooding in Bangladesh displaced thousands, the Red Cross said.",
    "Brazil and Argentina agreed on a trade accord covering beef and grain.",
    "India tested a new cruise missile off its eastern coast.",
    "The UN Security Council met in emergency session on the crisis in Sudan.",
    "Kim Jong Un inspected a munitions factory, state media reported.",
    "Vladimir Putin received a delegation from Pyongyang in the Kremlin.",
    "An asset freeze was imposed on three shipping firms accused of evading the embargo.",
    "Turkey said it would host talks between the two sides next month.",
    "Australia and the Philippines held joint naval drills in the South China Sea.",
    "Local elections in Mexico passed without major incidents, observers said.",
];

fn story(rng: &mut StdRng, serial: usize) -> Story {
    let mut pick = || SENTENCES[rng.random_range(0..SENTENCES.len())];
    let title = pick().trim_end_matches('.').to_string();
    let body = (0..4).map(|_| pick()).collect::<Vec<_>>().join(" ");
    Story {
        key: format!("guid:{serial}"),
        url: Some(format!("https://news.example/{serial}")),
        title,
        body,
        author: String::new(),
        categories: Vec::new(),
        published: chrono::DateTime::from_timestamp(unix_now() - DAYS * 86_400 + serial as i64 % 1000, 0),
        keys: LookupKeys::with_lang(None),
    }
}

fn fill(config: &Config, total: usize) {
    let mut store = Store::open(&config.storage.path).expect("open");
    let feeds: Vec<i64> =
        (0..FEEDS).map(|f| store.feed_state(&format!("https://feed{f}.example/rss")).expect("feed").id).collect();
    let mut rng = StdRng::seed_from_u64(20);
    let start = unix_now() - DAYS * 86_400;
    let feed = &config.feeds[0];
    for (d, first) in (0..total).step_by(DOCUMENT).enumerate() {
        let stories: Vec<Story> = (first..(first + DOCUMENT).min(total)).map(|i| story(&mut rng, i)).collect();
        let now = start + (first as i64 * DAYS * 86_400) / total as i64;
        let name = format!("Feed {}", d % FEEDS);
        store
            .ingest(feeds[d % FEEDS], &FetchMeta::default(), &stories, now, 72 * 3600, |_, s| Raised {
                alerts: wirewatch::raise::story_alerts(config, feed, &name, s),
                ..Raised::default()
            })
            .expect("ingest");
    }
}

/// CPU time of this thread so far: "on one core" whatever else the machine runs.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn backtests(config: &Config, total: usize) {
    let store = Store::open_read_only(&config.storage.path).expect("open");
    println!("{:<18} {:>8} {:>9} {:>10} {:>12}", "watch", "alerted", "wall ms", "cpu ms", "stories/s");
    for w in &config.watches {
        let matcher = wirewatch::backtest::matcher(config, Some(&w.name), None).expect("compiles");
        let (wall, cpu) = (Instant::now(), cpu_time());
        let out = wirewatch::backtest::run(config, &store, &matcher, Duration::from_secs(30 * 86_400), unix_now())
            .expect("backtest");
        let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
        assert_eq!(out.evaluated, total);
        println!(
            "{:<18} {:>8} {:>9.0} {:>10.0} {:>12.0}",
            w.name,
            out.hits.len(),
            wall.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
            total as f64 / cpu.max(wall.min(Duration::from_secs(3600))).as_secs_f64().max(1e-9)
        );
    }
}

async fn pages(config: Arc<Config>) {
    let site = wirewatch::web::Site::new(config.clone()).expect("site");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, wirewatch::web::router(site)).await.unwrap() });
    wirewatch::install_crypto();
    let client = reqwest::Client::new();
    let watch = &config.watches[0].name;
    let paths = [
        "/".to_string(),
        format!("/?watch={watch}"),
        "/story/50000".to_string(),
        format!("/watch/{watch}"),
        "/feeds".to_string(),
        "/alerts.atom".to_string(),
        format!("/watch/{watch}.atom"),
        "/try?query=missile*&since=30d".to_string(),
    ];
    println!("{:<34} {:>9} {:>8}", "page", "median ms", "KiB");
    for p in &paths {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..10 {
            let started = Instant::now();
            let r = client.get(format!("{base}{p}")).send().await.expect("answer");
            assert!(r.status().is_success(), "{p}: {}", r.status());
            size = r.bytes().await.unwrap().len();
            times.push(started.elapsed());
        }
        times.sort();
        println!("{:<34} {:>9.1} {:>8.1}", p, times[5].as_secs_f64() * 1e3, size as f64 / 1024.0);
    }
}

fn main() {
    let total: usize = std::env::var("WIREWATCH_BENCH_STORIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::load(std::path::Path::new("config.toml")).expect("the shipped config");
    config.storage.path = dir.path().join("bench.db");
    let started = Instant::now();
    fill(&config, total);
    // A generated story whose text repeats an earlier one of its feed is that story again.
    let stored: i64 = rusqlite::Connection::open(&config.storage.path)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM stories", [], |r| r.get(0)))
        .expect("count");
    let stored = stored as usize;
    println!("stored {stored} of {total} generated stories in {:.1} s", started.elapsed().as_secs_f64());
    backtests(&config, stored);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(pages(Arc::new(config)));
}
