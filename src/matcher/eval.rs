//! Evaluating compiled watches on one story's hits, and reporting what matched.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use super::compile::{Entity, Matcher, TermId};
use super::query::Field;
use super::{Document, scan};
use crate::text::{Folded, fold};

/// One occurrence of a term: a byte range of a field's folded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub field: Field,
    pub start: u32,
    pub end: u32,
    /// The term (query word, entity name or alias) that occurred.
    pub term: TermId,
}

#[derive(Debug, Clone)]
pub(super) enum Target {
    Term(TermId),
    Entity(u32),
}

/// A term of a query with the fields it searches.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    pub written: String,
    pub target: Target,
    pub fields: u8,
}

/// A compiled boolean tree; leaves index the watch's `leaves`.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Leaf(u32),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Near(u32, u32, u32),
}

impl Node {
    /// Whether the node can only be true when some term hit (so watches are only evaluated for
    /// stories in which one of their terms occurs).
    pub fn needs_hit(&self) -> bool {
        match self {
            Node::Leaf(_) | Node::Near(..) => true,
            Node::And(parts) => parts.iter().any(Node::needs_hit),
            Node::Or(parts) => parts.iter().all(Node::needs_hit),
            Node::Not(_) => false,
        }
    }
}

/// A query term that was satisfied, located in the text a reader sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedTerm {
    /// The term as written in the query.
    pub term: String,
    /// The text as it stands in the story.
    pub text: String,
    pub field: Field,
    /// Character offsets into the field's text.
    pub start: usize,
    pub end: usize,
}

/// One watch that matched a story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchMatch {
    pub watch: String,
    /// The watch's position among the compiled watches (the config's order).
    pub index: usize,
    pub matched: Vec<MatchedTerm>,
}

/// A story's fields, folded, with every term hit found in them.
pub(super) struct Scanned<'d> {
    doc: &'d Document,
    /// Each field folded, in `Field::ALL` order (which is the order of `Field`'s variants).
    folded: Vec<Folded>,
    /// Sorted by term, then field and position.
    hits: Vec<(TermId, Hit)>,
    /// Per field, the byte offsets of the spaces of its folded text, for
    /// word distances; computed when a NEAR first needs them.
    spaces: [OnceCell<Vec<u32>>; Field::ALL.len()],
    /// For each term, the set (bit mask) of fields it occurs in: a leaf's truth in O(1).
    term_fields: Vec<u8>,
}

impl Scanned<'_> {
    fn term_hits(&self, t: TermId) -> &[(TermId, Hit)] {
        let lo = self.hits.partition_point(|(x, _)| *x < t);
        let hi = self.hits.partition_point(|(x, _)| *x <= t);
        &self.hits[lo..hi]
    }

    fn leaf_hits(&self, m: &Matcher, leaf: &Leaf) -> Vec<Hit> {
        let mut out: Vec<Hit> = leaf_terms(&m.entities, leaf)
            .iter()
            .flat_map(|&t| self.term_hits(t).iter().map(|(_, h)| *h))
            .filter(|h| leaf.fields & h.field.mask() != 0)
            .collect();
        out.sort_by_key(|h| (h.field, h.start));
        out
    }

    /// Whether the leaf has any hit, without collecting them.
    fn leaf_any(&self, m: &Matcher, leaf: &Leaf) -> bool {
        leaf_terms(&m.entities, leaf).iter().any(|&t| self.term_fields[t as usize] & leaf.fields != 0)
    }

    fn word_index(&self, field: Field, at: u32) -> usize {
        let spaces = self.spaces[field as usize].get_or_init(|| {
            let text = self.folded(field).text.as_bytes();
            text.iter().enumerate().filter(|(_, b)| **b == b' ').map(|(i, _)| i as u32).collect()
        });
        spaces.partition_point(|&s| s < at)
    }

    fn folded(&self, field: Field) -> &Folded {
        &self.folded[field as usize]
    }
}

/// The terms a leaf stands for: its own, or every name and alias of its entity.
pub(super) fn leaf_terms<'a>(entities: &'a [Entity], leaf: &'a Leaf) -> &'a [TermId] {
    match &leaf.target {
        Target::Term(t) => std::slice::from_ref(t),
        Target::Entity(e) => &entities[*e as usize].terms,
    }
}

impl Matcher {
    /// Every watch that matches `doc`, in configuration order.
    pub fn match_document(&self, doc: &Document) -> Vec<WatchMatch> {
        let scanned = self.scan(doc);
        let mut candidates: Vec<u32> = self.always.clone();
        let mut last = None;
        for (t, _) in &scanned.hits {
            if last != Some(*t) {
                candidates.extend(&self.term_watches[*t as usize]);
                last = Some(*t);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter_map(|w| {
                let watch = &self.watches[w as usize];
                let ctx = Ctx { m: self, s: &scanned, leaves: &watch.leaves };
                ctx.eval(&watch.root).then(|| WatchMatch {
                    watch: watch.name.clone(),
                    index: w as usize,
                    matched: ctx.matched(&watch.root),
                })
            })
            .collect()
    }

    pub(super) fn scan<'d>(&self, doc: &'d Document) -> Scanned<'d> {
        let mut folded = Vec::with_capacity(Field::ALL.len());
        let mut hits = Vec::with_capacity(64);
        let mut padded = String::new();
        for field in Field::ALL {
            let source = doc.field(field);
            let f = fold(source);
            scan::scan(self, field, source, &f, &mut hits, &mut padded);
            folded.push(f);
        }
        hits.sort_unstable_by_key(|(t, h)| (*t, h.field, h.start, h.end));
        hits.dedup();
        let mut term_fields = vec![0u8; self.term_count()];
        for (t, h) in &hits {
            term_fields[*t as usize] |= h.field.mask();
        }
        Scanned { doc, folded, hits, spaces: Default::default(), term_fields }
    }
}

pub(super) struct Ctx<'a> {
    pub m: &'a Matcher,
    pub s: &'a Scanned<'a>,
    pub leaves: &'a [Leaf],
}

impl Ctx<'_> {
    pub fn eval(&self, node: &Node) -> bool {
        match node {
            Node::Leaf(l) => self.s.leaf_any(self.m, &self.leaves[*l as usize]),
            Node::And(parts) => parts.iter().all(|p| self.eval(p)),
            Node::Or(parts) => parts.iter().any(|p| self.eval(p)),
            Node::Not(inner) => !self.eval(inner),
            Node::Near(a, b, n) => self.near_any(*a, *b, *n),
        }
    }

    pub fn hits(&self, leaf: u32) -> Vec<Hit> {
        self.s.leaf_hits(self.m, &self.leaves[leaf as usize])
    }

    fn near_any(&self, a: u32, b: u32, n: u32) -> bool {
        let any = |l: u32| self.s.leaf_any(self.m, &self.leaves[l as usize]);
        any(a) && any(b) && !self.near_hits(a, b, n).is_empty()
    }

    /// Hits of `a` and `b` that lie within `n` words of each other in the same field.
    pub fn near_hits(&self, a: u32, b: u32, n: u32) -> Vec<(u32, Hit)> {
        let (ha, hb) = (self.hits(a), self.hits(b));
        let mut out = Vec::new();
        for x in &ha {
            for y in hb.iter().filter(|y| y.field == x.field) {
                if self.distance(x, y) <= n as usize {
                    out.push((a, *x));
                    out.push((b, *y));
                }
            }
        }
        out
    }

    /// Words from the end of the earlier hit to the start of the later one: 1 when adjacent.
    fn distance(&self, x: &Hit, y: &Hit) -> usize {
        let (first, second) = if x.start <= y.start { (x, y) } else { (y, x) };
        let end_word = self.s.word_index(first.field, first.end.saturating_sub(1));
        let start_word = self.s.word_index(second.field, second.start);
        start_word.saturating_sub(end_word)
    }

    /// The hits of the positive terms that made `node` true.
    fn matched(&self, node: &Node) -> Vec<MatchedTerm> {
        let mut found: Vec<(u32, Hit)> = Vec::new();
        self.collect(node, &mut found);
        found.sort_by_key(|(l, h)| (h.field, h.start, *l));
        found.dedup();
        found.into_iter().map(|(l, h)| self.describe(l, h)).collect()
    }

    fn collect(&self, node: &Node, out: &mut Vec<(u32, Hit)>) {
        match node {
            Node::Leaf(l) => out.extend(self.hits(*l).into_iter().map(|h| (*l, h))),
            Node::And(parts) | Node::Or(parts) => {
                for p in parts.iter().filter(|p| self.eval(p)) {
                    self.collect(p, out);
                }
            }
            Node::Not(_) => {}
            Node::Near(a, b, n) => out.extend(self.near_hits(*a, *b, *n)),
        }
    }

    pub fn describe(&self, leaf: u32, h: Hit) -> MatchedTerm {
        let source = self.s.doc.field(h.field);
        let range = self.s.folded(h.field).source_range(source, h.start as usize, h.end as usize);
        let start = source[..range.start].chars().count();
        let text = source[range].to_string();
        let end = start + text.chars().count();
        MatchedTerm { term: self.leaves[leaf as usize].written.clone(), text, field: h.field, start, end }
    }
}
