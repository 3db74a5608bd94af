//! robots.txt: fetched once per origin, cached, and obeyed for wirewatch's user agent
//! (parsed by texting_robots). As RFC 9309 says: a robots.txt that is not there (4xx) allows
//! everything; one that cannot be had (5xx, a network error, a timeout) disallows everything
//! until it is asked for again, sooner than a good answer would be.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::poller::{FetchError, Fetcher};

/// The product token matched against robots.txt `User-agent` lines.
pub const ROBOTS_AGENT: &str = "wirewatch";
/// How long a fetched robots.txt is trusted.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How long an unreachable robots.txt disallows its origin before it is asked for again.
const KEEP_UNREACHABLE: Duration = Duration::from_secs(10 * 60);
/// The most of a robots.txt read; RFC 9309 asks crawlers to parse at least 500 KiB.
const MAX_ROBOTS: u64 = 512 * 1024;

enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Box<texting_robots::Robot>),
}

struct Entry {
    rules: OnceCell<(Rules, Instant)>,
}

/// The robots.txt of every origin asked about, each fetched at most once at a time.
#[derive(Default)]
pub struct Robots {
    origins: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Robots {
    /// Whether `url` may be fetched, asking its origin's robots.txt (within `deadline`) when
    /// it is not cached or has expired.
    pub async fn allowed(&self, fetcher: &Fetcher, url: &url::Url, deadline: Duration) -> bool {
        let origin = url.origin().ascii_serialization();
        let entry = {
            let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
            let entry = origins.entry(origin.clone()).or_insert_with(|| Arc::new(Entry { rules: OnceCell::new() }));
            if entry.rules.get().is_some_and(|(_, until)| *until <= Instant::now()) {
                *entry = Arc::new(Entry { rules: OnceCell::new() });
            }
            Arc::clone(entry)
        };
        let (rules, _) = entry.rules.get_or_init(|| fetch(fetcher, &origin, deadline)).await;
        match rules {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }
}

async fn fetch(fetcher: &Fetcher, origin: &str, deadline: Duration) -> (Rules, Instant) {
    let Ok(url) = url::Url::parse(&format!("{origin}/robots.txt")) else {
        return (Rules::AllowAll, Instant::now() + KEEP);
    };
    let rules = match fetcher.fetch_page(&url, deadline, MAX_ROBOTS).await {
        Ok(page) => parse(&page.bytes),
        // 429 comes as `Busy`, with 503: both unreachable.
        Err(FetchError::Status(400..=499)) => Rules::AllowAll,
        Err(FetchError::TooLarge(_)) => Rules::AllowAll,
        Err(_) => return (Rules::DisallowAll, Instant::now() + KEEP_UNREACHABLE),
    };
    (rules, Instant::now() + KEEP)
}

/// Rules from a robots.txt body; one that does not parse allows everything.
fn parse(body: &[u8]) -> Rules {
    match texting_robots::Robot::new(ROBOTS_AGENT, body) {
        Ok(robot) => Rules::Parsed(Box::new(robot)),
        Err(_) => Rules::AllowAll,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_wirewatch_and_for_everyone() {
        let body = b"User-agent: *\nDisallow: /private/\n\nUser-agent: wirewatch\nDisallow: /paywall/\n";
        let Rules::Parsed(robot) = parse(body) else { panic!("parsed") };
        assert!(!robot.allowed("https://news.example/paywall/story"));
        assert!(robot.allowed("https://news.example/private/story"), "a group naming wirewatch replaces *");
        assert!(robot.allowed("https://news.example/2026/story"));
    }
}
