//! A watch's page: its query, alerts per day over the last 30 days (SVG), the entities most
//! often named in its stories besides its own terms, and its latest alerts. `NAME.atom` on
//! the same path is its Atom feed.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::alerts::{item, percent, shown};
use super::layout::frame;
use super::{PageError, Site, atom, chart};
use crate::backtest::FeedNames;
use crate::matcher::{Matcher, WatchDef, gazetteer, query};
use crate::store::{AlertFilter, Store, unix_now};

/// Days the chart covers.
const CHART_DAYS: i64 = 30;
/// Matched stories read for the entity counts: the newest, enough for a month of a busy watch.
const ENTITY_STORIES: usize = 2_000;
/// Entities listed.
const TOP_ENTITIES: usize = 10;
/// Alerts listed under the chart.
const LATEST: usize = 20;

pub(super) async fn page_or_feed(State(site): State<Site>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    match name.strip_suffix(".atom") {
        Some(watch) if !site.config.watches.iter().any(|w| w.name == name) => {
            atom::watch(site, watch.to_string(), headers).await.into_response()
        }
        _ => show(site, name).await.into_response(),
    }
}

async fn show(site: Site, name: String) -> Result<Html<String>, PageError> {
    let Some(watch) = site.config.watches.iter().find(|w| w.name == name).cloned() else {
        return Err(PageError::NotFound(format!("no watch named {name:?} in the config")));
    };
    let now = unix_now();
    let today = now.div_euclid(86_400);
    let first = today - CHART_DAYS + 1;
    let markup = site
        .read(move |site, store| {
            let days = store.alerts_per_day(&watch.name, first * 86_400)?;
            let total: i64 = days.iter().map(|(_, n)| n).sum();
            let top = co_occurring(site, store, &watch.name, first * 86_400)?;
            let filter = AlertFilter { watch: Some(watch.name.clone()), since: 0, limit: LATEST, ..Default::default() };
            let mut names = FeedNames::new(&site.config);
            let latest = shown(store, &mut names, store.alerts(&filter)?)?;
            let path = percent(&watch.name);
            Ok(html! {
                h1 { "Watch " (watch.name) }
                p { code { (watch.query) } }
                p.meta {
                    a href={ "/watch/" (path) ".atom" } { "Atom feed" } " · "
                    a href={ "/try?watch=" (path) } { "Try an edited version" } " · "
                    a href={ "/?watch=" (path) } { "All its alerts" }
                }
                h2 { "Alerts per day, last " (CHART_DAYS) " days (" (total) ")" }
                (chart::per_day(&days, first, CHART_DAYS))
                h2 { "Named most often in its stories" }
                @if top.is_empty() { p { "No known entity besides the watch's own terms." } }
                ol { @for (entity, n) in &top { li { (entity) " " span.meta { "(" (n) " stories)" } } } }
                h2 { "Latest alerts" }
                @for s in &latest { (item(s)) }
            })
        })
        .await?;
    Ok(Html(page_frame(&name, markup)))
}

fn page_frame(name: &str, markup: maud::Markup) -> String {
    frame(&format!("Watch {name}"), markup).into_string()
}

/// The entities (configured and built in) named in the most stories `watch` matched since
/// `since`, leaving out the ones its own terms name.
fn co_occurring(site: &Site, store: &Store, watch: &str, since: i64) -> Result<Vec<(String, usize)>, PageError> {
    let Some(entities) = site.entities.get_or_init(|| entity_matcher(site)) else { return Ok(Vec::new()) };
    let mut names = FeedNames::new(&site.config);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let stories = store.watch_stories(watch, since, ENTITY_STORIES)?;
    let terms = store.terms_matched(&stories.iter().map(|s| s.id).collect::<Vec<_>>())?;
    for stored in &stories {
        let own: Vec<String> = terms.get(&stored.id).into_iter().flatten().map(|t| t.term.to_lowercase()).collect();
        let (name, tags) = names.of(stored);
        for m in entities.match_document(&stored.document(&name, tags)) {
            if !own.contains(&m.watch.to_lowercase()) {
                *counts.entry(m.watch.to_string()).or_default() += 1;
            }
        }
    }
    let mut top: Vec<(String, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(TOP_ENTITIES);
    Ok(top)
}

/// One watch per entity, named after it and matching any of its names.
fn entity_matcher(site: &Site) -> Option<Matcher> {
    let config = &site.config;
    let builtin: &[gazetteer::Entry] = if config.builtin_entities { &gazetteer::get().entries } else { &[] };
    let mut seen = std::collections::HashSet::new();
    let defs: Vec<WatchDef> = builtin
        .iter()
        .map(|e| &e.name)
        .chain(config.entities.iter().map(|e| &e.name))
        .filter(|name| seen.insert(name.to_string()))
        .map(|name| WatchDef { name: name.clone(), query: format!("\"{name}\""), ..Default::default() })
        .filter(|d| query::parse(&d.query).is_ok())
        .collect();
    Matcher::compile(&config.entities, &defs, config.builtin_entities).ok()
}
