//! The built-in gazetteer: states and territories, and major international organisations,
//! read from the data files beside this module (compiled into the binary).
//!
//! Pure: parsing the embedded text is all it does. The syntax is described in the header of
//! `gazetteer.txt`; in short, one entity per line:
//!
//! ```text
//! Canonical Name = alias; ~bare alias | part of Parent Name
//! Canonical Name @ru = name; name          (names in one language, added to the entity)
//! ! not-name; not-name                     (words that name no entity)
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use super::EntityDef;

/// The English names: states first, then international organisations.
const BASE: &str = include_str!("gazetteer.txt");
/// Names of states and territories in other languages, generated from Unicode CLDR.
const CLDR: &str = include_str!("gazetteer_cldr.txt");
/// Other languages' usual short forms and the organisations' names, written by hand.
const EXTRA: &str = include_str!("gazetteer_names.txt");

/// One name of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    /// The ISO 639-1 code of the name's language (`en` for the base file).
    pub lang: String,
    /// A bare organ name (`~Security Council`): not a mention when a state qualifies it.
    pub bare: bool,
}

/// A built-in entity: its canonical (English) name, every name, and what it is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// Every name, the canonical one first.
    pub names: Vec<Name>,
    /// The canonical names of the entities a mention of this one also mentions.
    pub part_of: Vec<String>,
    /// Whether the entity is a state or territory (listed before the organisations).
    pub state: bool,
}

/// The whole gazetteer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gazetteer {
    pub entries: Vec<Entry>,
    /// Names that claim their words for no entity (`! Korean peninsula`).
    pub not_names: Vec<Name>,
}

/// The built-in gazetteer, every language, parsed once per process for the matcher, headline
/// comparison and the web view alike.
pub fn get() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(load)
}

fn load() -> Gazetteer {
    let mut g = Gazetteer::default();
    for data in [BASE, CLDR, EXTRA] {
        parse_into(&mut g, data);
    }
    g
}

/// The states alone, with their English names (what headline comparison needs).
pub fn states() -> Vec<EntityDef> {
    get().entries.iter().filter(|e| e.state).map(english).collect()
}

fn english(e: &Entry) -> EntityDef {
    let aliases = e.names.iter().skip(1).filter(|n| n.lang == "en").map(|n| n.text.clone()).collect();
    EntityDef { name: e.name.clone(), aliases }
}

/// Parses one data file into `g`: a line naming an entity already present adds to it.
fn parse_into(g: &mut Gazetteer, data: &str) {
    let mut index: HashMap<String, usize> = g.entries.iter().enumerate().map(|(i, e)| (e.name.clone(), i)).collect();
    let mut state = true;
    for line in data.lines().map(str::trim) {
        if line.starts_with("# International organisations") {
            state = false;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('!') {
            let (lang, rest) = language(rest.trim());
            g.not_names.extend(names(rest, lang));
            continue;
        }
        let (head, part_of) = match line.split_once('|') {
            Some((h, p)) => (h, p.trim().strip_prefix("part of").map(str::trim).filter(|p| !p.is_empty())),
            None => (line, None),
        };
        let (canonical, aliases) = head.split_once('=').unwrap_or((head, ""));
        let (lang, canonical) = match canonical.split_once('@') {
            Some((c, l)) => (l.trim(), c.trim()),
            None => ("en", canonical.trim()),
        };
        let i = *index.entry(canonical.to_string()).or_insert_with(|| {
            let first = Name { text: canonical.to_string(), lang: "en".into(), bare: false };
            g.entries.push(Entry { name: canonical.into(), names: vec![first], part_of: Vec::new(), state });
            g.entries.len() - 1
        });
        let entry = &mut g.entries[i];
        for n in names(aliases, lang) {
            if !entry.names.iter().any(|e| e.text == n.text) {
                entry.names.push(n);
            }
        }
        entry.part_of.extend(part_of.map(str::to_string));
    }
}

/// `@xx rest` → (`xx`, `rest`); no tag means English.
fn language(s: &str) -> (&str, &str) {
    match s.strip_prefix('@') {
        Some(rest) => rest.split_once(char::is_whitespace).map_or((rest, ""), |(l, r)| (l, r.trim())),
        None => ("en", s),
    }
}

fn names(list: &str, lang: &str) -> Vec<Name> {
    list.split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| match a.strip_prefix('~') {
            Some(bare) => Name { text: bare.trim().to_string(), lang: lang.to_string(), bare: true },
            None => Name { text: a.to_string(), lang: lang.to_string(), bare: false },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &str) -> Gazetteer {
        let mut g = Gazetteer::default();
        parse_into(&mut g, data);
        g
    }

    #[test]
    fn parses_names_aliases_and_comments() {
        let g = parse("# comment\n\nNorth Korea = DPRK; North Korean\nKosovo\n");
        assert_eq!(g.entries.len(), 2);
        assert_eq!(g.entries[0].name, "North Korea");
        let names: Vec<&str> = g.entries[0].names.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(names, vec!["North Korea", "DPRK", "North Korean"]);
        assert_eq!(g.entries[1].names.len(), 1);
    }

    #[test]
    fn parses_part_of_languages_bare_names_and_not_names() {
        let g = parse(
            "United Nations = UN\nUnited Nations Security Council = UNSC; ~Security Council | part of United Nations\n\
             United Nations @ru = ООН; Организация Объединённых Наций\n! @en National Security Council; NSC\n",
        );
        assert_eq!(g.entries.len(), 2);
        assert_eq!(g.entries[1].part_of, vec!["United Nations"]);
        assert!(g.entries[1].names[2].bare && !g.entries[1].names[1].bare);
        assert_eq!(g.entries[0].names[2], Name { text: "ООН".into(), lang: "ru".into(), bare: false });
        assert_eq!(g.not_names.len(), 2);
        assert_eq!(g.not_names[0].text, "National Security Council");
    }

    #[test]
    fn every_part_of_names_an_entity() {
        let g = get();
        for e in &g.entries {
            for p in &e.part_of {
                assert!(g.entries.iter().any(|x| &x.name == p), "{}: part of unknown {p:?}", e.name);
            }
        }
    }

    #[test]
    fn every_language_line_names_a_base_entity() {
        let mut base = Gazetteer::default();
        parse_into(&mut base, BASE);
        assert_eq!(base.entries.len(), get().entries.len(), "a language line names an entity the base file lacks");
    }
}
