//! `wirewatch match --explain`: each watch's evaluation tree on one story, saying which terms
//! hit where (and through which alias), which failed, and which NOT excluded the story.

use std::fmt::Write;

use super::Document;
use super::compile::Matcher;
use super::eval::{Ctx, Hit, Node};
use crate::text::fold;

/// One watch's verdict on a story, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub watch: String,
    pub matched: bool,
    /// Why the story was left out before its terms were looked at (its language).
    pub excluded: Option<String>,
    pub tree: ExplainNode,
}

/// One node of an evaluation tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainNode {
    /// The operator or the term as written.
    pub label: String,
    /// Whether this node was true for the story.
    pub ok: bool,
    /// Where a term hit, or why it did not.
    pub detail: Vec<String>,
    pub children: Vec<ExplainNode>,
}

impl Matcher {
    /// Every watch's evaluation tree on `doc`, in configuration order.
    pub fn explain(&self, doc: &Document) -> Vec<Explanation> {
        let scanned = self.scan(doc);
        self.watches
            .iter()
            .map(|w| {
                let ctx = Ctx { m: self, s: &scanned, leaves: &w.leaves };
                let tree = explain_node(&ctx, &w.root);
                let lang = doc.lang.as_deref().unwrap_or_default();
                let excluded = w
                    .excludes(doc.lang.as_deref())
                    .then(|| format!("the story is in {lang}; the watch is limited to {}", w.languages.join(", ")));
                Explanation { watch: w.name.to_string(), matched: tree.ok && excluded.is_none(), excluded, tree }
            })
            .collect()
    }
}

fn explain_node(ctx: &Ctx, node: &Node) -> ExplainNode {
    let ok = ctx.eval(node);
    let (label, detail, children) = match node {
        Node::Leaf(l) => (leaf_label(ctx, *l), hit_lines(ctx, *l, &ctx.hits(*l)), Vec::new()),
        Node::And(parts) => ("AND".into(), Vec::new(), parts.iter().map(|p| explain_node(ctx, p)).collect()),
        Node::Or(parts) => ("OR".into(), Vec::new(), parts.iter().map(|p| explain_node(ctx, p)).collect()),
        Node::Not(inner) => {
            let child = explain_node(ctx, inner);
            let detail = if ok { Vec::new() } else { vec!["excluded the story: the negated part matched".into()] };
            ("NOT".into(), detail, vec![child])
        }
        Node::Near(a, b, n) => {
            let pairs = ctx.near_hits(*a, *b, *n);
            let mut detail = Vec::new();
            for pair in pairs.chunks(2) {
                let describe = |(l, h): &(u32, Hit)| ctx.describe(*l, *h).text;
                detail.push(format!("{} … {} in {}", describe(&pair[0]), describe(&pair[1]), pair[0].1.field.name()));
            }
            if detail.is_empty() {
                detail.push(format!("no two occurrences within {n} words in the same field"));
            }
            let label = format!("{} NEAR/{n} {}", leaf_label(ctx, *a), leaf_label(ctx, *b));
            (label, detail, Vec::new())
        }
    };
    ExplainNode { label, ok, detail, children }
}

fn leaf_label(ctx: &Ctx, leaf: u32) -> String {
    let written = &ctx.leaves[leaf as usize].written;
    if written.contains(' ') { format!("\"{written}\"") } else { written.to_string() }
}

fn hit_lines(ctx: &Ctx, leaf: u32, hits: &[Hit]) -> Vec<String> {
    if hits.is_empty() {
        let fields: Vec<&str> = super::Field::ALL
            .into_iter()
            .filter(|f| ctx.leaves[leaf as usize].fields & f.mask() != 0)
            .map(|f| f.name())
            .collect();
        return vec![format!("not found in {}", fields.join(", "))];
    }
    let written = fold(&ctx.leaves[leaf as usize].written).text;
    hits.iter()
        .map(|h| {
            let m = ctx.describe(leaf, *h);
            let term = ctx.m.term(h.term);
            let alias = &term.text;
            let lang = term.lang.as_deref().filter(|l| *l != "en").map(|l| format!(", {l}")).unwrap_or_default();
            if fold(alias).text == written {
                format!("{} \"{}\" at {}..{}", m.field.name(), m.text, m.start, m.end)
            } else {
                format!("{} \"{}\" at {}..{} (via {alias:?}{lang})", m.field.name(), m.text, m.start, m.end)
            }
        })
        .collect()
}

/// Renders an explanation as an indented tree, `✓` for true nodes and `✗` for false ones.
pub fn render(e: &Explanation) -> String {
    let mut out = format!("  watch {}: {}\n", e.watch, if e.matched { "MATCH" } else { "no match" });
    if let Some(why) = &e.excluded {
        let _ = writeln!(out, "    {why}");
    }
    render_node(&e.tree, 2, &mut out);
    out
}

fn render_node(n: &ExplainNode, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(out, "{pad}{} {}", if n.ok { "✓" } else { "✗" }, n.label);
    for d in &n.detail {
        let _ = writeln!(out, "{pad}    {d}");
    }
    for c in &n.children {
        render_node(c, depth + 1, out);
    }
}
