//! Evaluating compiled watches on one story's hits, and reporting what matched.

use std::cell::OnceCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::chars::CharMarks;
use super::compile::{Entity, Matcher, TermId};
use super::query::Field;
use super::tally::{Grouped, Tally};
use super::{Document, scan};
use crate::text::{Folded, fold};

/// Most matched terms reported per story and watch: enough to explain any match, and a story
/// repeating a term a million times does not make a million-entry alert.
pub const MAX_MATCHED: usize = 32;

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
    /// A gazetteer name with its inflected forms.
    Terms(Vec<TermId>),
    Entity(u32),
}

/// A term of a query with the fields it searches.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    /// Shared with every report of it.
    pub written: Arc<str>,
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
    /// Leaves of which at least one hits whenever the node is true, or `None` when the node can
    /// be true with no hit at all (`NOT x`). Of an AND's parts, the one whose leaves cost least
    /// by `cost` (fewer and longer terms, so likely rarer) stands for the whole AND, so a watch
    /// like `sanctions AND (Russia OR Iran)` is only evaluated on stories that mention sanctions.
    pub fn triggers(&self, cost: &dyn Fn(u32) -> f64) -> Option<Vec<u32>> {
        let total = |leaves: &Vec<u32>| leaves.iter().map(|&l| cost(l)).sum::<f64>();
        match self {
            Node::Leaf(l) => Some(vec![*l]),
            Node::Near(a, b, _) => Some(vec![if cost(*a) <= cost(*b) { *a } else { *b }]),
            Node::Not(_) => None,
            Node::Or(parts) => parts.iter().map(|p| p.triggers(cost)).collect::<Option<Vec<_>>>().map(|v| v.concat()),
            Node::And(parts) => {
                parts.iter().filter_map(|p| p.triggers(cost)).min_by(|a, b| total(a).total_cmp(&total(b)))
            }
        }
    }
}

/// A query term that was satisfied, located in the text a reader sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedTerm {
    /// The term as written in the query (shared by every report of the term).
    pub term: Arc<str>,
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
    /// The watch's name (shared with the compiled watch).
    pub watch: Arc<str>,
    /// The watch's position among the compiled watches (the config's order).
    pub index: usize,
    pub matched: Vec<MatchedTerm>,
}

/// A story's fields, folded, with every term hit found in them.
pub(super) struct Scanned<'d> {
    doc: &'d Document,
    /// Each field folded, in `Field::ALL` order (which is the order of `Field`'s variants).
    folded: Vec<Folded>,
    /// In scanning order (by field, then roughly by position).
    hits: Vec<Hit>,
    /// Per field, the byte offsets of the spaces of its folded text, for
    /// word distances; computed when a NEAR first needs them.
    spaces: [OnceCell<Vec<u32>>; Field::ALL.len()],
    /// The hits again, grouped by term; grouped when a leaf's hits are first wanted.
    by_term: OnceCell<Grouped<Hit>>,
    /// The hits again, with each entity they name, grouped by entity; grouped when an
    /// entity's hits are first wanted.
    by_entity: OnceCell<Grouped<(u32, Hit)>>,
    /// For each term that occurs, the set (bit mask) of fields it occurs in: a leaf's truth.
    terms: Tally,
    /// The same for each entity, over all its names and aliases.
    entities: Tally,
    /// Each hit with each entity it names.
    named: Vec<(u32, Hit)>,
    /// Per field not all in ASCII, its characters counted, made when a report first needs a
    /// character offset in it.
    chars: [OnceCell<CharMarks<'d>>; Field::ALL.len()],
}

impl Scanned<'_> {
    fn leaf_hits(&self, leaf: &Leaf) -> Vec<Hit> {
        if !self.leaf_any(leaf) {
            return Vec::new();
        }
        let in_fields = |h: &Hit| leaf.fields & h.field.mask() != 0;
        let mut out: Vec<Hit> = match &leaf.target {
            Target::Term(t) => self.term_hits(*t).iter().copied().filter(in_fields).collect(),
            Target::Terms(forms) => forms.iter().flat_map(|&t| self.term_hits(t)).copied().filter(in_fields).collect(),
            Target::Entity(e) => self.entity_hits(*e).iter().map(|(_, h)| *h).filter(in_fields).collect(),
        };
        // One mention found under several names of the entity ("UN Security Council" and
        // "Security Council") is reported once, as its longest name.
        out.sort_by_key(|h| (h.field, h.start, std::cmp::Reverse(h.end), h.term));
        out.dedup_by(|h, kept| kept.field == h.field && h.start >= kept.start && h.end <= kept.end);
        out
    }

    /// Whether the leaf has any hit, without collecting them.
    fn leaf_any(&self, leaf: &Leaf) -> bool {
        let fields = match leaf.target {
            Target::Term(t) => self.terms.fields(t),
            Target::Terms(ref ts) => ts.iter().fold(0, |acc, &t| acc | self.terms.fields(t)),
            Target::Entity(e) => self.entities.fields(e),
        };
        fields & leaf.fields != 0
    }

    fn word_index(&self, field: Field, at: u32) -> usize {
        let spaces = self.spaces[field as usize].get_or_init(|| {
            let text = self.folded(field).text.as_bytes();
            text.iter().enumerate().filter(|(_, b)| **b == b' ').map(|(i, _)| i as u32).collect()
        });
        spaces.partition_point(|&s| s < at)
    }

    /// The hits of term `t`.
    fn term_hits(&self, t: TermId) -> &[Hit] {
        let by_term = self.by_term.get_or_init(|| self.terms.group(&self.hits, |h| h.term));
        self.terms.items(by_term, t)
    }

    /// The hits of entity `e`'s names, each with `e`. (An entity's names run to hundreds with
    /// inflections and parts, while a term names one or two entities: the hits are grouped.)
    fn entity_hits(&self, e: u32) -> &[(u32, Hit)] {
        let by_entity = self.by_entity.get_or_init(|| self.entities.group(&self.named, |(e, _)| *e));
        self.entities.items(by_entity, e)
    }

    /// The characters of `field`'s source text before byte `at` (a character boundary).
    fn char_offset(&self, field: Field, at: usize) -> usize {
        if self.folded(field).ascii {
            return at;
        }
        self.chars[field as usize].get_or_init(|| CharMarks::new(self.doc.field(field))).chars_before(at)
    }

    fn folded(&self, field: Field) -> &Folded {
        &self.folded[field as usize]
    }
}

/// The terms a leaf stands for: its own, or every name and alias of its entity.
pub(super) fn leaf_terms<'a>(entities: &'a [Entity], leaf: &'a Leaf) -> &'a [TermId] {
    match &leaf.target {
        Target::Term(t) => std::slice::from_ref(t),
        Target::Terms(ts) => ts,
        Target::Entity(e) => &entities[*e as usize].terms,
    }
}

impl Matcher {
    /// Every watch that matches `doc`, in configuration order.
    pub fn match_document(&self, doc: &Document) -> Vec<WatchMatch> {
        let scanned = self.scan(doc);
        // The watches to evaluate, as a bit set so that they come out in configuration order.
        let mut candidates = vec![0u64; self.watches.len().div_ceil(64)];
        for w in self.always.iter().chain(scanned.terms.keys().flat_map(|t| self.term_watches.get(t as usize))) {
            candidates[*w as usize / 64] |= 1 << (w % 64);
        }
        let set = |(i, mut bits): (usize, u64)| {
            std::iter::from_fn(move || {
                let b = (bits != 0).then(|| bits.trailing_zeros())?;
                bits &= bits - 1;
                Some((i * 64) as u32 + b)
            })
        };
        candidates
            .into_iter()
            .enumerate()
            .flat_map(set)
            .filter_map(|w| {
                let watch = &self.watches[w as usize];
                if watch.excludes(doc.lang.as_deref()) {
                    return None;
                }
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
        for field in Field::ALL {
            let source = doc.field(field);
            let f = fold(source);
            scan::scan(self, field, source, &f, &mut hits);
            folded.push(f);
        }
        let terms = Tally::new(hits.iter().map(|h| (h.term, h.field.mask())));
        let named: Vec<(u32, Hit)> =
            hits.iter().flat_map(|h| self.term_entities(h.term).iter().map(|&e| (e, *h))).collect();
        let entities = Tally::new(named.iter().map(|(e, h)| (*e, h.field.mask())));
        Scanned {
            doc,
            folded,
            hits,
            spaces: Default::default(),
            by_term: OnceCell::new(),
            by_entity: OnceCell::new(),
            terms,
            entities,
            named,
            chars: Default::default(),
        }
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
            Node::Leaf(l) => self.s.leaf_any(&self.leaves[*l as usize]),
            Node::And(parts) => parts.iter().all(|p| self.eval(p)),
            Node::Or(parts) => parts.iter().any(|p| self.eval(p)),
            Node::Not(inner) => !self.eval(inner),
            Node::Near(a, b, n) => self.near_any(*a, *b, *n),
        }
    }

    pub fn hits(&self, leaf: u32) -> Vec<Hit> {
        self.s.leaf_hits(&self.leaves[leaf as usize])
    }

    fn near_any(&self, a: u32, b: u32, n: u32) -> bool {
        let any = |l: u32| self.s.leaf_any(&self.leaves[l as usize]);
        any(a) && any(b) && self.near_pairs(a, b, n, |_, _| true)
    }

    /// Hits of `a` and `b` that lie within `n` words of each other in the same field.
    pub fn near_hits(&self, a: u32, b: u32, n: u32) -> Vec<(u32, Hit)> {
        let mut out = Vec::new();
        self.near_pairs(a, b, n, |x, y| {
            out.extend([(a, x), (b, y)]);
            false
        });
        out
    }

    /// Calls `pair` on each hit of `a` with each hit of `b` within `n` words of it in the
    /// same field, until it returns true; returns whether it did.
    fn near_pairs(&self, a: u32, b: u32, n: u32, mut pair: impl FnMut(Hit, Hit) -> bool) -> bool {
        let (ha, hb) = (self.hits(a), self.hits(b));
        ha.iter().any(|x| hb.iter().any(|y| x.field == y.field && self.distance(x, y) <= n as usize && pair(*x, *y)))
    }

    /// Words from the end of the earlier hit to the start of the later one: 1 when adjacent.
    fn distance(&self, x: &Hit, y: &Hit) -> usize {
        let (first, second) = if x.start <= y.start { (x, y) } else { (y, x) };
        let end_word = self.s.word_index(first.field, first.end.saturating_sub(1));
        let start_word = self.s.word_index(second.field, second.start);
        start_word.saturating_sub(end_word)
    }

    /// The hits of the positive terms that made `node` true, in reading order, at most
    /// [`MAX_MATCHED`] of them.
    fn matched(&self, node: &Node) -> Vec<MatchedTerm> {
        let mut found: Vec<(u32, Hit)> = Vec::new();
        self.collect(node, &mut found);
        found.sort_by_key(|(l, h)| (h.field, h.start, *l));
        found.dedup();
        found.truncate(MAX_MATCHED);
        found.into_iter().map(|(l, h)| self.describe(l, h)).collect()
    }

    fn collect(&self, node: &Node, out: &mut Vec<(u32, Hit)>) {
        match node {
            Node::Leaf(l) => out.extend(self.hits(*l).into_iter().map(|h| (*l, h))),
            // `node` is true, so every part of an AND is.
            Node::And(parts) => {
                for p in parts {
                    self.collect(p, out);
                }
            }
            Node::Or(parts) => {
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
        let (start, end) = (self.s.char_offset(h.field, range.start), self.s.char_offset(h.field, range.end));
        let text = source[range].to_string();
        MatchedTerm { term: self.leaves[leaf as usize].written.clone(), text, field: h.field, start, end }
    }
}
