//! wirewatch: a news-feed monitor. Polls RSS, Atom and JSON feeds, matches stories against
//! watchlists, remembers every story in SQLite and alerts once per story.
//!
//! Layout: `config` (the file), `feed` (bytes to stories), `text` (HTML to text, folding),
//! `matcher` (queries), `store` (SQLite), `poller` (HTTP), `ingest` (the writer thread),
//! `notify` (delivery), `engine` (wiring), `commands` (one function per subcommand).

pub mod alert;
pub mod article;
pub mod backtest;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dedupe;
pub mod digest;
pub mod engine;
pub mod fault;
pub mod feed;
pub mod ingest;
pub mod logging;
pub mod matcher;
pub mod metrics;
pub mod notify;
pub mod poller;
pub mod raise;
pub mod redact;
pub mod service;
pub mod store;
pub mod text;
pub mod web;

/// Arenas glibc's allocator may keep (its default is eight per core), each holding on to what
/// the threads using it freed. Parsing on tokio's blocking threads spread a first poll's memory
/// over many arenas: at 10,000 farm feeds the peak was 311 MiB with the default and 268-276
/// MiB with two.
const MALLOC_ARENAS: i32 = 2;

/// Tunes the allocator before any thread starts: at most [`MALLOC_ARENAS`] glibc arenas, unless
/// `MALLOC_ARENA_MAX` in the environment says otherwise. Nothing on other C libraries.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the allocator; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}

/// Makes rustls's ring provider the process's cryptography, once, before an HTTP client is
/// built: reqwest (built without a provider of its own) and lettre take the process default.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // Err only when a provider is already installed, which is as good.
    ONCE.call_once(|| drop(rustls::crypto::ring::default_provider().install_default()));
}

/// An error with its causes, `outer: inner: innermost`, so a log line says what really failed.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
