//! Article extraction on the benchmark pages in `../shared/corpus/articles` (121 real pages
//! with hand-made bodies; see its SOURCE): precision, recall and F1 by the benchmark's metric
//! (`wirewatch::article::score`) and pages per second on one core, for the extractor wirewatch
//! ships (rs-trafilatura, through `wirewatch::article::extract`) and for dom_smoothie.
//!
//! `cargo bench --bench articles`; prints one line per extractor. Skips, saying so, when the
//! corpus is absent.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wirewatch::article::score;

struct Page {
    html: Vec<u8>,
    url: String,
    body: String,
}

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/articles");
    dir.join("ground-truth.json").exists().then_some(dir)
}

fn pages(dir: &Path) -> Vec<Page> {
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json")).expect("ground truth")).expect("json");
    let mut ids: Vec<&String> = truth.as_object().expect("an object").keys().collect();
    ids.sort();
    ids.into_iter()
        .filter_map(|id| {
            let file = std::fs::File::open(dir.join("html").join(format!("{id}.html.gz"))).ok()?;
            let mut html = Vec::new();
            flate2::read::GzDecoder::new(file).read_to_end(&mut html).ok()?;
            let t = &truth[id.as_str()];
            Some(Page {
                html,
                url: t["url"].as_str().unwrap_or_default().to_string(),
                body: t["articleBody"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

fn wirewatch_extract(p: &Page) -> String {
    wirewatch::article::extract(&p.html, Some(&p.url), None, None).body
}

fn dom_smoothie_extract(p: &Page) -> String {
    let html = String::from_utf8_lossy(&p.html);
    dom_smoothie::Readability::new(html.as_ref(), Some(&p.url), None)
        .and_then(|mut r| r.parse())
        .map(|a| a.text_content.to_string())
        .unwrap_or_default()
}

/// This process's resident memory: (now, peak since the last [`reset_peak`]), in MiB, from
/// `/proc/self/status` (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name));
        line.and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts the peak over again at the current resident memory (`clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn run(name: &str, pages: &[Page], extract: fn(&Page) -> String) {
    reset_peak();
    let (before, _) = memory_mib();
    let started = Instant::now();
    let scores: Vec<_> = pages.iter().map(|p| score::page(&p.body, &extract(p))).collect();
    let took = started.elapsed().as_secs_f64();
    let (precision, recall, f1) = score::summary(&scores);
    println!(
        "{name:<28} precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}  {:.1} pages/s on one core ({} pages, {took:.2} s)",
        pages.len() as f64 / took,
        pages.len()
    );
    let (_, peak) = memory_mib();
    println!("{:<28} peak resident memory {peak:.1} MiB, {:.1} MiB above the loaded pages", "", peak - before);
}

fn main() {
    let Some(dir) = corpus() else {
        println!("skipped: ../shared/corpus/articles is not there");
        return;
    };
    let pages = pages(&dir);
    run("rs-trafilatura (wirewatch)", &pages, wirewatch_extract);
    run("dom_smoothie", &pages, dom_smoothie_extract);
}
