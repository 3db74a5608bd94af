//! A story's page: its text with every watch's hits marked, where each watch's terms hit, the
//! other reports of its clusters, and the `--explain` tree of every configured watch.

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};

use super::alerts::percent;
use super::layout::{frame, highlighted, when};
use super::{PageError, Site};
use crate::backtest::FeedNames;
use crate::matcher::{ExplainNode, Field, MatchedTerm};
use crate::store::StoryRow;

pub(super) async fn page(State(site): State<Site>, Path(id): Path<String>) -> Result<Html<String>, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound(format!("no story {id:?}: story ids are numbers")))?;
    let (title, markup) = site
        .read(move |site, store| {
            let stored = store.stored_story(id)?.ok_or_else(|| PageError::NotFound(format!("no story {id}")))?;
            let matches = store.story_matches(id)?;
            let cluster = stored.cluster.unwrap_or(stored.id);
            let mut reports = Vec::new();
            for (watch, _) in &matches {
                reports.push((watch.clone(), store.reports(cluster, watch, id)?));
            }
            let (name, tags) = FeedNames::new(&site.config).of(&stored);
            let doc = stored.document(&name, tags);
            let explained = site.config.matcher.explain(&doc);
            let all: Vec<MatchedTerm> = matches.iter().flat_map(|(_, m)| m.iter().cloned()).collect();
            let markup = html! {
                h1 { (highlighted(&stored.story.title, Field::Title, &all)) }
                (facts(&stored, &name))
                @for (label, field, text) in texts(&stored) {
                    section.card { h2 { (label) } p.body { (highlighted(text, field, &all)) } }
                }
                h2 { "Where each watch's terms hit" }
                @if matches.is_empty() { p { "No watch matched this story when it was stored." } }
                @for (watch, terms) in &matches {
                    section.card {
                        h3 { a href={ "/watch/" (percent(watch)) } { (watch) } }
                        div.scroll { table {
                            tr { th { "term" } th { "text" } th { "field" } th { "characters" } }
                            @for t in terms { tr { td { (t.term) } td { mark { (t.text) } } td { (t.field.name()) } td { (t.start) "–" (t.end) } } }
                        } }
                        @if let Some((_, others)) = reports.iter().find(|(w, r)| w == watch && !r.is_empty()) {
                            p.meta { "Also reported by: "
                                @for (i, r) in others.iter().enumerate() { @if i > 0 { ", " } a href={ "/story/" (r.story) } { (r.feed) } }
                            }
                        }
                    }
                }
                h2 { "How each watch evaluates it now" }
                @for e in &explained {
                    section.card.tree {
                        h3 { (e.watch) ": " @if e.matched { span.ok { "matches" } } @else { span.fail { "no match" } } }
                        ul { (node(&e.tree)) }
                    }
                }
            };
            Ok((stored.story.title.clone(), markup))
        })
        .await?;
    Ok(Html(frame(&title, markup).into_string()))
}

fn facts(stored: &StoryRow, feed: &str) -> Markup {
    let s = &stored.story;
    html! {
        p.meta {
            (feed) " · published " (s.published.map_or("undated".into(), |p| when(p.timestamp())))
            " · first seen " (when(stored.first_seen))
            @if let Some(lang) = s.lang() { " · language " span.tag { (lang) } }
            @if !s.author.is_empty() { " · by " (s.author) }
        }
        @if !s.categories.is_empty() { p.meta { "Categories: " (s.categories.join(", ")) } }
        @if let Some(url) = &s.url { p { a href=(url) rel="noopener noreferrer" { (url) } } }
        @if stored.pruned { p.meta { "Retention removed this story's text; its keys are kept so it never alerts again." } }
    }
}

/// The texts of a story a reader can see, each with the field its offsets count in: the
/// feed's text, and the article's where it was fetched.
fn texts(stored: &StoryRow) -> Vec<(&'static str, Field, &str)> {
    let mut out = Vec::new();
    if !stored.story.body.is_empty() {
        out.push(("Feed text", Field::Body, stored.story.body.as_str()));
    }
    if let Some(article) = stored.article.as_deref().filter(|a| !a.is_empty()) {
        out.push(("Article text", Field::Article, article));
    }
    out
}

/// One node of an explain tree and its children.
fn node(n: &ExplainNode) -> Markup {
    html! {
        li {
            @if n.ok { span.ok { "✓ " } } @else { span.fail { "✗ " } }
            strong { (n.label) }
            @for d in &n.detail { br; span.meta { (d) } }
            @if !n.children.is_empty() { ul { @for c in &n.children { (node(c)) } } }
        }
    }
}
