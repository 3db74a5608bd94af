//! Compiling watches, entities and the gazetteer into one [`Matcher`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;

use super::eval::{Leaf, Node, Target, leaf_terms};
use super::find::Finder;
use super::query::{self, Ast, Field, SyntaxError, TermKind};
use crate::text::{fold, is_hangul_syllable, is_unspaced};

pub(super) type TermId = u32;

/// An entity as configured: a name and the other names it goes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityDef {
    pub name: String,
    pub aliases: Vec<String>,
}

/// A watch as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchDef {
    pub name: String,
    pub query: String,
    /// ISO 639-1 codes the watch is limited to (as validated); empty for every language.
    pub languages: Vec<String>,
}

/// A query that does not parse, with the watch it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub watch_index: usize,
    pub watch: String,
    pub query: String,
    pub error: SyntaxError,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "watch {:?}: {}", self.watch, self.error)?;
        writeln!(f, "    {}", self.query)?;
        write!(f, "    {}^", " ".repeat(self.error.column.saturating_sub(1)))
    }
}

impl std::error::Error for QueryError {}

/// How one term is matched: the pattern it rides on and the checks on each occurrence.
///
/// Word boundaries are part of the pattern: a term that starts with a letter of a spaced script
/// is the pattern `" word"`, and an exact term that ends with one also gets a trailing space.
/// Occurrences are found as if the folded text had a space on each side, so the raw occurrences
/// are already whole words and no occurrence inside a longer word is ever reported.
#[derive(Debug, Clone)]
pub(super) struct TermSpec {
    /// The text as first written (a query term, an entity name or an alias).
    pub text: String,
    pub kind: TermKind,
    /// For an all-caps term of 2 to 5 letters: the letters that must appear exactly so.
    pub acronym: Option<String>,
    /// Whether this is an entity name or alias, resolved leftmost-longest against the others.
    pub entity: bool,
    /// The language of the gazetteer name this term was first made for (`None` for query
    /// words and user aliases).
    pub lang: Option<String>,
    /// A bare organ name, not a mention where a state qualifies it (see `scan`).
    pub bare: bool,
}

/// What scanning needs to know of a term at each occurrence, in three bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScanSpec {
    pub prefix: bool,
    pub entity: bool,
    pub acronym: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Entity {
    /// Every name that counts as a mention: the entity's own names, then the names of the
    /// entities that are part of it (transitively).
    pub terms: Vec<TermId>,
    /// Whether it is a state or territory (a state next to a bare organ name qualifies it).
    pub state: bool,
}

#[derive(Debug, Clone)]
pub(super) struct CompiledWatch {
    /// Shared with every match reported.
    pub name: Arc<str>,
    pub root: Node,
    pub leaves: Vec<Leaf>,
    /// ISO 639-1 codes the watch is limited to; empty for every language.
    pub languages: Vec<String>,
}

impl CompiledWatch {
    /// Whether a story in `lang` is outside the watch's languages (a story whose language
    /// could not be told never is).
    pub fn excludes(&self, lang: Option<&str>) -> bool {
        !self.languages.is_empty() && lang.is_some_and(|l| !self.languages.iter().any(|w| w == l))
    }
}

/// Lists of numbers, one after another in one allocation: a lookup per story hit reads one
/// place, not a list of its own.
#[derive(Debug, Default)]
pub(super) struct Lists<T = u32> {
    starts: Vec<u32>,
    items: Vec<T>,
}

impl<T: Clone> Lists<T> {
    fn new(lists: &[Vec<T>]) -> Lists<T> {
        let mut starts = Vec::with_capacity(lists.len() + 1);
        starts.push(0);
        for list in lists {
            starts.push(starts[starts.len() - 1] + list.len() as u32);
        }
        Lists { starts, items: lists.concat() }
    }

    pub fn get(&self, i: usize) -> &[T] {
        &self.items[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// Every watch compiled against one set of patterns.
#[derive(Debug)]
pub struct Matcher {
    finder: Finder,
    /// The terms riding on each pattern with what scanning needs of them: with the finder, the
    /// only tables touched per raw occurrence.
    pattern_terms: Lists<(TermId, ScanSpec)>,
    terms: Vec<TermSpec>,
    pub(super) entities: Vec<Entity>,
    /// For each term, the entities it names.
    term_entities: Lists,
    pub(super) watches: Vec<CompiledWatch>,
    /// For each term, the watches to evaluate when it hits: a watch is listed under the terms
    /// of its trigger leaves (see [`Node::triggers`]), one of which hits whenever it matches.
    pub(super) term_watches: Lists,
    /// Watches that can match a story with no positive hit at all (`NOT x` alone).
    pub(super) always: Vec<u32>,
}

impl Matcher {
    /// Compiles `watches` with the given entities (plus the gazetteer when `builtin` is set).
    pub fn compile(entities: &[EntityDef], watches: &[WatchDef], builtin: bool) -> Result<Matcher, Vec<QueryError>> {
        let mut b = if builtin { gazetteer_builder().clone() } else { Builder::default() };
        for e in entities {
            let names = std::iter::once(&e.name).chain(&e.aliases);
            b.add_entity(&e.name, names.map(|n| NameDef { text: n, lang: None, bare: false }));
        }
        let mut errors = Vec::new();
        for (i, w) in watches.iter().enumerate() {
            match query::parse(&w.query) {
                Ok(ast) => b.add_watch(w, &ast),
                Err(error) => {
                    errors.push(QueryError { watch_index: i, watch: w.name.clone(), query: w.query.clone(), error })
                }
            }
        }
        if errors.is_empty() { Ok(b.finish()) } else { Err(errors) }
    }

    pub fn watch_count(&self) -> usize {
        self.watches.len()
    }

    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    pub(super) fn finder(&self) -> &Finder {
        &self.finder
    }

    pub(super) fn pattern_terms(&self, pattern: usize) -> &[(TermId, ScanSpec)] {
        self.pattern_terms.get(pattern)
    }

    #[cfg(test)]
    pub(super) fn term_count(&self) -> usize {
        self.terms.len()
    }

    pub(super) fn term_entities(&self, t: TermId) -> &[u32] {
        self.term_entities.get(t as usize)
    }

    pub(super) fn term(&self, t: TermId) -> &TermSpec {
        &self.terms[t as usize]
    }

    /// Whether term `t` names a state.
    pub(super) fn names_state(&self, t: TermId) -> bool {
        self.term_entities(t).iter().any(|&e| self.entities[e as usize].state)
    }
}

/// A builder holding the built-in gazetteer alone: folding its 4,500 names and generating their
/// forms is done once per process, and each compile (every config load and reload) starts
/// from a copy.
fn gazetteer_builder() -> &'static Builder {
    static BASE: std::sync::OnceLock<Builder> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let mut b = Builder::default();
        b.add_gazetteer(super::gazetteer::get());
        b
    })
}

/// The folded forms a name is matched in: itself, and for a gazetteer name in an inflected
/// language its generated forms (never for an acronym, which does not inflect).
fn forms_of(name: &NameDef) -> Vec<String> {
    let folded = fold(name.text).text;
    match name.lang {
        Some(lang) if acronym(name.text).is_none() && !folded.is_empty() => super::inflect::forms(&folded, lang),
        _ => vec![folded],
    }
}

/// Whether `s` is an acronym: 2 to 5 letters, all upper case.
pub(super) fn acronym(s: &str) -> Option<String> {
    let s: String = s.trim().nfkc().collect();
    let n = s.chars().count();
    let all_caps = s.chars().all(|c| c.is_alphabetic() && c.is_uppercase());
    (all_caps && (2..=5).contains(&n)).then_some(s)
}

#[derive(Default, Clone)]
struct Builder {
    patterns: Vec<String>,
    pattern_ids: HashMap<String, usize>,
    pattern_terms: Vec<Vec<TermId>>,
    terms: Vec<TermSpec>,
    term_ids: HashMap<(usize, TermKind, Option<String>), TermId>,
    entities: Vec<Entity>,
    /// Folded entity name to entity index.
    entity_names: HashMap<String, usize>,
    /// Folded alias (exact, with its acronym rule) to its terms (the name and its forms).
    alias_terms: HashMap<(String, Option<String>), Vec<TermId>>,
    /// (entity, folded canonical name of an entity it is part of).
    part_of: Vec<(usize, String)>,
    watches: Vec<CompiledWatch>,
}

/// A name to add to an entity, with its language when the gazetteer gives one.
struct NameDef<'a> {
    text: &'a str,
    lang: Option<&'a str>,
    bare: bool,
}

impl Builder {
    fn term(&mut self, text: &str, kind: TermKind, entity: bool) -> Option<TermId> {
        let name = NameDef { text, lang: None, bare: false };
        self.term_in(&fold(text).text, &name, kind, entity)
    }

    /// The term for `folded` (a name or one of its forms), shown as `name.text`.
    fn term_in(&mut self, folded: &str, name: &NameDef, kind: TermKind, entity: bool) -> Option<TermId> {
        let text = name.text;
        let first = folded.chars().next()?;
        // A Korean name starts a word: particles follow it, but `이란` ("so-called") ending a
        // word is not Iran.
        let left_space = !is_unspaced(first) || (name.lang == Some("ko") && is_hangul_syllable(first));
        let right_space = kind == TermKind::Exact && !is_unspaced(folded.chars().next_back()?);
        let pattern = format!("{}{folded}{}", if left_space { " " } else { "" }, if right_space { " " } else { "" });
        let acronym = if kind == TermKind::Exact { acronym(text) } else { None };
        let p = match self.pattern_ids.get(&pattern) {
            Some(&p) => p,
            None => {
                self.patterns.push(pattern.clone());
                self.pattern_terms.push(Vec::new());
                self.pattern_ids.insert(pattern, self.patterns.len() - 1);
                self.patterns.len() - 1
            }
        };
        let key = (p, kind, acronym.clone());
        if let Some(&t) = self.term_ids.get(&key) {
            self.terms[t as usize].entity |= entity;
            return Some(t);
        }
        let t = self.terms.len() as TermId;
        let lang = name.lang.map(str::to_string);
        let bare = name.bare;
        self.terms.push(TermSpec { text: text.trim().to_string(), kind, acronym, entity, lang, bare });
        self.pattern_terms[p].push(t);
        self.term_ids.insert(key, t);
        Some(t)
    }

    fn add_gazetteer(&mut self, g: &super::gazetteer::Gazetteer) {
        for e in &g.entries {
            let names = e.names.iter().map(|n| NameDef { text: &n.text, lang: Some(&n.lang), bare: n.bare });
            if let Some(idx) = self.add_entity(&e.name, names) {
                self.part_of.extend(e.part_of.iter().map(|p| (idx, fold(p).text)));
                self.entities[idx].state |= e.state;
            }
        }
        // Not-names claim their words as entity names do, for no entity.
        for n in &g.not_names {
            let name = NameDef { text: &n.text, lang: Some(&n.lang), bare: false };
            for form in forms_of(&name) {
                self.term_in(&form, &name, TermKind::Exact, true);
            }
        }
    }

    /// Adds `names` to the entity called `name` (creating it); returns its index.
    fn add_entity<'a>(&mut self, name: &str, names: impl Iterator<Item = NameDef<'a>>) -> Option<usize> {
        let key = fold(name).text;
        if key.is_empty() {
            return None;
        }
        let idx = match self.entity_names.get(&key) {
            Some(&i) => i,
            None => {
                self.entities.push(Entity { terms: Vec::new(), state: false });
                self.entity_names.insert(key, self.entities.len() - 1);
                self.entities.len() - 1
            }
        };
        for name in names {
            for form in forms_of(&name) {
                let Some(t) = self.term_in(&form, &name, TermKind::Exact, true) else { continue };
                if !self.entities[idx].terms.contains(&t) {
                    self.entities[idx].terms.push(t);
                }
                let forms = self.alias_terms.entry((fold(name.text).text, acronym(name.text))).or_default();
                if !forms.contains(&t) {
                    forms.push(t);
                }
            }
        }
        Some(idx)
    }

    /// Adds every entity's names to the entities it is part of, transitively, so a mention of
    /// the UN Security Council is a mention of the United Nations.
    fn expand_part_of(&mut self) {
        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); self.entities.len()];
        for (child, parent) in &self.part_of {
            if let Some(&p) = self.entity_names.get(parent) {
                parents[*child].push(p);
            }
        }
        let own: Vec<Vec<TermId>> = self.entities.iter().map(|e| e.terms.clone()).collect();
        for (child, terms) in own.iter().enumerate() {
            let mut seen = vec![child];
            let mut todo = parents[child].clone();
            while let Some(p) = todo.pop() {
                if seen.contains(&p) {
                    continue;
                }
                seen.push(p);
                let list = &mut self.entities[p].terms;
                let add: Vec<TermId> = terms.iter().copied().filter(|t| !list.contains(t)).collect();
                list.extend(add);
                todo.extend(&parents[p]);
            }
        }
    }

    fn add_watch(&mut self, def: &WatchDef, ast: &Ast) {
        let mut leaves = Vec::new();
        let default_fields = Field::Title.mask() | Field::Body.scope();
        let root = self.node(ast, default_fields, &mut leaves);
        let (name, languages) = (def.name.as_str().into(), def.languages.clone());
        self.watches.push(CompiledWatch { name, root, leaves, languages });
    }

    fn node(&mut self, ast: &Ast, fields: u8, leaves: &mut Vec<Leaf>) -> Node {
        match ast {
            Ast::Term(t) => Node::Leaf(self.leaf(t, fields, leaves)),
            Ast::Scope(f, inner) => self.node(inner, f.scope(), leaves),
            Ast::Not(inner) => Node::Not(Box::new(self.node(inner, fields, leaves))),
            Ast::And(parts) => Node::And(parts.iter().map(|p| self.node(p, fields, leaves)).collect()),
            Ast::Or(parts) => Node::Or(parts.iter().map(|p| self.node(p, fields, leaves)).collect()),
            Ast::Near(a, b, n) => {
                let a = self.near_leaf(a, fields, leaves);
                let b = self.near_leaf(b, fields, leaves);
                Node::Near(a, b, *n)
            }
        }
    }

    fn near_leaf(&mut self, ast: &Ast, fields: u8, leaves: &mut Vec<Leaf>) -> u32 {
        match ast {
            Ast::Term(t) => self.leaf(t, fields, leaves),
            Ast::Scope(f, inner) => self.near_leaf(inner, f.scope(), leaves),
            _ => unreachable!("the parser only puts terms beside NEAR"),
        }
    }

    fn leaf(&mut self, t: &query::Term, fields: u8, leaves: &mut Vec<Leaf>) -> u32 {
        let folded = fold(&t.text).text;
        let target = if t.kind == TermKind::Exact {
            if let Some(&e) = self.entity_names.get(&folded) {
                Some(Target::Entity(e as u32))
            } else {
                match self.alias_terms.get(&(folded, acronym(&t.text))) {
                    Some(forms) if forms.len() == 1 => Some(Target::Term(forms[0])),
                    Some(forms) => Some(Target::Terms(forms.clone())),
                    None => self.term(&t.text, t.kind, false).map(Target::Term),
                }
            }
        } else {
            self.term(&t.text, t.kind, false).map(Target::Term)
        };
        let target = target.expect("the parser rejects terms that fold to nothing");
        leaves.push(Leaf { written: t.written().into(), target, fields });
        (leaves.len() - 1) as u32
    }

    /// The watches each term triggers, and the watches that match with no hit at all.
    fn index_watches(&self) -> (Vec<Vec<u32>>, Vec<u32>) {
        let mut term_watches = vec![Vec::new(); self.terms.len()];
        let mut always = Vec::new();
        for (w, watch) in self.watches.iter().enumerate() {
            let cost = |l: u32| {
                let terms = leaf_terms(&self.entities, &watch.leaves[l as usize]);
                terms.iter().map(|&t| 1.0 + 4.0 / (self.terms[t as usize].text.len() as f64 + 1.0)).sum()
            };
            let Some(triggers) = watch.root.triggers(&cost) else {
                always.push(w as u32);
                continue;
            };
            for l in triggers {
                for &t in leaf_terms(&self.entities, &watch.leaves[l as usize]) {
                    let list: &mut Vec<u32> = &mut term_watches[t as usize];
                    if list.last() != Some(&(w as u32)) {
                        list.push(w as u32);
                    }
                }
            }
        }
        (term_watches, always)
    }

    fn finish(mut self) -> Matcher {
        self.expand_part_of();
        let finder = Finder::new(&self.patterns);
        let spec = |t: &TermSpec| ScanSpec {
            prefix: t.kind == TermKind::Prefix,
            entity: t.entity,
            acronym: t.acronym.is_some(),
        };
        let with_specs = |terms: &Vec<TermId>| terms.iter().map(|&t| (t, spec(&self.terms[t as usize]))).collect();
        let pattern_terms = Lists::new(&self.pattern_terms.iter().map(with_specs).collect::<Vec<_>>());
        let mut term_entities = vec![Vec::new(); self.terms.len()];
        for (e, entity) in self.entities.iter().enumerate() {
            for &t in &entity.terms {
                term_entities[t as usize].push(e as u32);
            }
        }
        let (term_watches, always) = self.index_watches();
        Matcher {
            finder,
            pattern_terms,
            terms: self.terms,
            entities: self.entities,
            term_entities: Lists::new(&term_entities),
            watches: self.watches,
            term_watches: Lists::new(&term_watches),
            always,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggered_by(query: &str) -> (Vec<String>, bool) {
        let watch = WatchDef { name: "w".into(), query: query.into(), ..Default::default() };
        let m = Matcher::compile(&[], &[watch], false).expect("query parses");
        let terms = (0..m.term_count() as TermId)
            .filter(|&t| !m.term_watches.get(t as usize).is_empty())
            .map(|t| m.term(t).text.clone())
            .collect();
        (terms, !m.always.is_empty())
    }

    /// An inflected form that is also a name of another entity would be a false match of one
    /// of them; the gazetteer has none.
    #[test]
    fn no_generated_form_names_two_entities() {
        let m = Matcher::compile(&[], &[], true).unwrap();
        let mut shared = Vec::new();
        let mut forms = 0;
        for t in 0..m.term_count() as TermId {
            let spec = m.term(t);
            let own: Vec<u32> =
                m.term_entities(t).iter().copied().filter(|&e| !m.entities[e as usize].terms.is_empty()).collect();
            let generated = spec.lang.as_deref().is_some_and(|l| ["ru", "uk", "de", "ar"].contains(&l));
            forms += usize::from(generated);
            // A part-of parent lists its organs' names too: only entities unrelated to each other count.
            let unrelated = own.iter().any(|&a| own.iter().any(|&b| a != b && !related(&m, a, b)));
            if generated && unrelated {
                shared.push(spec.text.clone());
            }
        }
        println!("{} terms, {forms} of them names or forms in ru, uk, de, ar", m.term_count());
        assert!(forms > 5_000, "{forms} terms in inflected languages");
        assert!(shared.is_empty(), "forms naming two entities: {shared:?}");
    }

    fn related(m: &Matcher, a: u32, b: u32) -> bool {
        let (ta, tb) = (&m.entities[a as usize].terms, &m.entities[b as usize].terms);
        ta.iter().all(|t| tb.contains(t)) || tb.iter().all(|t| ta.contains(t))
    }

    #[test]
    fn an_and_is_triggered_by_its_cheapest_part() {
        assert_eq!(triggered_by("sanctions AND (Russia OR Iran OR Syria)"), (vec!["sanctions".into()], false));
        assert_eq!(triggered_by("(oil OR gas) AND embargo"), (vec!["embargo".into()], false));
        assert_eq!(triggered_by("treaty NOT draft"), (vec!["treaty".into()], false));
    }

    #[test]
    fn an_or_is_triggered_by_every_part() {
        let (terms, always) = triggered_by("embargo OR (oil AND gas)");
        assert_eq!(terms.len(), 2, "{terms:?}");
        assert!(terms.contains(&"embargo".to_string()) && !always);
        assert_eq!(triggered_by("embargo OR NOT oil"), (vec![], true));
        assert_eq!(triggered_by("NOT oil"), (vec![], true));
    }
}
