//! The alerts page: newest first, filtered by watch, feed, language and time; each alert with
//! its matched terms highlighted, the cluster's other reports and the link.

use axum::extract::{Query, State};
use axum::response::Html;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{frame, highlighted, marked, when};
use super::{PageError, Site, duration_param};
use crate::alert::Alert;
use crate::backtest::FeedNames;
use crate::matcher::{Field, WatchMatch};
use crate::store::{AlertFilter, AlertRow, Report, Store, unix_now};

/// The most alerts one page lists.
pub(super) const PAGE_SIZE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Filters {
    watch: Option<String>,
    feed: Option<String>,
    lang: Option<String>,
    since: Option<String>,
}

/// An alert as the pages show it, with the other reports of its cluster.
pub(super) struct Shown {
    pub row: AlertRow,
    pub alert: Alert,
    pub also: Vec<Report>,
}

/// The alert shape of each of `rows`, rebuilt from the stored story exactly as it was queued,
/// with the other reports of its cluster (read in one query for all of them).
pub(super) fn shown(store: &Store, names: &mut FeedNames, rows: Vec<AlertRow>) -> Result<Vec<Shown>, PageError> {
    let cluster = |row: &AlertRow| row.stored.cluster.unwrap_or(row.stored.id);
    let clusters: Vec<i64> = rows.iter().map(cluster).collect();
    let reports = store.cluster_reports(&clusters)?;
    let shown = rows.into_iter().map(|row| {
        let (name, tags) = names.of(&row.stored);
        let doc = row.stored.document(&name, tags);
        let m = WatchMatch { watch: row.watch.as_str().into(), index: 0, matched: row.matched.clone() };
        let alert = Alert::new(&row.feed, &row.stored.story, &doc, m);
        let key = (cluster(&row), row.watch.clone());
        let also = reports
            .get(&key)
            .map_or_else(Vec::new, |all| all.iter().filter(|r| r.story != row.stored.id).cloned().collect());
        Shown { row, alert, also }
    });
    Ok(shown.collect())
}

pub(super) async fn page(State(site): State<Site>, Query(f): Query<Filters>) -> Result<Html<String>, PageError> {
    let window = duration_param(f.since.as_deref(), "since", "30d")?;
    let empty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let feed = match empty(f.feed.clone()) {
        None => None,
        Some(id) => {
            Some(id.parse::<i64>().map_err(|_| PageError::BadRequest(format!("feed: {id:?} is not a feed id")))?)
        }
    };
    let filter = AlertFilter {
        watch: empty(f.watch.clone()),
        feed,
        lang: empty(f.lang.clone()),
        since: unix_now() - window.as_secs() as i64,
        limit: PAGE_SIZE,
    };
    let markup = site
        .read(move |site, store| {
            let mut names = FeedNames::new(&site.config);
            let shown = shown(store, &mut names, store.alerts(&filter)?)?;
            let feeds: Vec<(i64, String)> =
                store.feeds_known()?.into_iter().map(|(id, url, title)| (id, names.name(&url, title.as_deref()))).collect();
            Ok(html! {
                h1 { "Alerts" }
                (filters(site, &f, &feeds))
                @if shown.is_empty() { p { "No alerts match these filters." } }
                @for s in &shown { (item(s)) }
                @if shown.len() == PAGE_SIZE { p.meta { "Showing the newest " (PAGE_SIZE) "; narrow the filters to see older ones." } }
            })
        })
        .await?;
    Ok(Html(frame("Alerts", markup).into_string()))
}

/// The filter form; `feeds` are the known feeds' ids and names.
fn filters(site: &Site, f: &Filters, feeds: &[(i64, String)]) -> Markup {
    let chosen = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    html! {
        form.filters method="get" action="/" {
            label { "Watch" select name="watch" {
                option value="" { "all" }
                @for w in &site.config.watches { option value=(w.name) selected[chosen(&f.watch, &w.name)] { (w.name) } }
            } }
            label { "Feed" select name="feed" {
                option value="" { "all" }
                @for (id, name) in feeds {
                    option value=(id) selected[chosen(&f.feed, &id.to_string())] { (name) }
                }
            } }
            label { "Language" input name="lang" size="4" placeholder="ru" value=[f.lang.as_deref()]; }
            label { "Since" input name="since" size="6" placeholder="30d" value=[f.since.as_deref()]; }
            button type="submit" { "Filter" }
        }
    }
}

/// One alert: title (to its story page), watch, feed, times, highlighted snippet, matched terms,
/// other reports, link.
pub(super) fn item(s: &Shown) -> Markup {
    let story = &s.row.stored;
    html! {
        article.alert {
            h2 { a href={ "/story/" (story.id) } { (highlighted(&story.story.title, Field::Title, &s.row.matched)) } }
            p.meta {
                a.tag href={ "/watch/" (percent(&s.row.watch)) } { (s.row.watch) } " · " (s.row.feed)
                " · " (s.alert.published.as_deref().unwrap_or("undated")) " · matched " (when(s.row.created))
                @if let Some(lang) = story.story.lang() { " · " span.tag { (lang) } }
            }
            @if !s.alert.snippet.is_empty() { p { (marked(&s.alert.snippet_runs())) } }
            p.why { "Matched: " (s.alert.why()) }
            @if !s.also.is_empty() {
                p.meta { "Also reported by: "
                    @for (i, r) in s.also.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/story/" (r.story) } title=(r.title) { (r.feed) }
                    }
                }
            }
            @if let Some(url) = &story.story.url { p.meta { a href=(url) rel="noopener noreferrer" { "Read at the source" } } }
        }
    }
}

/// What a path segment keeps as is: letters, digits and `-._~` (RFC 3986's unreserved).
const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A path segment with everything but unreserved characters percent-encoded.
pub(super) fn percent(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, UNRESERVED).to_string()
}
