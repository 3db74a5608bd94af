//! Inflected forms of gazetteer names, generated once when the matcher is compiled.
//!
//! Pure string work on folded names (lower case, no diacritics: `й` is `и`, `ї` is `і`). The
//! matcher then finds the forms as it finds any name, so inflection costs no time per story.
//! Generated forms were chosen over stemming story text: stemming would need a second folded
//! copy of every field and would blur plain query words, while a name's forms are few and known.
//!
//! - Russian and Ukrainian: the leading adjectives and the first noun of a name take the six
//!   case endings together (`северная корея` → `севернои кореи`, `северную корею`, ...); words
//!   after that noun are already in the genitive and stay (`совет безопасности оон`).
//! - German: the genitive `-s` of the last word and the weak `-en` of the adjectives before it
//!   (`russlands`, `vereinigten staaten`, `vereinigten konigreichs`).
//! - Arabic: the attached prefixes و ف ب ك ل and their pairs (`وروسيا`, `بالصين`, `للصين`).
//!
//! Turkish suffixes come after an apostrophe, which folding turns into a word boundary, and
//! Korean and Japanese particles follow a name that is matched as a prefix of its word, so
//! neither needs forms here.

/// The case endings of one word class, in the order nominative, genitive, dative, accusative,
/// instrumental, prepositional (locative); `|` separates alternatives.
type Paradigm = (&'static str, [&'static str; 6]);

/// Russian, folded. The first matching ending (longest first) decides the class.
const RU_ADJECTIVES: &[Paradigm] = &[
    ("ая", ["ая", "ои", "ои", "ую", "ои", "ои"]),
    ("яя", ["яя", "еи", "еи", "юю", "еи", "еи"]),
    ("ыи", ["ыи", "ого", "ому", "ыи", "ым", "ом"]),
    ("ии", ["ии", "ого", "ому", "ии", "им", "ом"]),
    ("ои", ["ои", "ого", "ому", "ои", "ым", "ом"]),
    ("ое", ["ое", "ого", "ому", "ое", "ым", "ом"]),
    ("ые", ["ые", "ых", "ым", "ые", "ыми", "ых"]),
    ("ие", ["ие", "их", "им", "ие", "ими", "их"]),
];
const RU_NOUNS: &[Paradigm] = &[
    ("ия", ["ия", "ии", "ии", "ию", "иеи", "ии"]),
    ("ство", ["ство", "ства", "ству", "ство", "ством", "стве"]),
    ("я", ["я", "и", "е", "ю", "еи", "е"]),
    ("ка", ["ка", "ки", "ке", "ку", "кои", "ке"]),
    ("га", ["га", "ги", "ге", "гу", "гои", "ге"]),
    ("а", ["а", "ы", "е", "у", "ои", "е"]),
    ("аи", ["аи", "ая", "аю", "аи", "аем", "ае"]),
    ("еи", ["еи", "ея", "ею", "еи", "еем", "ее"]),
    ("ь", ["ь", "я", "ю", "ь", "ем", "е"]),
    ("ы", ["ы", "ов|", "ам", "ы", "ами", "ах"]),
    ("", ["", "а", "у", "", "ом", "е"]),
];

/// Ukrainian, folded (`ї` → `і`, `й` → `и`; `є` stays).
const UK_ADJECTIVES: &[Paradigm] = &[
    ("на", ["на", "ноі", "ніи", "ну", "ною", "ніи"]),
    ("ка", ["ка", "коі", "кіи", "ку", "кою", "кіи"]),
    ("ии", ["ии", "ого", "ому", "ии", "им", "ому"]),
    ("е", ["е", "ого", "ому", "е", "им", "ому"]),
    ("і", ["і", "их", "им", "і", "ими", "их"]),
];
const UK_NOUNS: &[Paradigm] = &[
    ("ія", ["ія", "іі", "іі", "ію", "ією", "іі"]),
    ("я", ["я", "і", "і", "ю", "єю", "і"]),
    ("а", ["а", "и", "і", "у", "ою", "і"]),
    ("аи", ["аи", "аю", "аю", "аи", "аєм", "аі"]),
    ("ь", ["ь", "я|ю", "ю", "ь", "ем", "і"]),
    ("и", ["и", "ів", "ам", "и", "ами", "ах"]),
    ("", ["", "у|а", "у|ові", "", "ом", "і"]),
];

const CYRILLIC_VOWELS: &str = "аеиоуыэюяіїєё";

/// Every form of the folded name `name` in language `lang`, the name itself first.
pub fn forms(name: &str, lang: &str) -> Vec<String> {
    let mut out = vec![name.to_string()];
    let more = match lang {
        "ru" => slavic(name, RU_ADJECTIVES, RU_NOUNS),
        "uk" => slavic(name, UK_ADJECTIVES, UK_NOUNS),
        "de" => german(name),
        "ar" => arabic(name),
        _ => Vec::new(),
    };
    for f in more {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// A word's class and stem: the first paradigm whose ending it has, keeping at least two
/// letters of stem.
fn classify<'p>(word: &str, table: &'p [Paradigm]) -> Option<(&'p [&'static str; 6], usize)> {
    table
        .iter()
        .find(|(ending, _)| word.ends_with(ending) && word.chars().count() >= ending.chars().count() + 2)
        .map(|(ending, slots)| (slots, word.len() - ending.len()))
}

/// Russian or Ukrainian: decline the leading adjectives and the first noun together.
fn slavic(name: &str, adjectives: &[Paradigm], nouns: &[Paradigm]) -> Vec<String> {
    let words: Vec<&str> = name.split(' ').collect();
    // Each declined word: (index, its slots, its stem length).
    let mut declined = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i + 1 < words.len()
            && let Some((slots, stem)) = classify(w, adjectives)
        {
            declined.push((i, slots, stem));
            continue;
        }
        if w.ends_with('о') && !w.ends_with("ство") {
            continue; // indeclinable (`конго`) or the first half of a compound (`народно`)
        }
        let ends_in_vowel = w.chars().next_back().is_some_and(|c| CYRILLIC_VOWELS.contains(c));
        // The consonant paradigm (empty ending) is not for an indeclinable `перу` or `чили`.
        if let Some((slots, stem)) = classify(w, nouns).filter(|(slots, _)| !(ends_in_vowel && slots[0].is_empty())) {
            declined.push((i, slots, stem));
        }
        break;
    }
    if declined.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for case in 1..6 {
        for alt in 0..2 {
            let mut ws: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            for &(i, slots, stem) in &declined {
                let options: Vec<&str> = slots[case].split('|').collect();
                ws[i] = format!("{}{}", &words[i][..stem], options[alt.min(options.len() - 1)]);
            }
            out.push(ws.join(" "));
        }
    }
    out
}

/// German: `-s` on the last word, `-en` on the adjectives before it.
fn german(name: &str) -> Vec<String> {
    let words: Vec<&str> = name.split(' ').collect();
    let Some((last, before)) = words.split_last() else { return Vec::new() };
    let weak: Vec<String> = before
        .iter()
        .map(|w| match w.strip_suffix("es").or_else(|| w.strip_suffix('e')) {
            Some(stem) if stem.chars().count() >= 3 => format!("{stem}en"),
            _ => w.to_string(),
        })
        .collect();
    let genitive = if last.ends_with(['s', 'x', 'z']) { None } else { Some(format!("{last}s")) };
    let join = |ws: &[String], last: &str| {
        let mut v = ws.to_vec();
        v.push(last.to_string());
        v.join(" ")
    };
    let plain: Vec<String> = before.iter().map(|w| w.to_string()).collect();
    let mut out = vec![join(&weak, last)];
    if let Some(g) = genitive {
        out.push(join(&plain, &g));
        out.push(join(&weak, &g));
    }
    out
}

/// Arabic: the conjunctions and prepositions written attached to the next word.
fn arabic(name: &str) -> Vec<String> {
    const PLAIN: &[&str] = &["و", "ف", "ب", "ك", "وب", "فب", "وك"];
    const LAM: &[&str] = &["ل", "ول", "فل"];
    let mut out: Vec<String> = PLAIN.iter().map(|p| format!("{p}{name}")).collect();
    // ل before the article drops its alef: ل + الصين is written للصين.
    let after_lam = name.strip_prefix('ا').filter(|rest| rest.starts_with('ل')).unwrap_or(name);
    out.extend(LAM.iter().map(|p| format!("{p}{after_lam}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    fn has(name: &str, lang: &str, form: &str) -> bool {
        forms(&fold(name).text, lang).contains(&fold(form).text)
    }

    #[test]
    fn russian_cases_of_nouns_and_adjectives() {
        for form in ["России", "Россию", "Россией"] {
            assert!(has("Россия", "ru", form), "{form}");
        }
        for form in ["Северной Кореи", "Северную Корею", "Северной Кореей", "Северной Корее"]
        {
            assert!(has("Северная Корея", "ru", form), "{form}");
        }
        assert!(has("Соединённые Штаты", "ru", "Соединённых Штатов"));
        assert!(has("Китай", "ru", "Китаем"));
        assert!(has("Иран", "ru", "Ираном"));
        assert!(has("Совет Безопасности ООН", "ru", "Совета Безопасности ООН"));
        assert!(has("Организация Объединённых Наций", "ru", "Организации Объединённых Наций"));
        assert!(!has("Конго", "ru", "Конга"));
    }

    #[test]
    fn ukrainian_cases() {
        assert!(has("Україна", "uk", "Україні"));
        assert!(has("Росія", "uk", "Росією"));
        assert!(has("Північна Корея", "uk", "Північної Кореї"));
        assert!(has("Китай", "uk", "Китаю"));
    }

    #[test]
    fn german_genitive_and_weak_adjectives() {
        assert!(has("Russland", "de", "Russlands"));
        assert!(has("Vereinigte Staaten", "de", "Vereinigten Staaten"));
        assert!(has("Vereinigtes Königreich", "de", "Vereinigten Königreichs"));
        assert!(!has("Schweiz", "de", "Schweizs"));
    }

    #[test]
    fn arabic_attached_prefixes() {
        assert!(has("روسيا", "ar", "وروسيا"));
        assert!(has("الصين", "ar", "بالصين"));
        assert!(has("الصين", "ar", "للصين"));
        assert!(has("الصين", "ar", "وللصين"));
    }
}
