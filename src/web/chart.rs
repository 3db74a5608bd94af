//! Alerts per day as a bar chart in SVG, drawn on the server (pure: counts in, markup out).

use maud::{Markup, html};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
/// Room for the axis labels.
const BOTTOM: f64 = 20.0;
const LEFT: f64 = 28.0;

/// A bar per day: `days` are (day since the epoch, count), from `first` for `len` days; days
/// not listed count zero.
pub(super) fn per_day(days: &[(i64, i64)], first: i64, len: i64) -> Markup {
    let count = |d: i64| days.iter().find(|(day, _)| *day == d).map_or(0, |(_, n)| *n);
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let slot = (WIDTH - LEFT) / len as f64;
    let plot = HEIGHT - BOTTOM;
    let label = |d: i64| {
        chrono::DateTime::from_timestamp(d * 86_400, 0).map_or(String::new(), |t| t.format("%m-%d").to_string())
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } width=(WIDTH) height=(HEIGHT)
            role="img" aria-label="alerts per day" {
            line x1=(LEFT) y1=(plot) x2=(WIDTH) y2=(plot) stroke="#999" {}
            text x="0" y="12" font-size="11" fill="#555" { (max) }
            text x="0" y=(plot) font-size="11" fill="#555" { "0" }
            @for i in 0..len {
                @let n = count(first + i);
                @let h = n as f64 / max as f64 * (plot - 8.0);
                rect.bar x=(format!("{:.1}", LEFT + i as f64 * slot + 1.0)) y=(format!("{:.1}", plot - h))
                    width=(format!("{:.1}", (slot - 2.0).max(1.0))) height=(format!("{:.1}", h)) fill="#2f6fb0" {
                    title { (label(first + i)) ": " (n) }
                }
            }
            text x=(LEFT) y=(HEIGHT - 4.0) font-size="11" fill="#555" { (label(first)) }
            text x=(WIDTH) y=(HEIGHT - 4.0) font-size="11" fill="#555" text-anchor="end" { (label(first + len - 1)) }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_bar_a_day_scaled_to_the_busiest() {
        let svg = super::per_day(&[(20_000, 4), (20_002, 2)], 20_000, 3).into_string();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("height=\"132.0\""), "the busiest day fills the plot: {svg}");
        assert!(svg.contains("height=\"66.0\"") && svg.contains("height=\"0.0\""), "{svg}");
        assert!(svg.contains("<title>10-04: 4</title>"), "{svg}");
    }
}
