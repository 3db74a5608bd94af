//! The matcher: compiles every watch's query, the user's entities and the built-in gazetteer
//! once, then evaluates a story against all watches in one pass per field.
//!
//! Pure: no IO, no clock, no randomness. `compile` turns query text into [`query::Ast`]s and
//! then into [`compile::Matcher`]; `find` and `scan` find every term occurrence in a story's
//! folded text, mostly by looking up its words; `eval` walks each candidate watch's boolean
//! tree on those hits.

mod chars;
mod compile;
mod eval;
mod explain;
mod find;
pub mod gazetteer;
mod inflect;
pub mod query;
mod scan;
mod tally;

pub use compile::{EntityDef, Matcher, QueryError, WatchDef};
pub use eval::{MatchedTerm, WatchMatch};
pub use explain::{ExplainNode, Explanation, render as render_explanation};
pub use query::Field;

/// The text of a story, one plain-text string per field (HTML already removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    /// Summary and content.
    pub body: String,
    pub author: String,
    pub category: String,
    /// The feed's name and tags.
    pub feed: String,
    /// The story's language (ISO 639-1), when known: watches limited to languages skip a
    /// story in another one.
    pub lang: Option<String>,
    /// The text extracted from the story's article page (empty when none was fetched).
    pub article: String,
}

impl Document {
    pub fn field(&self, f: Field) -> &str {
        match f {
            Field::Title => &self.title,
            Field::Body => &self.body,
            Field::Author => &self.author,
            Field::Category => &self.category,
            Field::Feed => &self.feed,
            Field::Article => &self.article,
        }
    }
}
