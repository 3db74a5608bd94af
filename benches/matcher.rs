//! Matcher benchmark on real stories.
//!
//! Stories come from `../shared/corpus/feeds` (falling back to `tests/fixtures/feeds`), parsed
//! with `feed::parse` and turned into matcher documents. Two configurations are measured:
//!
//! * `shipped`: the repository's `config.toml` (a handful of watches plus the gazetteer);
//! * `generated`: 1,000 watches over 10,000 distinct terms and aliases (500 entities with 5
//!   aliases each, 7,000 other words and phrases), plus the gazetteer, generated
//!   deterministically with an LCG. About a fifth of the terms are frequent words taken from
//!   the corpus itself, so that hits happen.
//!
//! Benchmarks: `match/shipped`, `match/generated` (one iteration = every corpus story once),
//! `compile/generated` and `fold/corpus`. Before criterion runs, a summary line per
//! configuration is printed with single-run throughput measured with `Instant` over 11 runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use wirewatch::matcher::{Document, EntityDef, Field, Matcher, WatchDef};
use wirewatch::text::fold;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/feeds");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/feeds");
const SHIPPED_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml");

const ENTITIES: usize = 500;
const ALIASES_PER_ENTITY: usize = 5;
const OTHER_TERMS: usize = 7_000;
const WATCHES: usize = 1_000;
const TERMS_PER_WATCH: usize = 10;
/// Share of the generated terms taken from the corpus's own vocabulary, in percent.
const CORPUS_WORD_PERCENT: u64 = 20;

// ---------------------------------------------------------------------------------------------
// Heap accounting: while `COUNTING` is set, live heap bytes are tracked exactly, so that the
// compiled matcher's own heap can be reported beside the (coarser) VmRSS difference. When it
// is not set the cost is one relaxed load per allocation.
// ---------------------------------------------------------------------------------------------

struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------

struct Corpus {
    docs: Vec<Document>,
    /// Bytes of every field over all documents.
    bytes: u64,
    feeds_parsed: usize,
    files_skipped: usize,
    dir: PathBuf,
}

fn doc_bytes(d: &Document) -> u64 {
    Field::ALL.iter().map(|&f| d.field(f).len() as u64).sum()
}

fn load_corpus() -> Corpus {
    let dir = if Path::new(CORPUS).is_dir() {
        PathBuf::from(CORPUS)
    } else {
        println!("matcher bench: {CORPUS} is missing; falling back to {FIXTURES}");
        PathBuf::from(FIXTURES)
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut docs = Vec::new();
    let (mut feeds_parsed, mut files_skipped) = (0, 0);
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else {
            files_skipped += 1;
            continue;
        };
        let Ok(feed) = wirewatch::feed::parse(&bytes, None) else {
            files_skipped += 1;
            continue;
        };
        feeds_parsed += 1;
        let name = feed
            .title
            .clone()
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        for story in &feed.stories {
            docs.push(wirewatch::alert::document(story, &name, &[]));
        }
    }
    let bytes = docs.iter().map(doc_bytes).sum();
    Corpus { docs, bytes, feeds_parsed, files_skipped, dir }
}

// ---------------------------------------------------------------------------------------------
// Deterministic generation
// ---------------------------------------------------------------------------------------------

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are used.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A plausible-looking synthetic word of 2 to 4 syllables ("varokin", "telusa").
fn synthetic_word(rng: &mut Lcg) -> String {
    const ONSETS: &[&str] = &[
        "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "st", "tr",
        "sh", "ch", "th", "pl", "sl", "kh", "zh",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ei", "ou", "ia", "y"];
    const CODAS: &[&str] = &["", "", "", "n", "r", "l", "s", "k", "m", "x", "nd", "rt", "sk"];
    let syllables = 2 + rng.below(3);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(rng.pick::<&str>(ONSETS));
        w.push_str(rng.pick::<&str>(VOWELS));
    }
    w.push_str(rng.pick::<&str>(CODAS));
    w
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Frequent folded words of the corpus (ASCII letters only, 4+ letters), most frequent first,
/// leaving out the very most frequent ones (stop words that would hit every story).
fn corpus_vocabulary(corpus: &Corpus) -> Vec<String> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for d in &corpus.docs {
        for text in [&d.title, &d.body] {
            for w in fold(text).text.split(' ') {
                // A bare operator word in lower case ("near") is a query error with a hint.
                if w.len() >= 4 && w.len() <= 14 && w.bytes().all(|b| b.is_ascii_lowercase()) && w != "near" {
                    *counts.entry(w.to_string()).or_default() += 1;
                }
            }
        }
    }
    let mut words: Vec<(String, u32)> = counts.into_iter().filter(|(_, n)| *n >= 2).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().skip(60).map(|(w, _)| w).collect()
}

/// Distinct term texts, keyed by folded form (plus "acronym" so that `VTL` and `vtl` differ).
struct TermSet {
    seen: HashSet<String>,
}

impl TermSet {
    fn insert(&mut self, text: &str) -> bool {
        let f = fold(text).text;
        !f.is_empty() && self.seen.insert(f)
    }
}

/// A term as it may appear in a query.
#[derive(Clone)]
struct QTerm {
    text: String,
    /// Several words: written in quotes.
    phrase: bool,
}

struct Generated {
    entities: Vec<EntityDef>,
    watches: Vec<WatchDef>,
    distinct_terms: usize,
    corpus_terms: usize,
}

fn generate(corpus: &Corpus) -> Generated {
    let mut rng = Lcg(0x5EED_2024_0000_0001);
    let vocab = corpus_vocabulary(corpus);
    let mut vocab_iter = vocab.into_iter();
    let mut set = TermSet { seen: HashSet::new() };
    let mut corpus_terms = 0;

    let fresh_synthetic = |rng: &mut Lcg, set: &mut TermSet, words: usize| loop {
        let text = (0..words).map(|_| synthetic_word(rng)).collect::<Vec<_>>().join(" ");
        if set.insert(&text) {
            return text;
        }
    };
    let mut fresh_corpus = |set: &mut TermSet, corpus_terms: &mut usize| -> Option<String> {
        for w in vocab_iter.by_ref() {
            if set.insert(&w) {
                *corpus_terms += 1;
                return Some(w);
            }
        }
        None
    };

    // Entities: a two-word name and 5 aliases (single word, acronym, longer phrase, and two
    // more that are either synthetic or corpus words).
    let mut entities = Vec::with_capacity(ENTITIES);
    let mut query_pool: Vec<QTerm> = Vec::new();
    for _ in 0..ENTITIES {
        let name = loop {
            let a = capitalise(&synthetic_word(&mut rng));
            let b = capitalise(&synthetic_word(&mut rng));
            let n = format!("{a} {b}");
            if set.insert(&n) {
                break n;
            }
        };
        let mut aliases = Vec::with_capacity(ALIASES_PER_ENTITY);
        let first = name.split(' ').next().unwrap().to_string();
        aliases.push(if set.insert(&first) { first } else { capitalise(&fresh_synthetic(&mut rng, &mut set, 1)) });
        let acronym = loop {
            let len = 3 + rng.below(2);
            let a: String = (0..len).map(|_| (b'A' + rng.below(26) as u8) as char).collect();
            if set.insert(&a) {
                break a;
            }
        };
        aliases.push(acronym);
        let suffix = rng.pick(&["Group", "Holdings", "Front", "Ministry", "Corporation", "Brigade", "Council"]);
        let long = format!("{name} {suffix}");
        aliases.push(if set.insert(&long) { long } else { capitalise(&fresh_synthetic(&mut rng, &mut set, 3)) });
        for _ in 0..2 {
            let alias = if rng.chance(CORPUS_WORD_PERCENT) {
                fresh_corpus(&mut set, &mut corpus_terms).map(|w| capitalise(&w))
            } else {
                None
            };
            aliases.push(alias.unwrap_or_else(|| capitalise(&fresh_synthetic(&mut rng, &mut set, 1))));
        }
        query_pool.push(QTerm { text: name.clone(), phrase: true });
        for a in &aliases {
            query_pool.push(QTerm { text: a.clone(), phrase: a.contains(' ') });
        }
        entities.push(EntityDef { name, aliases });
    }

    // Other terms: corpus words (and corpus bigram phrases) up to ~20% of all terms overall,
    // the rest synthetic words and phrases.
    let total_terms = ENTITIES * (1 + ALIASES_PER_ENTITY) + OTHER_TERMS;
    let corpus_target = total_terms * CORPUS_WORD_PERCENT as usize / 100;
    let mut corpus_words_for_phrases: Vec<String> = Vec::new();
    for i in 0..OTHER_TERMS {
        let remaining = OTHER_TERMS - i;
        let want_corpus = corpus_terms < corpus_target && rng.below(remaining) < corpus_target - corpus_terms;
        let term = if want_corpus {
            if rng.chance(15) && corpus_words_for_phrases.len() > 10 {
                // A two-word phrase of corpus words: rarely present, but plausible.
                let a = rng.pick(&corpus_words_for_phrases).clone();
                let b = rng.pick(&corpus_words_for_phrases).clone();
                let p = format!("{a} {b}");
                if set.insert(&p) {
                    corpus_terms += 1;
                    Some(QTerm { text: p, phrase: true })
                } else {
                    None
                }
            } else {
                fresh_corpus(&mut set, &mut corpus_terms).map(|w| {
                    corpus_words_for_phrases.push(w.clone());
                    QTerm { text: w, phrase: false }
                })
            }
        } else {
            None
        };
        let term = term.unwrap_or_else(|| {
            let words = match rng.below(10) {
                0..=6 => 1,
                7..=8 => 2,
                _ => 3,
            };
            QTerm { text: fresh_synthetic(&mut rng, &mut set, words), phrase: words > 1 }
        });
        query_pool.push(term);
    }
    let distinct_terms = set.seen.len();
    assert_eq!(query_pool.len(), WATCHES * TERMS_PER_WATCH, "the pool fills every query slot once");

    // Queries: each term used exactly once across the 1,000 queries.
    rng.shuffle(&mut query_pool);
    let watches = query_pool
        .chunks(TERMS_PER_WATCH)
        .enumerate()
        .map(|(i, terms)| {
            let top_or = rng.chance(50);
            WatchDef {
                name: format!("gen-{i:04}"),
                query: gen_query(&mut rng, terms, true, top_or),
                ..Default::default()
            }
        })
        .collect();
    Generated { entities, watches, distinct_terms, corpus_terms }
}

/// One term as query text: a word, a "phrase", or a `word*` wildcard, maybe field-scoped.
fn render_term(rng: &mut Lcg, t: &QTerm, allow_scope: bool) -> String {
    let is_acronym = t.text.len() <= 5 && t.text.chars().all(|c| c.is_ascii_uppercase());
    let mut s = if t.phrase {
        format!("\"{}\"", t.text)
    } else if !is_acronym && t.text.chars().count() >= 5 && rng.chance(15) {
        // A wildcard: the word with its last letter or two cut off.
        let cut = 1 + rng.below(2);
        let stem: String = t.text.chars().take(t.text.chars().count() - cut).collect();
        format!("{stem}*")
    } else if rng.chance(10) {
        format!("\"{}\"", t.text)
    } else {
        t.text.clone()
    };
    if allow_scope && rng.chance(10) {
        s = format!("{}:{s}", if rng.chance(50) { "title" } else { "body" });
    }
    s
}

/// Builds a query over exactly `terms`. The result always needs at least one positive hit:
/// NOT only appears as a sibling of positive parts inside an AND.
fn gen_query(rng: &mut Lcg, terms: &[QTerm], top: bool, or: bool) -> String {
    if terms.len() == 1 {
        return render_term(rng, &terms[0], true);
    }
    if terms.len() == 2 && rng.chance(35) {
        let n = 1 + rng.below(12);
        let a = render_term(rng, &terms[0], false);
        let b = render_term(rng, &terms[1], false);
        return if rng.chance(30) { format!("{a} NEAR {b}") } else { format!("{a} NEAR/{n} {b}") };
    }
    // Split into 2 or 3 groups.
    let groups = if terms.len() >= 3 && rng.chance(40) { 3 } else { 2 };
    let mut cuts = Vec::new();
    let mut rest = terms;
    for g in (1..=groups).rev() {
        if g == 1 {
            cuts.push(rest);
            break;
        }
        let max = rest.len() - (g - 1);
        let take = 1 + rng.below(max);
        cuts.push(&rest[..take]);
        rest = &rest[take..];
    }
    let mut parts: Vec<String> = cuts
        .iter()
        .map(|c| {
            let inner = gen_query(rng, c, false, !or);
            let wrapped = if c.len() > 1 { format!("({inner})") } else { inner };
            if c.len() > 1 && rng.chance(8) {
                format!("{}:{wrapped}", if rng.chance(50) { "title" } else { "body" })
            } else {
                wrapped
            }
        })
        .collect();
    if or {
        parts.join(" OR ")
    } else {
        // Negate one part (never the first) now and then.
        if parts.len() >= 2 && rng.chance(if top { 40 } else { 20 }) {
            let i = 1 + rng.below(parts.len() - 1);
            parts[i] = format!("NOT {}", parts[i]);
        }
        let sep = if rng.chance(30) { " " } else { " AND " };
        parts.join(sep)
    }
}

fn compile_generated(g: &Generated) -> Matcher {
    match Matcher::compile(&g.entities, &g.watches, true) {
        Ok(m) => m,
        Err(errors) => {
            let msgs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("{} generated queries do not compile:\n{}", errors.len(), msgs.join("\n"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// (watch matches, stories with at least one match, distinct watches that matched)
fn match_counts(m: &Matcher, docs: &[Document]) -> (usize, usize, usize) {
    let (mut matches, mut stories) = (0, 0);
    let mut watches = HashSet::new();
    for d in docs {
        let found = m.match_document(d);
        matches += found.len();
        stories += usize::from(!found.is_empty());
        watches.extend(found.into_iter().map(|w| w.watch));
    }
    (matches, stories, watches.len())
}

/// (watch matches, stories with at least one match)
fn match_all(m: &Matcher, docs: &[Document]) -> (usize, usize) {
    let (mut matches, mut stories) = (0, 0);
    for d in docs {
        let found = m.match_document(d);
        matches += found.len();
        stories += usize::from(!found.is_empty());
        black_box(found);
    }
    (matches, stories)
}

fn fold_all(docs: &[Document]) -> usize {
    let mut n = 0;
    for d in docs {
        for f in Field::ALL {
            n += black_box(fold(d.field(f))).text.len();
        }
    }
    n
}

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Single runs behind each summary line (their median and best are printed).
const SUMMARY_RUNS: usize = 11;

fn summary(label: &str, m: &Matcher, corpus: &Corpus, extra: &str) {
    let (matches, matched_stories, matched_watches) = match_counts(m, &corpus.docs);
    let mut times = Vec::new();
    for _ in 0..SUMMARY_RUNS {
        let t = Instant::now();
        black_box(match_all(m, &corpus.docs));
        times.push(t.elapsed());
    }
    times.sort();
    let best = times[0].as_secs_f64();
    let median = times[SUMMARY_RUNS / 2].as_secs_f64();
    let n = corpus.docs.len() as f64;
    println!(
        "summary {label:<9}: {} watches, {} stories, {:.2} MB, {matches} matches in {matched_stories} stories by {matched_watches} watches; \
         median {:.1} ms = {:.1} MB/s, {:.0} stories/s (best {:.1} MB/s, {:.0} stories/s){extra}",
        m.watch_count(),
        corpus.docs.len(),
        mb(corpus.bytes),
        median * 1e3,
        mb(corpus.bytes) / median,
        n / median,
        mb(corpus.bytes) / best,
        n / best,
    );
}

fn main() {
    let corpus = load_corpus();
    println!(
        "corpus: {} ({} feeds parsed, {} files skipped), {} stories, {} bytes ({:.2} MB) of every field",
        corpus.dir.display(),
        corpus.feeds_parsed,
        corpus.files_skipped,
        corpus.docs.len(),
        corpus.bytes,
        mb(corpus.bytes)
    );

    let shipped = wirewatch::config::Config::load(Path::new(SHIPPED_CONFIG))
        .unwrap_or_else(|e| panic!("cannot load {SHIPPED_CONFIG}: {e:?}"))
        .matcher;

    let generated = generate(&corpus);
    println!(
        "generated config: {} entities, {} watches, {} distinct terms and aliases ({} from the corpus vocabulary)",
        generated.entities.len(),
        generated.watches.len(),
        generated.distinct_terms,
        generated.corpus_terms
    );
    for w in generated.watches.iter().take(3) {
        println!("  e.g. {}: {}", w.name, w.query);
    }

    // Memory of the compiled matcher: VmRSS difference (coarse: the allocator may reuse pages
    // freed earlier) and the exact live heap it keeps (allocations made while compiling, minus
    // those freed again before `compile` returned).
    let rss_before = vm_rss_kib();
    LIVE.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let t = Instant::now();
    let gen_matcher = compile_generated(&generated);
    let compile_once = t.elapsed();
    COUNTING.store(false, Ordering::Relaxed);
    let heap = LIVE.load(Ordering::Relaxed);
    let rss_after = vm_rss_kib();
    let mut mem = format!(
        "; first compile {:.1} ms, matcher heap {:.1} MiB",
        compile_once.as_secs_f64() * 1e3,
        heap as f64 / 1048576.0
    );
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        mem.push_str(&format!(", VmRSS +{:.1} MiB", (a as f64 - b as f64) / 1024.0));
    }

    summary("shipped", &shipped, &corpus, "");
    summary("generated", &gen_matcher, &corpus, &mem);
    {
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            black_box(fold_all(&corpus.docs));
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "summary fold     : median {:.1} ms = {:.1} MB/s, {:.0} stories/s",
            times[1] * 1e3,
            mb(corpus.bytes) / times[1],
            corpus.docs.len() as f64 / times[1]
        );
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();

    {
        let mut g = c.benchmark_group("match");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Bytes(corpus.bytes));
        g.bench_function("shipped", |b| b.iter(|| match_all(&shipped, black_box(&corpus.docs))));
        g.bench_function("generated", |b| b.iter(|| match_all(&gen_matcher, black_box(&corpus.docs))));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("compile");
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
        g.bench_function("generated", |b| b.iter(|| compile_generated(black_box(&generated))));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("fold");
        g.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Bytes(corpus.bytes));
        g.bench_function("corpus", |b| b.iter(|| fold_all(black_box(&corpus.docs))));
        g.finish();
    }
    c.final_summary();
}
