//! The range every duration and size in the config file must fall in, in one table that
//! validation enforces and the README's config reference repeats.
//!
//! Each range keeps arithmetic on the value safe (a size of "16EiB" no longer wraps a byte
//! count) and keeps a value an operator could mean: no feed waits more than a week, no fetch
//! hangs for a day.

use std::ops::RangeInclusive;
use std::time::Duration;

const SEC: u64 = 1;
const MIN: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
const TIB: u64 = 1024 * GIB;

/// The longest a feed ever waits between two polls: `[poll] max_interval` may not exceed it,
/// so that no freshness hint or backoff can silence a feed for longer.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(7 * DAY);

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Every duration key and its range (inclusive).
const DURATIONS: &[(&str, Duration, Duration)] = &[
    ("storage.retain", secs(DAY), secs(3650 * DAY)),
    ("storage.check_every", secs(SEC), secs(365 * DAY)),
    ("poll.interval", secs(SEC), MAX_POLL_INTERVAL),
    ("poll.min_interval", secs(SEC), MAX_POLL_INTERVAL),
    ("poll.max_interval", secs(SEC), MAX_POLL_INTERVAL),
    ("poll.timeout", secs(SEC), secs(HOUR)),
    // Long enough to mean "every dated story alerts on first sight".
    ("poll.backfill", secs(MIN), secs(100_000 * DAY)),
    // From a millisecond: an operator may want to hear of the first failure.
    ("poll.alert_after", Duration::from_millis(1), secs(365 * DAY)),
    ("poll.article_timeout", secs(SEC), secs(HOUR)),
    // A story is final once its article step ends: a day at most.
    ("poll.article_wait", secs(SEC), secs(DAY)),
    ("dedupe.window", secs(MIN), secs(365 * DAY)),
    ("feed.interval", secs(SEC), MAX_POLL_INTERVAL),
    ("notifier.digest", secs(MIN), MAX_POLL_INTERVAL),
    ("notifier.max_age", secs(MIN), secs(365 * DAY)),
];

/// Every size key and its range, in bytes (inclusive).
const SIZES: &[(&str, u64, u64)] = &[
    // From one SQLite page: a limit under the file's size fails writes as a full disk would.
    ("storage.max_size", 4 * KIB, 64 * TIB),
    ("poll.max_body", KIB, GIB),
    ("poll.article_max_body", KIB, GIB),
    ("poll.memory", MIB, 64 * GIB),
    ("dedupe.memory", MIB, 64 * GIB),
];

/// The range of the duration `key`; every duration key of the file has one.
pub fn duration(key: &str) -> RangeInclusive<Duration> {
    let (_, lo, hi) = lookup(DURATIONS, key);
    lo..=hi
}

/// The range of the size `key`, in bytes; every size key of the file has one.
pub fn size(key: &str) -> RangeInclusive<u64> {
    let (_, lo, hi) = lookup(SIZES, key);
    lo..=hi
}

fn lookup<T: Copy>(table: &[(&'static str, T, T)], key: &str) -> (&'static str, T, T) {
    *table.iter().find(|(k, ..)| *k == key).unwrap_or_else(|| panic!("no range for config key {key}"))
}

/// A duration as a range bound is written in the README: `7d`, `1h`, `1m`, `1s`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_nanos() != 0 {
        return humantime::format_duration(d).to_string();
    }
    let secs = d.as_secs();
    let unit = [(DAY, "d"), (HOUR, "h"), (MIN, "m")].into_iter().find(|(n, _)| secs > 0 && secs.is_multiple_of(*n));
    match unit {
        Some((n, name)) => format!("{}{name}", secs / n),
        None => format!("{secs}s"),
    }
}

/// A size as a range bound is written in the README: `1GiB`, `1KiB`.
pub fn show_size(bytes: u64) -> String {
    let unit =
        [(TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")].into_iter().find(|(n, _)| bytes.is_multiple_of(*n));
    match unit {
        Some((n, name)) => format!("{}{name}", bytes / n),
        None => format!("{bytes}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_is_ordered_and_max_interval_is_the_week_cap() {
        for (key, lo, hi) in DURATIONS {
            assert!(lo <= hi, "{key}");
        }
        for (key, lo, hi) in SIZES {
            assert!(lo <= hi, "{key}");
        }
        assert_eq!(*duration("poll.max_interval").end(), MAX_POLL_INTERVAL);
        assert_eq!(show_duration(MAX_POLL_INTERVAL), "7d");
        assert_eq!(show_size(*size("poll.max_body").end()), "1GiB");
    }
}
