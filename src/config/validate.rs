//! Turns a [`RawConfig`] into a [`Config`], collecting every error with its place in the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::bounds;
use super::raw::{DurationText, RawConfig, RawFeed, RawPoll, SizeText};
use super::{
    Config, ConfigError, ConfigErrors, DEFAULT_CHECK_EVERY, DEFAULT_DB_FILE, DEFAULT_DEDUPE_MEMORY,
    DEFAULT_DEDUPE_WINDOW, DEFAULT_RETAIN, Dedupe, Feed, FeedLocation, Log, Notifier, Poll, Storage, Watch,
};
use crate::matcher::{EntityDef, Matcher, WatchDef};
use crate::text::lang;

/// Collects errors against one file so validation can report them all at once.
pub(super) struct Checker<'a> {
    pub file: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    pub fn error<T>(&mut self, spanned: &Spanned<T>, message: impl Into<String>) {
        self.error_at(spanned.span(), message);
    }

    pub fn error_at(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let e = ConfigError::at(self.file, self.text, span, message);
        self.errors.push(e);
    }

    /// The line and column where `spanned` stands.
    pub fn position<T>(&self, spanned: &Spanned<T>) -> (usize, usize) {
        super::error::line_col(self.text, spanned.span().start)
    }

    /// Whether an error was already reported at `spanned` (a value that did not parse).
    fn reported<T>(&self, spanned: &Spanned<T>) -> bool {
        let at = Some(self.position(spanned));
        self.errors.iter().any(|e| e.position == at)
    }

    /// A duration within the range [`bounds::duration`] gives `key`, or the default with an error.
    pub fn duration(&mut self, value: &Option<Spanned<DurationText>>, key: &str, default: Duration) -> Duration {
        let Some(v) = value else { return default };
        let range = bounds::duration(key);
        match humantime::parse_duration(v.get_ref().0.trim()) {
            Ok(d) if range.contains(&d) => d,
            Ok(_) => {
                let (lo, hi) = (bounds::show_duration(*range.start()), bounds::show_duration(*range.end()));
                self.error(v, format!("{key} must be between {lo} and {hi}"));
                default
            }
            Err(e) => {
                let msg = format!(
                    "invalid duration {:?} for {key}: {e}; write e.g. \"90s\", \"15m\", \"1h 30m\"",
                    v.get_ref().0
                );
                self.error(v, msg);
                default
            }
        }
    }

    /// A whole number within `range`, or the default with an error.
    pub fn count(
        &mut self,
        v: &Option<Spanned<i64>>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        d: usize,
    ) -> usize {
        match v {
            None => d,
            Some(n) if range.contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                self.error(n, format!("{key} must be between {} and {}", range.start(), range.end()));
                d
            }
        }
    }

    /// A size in bytes (`"10MiB"`) within the range [`bounds::size`] gives `key`; `None` when
    /// absent or invalid (with an error).
    pub fn size(&mut self, value: &Option<Spanned<SizeText>>, key: &str) -> Option<u64> {
        let v = value.as_ref()?;
        let text = &v.get_ref().0;
        let range = bounds::size(key);
        // bytesize saturates a size past 16 EiB to the largest u64, which no range holds.
        match text.trim().parse::<bytesize::ByteSize>() {
            Ok(size) if range.contains(&size.as_u64()) => Some(size.as_u64()),
            Ok(_) => {
                let (lo, hi) = (bounds::show_size(*range.start()), bounds::show_size(*range.end()));
                self.error(v, format!("{key} must be between {lo} and {hi}"));
                None
            }
            Err(_) => {
                self.error(v, format!("invalid size {text:?} for {key}; write e.g. \"10MiB\" or \"512KiB\""));
                None
            }
        }
    }

    /// Reports an interval outside `min..=max`.
    pub fn interval_within<T>(&mut self, at: &Spanned<T>, key: &str, value: Duration, min: Duration, max: Duration) {
        if value < min || value > max {
            let (min, max) = (humantime::format_duration(min), humantime::format_duration(max));
            self.error(at, format!("{key} must be between poll.min_interval ({min}) and poll.max_interval ({max})"));
        }
    }

    /// The 1-based line of byte `offset` in the file.
    pub fn line(&self, offset: usize) -> usize {
        super::line_col(self.text, offset).0
    }

    /// The line where `key` was first seen, if `at` is not that place; records it otherwise.
    pub fn seen_before<T>(&self, seen: &mut HashMap<String, usize>, key: String, at: &Spanned<T>) -> Option<usize> {
        let first = *seen.entry(key).or_insert(at.span().start);
        (first != at.span().start).then(|| self.line(first))
    }

    /// A path from the file, resolved against the config file's folder.
    pub fn path(&self, value: &str) -> PathBuf {
        super::resolve(self.file.parent().unwrap_or(Path::new("")), value)
    }
}

pub(super) fn validate(raw: RawConfig, text: &str, file: &Path) -> Result<Config, ConfigErrors> {
    let mut c = Checker { file, text, errors: Vec::new() };
    let storage = Storage {
        path: match &raw.storage.path {
            Some(p) => c.path(p.get_ref()),
            None => default_db_path().unwrap_or_else(|| c.path(DEFAULT_DB_FILE)),
        },
        retain: c.duration(&raw.storage.retain, "storage.retain", DEFAULT_RETAIN),
        max_size: c.size(&raw.storage.max_size, "storage.max_size"),
        check_every: c.duration(&raw.storage.check_every, "storage.check_every", DEFAULT_CHECK_EVERY),
    };
    let dedupe = Dedupe {
        window: c.duration(&raw.dedupe.window, "dedupe.window", DEFAULT_DEDUPE_WINDOW),
        cross_feed: raw.dedupe.cross_feed.unwrap_or(true),
        memory: c.size(&raw.dedupe.memory, "dedupe.memory").unwrap_or(DEFAULT_DEDUPE_MEMORY),
    };
    retain_covers_window(&mut c, &raw, storage.retain, dedupe.window);
    let poll = poll(&mut c, &raw.poll);
    let feeds = feeds(&mut c, &raw.feeds, &poll);
    let notifiers = super::validate_notifier::notifiers(&mut c, &raw.notifiers);
    let watches = watches(&mut c, &raw, &notifiers);
    let health_notify = health(&mut c, &raw.health, &notifiers);
    let metrics_listen = raw.metrics.listen.as_ref().and_then(|l| match l.get_ref().trim().parse() {
        Ok(addr) => Some(addr),
        Err(_) => {
            c.error(l, format!("invalid address {:?} for metrics.listen; write e.g. \"127.0.0.1:9464\"", l.get_ref()));
            None
        }
    });
    let web = super::validate_web::web(&mut c, &raw.web);
    let entities: Vec<EntityDef> =
        raw.entities.iter().map(|e| EntityDef { name: e.name.get_ref().clone(), aliases: e.aliases.clone() }).collect();
    for e in &raw.entities {
        if e.name.get_ref().trim().is_empty() {
            c.error(&e.name, "entity name must not be empty");
        }
    }
    let defs: Vec<WatchDef> = watches.iter().map(Watch::def).collect();
    let builtin = raw.matcher.builtin_entities.unwrap_or(true);
    let matcher = match Matcher::compile(&entities, &defs, builtin) {
        Ok(m) => Some(m),
        Err(errors) => {
            for e in errors {
                let at = &raw.watches[e.watch_index].query;
                c.error(at, e.to_string());
            }
            None
        }
    };
    match matcher {
        Some(matcher) if c.errors.is_empty() => Ok(Config {
            source: file.to_path_buf(),
            storage,
            dedupe,
            log: Log { format: raw.log.format.unwrap_or_default() },
            health_notify,
            metrics_listen,
            web,
            poll,
            feeds,
            entities,
            builtin_entities: builtin,
            watches,
            notifiers,
            matcher,
        }),
        _ => {
            // In the order of the file, whichever check found each one.
            c.errors.sort_by_key(|e| e.position);
            Err(ConfigErrors(c.errors))
        }
    }
}

/// Clusters keep their stories only if stories outlive twice the dedupe window. The error points
/// at `storage.retain` when it is written, else at `dedupe.window`, whose default retain is short.
fn retain_covers_window(c: &mut Checker, raw: &RawConfig, retain: Duration, window: Duration) {
    let Some(at) = raw.storage.retain.as_ref().or(raw.dedupe.window.as_ref()) else { return };
    // A value that does not parse is reported as such, not compared in its default's place.
    let bad = [&raw.storage.retain, &raw.dedupe.window].into_iter().flatten().any(|v| c.reported(v));
    if retain >= 2 * window || bad {
        return;
    }
    let least = bounds::show_duration(2 * window);
    let (retain, window) = (as_written(&raw.storage.retain, retain), as_written(&raw.dedupe.window, window));
    let msg = format!(
        "storage.retain ({retain}) must be at least twice dedupe.window ({window}): at least {least}, so that clusters keep their stories"
    );
    c.error(at, msg);
}

/// A duration as the file writes it, or the default it takes when the key is absent.
fn as_written(raw: &Option<Spanned<DurationText>>, value: Duration) -> String {
    match raw {
        Some(text) => text.get_ref().0.trim().to_string(),
        None => format!("{}, the default", bounds::show_duration(value)),
    }
}

/// `[health] notify`: names of configured notifiers.
fn health(c: &mut Checker, raw: &super::raw::RawHealth, notifiers: &[Notifier]) -> Vec<String> {
    let known: Vec<&str> = notifiers.iter().map(|n| n.name.as_str()).collect();
    for name in &raw.notify {
        if !known.contains(&name.get_ref().as_str()) {
            c.error(
                name,
                format!("health.notify: no notifier named {:?}; notifiers: {}", name.get_ref(), known.join(", ")),
            );
        }
    }
    raw.notify.iter().map(|n| n.get_ref().clone()).collect()
}

/// Under systemd (`StateDirectory=`), the database lives in the service's state directory.
fn default_db_path() -> Option<PathBuf> {
    let dirs = std::env::var_os("STATE_DIRECTORY")?;
    let first = std::env::split_paths(&dirs).next().filter(|d| !d.as_os_str().is_empty())?;
    Some(first.join(DEFAULT_DB_FILE))
}

fn poll(c: &mut Checker, raw: &RawPoll) -> Poll {
    let d = Poll::default();
    let concurrency = c.count(&raw.concurrency, "poll.concurrency", 1..=10_000, d.concurrency);
    let per_host = c.count(&raw.per_host, "poll.per_host", 1..=100, d.per_host);
    let max_body = c.size(&raw.max_body, "poll.max_body").unwrap_or(d.max_body);
    let memory = c.size(&raw.memory, "poll.memory").unwrap_or(d.memory);
    if let (Some(at), true) = (raw.max_body.as_ref().or(raw.memory.as_ref()), max_body > memory) {
        let (body, memory) = (bounds::show_size(max_body), bounds::show_size(memory));
        c.error(at, format!("poll.max_body ({body}) must not exceed poll.memory ({memory}): one body must fit"));
    }
    let proxy = raw.proxy.as_ref().and_then(|p| match url::Url::parse(p.get_ref().trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h") => Some(u),
        _ => {
            let msg = format!("invalid poll.proxy {:?}; write e.g. \"http://proxy.example.org:3128\"", p.get_ref());
            c.error(p, msg);
            None
        }
    });
    let timeout = c.duration(&raw.timeout, "poll.timeout", d.timeout);
    let min_interval = c.duration(&raw.min_interval, "poll.min_interval", d.min_interval);
    let max_interval = c.duration(&raw.max_interval, "poll.max_interval", d.max_interval);
    // Pointed at whichever bound the file writes: either may clash with the other's default.
    if let (Some(at), true) = (raw.max_interval.as_ref().or(raw.min_interval.as_ref()), max_interval < min_interval) {
        let (min, max) = (bounds::show_duration(min_interval), bounds::show_duration(max_interval));
        c.error(at, format!("poll.max_interval ({max}) must not be shorter than poll.min_interval ({min})"));
    }
    let interval = c.duration(&raw.interval, "poll.interval", d.interval);
    if let Some(at) = &raw.interval {
        c.interval_within(at, "poll.interval", interval, min_interval, max_interval);
    }
    Poll {
        interval,
        min_interval,
        max_interval,
        adaptive: raw.adaptive.unwrap_or(d.adaptive),
        concurrency,
        per_host,
        proxy,
        timeout,
        connect_timeout: d.connect_timeout.min(timeout),
        max_body,
        memory,
        backfill: c.duration(&raw.backfill, "poll.backfill", d.backfill),
        alert_after: c.duration(&raw.alert_after, "poll.alert_after", d.alert_after),
        article: super::article::articles(c, raw),
    }
}

fn feeds(c: &mut Checker, raw: &[Spanned<RawFeed>], poll: &Poll) -> Vec<Feed> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for table in raw {
        let f = table.get_ref();
        let Some((url, at)) = feed_url(c, table) else { continue };
        let Some(location) = feed_location(c, &url, at) else { continue };
        if let Some(line) = c.seen_before(&mut seen, location.key(), at) {
            let key = crate::redact::redact(&location.key());
            c.error(at, format!("feed {key} is listed twice; first at line {line}"));
            continue;
        }
        let interval = c.duration(&f.interval, "feed.interval", poll.interval);
        if let Some(at) = &f.interval {
            c.interval_within(at, "feed.interval", interval, poll.min_interval, poll.max_interval);
        }
        out.push(Feed {
            location,
            name: f.name.clone().filter(|n| !n.trim().is_empty()),
            interval,
            tags: f.tags.clone(),
            article: super::article::mode(c, &f.article, "feed.article").unwrap_or(poll.article.mode),
            article_selector: super::article::selector(c, &f.article_selector),
        });
    }
    out
}

/// A feed's URL as written, or read from the variable or file `url_env` or `url_file` names
/// (secrets are read here: the URL is the feed's identity, which every command needs), with
/// the place in the file its errors point at.
fn feed_url<'r>(c: &mut Checker, table: &'r Spanned<RawFeed>) -> Option<(String, &'r Spanned<String>)> {
    let f = table.get_ref();
    let set: Vec<&Spanned<String>> = [&f.url, &f.url_env, &f.url_file].into_iter().flatten().collect();
    let Some(&at) = set.first() else {
        c.error(table, "a [[feed]] needs url (or url_env or url_file, to keep a secret out of the file)");
        return None;
    };
    if set.len() > 1 {
        c.error(set[1], "set one of url, url_env and url_file in a [[feed]], not several");
        return None;
    }
    let secret = match (&f.url_env, &f.url_file) {
        (Some(var), _) => super::Secret::Env(var.get_ref().trim().to_string()),
        (_, Some(file)) => super::Secret::File(c.path(file.get_ref())),
        _ => return Some((at.get_ref().clone(), at)),
    };
    match secret.read() {
        Ok(url) => Some((url.trim().to_string(), at)),
        Err(e) => {
            c.error(at, format!("feed URL: {e}"));
            None
        }
    }
}

/// Where the feed's bytes come from; errors quote the URL redacted.
fn feed_location(c: &mut Checker, url: &str, at: &Spanned<String>) -> Option<FeedLocation> {
    let base = c.file.parent().unwrap_or(Path::new(""));
    FeedLocation::parse(url, base).map_err(|msg| c.error(at, crate::redact::redact(&msg))).ok()
}

fn watches(c: &mut Checker, raw: &RawConfig, notifiers: &[Notifier]) -> Vec<Watch> {
    let all: Vec<String> = notifiers.iter().map(|n| n.name.clone()).collect();
    let declared: Vec<&str> = raw.notifiers.iter().map(|n| n.name.get_ref().trim()).collect();
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for w in &raw.watches {
        let name = w.name.get_ref().trim().to_string();
        if name.is_empty() {
            c.error(&w.name, "watch name must not be empty");
        } else if let Some(line) = c.seen_before(&mut seen, name.clone(), &w.name) {
            c.error(&w.name, format!("watch {name:?} is defined twice; first at line {line}"));
        }
        let notify = match &w.notify {
            None => all.clone(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    let msg =
                        format!("watch {name:?}: notify is empty; name notifiers, or leave notify out to use all");
                    c.error(list, msg);
                }
                for n in list.get_ref() {
                    if !declared.contains(&n.as_str()) {
                        let valid = if declared.is_empty() { "none".to_string() } else { declared.join(", ") };
                        c.error(list, format!("watch {name:?}: unknown notifier {n:?}; defined notifiers: {valid}"));
                    }
                }
                list.get_ref().clone()
            }
        };
        let languages = languages(c, &name, w.languages.as_deref().unwrap_or_default());
        out.push(Watch { name, query: w.query.get_ref().clone(), notify, languages });
    }
    out
}

/// A watch's `languages`: ISO 639-1 codes of languages stories can be told in.
fn languages(c: &mut Checker, watch: &str, list: &[Spanned<String>]) -> Vec<String> {
    let mut out = Vec::new();
    for code in list {
        let lower = code.get_ref().trim().to_ascii_lowercase();
        if lang::is_known(&lower) {
            out.push(lower);
        } else {
            let valid = lang::known_codes().join(", ");
            c.error(
                code,
                format!("watch {watch:?}: unknown language {:?}; write ISO 639-1 codes: {valid}", code.get_ref()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;

    /// The error pointed at the second entry only, leaving the first to be searched for.
    #[test]
    fn a_feed_listed_twice_names_the_line_of_the_first() {
        let text = "[[feed]]\nurl = \"https://example.org/a\"\n\n[[feed]]\nurl = \"https://example.org/a\"\n";
        let e = Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string();
        assert_eq!(e, "c.toml:5:7: feed https://example.org/a is listed twice; first at line 2");
    }

    #[test]
    fn an_unknown_language_is_an_error_at_its_code() {
        let text = "[[watch]]\nname = \"w\"\nquery = \"a\"\nlanguages = [\"ru\", \"ukr\"]\n";
        let e = Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.starts_with("c.toml:4:20: watch \"w\": unknown language \"ukr\"; write ISO 639-1 codes: "), "{e}");
        assert!(e.contains(" uk,"), "{e}");
        let ok = Config::from_str(
            "[[watch]]\nname = \"w\"\nquery = \"a\"\nlanguages = [\"RU\", \"uk\"]\n",
            Path::new("c.toml"),
        );
        assert_eq!(ok.unwrap().watches[0].languages, ["ru", "uk"]);
    }

    /// A minimum written above the default maximum passed, and the scheduler used neither.
    #[test]
    fn poll_bounds_that_cross_are_an_error_at_whichever_is_written() {
        let cases = [
            (
                "[poll]\nmin_interval = \"7h\"\n",
                "c.toml:2:16: poll.max_interval (6h) must not be shorter than poll.min_interval (7h)",
            ),
            (
                "[poll]\nmax_interval = \"30s\"\n",
                "c.toml:2:16: poll.max_interval (30s) must not be shorter than poll.min_interval (1m)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn a_watch_or_notifier_defined_twice_names_the_line_of_the_first() {
        let text = "[[watch]]\nname = \"w\"\nquery = \"a\"\n[[watch]]\nname = \"w\"\nquery = \"b\"\n\
                    [[notifier]]\nname = \"n\"\ntype = \"stdout\"\n[[notifier]]\nname = \"n\"\ntype = \"stdout\"\n";
        let e = Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.contains("c.toml:5:8: watch \"w\" is defined twice; first at line 2"), "{e}");
        assert!(e.contains("c.toml:11:8: notifier \"n\" is defined twice; first at line 8"), "{e}");
    }

    #[test]
    fn errors_come_in_the_order_of_the_file() {
        let text = "[[watch]]\nname = \"w\"\nquery = \"a\"\nnotify = [\"nobody\"]\n[poll]\nconcurrency = 0\n";
        let e = Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string();
        let lines: Vec<&str> = e.lines().map(|l| l.split(':').nth(1).unwrap()).collect();
        assert_eq!(lines, ["4", "6"], "{e}");
    }

    #[test]
    fn check_every_is_a_second_to_a_year_and_a_bad_retain_is_reported_once() {
        for bad in ["500ms", "400d"] {
            let text = format!("[storage]\ncheck_every = \"{bad}\"\n");
            let e = Config::from_str(&text, Path::new("c.toml")).unwrap_err().to_string();
            assert_eq!(e, "c.toml:2:15: storage.check_every must be between 1s and 365d");
        }
        let e = Config::from_str("[storage]\nretain = \"soon\"\n[dedupe]\nwindow = \"60d\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("invalid duration \"soon\" for storage.retain"), "{e}");
    }

    /// "16EiB" saturated to the largest byte count and passed, then every fetch failed; an
    /// unbounded `max_interval` let a hostile hint push a poll years out.
    #[test]
    fn every_duration_and_size_is_held_to_its_documented_range() {
        let cases = [
            ("[poll]\nmax_body = \"16EiB\"\n", "poll.max_body must be between 1KiB and 1GiB"),
            ("[poll]\nmax_body = \"100B\"\n", "poll.max_body must be between 1KiB and 1GiB"),
            ("[poll]\nmax_interval = \"8d\"\n", "poll.max_interval must be between 1s and 7d"),
            ("[poll]\nmin_interval = \"0s\"\n", "poll.min_interval must be between 1s and 7d"),
            ("[poll]\ntimeout = \"2h\"\n", "poll.timeout must be between 1s and 1h"),
            ("[poll]\nbackfill = \"200000d\"\n", "poll.backfill must be between 1m and 100000d"),
            ("[poll]\nalert_after = \"400d\"\n", "poll.alert_after must be between 1ms and 365d"),
            ("[storage]\nmax_size = \"1KiB\"\n", "storage.max_size must be between 4KiB and 64TiB"),
            ("[storage]\nretain = \"1h\"\n", "storage.retain must be between 1d and 3650d"),
            ("[dedupe]\nwindow = \"400d\"\n", "dedupe.window must be between 1m and 365d"),
            ("[dedupe]\nmemory = \"100GiB\"\n", "dedupe.memory must be between 1MiB and 64GiB"),
            ("[[feed]]\nurl = \"a.xml\"\ninterval = \"9999y\"\n", "feed.interval must be between 1s and 7d"),
        ];
        let mut wrong = Vec::new();
        for (text, expected) in cases {
            let e = Config::from_str(text, Path::new("c.toml")).map(|_| ()).unwrap_err().to_string();
            if !e.contains(expected) {
                wrong.push(format!("{text:?}: expected {expected:?}, got {e:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let e = Config::from_str("[poll]\nmax_body = \"512MiB\"\n", Path::new("c.toml")).unwrap_err().to_string();
        assert_eq!(e, "c.toml:2:12: poll.max_body (512MiB) must not exceed poll.memory (256MiB): one body must fit");
        let text = "[poll]\nmax_interval = \"7d\"\nmax_body = \"1GiB\"\nmemory = \"1GiB\"\n";
        let c = Config::from_str(text, Path::new("c.toml")).unwrap();
        assert_eq!((c.poll.max_interval.as_secs(), c.poll.max_body), (7 * 86_400, 1 << 30));
    }

    /// `[dedupe] memory` had no row in the range table, so loading any file that set it panicked.
    #[test]
    fn dedupe_memory_loads_instead_of_panicking() {
        let c = Config::from_str("[dedupe]\nmemory = \"512MiB\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.dedupe.memory, 512 << 20);
        let e = Config::from_str("[dedupe]\nmemory = \"512KiB\"\n", Path::new("c.toml")).unwrap_err().to_string();
        assert_eq!(e, "c.toml:2:10: dedupe.memory must be between 1MiB and 64GiB");
    }

    #[test]
    fn a_config_with_no_feed_or_no_watch_has_nothing_to_do() {
        let e = Config::from_str("", Path::new("c.toml")).unwrap().require_work().unwrap_err().to_string();
        assert!(e.contains("c.toml: no [[feed]] to poll") && e.contains("c.toml: no [[watch]] to match"), "{e}");
        let feed_only = "[[feed]]\nurl = \"a.xml\"\n";
        let e = Config::from_str(feed_only, Path::new("c.toml")).unwrap().require_work().unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        let both = format!("{feed_only}[[watch]]\nname = \"w\"\nquery = \"a\"\n");
        assert!(Config::from_str(&both, Path::new("c.toml")).unwrap().require_work().is_ok());
    }
}
