//! "Try a query": runs a query, or a configured watch as edited in the form, over the stored
//! stories (the backtest) and shows what would have fired. Nothing is saved.

use axum::extract::{Query, State};
use axum::response::Html;
use maud::html;
use serde::Deserialize;

use super::layout::{frame, highlighted, marked, when};
use super::{PageError, Site, duration_param};
use crate::backtest::{self, BacktestError};
use crate::matcher::Field;
use crate::store::unix_now;

/// Hits listed; the summary counts them all.
const SHOWN: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Form {
    /// A configured watch, whose query fills the form.
    watch: Option<String>,
    query: Option<String>,
    since: Option<String>,
}

pub(super) async fn page(State(site): State<Site>, Query(form): Query<Form>) -> Result<Html<String>, PageError> {
    let window = duration_param(form.since.as_deref(), "since", "30d")?;
    let watch = form.watch.clone().filter(|w| !w.is_empty());
    let configured = watch.as_deref().and_then(|w| site.config.watches.iter().find(|c| c.name == w));
    let query = form.query.clone().filter(|q| !q.trim().is_empty()).or_else(|| configured.map(|w| w.query.clone()));
    let form_markup = html! {
        form method="get" action="/try" {
            label { "Query" textarea name="query" rows="3" placeholder="\"North Korea\" AND missile*" { (query.as_deref().unwrap_or("")) } }
            div.filters {
                label { "Start from watch" select name="watch" {
                    option value="" { "none" }
                    @for w in &site.config.watches { option value=(w.name) selected[watch.as_deref() == Some(w.name.as_str())] { (w.name) } }
                } }
                label { "Over the last" input name="since" size="6" value=(form.since.as_deref().unwrap_or("30d")); }
                button type="submit" { "Run" }
            }
        }
    };
    let Some(query) = query else {
        return Ok(Html(frame("Try a query", html! { h1 { "Try a query" } (form_markup) }).into_string()));
    };
    let results = site
        .read(move |site, store| {
            let matcher = match backtest::matcher(&site.config, watch.as_deref(), Some(&query)) {
                Ok(m) => m,
                Err(BacktestError::Query(e)) => return Ok(html! { pre.error { (e.to_string()) } }),
                Err(e) => return Err(PageError::BadRequest(e.to_string())),
            };
            let started = std::time::Instant::now();
            let outcome = backtest::run(&site.config, store, &matcher, window, unix_now())?;
            let took = started.elapsed();
            Ok(html! {
                p { strong { (outcome.summary()) } }
                p.meta { "Evaluated " (outcome.evaluated) " stored stories in " (took.as_millis()) " ms." }
                @if let Some(note) = outcome.retention_note(site.config.storage.retain) { p.meta { (note) } }
                @for h in outcome.hits.iter().rev().take(SHOWN) {
                    article.alert {
                        h2 { a href={ "/story/" (h.story) } { (highlighted(&h.alert.title, Field::Title, &h.alert.matched)) } }
                        p.meta { (h.alert.feed) " · first seen " (when(h.first_seen)) }
                        @if !h.alert.snippet.is_empty() { p { (marked(&h.alert.snippet_runs())) } }
                        p.why { "Matched: " (h.alert.why()) }
                    }
                }
                @if outcome.hits.len() > SHOWN { p.meta { "Showing the newest " (SHOWN) "." } }
            })
        })
        .await?;
    Ok(Html(frame("Try a query", html! { h1 { "Try a query" } (form_markup) (results) }).into_string()))
}
