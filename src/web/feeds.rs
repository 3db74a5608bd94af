//! The feeds page: the `wirewatch feeds` table (state, failures, interval, stories, last success,
//! next poll, last error) with each feed's outbox counts, and the outbox rows waiting or dead.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Html;
use maud::html;

use super::layout::{frame, when};
use super::{PageError, Site};
use crate::commands::feeds::statuses;
use crate::store::OutboxState;

/// Outbox rows listed below the table.
const OUTBOX_ROWS: usize = 50;

pub(super) async fn page(State(site): State<Site>) -> Result<Html<String>, PageError> {
    let markup = site
        .read(|site, store| {
            let feeds = statuses(&site.config, store).map_err(|e| PageError::Internal(e.to_string()))?;
            let mut outbox: HashMap<Option<i64>, Vec<(String, i64)>> = HashMap::new();
            for (feed, state, n) in store.outbox_by_feed()? {
                outbox.entry(feed).or_default().push((state, n));
            }
            let counts = |id: Option<i64>| {
                outbox.get(&id).map_or("-".to_string(), |v| {
                    v.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
                })
            };
            let waiting = store.outbox_list(&[OutboxState::Queued, OutboxState::Dead], OUTBOX_ROWS)?;
            Ok(html! {
                h1 { "Feeds" }
                div.scroll { table {
                    tr { th { "state" } th { "name" } th { "failures" } th { "interval" } th { "stories" } th { "new/day" }
                         th { "last success" } th { "next poll" } th { "outbox" } }
                    @for f in &feeds {
                        @let id = f.id;
                        tr {
                            td class=(if f.state == "ok" { "ok" } else if f.state == "new" { "" } else { "fail" }) { (f.state) }
                            td {
                                @match id { Some(id) => a href={ "/?feed=" (id) } { (f.name) }, None => (f.name) }
                                br; span.meta { (f.url) }
                                @if let Some(to) = &f.moved_to { br; span.meta { "moved permanently to " (to) } }
                                @if let (Some(e), Some(at), true) = (&f.last_error, &f.last_error_at, f.state != "ok") {
                                    br; span.error { "last error at " (at) ": " (e) }
                                }
                            }
                            td { (f.consecutive_failures) }
                            td { (f.interval_secs.map_or("-".into(), |s| humantime::format_duration(std::time::Duration::from_secs(s as u64)).to_string())) }
                            td { (f.stories) } td { (f.new_per_day) }
                            td { (f.last_success.as_deref().unwrap_or("-")) } td { (f.next_poll.as_deref().unwrap_or("-")) }
                            td { (id.map_or("-".to_string(), |id| counts(Some(id)))) }
                        }
                    }
                } }
                p.meta { "Feed health alerts in the outbox: " (counts(None)) }
                h2 { "Outbox: waiting and dead" }
                @if waiting.is_empty() { p { "Nothing is waiting; nothing is dead." } }
                @else { div.scroll { table {
                    tr { th { "id" } th { "state" } th { "attempts" } th { "notifier" } th { "watch" } th { "title" } th { "next attempt" } th { "last error" } }
                    @for o in &waiting {
                        tr { td { (o.id) } td { (o.state) } td { (o.attempts) } td { (o.notifier) } td { (o.watch) } td { (o.title) }
                             td { (when(o.next_attempt)) } td { (o.last_error.as_deref().unwrap_or("")) } }
                    }
                } } }
            })
        })
        .await?;
    Ok(Html(frame("Feeds", markup).into_string()))
}
