//! When a scheduled digest is next due: pure time arithmetic, unit-tested.

use chrono::{Duration as ChronoDuration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::Schedule;

/// The first digest time strictly after `last` (Unix seconds), as Unix seconds.
pub fn next_digest(schedule: &Schedule, last: i64, tz: Tz) -> i64 {
    match schedule {
        Schedule::Every(d) => last.saturating_add(d.as_secs().max(1) as i64),
        Schedule::At(times) => {
            let local = Utc.timestamp_opt(last, 0).single().unwrap_or_default().with_timezone(&tz).date_naive();
            // The earliest instant after `last` over the next days' times; a time skipped by a
            // DST change moves an hour on, which can reorder the day's times.
            (0..=2)
                .flat_map(|day| times.iter().map(move |t| NaiveDateTime::new(local + ChronoDuration::days(day), *t)))
                .filter_map(|at| {
                    tz.from_local_datetime(&at)
                        .earliest()
                        .or_else(|| tz.from_local_datetime(&(at + ChronoDuration::hours(1))).earliest())
                })
                .map(|i| i.timestamp())
                .filter(|&i| i > last)
                .min()
                .unwrap_or(last + 24 * 3600)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::NaiveTime;

    use super::*;

    fn ts(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).expect("valid test time").timestamp()
    }

    fn at(times: &[&str]) -> Schedule {
        Schedule::At(times.iter().map(|t| NaiveTime::parse_from_str(t, "%H:%M").expect("valid")).collect())
    }

    #[test]
    fn every_interval_counts_from_the_last_digest() {
        let s = Schedule::Every(Duration::from_secs(3600));
        assert_eq!(next_digest(&s, 1000, Tz::UTC), 4600);
    }

    #[test]
    fn at_times_are_wall_clock_in_the_zone() {
        let s = at(&["08:00", "17:00"]);
        let london: Tz = "Europe/London".parse().expect("known zone");
        // 2026-07-01 is in British Summer Time (UTC+1).
        assert_eq!(next_digest(&s, ts("2026-07-01T06:00:00Z"), london), ts("2026-07-01T07:00:00Z"));
        assert_eq!(next_digest(&s, ts("2026-07-01T07:00:00Z"), london), ts("2026-07-01T16:00:00Z"));
        assert_eq!(next_digest(&s, ts("2026-07-01T16:30:00Z"), london), ts("2026-07-02T07:00:00Z"));
        // In January London is on UTC.
        assert_eq!(next_digest(&s, ts("2026-01-10T09:00:00Z"), london), ts("2026-01-10T17:00:00Z"));
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_moves_an_hour_on() {
        let s = at(&["01:30"]);
        let london: Tz = "Europe/London".parse().expect("known zone");
        // 2026-03-29 01:30 does not exist in London (clocks go from 01:00 to 02:00).
        assert_eq!(next_digest(&s, ts("2026-03-28T23:00:00Z"), london), ts("2026-03-29T01:30:00Z"));
        // 01:30 moves to 02:30 BST, after 02:15 BST: the earlier instant comes first.
        let two = at(&["01:30", "02:15"]);
        assert_eq!(next_digest(&two, ts("2026-03-28T23:00:00Z"), london), ts("2026-03-29T01:15:00Z"));
    }
}
