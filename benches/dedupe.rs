//! Cross-feed dedupe at scale: inserts 1,000,000 synthetic matched stories (set
//! `WIREWATCH_BENCH_STORIES` for another count) into a SQLite file, through the same ingest
//! transaction the daemon uses, and reports stories per second for the dedupe keys (canonical
//! links and fingerprints, worked out on the parse pool), for ingest (the feed's boilerplate,
//! features, candidate lookup, clustering and insert), the cost of a lookup alone (features
//! included) per 100,000 stories stored, and database bytes per story.
//!
//! The stream: 20,000 stories a simulated day from 500 feeds, a third of them another outlet's
//! rewrite of a story from the last six hours, in documents of 25 stories; four documents
//! commit together, as the ingest writer batches the polls queued behind each other under
//! load; similarity features are pruned hourly as the daemon does. Last, `retain` is lowered to
//! a day and nearly every story is pruned, in steps as the writer prunes: the longest step is
//! the longest the writer would leave the watchdog unanswered. Run:
//! `cargo bench --bench dedupe`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wirewatch::dedupe::{Features, LookupKeys};
use wirewatch::feed::Story;
use wirewatch::store::{FetchMeta, NewAlert, PRUNE_STEP, Raised, Store};

const BLOCK: usize = 100_000;
const PER_DAY: i64 = 20_000;
const FEEDS: usize = 500;
const WINDOW: i64 = 72 * 3600;
/// Stories per feed document, and documents per transaction.
const DOCUMENT: usize = 25;
const DOCUMENTS_PER_COMMIT: usize = 4;
const LOOKUPS: usize = 2_000;

struct Words {
    common: Vec<String>,
    names: Vec<String>,
}

impl Words {
    fn new(rng: &mut StdRng) -> Words {
        let syllables = ["ka", "lo", "mi", "ran", "tes", "vo", "du", "shi", "per", "al", "on", "get", "bru", "zen"];
        let mut word = |n: usize| (0..n).map(|_| syllables[rng.random_range(0..syllables.len())]).collect::<String>();
        let common = (0..20_000).map(|_| word(3)).collect();
        let names = (0..5_000)
            .map(|_| {
                let w = word(2);
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or(w)
            })
            .collect();
        Words { common, names }
    }

    /// A log-uniform pick past the first `head` entries (the head stands for stop words,
    /// which features leave out): low indexes far more often, the commonest about 0.2% of
    /// picks.
    fn pick<'a>(rng: &mut StdRng, list: &'a [String], head: usize) -> &'a str {
        let x: f64 = rng.random();
        let span = list.len() as f64 / head as f64;
        &list[((head as f64 * span.powf(x)) as usize).min(list.len() - 1)]
    }

    fn story(&self, rng: &mut StdRng, n: usize) -> (String, String) {
        let mut sentence = |len: usize| {
            let mut s: Vec<String> = (0..len)
                .map(|_| match rng.random_range(0..10) {
                    0 | 1 => Words::pick(rng, &self.names, 20).to_string(),
                    2 => rng.random_range(2..2_000).to_string(),
                    _ => Words::pick(rng, &self.common, 100).to_string(),
                })
                .collect();
            s[0] = format!("The {}", s[0]);
            format!("{}.", s.join(" "))
        };
        let title = sentence(8);
        let body: Vec<String> = (0..n).map(|_| sentence(12)).collect();
        (title, body.join(" "))
    }
}

/// Another outlet's rewrite: a new headline, a fifth of the words dropped, a dateline added.
fn rewrite(rng: &mut StdRng, title: &str, body: &str) -> (String, String) {
    let kept: Vec<&str> = body.split(' ').filter(|_| rng.random_range(0..5) != 0).collect();
    let words: Vec<&str> = title.split(' ').collect();
    let head = words[words.len() / 2..].join(" ");
    (format!("Update: {head}"), format!("CITY (Wire) - {}", kept.join(" ")))
}

struct Item {
    feed: usize,
    story: Story,
}

fn generate(
    rng: &mut StdRng,
    words: &Words,
    n: usize,
    first: usize,
    recent: &mut VecDeque<(usize, String, String)>,
) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let serial = first + i;
            let feed = rng.random_range(0..FEEDS);
            let (title, body) = match recent.len() {
                len if len > 0 && rng.random_range(0..3) == 0 => {
                    let (_, t, b) = &recent[rng.random_range(0..len)];
                    rewrite(rng, t, b)
                }
                _ => words.story(rng, 4),
            };
            recent.push_back((serial, title.clone(), body.clone()));
            // About six hours of stories.
            if recent.len() > (PER_DAY / 4) as usize {
                recent.pop_front();
            }
            let url = format!("https://feed{feed}.example/story/{serial}?utm_source=rss");
            let story = Story {
                key: format!("guid:{serial}"),
                url: Some(url),
                title,
                body,
                author: String::new(),
                categories: Vec::new(),
                published: chrono::DateTime::from_timestamp(clock(serial), 0),
                keys: LookupKeys::with_lang(Some("en".into())),
            };
            Item { feed, story }
        })
        .collect()
}

/// Simulated time of the `serial`th story.
fn clock(serial: usize) -> i64 {
    1_800_000_000 + serial as i64 * 86_400 / PER_DAY
}

/// CPU time of this thread so far (the bench runs on one thread): what "stories/s on one core"
/// means when the disk makes wall time vary. Zero where Linux's schedstat is not available.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// One feed's document: the feed of its first story (feeds differ story to story in the
/// stream; the first decides, which keeps the per-story feed mix).
fn ingest_document(store: &mut Store, feed_id: i64, chunk: &[Item], now: i64) {
    let stories: Vec<Story> = chunk.iter().map(|it| it.story.clone()).collect();
    store
        .ingest(feed_id, &FetchMeta::default(), &stories, now, WINDOW, |_, _| Raised {
            alerts: vec![NewAlert {
                watch: "bench".into(),
                feed: format!("feed{feed_id}"),
                matched: "[]".into(),
                notifiers: Vec::new(),
                payload: String::new(),
            }],
            cluster: true,
            article_due: None,
        })
        .expect("ingest");
}

/// `retain` lowered to a day: nearly every stored story goes, in steps as the writer prunes,
/// and the longest step is the longest the writer would leave the watchdog unanswered.
fn large_prune(store: &mut Store, now: i64) {
    let (started, mut longest, mut steps) = (Instant::now(), Duration::ZERO, 0);
    let mut step_started = started;
    let total = store
        .prune_all(now, 86_400, 2 * WINDOW, PRUNE_STEP, |_| {
            longest = longest.max(step_started.elapsed());
            step_started = Instant::now();
            steps += 1;
        })
        .expect("prune");
    println!(
        "large prune: {} stories deleted and {} emptied in {:.1} s, {steps} steps of at most {PRUNE_STEP}, the \
         longest {:.0} ms",
        total.deleted,
        total.emptied,
        started.elapsed().as_secs_f64(),
        longest.as_secs_f64() * 1e3
    );
}

fn main() {
    let total: usize = std::env::var("WIREWATCH_BENCH_STORIES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let mut store = Store::open(&path).expect("open");
    let feed_ids: Vec<i64> =
        (0..FEEDS).map(|f| store.feed_state(&format!("https://feed{f}.example/rss")).expect("feed").id).collect();
    let mut rng = StdRng::seed_from_u64(7);
    let words = Words::new(&mut rng);
    let mut recent = VecDeque::new();
    let (mut t_keys, mut t_ingest, mut t_prune) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut t_cpu = Duration::ZERO;
    let mut next_prune = clock(0) + 3600;
    let mut done = 0;
    println!("{:>9}  {:>14}  {:>14}  {:>12}", "stored", "keys/s", "ingest/s", "lookup µs");
    while done < total {
        let n = BLOCK.min(total - done);
        let items = generate(&mut rng, &words, n, done, &mut recent);
        let started = Instant::now();
        let cpu_started = cpu_time();
        for it in &items {
            it.story.canon_key();
            it.story.text_key();
        }
        let block_keys = started.elapsed();
        let started = Instant::now();
        let prune_before = t_prune;
        let per_commit = DOCUMENT * DOCUMENTS_PER_COMMIT;
        for (c, group) in items.chunks(per_commit).enumerate() {
            let now = clock(done + (c + 1) * per_commit);
            if now >= next_prune {
                let p = Instant::now();
                store.prune_all(now, 90 * 86_400, 2 * WINDOW, PRUNE_STEP, |_| {}).expect("prune");
                t_prune += p.elapsed();
                next_prune = now + 3600;
            }
            store.begin_batch().expect("begin");
            for chunk in group.chunks(DOCUMENT) {
                ingest_document(&mut store, feed_ids[chunk[0].feed], chunk, now);
            }
            store.commit_batch().expect("commit");
        }
        // Pruning ran inside the block; it is counted apart.
        let block_ingest = started.elapsed() - (t_prune - prune_before);
        t_cpu += cpu_time() - cpu_started;
        done += n;
        // The lookup alone, against everything stored so far.
        let probes = generate(&mut rng, &words, LOOKUPS, done, &mut recent.clone());
        let now = clock(done);
        let started = Instant::now();
        for p in &probes {
            let f = Features::new(&p.story.title, &p.story.body, Some(now));
            store.cluster_for(-1, &f, now, WINDOW).expect("lookup");
        }
        let lookup = started.elapsed().as_secs_f64() * 1e6 / LOOKUPS as f64;
        println!(
            "{done:>9}  {:>14.0}  {:>14.0}  {lookup:>12.1}",
            n as f64 / block_keys.as_secs_f64(),
            n as f64 / block_ingest.as_secs_f64()
        );
        t_keys += block_keys;
        t_ingest += block_ingest;
    }
    let clustered: i64 = rusqlite::Connection::open(&path)
        .expect("reopen")
        .query_row("SELECT COUNT(*) FROM matches WHERE cluster_id != story_id", [], |r| r.get(0))
        .expect("count");
    large_prune(&mut store, clock(done));
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("reopen");
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE").expect("checkpoint");
    drop(conn);
    let bytes = std::fs::metadata(&path).expect("db size").len();
    let secs = (t_keys + t_ingest + t_prune).as_secs_f64();
    println!(
        "dedupe: {total} stories in {secs:.1} s = {:.0} stories/s on one core, {:.0} per CPU second (keys \
         {:.0}/s, ingest {:.0}/s, pruning {:.1} s); {clustered} joined an earlier story's cluster; database {:.1} MiB = \
         {:.0} bytes/story",
        total as f64 / secs,
        total as f64 / t_cpu.as_secs_f64(),
        total as f64 / t_keys.as_secs_f64(),
        total as f64 / t_ingest.as_secs_f64(),
        t_prune.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0),
        bytes as f64 / total as f64
    );
}
