//! The built-in gazetteer: UN member and observer states, Taiwan, Kosovo and major international
//! organisations, read from `gazetteer.txt` (compiled into the binary).
//!
//! Format, one entity per line: `Name = alias; alias; alias`; `#` starts a comment line.

use super::EntityDef;

const DATA: &str = include_str!("gazetteer.txt");

/// The built-in entities, in file order.
pub fn entities() -> Vec<EntityDef> {
    parse(DATA)
}

/// The states alone (the file lists them before the international organisations).
pub fn states() -> Vec<EntityDef> {
    parse(DATA.split("# International organisations").next().unwrap_or(DATA))
}

fn parse(data: &str) -> Vec<EntityDef> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, aliases) = line.split_once('=').unwrap_or((line, ""));
            EntityDef {
                name: name.trim().to_string(),
                aliases: aliases.split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_aliases_and_comments() {
        let got = parse("# comment\n\nNorth Korea = DPRK; North Korean\nKosovo\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "North Korea");
        assert_eq!(got[0].aliases, vec!["DPRK", "North Korean"]);
        assert!(got[1].aliases.is_empty());
    }
}
