//! When to poll a feed next: pure arithmetic on what the last poll showed, unit-tested.
//!
//! A feed's *interval* is its configured one, or with `adaptive` the typical gap between its
//! stories, kept between `min_interval` and `max_interval`. The *delay* until the next poll is
//! the interval, raised to the feed's own freshness hint (RSS `ttl`, `sy:updatePeriod`,
//! `Cache-Control`, `Expires`) but never past `max_interval`; after a failure it doubles per
//! consecutive failure up to `max_interval`, or follows `Retry-After`. Every delay is jittered
//! by about 10% so feeds added together drift apart.

use std::time::Duration;

use rand::Rng;

use crate::config::Poll;

/// Stories whose dates estimate a feed's publishing rhythm.
const RHYTHM_STORIES: usize = 10;
/// Fewer dated stories than this leave the interval as it was.
const RHYTHM_MIN: usize = 3;

/// What the last poll of a feed showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A successful poll; `gap` is the feed's typical time between stories, when its dates say.
    Success { gap: Option<Duration>, hint: Option<Duration> },
    /// The `failures`-th failure in a row (1 for the first).
    Failure { failures: u32, retry_after: Option<Duration> },
}

/// The feed's interval from now on, and the delay until its next poll (before jitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub interval: Duration,
    pub delay: Duration,
}

/// Plans the next poll of a feed configured with `configured` whose interval was `current`.
pub fn plan(poll: &Poll, configured: Duration, current: Option<Duration>, seen: Seen) -> Plan {
    let clamp = |d: Duration| d.clamp(poll.min_interval, poll.max_interval.max(poll.min_interval));
    let current = clamp(current.unwrap_or(configured));
    match seen {
        Seen::Success { gap, hint } => {
            let interval = match (poll.adaptive, gap) {
                (true, Some(gap)) => clamp(gap),
                (true, None) => current,
                (false, _) => clamp(configured),
            };
            let floor = hint.map_or(Duration::ZERO, |h| h.min(poll.max_interval));
            Plan { interval, delay: interval.max(floor) }
        }
        Seen::Failure { failures, retry_after } => {
            let doubled = current.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
            let delay = doubled.max(retry_after.unwrap_or_default()).min(poll.max_interval).max(poll.min_interval);
            Plan { interval: current, delay }
        }
    }
}

/// The typical gap between a feed's stories: the median gap between its newest dated stories
/// (Unix seconds; dates more than a day in the future are ignored).
pub fn publishing_gap(dates: &[i64], now: i64) -> Option<Duration> {
    let mut dates: Vec<i64> = dates.iter().copied().filter(|&d| d <= now + 86_400).collect();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    dates.dedup();
    dates.truncate(RHYTHM_STORIES);
    if dates.len() < RHYTHM_MIN {
        return None;
    }
    let mut gaps: Vec<i64> = dates.windows(2).map(|w| w[0] - w[1]).collect();
    gaps.sort_unstable();
    Some(Duration::from_secs(gaps[gaps.len() / 2].max(1) as u64))
}

/// `d` give or take 10%.
pub fn jittered(d: Duration) -> Duration {
    let spread = d.as_secs_f64() * 0.1;
    let offset = rand::rng().random_range(-spread..=spread);
    Duration::from_secs_f64((d.as_secs_f64() + offset).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;

    fn poll(adaptive: bool) -> Poll {
        Poll { adaptive, ..Poll::default() }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_success_polls_again_after_the_interval_or_the_feed_hint() {
        let p = poll(false);
        let plain = plan(&p, secs(15 * MIN), None, Seen::Success { gap: None, hint: None });
        assert_eq!(plain, Plan { interval: secs(15 * MIN), delay: secs(15 * MIN) });
        let ttl = plan(&p, secs(15 * MIN), None, Seen::Success { gap: None, hint: Some(secs(HOUR)) });
        assert_eq!(ttl.delay, secs(HOUR), "a ttl of an hour is a floor");
        let short = plan(&p, secs(15 * MIN), None, Seen::Success { gap: None, hint: Some(secs(MIN)) });
        assert_eq!(short.delay, secs(15 * MIN), "a shorter hint does not speed polls up");
        let bogus = plan(&p, secs(15 * MIN), None, Seen::Success { gap: None, hint: Some(secs(30 * 24 * HOUR)) });
        assert_eq!(bogus.delay, secs(6 * HOUR), "a bogus hint cannot silence a feed");
    }

    #[test]
    fn adaptive_intervals_follow_the_feed_between_the_limits() {
        let p = poll(true);
        let busy = plan(&p, secs(15 * MIN), None, Seen::Success { gap: Some(secs(4 * MIN)), hint: None });
        assert_eq!(busy.interval, secs(4 * MIN));
        let wire = plan(&p, secs(15 * MIN), None, Seen::Success { gap: Some(secs(10)), hint: None });
        assert_eq!(wire.interval, secs(MIN), "never below min_interval");
        let weekly = plan(&p, secs(15 * MIN), None, Seen::Success { gap: Some(secs(7 * 24 * HOUR)), hint: None });
        assert_eq!(weekly.interval, secs(6 * HOUR), "never above max_interval");
        let unchanged = plan(&p, secs(15 * MIN), Some(secs(2 * HOUR)), Seen::Success { gap: None, hint: None });
        assert_eq!(unchanged.interval, secs(2 * HOUR), "a 304 keeps the learned interval");
        let off = plan(
            &poll(false),
            secs(15 * MIN),
            Some(secs(2 * HOUR)),
            Seen::Success { gap: Some(secs(MIN * 5)), hint: None },
        );
        assert_eq!(off.interval, secs(15 * MIN));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_max_interval_and_honour_retry_after() {
        let p = poll(true);
        let delays: Vec<u64> = (1..=7)
            .map(|f| plan(&p, secs(15 * MIN), None, Seen::Failure { failures: f, retry_after: None }).delay.as_secs())
            .collect();
        assert_eq!(delays, [900, 1800, 3600, 7200, 14400, 21600, 21600]);
        let retry = plan(&p, secs(15 * MIN), None, Seen::Failure { failures: 1, retry_after: Some(secs(2 * HOUR)) });
        assert_eq!(retry.delay, secs(2 * HOUR));
        let huge = plan(&p, secs(15 * MIN), None, Seen::Failure { failures: 1, retry_after: Some(secs(99 * HOUR)) });
        assert_eq!(huge.delay, secs(6 * HOUR));
        let after = plan(&p, secs(15 * MIN), Some(secs(HOUR)), Seen::Success { gap: None, hint: None });
        assert_eq!(after.delay, secs(HOUR), "success resets the backoff");
    }

    #[test]
    fn the_publishing_gap_is_the_median_of_the_newest_stories() {
        let now = 1_000_000;
        let dates = [now - 600, now - 1200, now - 1800, now - 7200, now + 10 * 86_400];
        assert_eq!(publishing_gap(&dates, now), Some(secs(600)));
        assert_eq!(publishing_gap(&[now, now - 60], now), None, "two dates say too little");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let j = jittered(secs(1000)).as_secs_f64();
            assert!((900.0..=1100.0).contains(&j), "{j}");
        }
    }
}
