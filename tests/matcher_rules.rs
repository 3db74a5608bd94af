//! The matcher's contract, rule by rule, as tables of (query, story, expected) cases.
//!
//! Every test runs its whole table and reports every failing case at once. Title and body go
//! through `html_to_text` first, as the feed pipeline does. Each group is also run with all its
//! queries compiled into one matcher (as in production, where every watch shares one automaton),
//! which must give the same answers.

use wirewatch::matcher::{Document, EntityDef, Field, MatchedTerm, Matcher, WatchDef};
use wirewatch::text::html_to_text;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// A query against a story's title and body (both HTML, run through `html_to_text`).
struct Case {
    query: &'static str,
    title: &'static str,
    body: &'static str,
    expect: bool,
}

const fn c(query: &'static str, title: &'static str, body: &'static str, expect: bool) -> Case {
    Case { query, title, body, expect }
}

/// A query against every field of a story.
struct FieldCase {
    query: &'static str,
    title: &'static str,
    body: &'static str,
    author: &'static str,
    category: &'static str,
    feed: &'static str,
    expect: bool,
}

/// A query with user entities, with or without the built-in gazetteer.
struct EntityCase {
    entities: &'static [(&'static str, &'static [&'static str])],
    builtin: bool,
    query: &'static str,
    title: &'static str,
    body: &'static str,
    expect: bool,
}

/// What the pipeline does to a story's title and body before matching.
fn story(title: &str, body: &str) -> Document {
    Document { title: html_to_text(title), body: html_to_text(body), ..Document::default() }
}

fn entity_defs(list: &[(&str, &[&str])]) -> Vec<EntityDef> {
    list.iter()
        .map(|(name, aliases)| EntityDef {
            name: name.to_string(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        })
        .collect()
}

fn watch(name: &str, query: &str) -> WatchDef {
    WatchDef { name: name.to_string(), query: query.to_string(), ..Default::default() }
}

/// Whether the single watch `query` matches `doc`; a compile error is an `Err`.
fn matches(entities: &[EntityDef], builtin: bool, query: &str, doc: &Document) -> Result<bool, String> {
    let m = Matcher::compile(entities, &[watch("w", query)], builtin)
        .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))?;
    Ok(m.match_document(doc).iter().any(|w| &*w.watch == "w"))
}

fn describe(query: &str, doc: &Document) -> String {
    let mut s = format!("query {query:?}");
    for field in Field::ALL {
        let text = doc.field(field);
        if !text.is_empty() {
            s.push_str(&format!(" | {} {text:?}", field.name()));
        }
    }
    s
}

/// Runs `(query, doc, expect)` cases one matcher per case, then all in one matcher; returns the
/// failures.
fn run_cases(group: &str, entities: &[EntityDef], builtin: bool, cases: &[(&str, Document, bool)]) -> Vec<String> {
    let mut failures = Vec::new();
    let singles: Vec<Result<bool, String>> =
        cases.iter().map(|(query, doc, _)| matches(entities, builtin, query, doc)).collect();
    for ((query, doc, expect), single) in cases.iter().zip(&singles) {
        match single {
            Ok(got) if got == expect => {}
            Ok(got) => failures.push(format!("[{group}] {} -> expected {expect}, got {got}", describe(query, doc))),
            Err(e) => {
                failures.push(format!("[{group}] {} -> expected {expect}, compile error: {e}", describe(query, doc)))
            }
        }
    }
    // The same queries as watches of one matcher must agree with the one-watch answers.
    let watches: Vec<WatchDef> = cases.iter().enumerate().map(|(i, (q, _, _))| watch(&format!("w{i}"), q)).collect();
    if let Ok(m) = Matcher::compile(entities, &watches, builtin) {
        for (i, ((query, doc, expect), single)) in cases.iter().zip(&singles).enumerate() {
            let name = format!("w{i}");
            let got = m.match_document(doc).iter().any(|w| *w.watch == *name);
            // Only report disagreements that the per-case run did not already report.
            if got != *expect && single.as_ref().ok() == Some(expect) {
                failures.push(format!(
                    "[{group}, all watches in one matcher] {} -> expected {expect}, got {got}",
                    describe(query, doc)
                ));
            }
        }
    }
    failures
}

fn run_table(group: &str, builtin: bool, cases: &[Case]) -> Vec<String> {
    let rows: Vec<(&str, Document, bool)> = cases.iter().map(|k| (k.query, story(k.title, k.body), k.expect)).collect();
    run_cases(group, &[], builtin, &rows)
}

fn assert_no_failures(total: usize, failures: Vec<String>) {
    assert!(failures.is_empty(), "{} of {} cases failed:\n  {}", failures.len(), total, failures.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Words and phrases
// ---------------------------------------------------------------------------------------------

const WORDS: &[Case] = &[
    c("flood", "", "Flood warning issued", true),
    c("flood", "FLOOD WARNING", "", true),
    c("Flood", "", "the flood.", true),
    c("flood", "", "Floods hit the north", false),
    c("flood", "", "Flooding expected", false),
    c("flood", "", "a waterflood project", false),
    c("flood", "", "a flash-flood warning", true),
    c("\"interest rates\"", "", "Interest rates rise", true),
    c("\"interest rates\"", "Interest-Rates climb", "", true),
    c("\"interest rates\"", "", "interest in rates", false),
    c("\"interest rates\"", "", "rates of interest", false),
    c("\"interest rates\"", "Interest", "rates", false),
    c("central bank", "", "a bank in the central district", true),
    c("central bank", "", "the central district", false),
    c("\"Kim Jong Un\" summit", "Kim Jong Un", "summit planned", true),
    c("bank", "", "the Central Bank's decision", true),
];

#[test]
fn words_and_phrases() {
    assert_no_failures(WORDS.len(), run_table("words", true, WORDS));
}

// ---------------------------------------------------------------------------------------------
// Wildcards
// ---------------------------------------------------------------------------------------------

const WILDCARDS: &[Case] = &[
    c("sanction*", "", "a new sanction", true),
    c("sanction*", "", "Sanctions bite", true),
    c("sanction*", "", "firms sanctioned", true),
    c("sanction*", "SANCTIONING RUSSIA", "", true),
    c("sanction*", "", "sanction-relief talks", true),
    c("sanction*", "", "an unsanctioned rally", false),
    c("sanction*", "", "sanctimonious remarks", false),
    c("sanction*", "", "sanc", false),
    c("sanction*", "", "ｓａｎｃｔｉｏｎｓ", true),
    c("tax*", "", "Taxes rise", true),
    c("tax*", "", "a syntax error", false),
    c("econom*", "", "L'Économie française", true),
    c("Моск*", "", "Москвариум открылся", true),
    c("sanction* AND Iran", "", "Iran faces sanctions", true),
    c("sanction* AND Iran", "", "Iran faces tariffs", false),
];

#[test]
fn wildcards() {
    assert_no_failures(WILDCARDS.len(), run_table("wildcards", true, WILDCARDS));
}

// ---------------------------------------------------------------------------------------------
// Boolean operators and precedence
// ---------------------------------------------------------------------------------------------

const BOOLEAN: &[Case] = &[
    c("election AND protest", "", "election protest", true),
    c("election AND protest", "", "election day", false),
    c("election protest", "", "protest after the election", true),
    c("election protest", "", "a protest", false),
    c("election OR protest", "", "a protest", true),
    c("election OR protest", "", "a strike", false),
    c("election NOT protest", "", "an election", true),
    c("election NOT protest", "", "election protest", false),
    c("election AND NOT protest", "", "an election", true),
    c("election AND NOT protest", "election", "protest", false),
    // a OR b c == a OR (b AND c)
    c("election OR protest strike", "", "an election", true),
    c("election OR protest strike", "", "a protest", false),
    c("election OR protest strike", "", "a protest strike", true),
    // a b OR c == (a AND b) OR c
    c("election protest OR strike", "", "a strike", true),
    c("election protest OR strike", "", "an election", false),
    c("election protest OR strike", "", "election protest", true),
    // NOT a OR b == (NOT a) OR b
    c("NOT election OR strike", "", "election strike", true),
    c("NOT election OR strike", "", "an election", false),
    c("NOT election OR strike", "", "a flood", true),
    // NOT a b == (NOT a) AND b
    c("NOT election strike", "", "a strike", true),
    c("NOT election strike", "", "election strike", false),
    // a OR b NOT c == a OR (b AND NOT c)
    c("election OR protest NOT strike", "", "election strike", true),
    c("election OR protest NOT strike", "", "protest strike", false),
    c("election OR protest NOT strike", "", "a protest", true),
    c("(election OR protest) strike", "", "election strike", true),
    c("(election OR protest) strike", "", "an election", false),
    c("NOT (election OR protest)", "", "an election", false),
    c("NOT (election OR protest)", "", "a flood", true),
    c("NOT NOT election", "", "an election", true),
    c("election AND (protest OR strike) NOT flood", "", "election strike", true),
    c("election AND (protest OR strike) NOT flood", "", "election strike flood", false),
    // a lower-case operator is an error (see MALFORMED); quoted, it is the word
    c("war \"and\" peace", "", "War and Peace", true),
    c("war \"and\" peace", "", "war, peace", false),
    c("rock \"or\" roll", "", "rock", false),
    c("rock \"or\" roll", "", "rock or roll", true),
    c("\"not guilty\"", "", "a guilty verdict", false),
    c("\"not guilty\"", "", "found not guilty", true),
    c("storm \"near\" coast", "", "a storm near the coast", true),
    c("storm \"near\" coast", "", "a storm by the coast", false),
];

#[test]
fn boolean_operators_and_precedence() {
    assert_no_failures(BOOLEAN.len(), run_table("boolean", true, BOOLEAN));
}

// ---------------------------------------------------------------------------------------------
// NEAR
// ---------------------------------------------------------------------------------------------

const NEAR: &[Case] = &[
    c("Seoul NEAR/1 Tokyo", "", "Seoul Tokyo", true),
    c("Seoul NEAR/1 Tokyo", "", "Tokyo Seoul", true),
    c("Seoul NEAR/1 Tokyo", "", "Seoul and Tokyo", false),
    c("Seoul NEAR/2 Tokyo", "", "Seoul and Tokyo", true),
    c("Seoul NEAR/2 Tokyo", "", "Tokyo and Seoul", true),
    c("Seoul NEAR/2 Tokyo", "", "Seoul, Osaka and Tokyo", false),
    c("Seoul NEAR/3 Tokyo", "", "Seoul, Osaka and Tokyo", true),
    c("Seoul NEAR/3 Tokyo", "", "Seoul, Osaka, Kobe and Tokyo", false),
    // bare NEAR is NEAR/10: 9 words between is distance 10, 10 words between is 11
    c("Seoul NEAR Tokyo", "", "Seoul one two three four five six seven eight nine Tokyo", true),
    c("Seoul NEAR Tokyo", "", "Seoul one two three four five six seven eight nine ten Tokyo", false),
    c("Seoul NEAR Tokyo", "", "Tokyo one two three four five six seven eight nine Seoul", true),
    // phrases
    c("\"Kim Jong Un\" NEAR/2 summit", "", "Kim Jong Un attends summit", true),
    c("\"Kim Jong Un\" NEAR/2 summit", "", "Kim Jong Un attends annual summit", false),
    c("\"Kim Jong Un\" NEAR/2 summit", "", "summit with Kim Jong-un", true),
    // wildcards
    c("sanction* NEAR/2 Iran", "", "Iran faces sanctions", true),
    c("sanction* NEAR/2 Iran", "", "sanctioned by Iran", true),
    c("sanction* NEAR/2 Iran", "", "sanctions imposed on Iran", false),
    // entities
    c("Russia NEAR/3 sanctions", "", "Russian Federation faces new sanctions", true),
    c("Russia NEAR/3 sanctions", "", "Russian Federation faces many new sanctions", false),
    c("\"North Korea\" NEAR/1 missile", "", "DPRK missile test", true),
    c("\"North Korea\" NEAR/1 missile", "", "DPRK tests missile", false),
    // same field only
    c("Seoul NEAR/1 Tokyo", "Seoul", "Tokyo", false),
    c("Seoul NEAR/1 Tokyo", "Seoul Tokyo", "", true),
    // any pair of occurrences
    c("Seoul NEAR/1 Tokyo", "", "Seoul far away from Tokyo, but Tokyo Seoul", true),
    // punctuation and block tags are not words
    c("Seoul NEAR/1 Tokyo", "", "Seoul — Tokyo", true),
    c("Seoul NEAR/1 Tokyo", "", "Seoul, Tokyo", true),
    c("Seoul NEAR/1 Tokyo", "", "<p>Seoul</p><p>Tokyo</p>", true),
    // a possessive is part of its word: "Russia's sanctions" are adjacent words
    c("Russia NEAR/1 sanctions", "", "Russia's sanctions", true),
    // NEAR inside boolean expressions
    c("Seoul NEAR/2 Tokyo AND summit", "", "Seoul and Tokyo hold summit", true),
    c("Seoul NEAR/2 Tokyo AND summit", "", "Seoul and Tokyo", false),
    c("summit NOT Seoul NEAR/2 Tokyo", "", "summit in Seoul with Tokyo", false),
    c("summit NOT Seoul NEAR/2 Tokyo", "", "summit: Seoul far away from Tokyo", true),
    // scoped operand
    c("title:(Seoul) NEAR/1 Tokyo", "Seoul Tokyo", "", true),
    c("title:(Seoul) NEAR/1 Tokyo", "", "Seoul Tokyo", false),
];

#[test]
fn near_distances() {
    assert_no_failures(NEAR.len(), run_table("near", true, NEAR));
}

// ---------------------------------------------------------------------------------------------
// Field scopes
// ---------------------------------------------------------------------------------------------

const fn f(
    query: &'static str,
    title: &'static str,
    body: &'static str,
    author: &'static str,
    category: &'static str,
    feed: &'static str,
    expect: bool,
) -> FieldCase {
    FieldCase { query, title, body, author, category, feed, expect }
}

const FIELDS: &[FieldCase] = &[
    f("title:(Pyongyang OR Seoul)", "Seoul talks", "", "", "", "", true),
    f("title:(Pyongyang OR Seoul)", "Talks", "Seoul", "", "", "", false),
    f("title:(Pyongyang OR Seoul)", "Pyong<b>yang</b> test", "", "", "", "", true),
    f("title:\"Kim Jong Un\"", "Kim Jong-un visits", "", "", "", "", true),
    f("body:\"Kim Jong Un\"", "Kim Jong Un", "", "", "", "", false),
    f("body:\"Kim Jong Un\"", "", "Kim Jong-un visits", "", "", "", true),
    f("body:(sanction*)", "", "new sanctions", "", "", "", true),
    f("title:Seoul", "Seoul talks", "", "", "", "", true),
    f("title:Seoul", "Tokyo", "Seoul", "", "", "", false),
    f("body:Seoul", "", "talks in Seoul", "", "", "", true),
    f("title:sanction*", "Sanctions bite", "", "", "", "", true),
    f("NOT title:Seoul", "Seoul talks", "", "", "", "", false),
    f("title:Seoul NEAR/1 Tokyo", "Seoul Tokyo", "", "", "", "", true),
    f("Reuters", "", "", "Reuters", "", "", false),
    f("author:Reuters", "", "", "Reuters", "", "", true),
    f("author:(Reuters)", "", "", "Reuters", "", "", true),
    f("author:(Reuters)", "Reuters", "Reuters", "", "", "", false),
    f("author:\"Jane Doe\"", "", "", "Jane Doe", "", "", true),
    f("author:\"Jane Doe\"", "", "", "Doe, Jane", "", "", false),
    f("Asia", "", "", "", "World | Asia", "", false),
    f("category:Asia", "", "", "", "World | Asia", "", true),
    f("category:(Asia)", "", "", "", "World | Asia", "", true),
    f("category:(EU)", "", "", "", "EU", "", true),
    f("category:(EU)", "", "", "", "eu", "", false),
    f("korea", "", "", "", "", "Asia Desk | korea", false),
    f("feed:korea", "", "", "", "", "Asia Desk | korea", true),
    f("feed:(korea OR japan)", "", "", "", "", "Asia Desk | japan", true),
    f("feed:\"Asia Desk\"", "", "", "", "", "Asia Desk | korea", true),
    f("feed:(korea)", "korea", "korea", "", "", "Europe Desk", false),
    f("title:(Seoul) AND body:(Tokyo)", "Seoul", "Tokyo", "", "", "", true),
    f("title:(Seoul) AND body:(Tokyo)", "Tokyo", "Seoul", "", "", "", false),
    f("NOT title:(Seoul)", "Tokyo", "Seoul", "", "", "", true),
    f("title:(Seoul OR Tokyo) NOT body:(Osaka)", "Seoul", "Osaka", "", "", "", false),
    f("title:(Seoul OR Tokyo) NOT body:(Osaka)", "Seoul", "Kobe", "", "", "", true),
    f("Seoul", "Seoul", "", "", "", "", true),
    f("Seoul", "", "Seoul", "", "", "", true),
    f("title:(\"Seoul Tokyo\")", "<p>Seoul</p><p>Tokyo</p>", "", "", "", "", true),
    f("title:(Russia)", "Russian Federation", "", "", "", "", true),
    f("title:(Russia)", "", "Russia", "", "", "", false),
];

#[test]
fn field_scopes() {
    let rows: Vec<(&str, Document, bool)> = FIELDS
        .iter()
        .map(|k| {
            let doc = Document {
                title: html_to_text(k.title),
                body: html_to_text(k.body),
                author: k.author.to_string(),
                category: k.category.to_string(),
                feed: k.feed.to_string(),
                ..Document::default()
            };
            (k.query, doc, k.expect)
        })
        .collect();
    assert_no_failures(FIELDS.len(), run_cases("fields", &[], true, &rows));
}

/// (query, feed body, article, expected): `body:` and unscoped terms cover the article too,
/// `article:` the article alone.
const ARTICLE_SCOPES: &[(&str, &str, &str, bool)] = &[
    ("MSMT", "", "The MSMT named an inspector.", true),
    ("body:MSMT", "", "The MSMT named an inspector.", true),
    ("article:MSMT", "", "The MSMT named an inspector.", true),
    ("article:MSMT", "The MSMT named an inspector.", "", false),
    ("article:MSMT", "The MSMT named an inspector.", "A teaser.", false),
    ("title:MSMT", "", "The MSMT named an inspector.", false),
    ("ministry NEAR/3 inspector", "The ministry", "named an inspector", false),
    ("ministry AND inspector", "The ministry", "named an inspector", true),
    ("ministry NOT article:inspector", "The ministry", "named an inspector", false),
];

#[test]
fn article_scopes() {
    let rows: Vec<(&str, Document, bool)> = ARTICLE_SCOPES
        .iter()
        .map(|(q, body, article, expect)| {
            let doc = Document { body: body.to_string(), article: article.to_string(), ..Document::default() };
            (*q, doc, *expect)
        })
        .collect();
    assert_no_failures(rows.len(), run_cases("article", &[], true, &rows));
    let Err(mut errors) = wirewatch::matcher::Matcher::compile(&[], &[watch("w", "artcle:MSMT")], false) else {
        panic!("a field a typo away is an error")
    };
    let e = errors.remove(0).to_string();
    assert!(e.contains("did you mean article"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Acronyms
// ---------------------------------------------------------------------------------------------

const ACRONYMS: &[Case] = &[
    c("UN", "", "UN envoy arrives", true),
    c("UN", "", "un-named sources", false),
    c("UN", "", "Kim Jong Un", false),
    c("UN", "", "the UN's report", true),
    c("UN", "", "ＵＮ envoy arrives", true),
    c("ＵＮ", "", "UN envoy arrives", true),
    c("US", "", "US troops", true),
    c("US", "", "tell us more", false),
    c("US", "", "a US-led coalition", true),
    c("EU", "", "EU summit", true),
    c("EU", "", "eu", false),
    c("DPRK", "", "Dprk", false),
    c("DPRK", "", "DPRK", true),
    c("RUSSIA", "", "Russia", true),
    c("RUSSIA", "", "russia", true),
    c("NASDAQ", "", "Nasdaq closes higher", true),
    c("UNICEF", "", "Unicef appeal", true),
    c("FLOOD", "", "Flood warning", false),
    c("FLOOD", "", "FLOOD WARNING", true),
    c("Un", "", "UN envoy", true),
    c("\"World Health Organization\"", "", "WHO warns", true),
    c("\"World Health Organization\"", "", "who warns", false),
    c("WHO", "", "who warns", false),
    c("WHO", "", "WHO warns", true),
];

const ACRONYMS_NO_GAZETTEER: &[Case] = &[
    c("UN", "", "Kim Jong Un", false),
    c("UN", "", "UN envoy", true),
    c("US", "", "tell us", false),
    c("US", "", "US troops", true),
];

#[test]
fn acronyms_are_case_sensitive() {
    let mut failures = run_table("acronyms", true, ACRONYMS);
    failures.extend(run_table("acronyms, builtin=false", false, ACRONYMS_NO_GAZETTEER));
    assert_no_failures(ACRONYMS.len() + ACRONYMS_NO_GAZETTEER.len(), failures);
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

const NORMALISATION: &[Case] = &[
    c("\"Sao Paulo\"", "", "São Paulo", true),
    c("\"São Paulo\"", "", "Sao Paulo", true),
    c("\"Sao Paulo\"", "", "S&atilde;o Paulo", true),
    c("\"São Paulo\"", "SÃO PAULO", "", true),
    c("Zürich", "", "Zurich", true),
    c("Zurich", "", "ZÜRICH", true),
    c("Istanbul", "İSTANBUL", "", true),
    c("Pyongyang", "", "Pyong<b>yang</b> talks", true),
    c("Pyongyang", "", "Pyong yang", false),
    c("Seoul", "", "<p>Seoul</p><p>Tokyo</p>", true),
    c("\"Seoul Tokyo\"", "", "<p>Seoul</p><p>Tokyo</p>", true),
    c("SeoulTokyo", "", "<p>Seoul</p><p>Tokyo</p>", false),
    c("Russia", "", "<script>Russia</script>News", false),
    c("Russia", "", "Russia's army", true),
    c("Russia", "", "Russia’s army", true),
    c("Russia", "", "Russia&#8217;s army", true),
    c("Kremlin", "", "the Kremlin’s view", true),
    c("Kremlin", "", "«Kremlin»", true),
    c("Kremlin", "", "the “Kremlin” said", true),
    c("\"Kim Jong Un\"", "", "Kim Jong-un", true),
    c("\"Kim Jong Un\"", "", "Kim Jong–un", true),
    c("\"Kim Jong Un\"", "", "KIM JONG‑UN", true),
    c("\"Kim Jong Un\"", "", "Kim&nbsp;Jong&#8209;un", true),
    c("\"Kim Jong Un\"", "", "Kim Jongun", false),
    c("\"Kim Jong-un\"", "", "Kim Jong Un", true),
    c("“Kim Jong Un”", "", "Kim Jong-un", true),
    c("\"long-range missile\"", "", "a long range missile", true),
    c("\"Côte d’Ivoire\"", "", "Cote d'Ivoire", true),
    c("finance", "", "ﬁnance ministers", true),
    c("Russia", "ＲＵＳＳＩＡ", "", true),
    c("AT&T", "", "AT&amp;T shares", true),
    c("Κύπρος", "ΚΥΠΡΟΣ", "", true),
    c("ΚΥΠΡΟΣ", "", "η Κύπρος", true),
    c("κύπρος", "", "Κύπρος", true),
];

#[test]
fn normalisation() {
    assert_no_failures(NORMALISATION.len(), run_table("normalisation", true, NORMALISATION));
}

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

const SCRIPTS: &[Case] = &[
    c("Москва", "", "Москва заявила", true),
    c("Москва", "", "Москвариум открылся", false),
    c("Москва", "МОСКВА", "", true),
    c("Москва", "", "Москва́ сегодня", true),
    c("москва", "", "Москва.", true),
    c("Αθήνα", "", "Η Αθήνα σήμερα", true),
    c("Αθήνα", "", "Αθηνα", true),
    c("Αθήνα", "", "Αθηναίοι", false),
    c("بغداد", "", "في بغداد اليوم", true),
    c("بغداد", "", "وبغداد", false),
    c("بغداد", "", "بَغْدَاد", true),
    c("ירושלים", "", "ירושלים היום", true),
    c("ירושלים", "", "בירושלים", false),
    c("ירושלים", "", "יְרוּשָׁלַיִם", true),
    c("中国", "", "中国政府表示", true),
    c("中国", "", "日本政府", false),
    c("北京", "", "在北京举行", true),
    c("북한", "", "북한이 미사일을", true),
    c("북한", "", "남한", false),
    c("ロシア", "", "ロシア政府は", true),
    c("ロシア", "", "ﾛｼｱ政府", true),
    c("とうきょう", "", "とうきょうと", true),
    c("Apple", "", "Apple公司", true),
    c("NATO", "", "美国和NATO的关系", true),
    c("NATO AND 关系", "", "美国和NATO的关系", true),
    c("\"G7 峰会\"", "", "G7峰会开幕", true),
    c("Москва", "", "Москва北京", true),
    c("nato*", "", "在NATO的", true),
];

#[test]
fn scripts() {
    assert_no_failures(SCRIPTS.len(), run_table("scripts", true, SCRIPTS));
}

// ---------------------------------------------------------------------------------------------
// User entities
// ---------------------------------------------------------------------------------------------

const MUSK: &[(&str, &[&str])] = &[("Elon Musk", &["Musk", "Tesla CEO"])];
const RUSSIA_PLUS: &[(&str, &[&str])] = &[("Russia", &["Kremlin"])];
const WFP: &[(&str, &[&str])] = &[("World Food Programme", &["WFP"])];
const NK_USER: &[(&str, &[&str])] = &[("North Korea", &["DPRK"])];
const NONE: &[(&str, &[&str])] = &[];

const fn e(
    entities: &'static [(&'static str, &'static [&'static str])],
    builtin: bool,
    query: &'static str,
    title: &'static str,
    body: &'static str,
    expect: bool,
) -> EntityCase {
    EntityCase { entities, builtin, query, title, body, expect }
}

const ENTITIES: &[EntityCase] = &[
    e(MUSK, true, "\"Elon Musk\"", "", "Tesla CEO speaks", true),
    e(MUSK, true, "\"elon musk\"", "", "Musk said", true),
    e(MUSK, true, "\"Elon Musk\"", "", "Elon Musk said", true),
    e(MUSK, true, "Musk", "", "Tesla CEO speaks", false),
    e(MUSK, true, "Musk", "", "Musk said", true),
    e(MUSK, true, "\"Tesla CEO\"", "", "Musk said", false),
    e(MUSK, false, "\"Elon Musk\"", "", "the Tesla CEO", true),
    e(RUSSIA_PLUS, true, "Russia", "", "the Kremlin says", true),
    e(RUSSIA_PLUS, true, "russia", "", "the Kremlin says", true),
    e(RUSSIA_PLUS, true, "Russia", "", "the Russian Federation says", true),
    e(RUSSIA_PLUS, true, "Kremlin", "", "Russia says", false),
    e(NONE, false, "\"North Korea\"", "", "DPRK fires missile", false),
    e(NONE, false, "\"North Korea\"", "", "North Korea fires missile", true),
    e(NONE, false, "Sudan", "", "South Sudan", true),
    e(NONE, false, "Russia", "", "Russian troops", false),
    e(WFP, false, "\"World Food Programme\"", "", "WFP convoy", true),
    e(WFP, false, "\"World Food Programme\"", "", "wfp convoy", false),
    e(NK_USER, false, "\"North Korea\"", "", "DPRK fires missile", true),
];

#[test]
fn user_entities_and_gazetteer_switch() {
    let mut failures = Vec::new();
    for k in ENTITIES {
        let group = format!("entities {:?} builtin={}", k.entities, k.builtin);
        let rows = vec![(k.query, story(k.title, k.body), k.expect)];
        failures.extend(run_cases(&group, &entity_defs(k.entities), k.builtin, &rows));
    }
    assert_no_failures(ENTITIES.len(), failures);
}

// ---------------------------------------------------------------------------------------------
// Gazetteer
// ---------------------------------------------------------------------------------------------

const GAZETTEER: &[Case] = &[
    c("Sudan", "", "South Sudan", false),
    c("Sudan", "", "South Sudanese refugees", false),
    c("Sudan", "", "Republic of South Sudan", false),
    c("Sudan", "", "Sudan", true),
    c("Sudan", "", "the Sudanese army", true),
    c("Sudan", "", "Sudan and South Sudan", true),
    c("\"South Sudan\"", "", "Sudan", false),
    c("Niger", "", "Nigeria", false),
    c("Niger", "", "Nigerian troops", false),
    c("Niger", "", "Niger", true),
    c("Niger", "", "Nigerien troops", true),
    c("Nigeria", "", "Niger", false),
    c("Guinea", "", "Guinea-Bissau", false),
    c("Guinea", "", "Guinea Bissau", false),
    c("Guinea", "", "Equatorial Guinea", false),
    c("Guinea", "", "Papua New Guinea", false),
    c("Guinea", "", "a Bissau-Guinean official", false),
    c("Guinea", "", "Conakry, Guinea", true),
    c("Guinea", "", "a Guinean official", true),
    c("Dominica", "", "Dominican Republic", false),
    c("Dominica", "", "a Dominican player", false),
    c("Dominica", "", "Dominica", true),
    c("\"Dominican Republic\"", "", "Dominica", false),
    c("\"Republic of the Congo\"", "", "Democratic Republic of the Congo", false),
    c("\"Republic of the Congo\"", "", "Republic of the Congo", true),
    c("Congo", "", "Democratic Republic of the Congo", false),
    c("Congo", "", "DR Congo", false),
    c("Congo", "", "D.R. Congo", false),
    c("Congo", "", "Congo-Brazzaville", true),
    c("Congo", "", "Republic of the Congo", true),
    c("Congo", "", "Congo", true),
    c("\"DR Congo\"", "", "Republic of the Congo", false),
    c("\"DR Congo\"", "", "Congo-Brazzaville", false),
    c("\"DR Congo\"", "", "Congo", false),
    c("\"DR Congo\"", "", "Democratic Republic of the Congo", true),
    c("\"DR Congo\"", "", "DRC", true),
    c("Russia", "", "Russian Federation", true),
    c("Russia", "", "Russian troops", true),
    c("\"North Korea\"", "", "DPRK", true),
    c("\"North Korea\"", "", "North Korean troops", true),
    c("\"North Korea\"", "", "Democratic People’s Republic of Korea", true),
    c("\"North Korea\"", "", "South Korea", false),
    c("\"South Korea\"", "", "Democratic People's Republic of Korea", false),
    c("\"United States\"", "", "US", true),
    c("\"United States\"", "", "us", false),
    c("\"United States\"", "", "U.S.", true),
    c("\"United States\"", "", "USA", true),
    c("\"North Atlantic Treaty Organization\"", "", "Nato", true),
    c("\"North Atlantic Treaty Organization\"", "", "NATO", true),
    c("NATO", "", "NATO summit", true),
    c("China", "", "People's Republic of China", true),
    c("China", "", "Republic of China", false),
    c("\"European Union\"", "", "EU", true),
    c("\"European Union\"", "", "eu", false),
];

#[test]
fn gazetteer_overlaps_and_aliases() {
    assert_no_failures(GAZETTEER.len(), run_table("gazetteer", true, GAZETTEER));
}

// ---------------------------------------------------------------------------------------------
// Overlapping names of one entity, and organs that are part of an organisation
// ---------------------------------------------------------------------------------------------

const UNSC_STORY: &str = "Pyongyang's arms transfers to Moscow are in violation of UN Security Council resolutions";

const OVERLAPS: &[Case] = &[
    c("\"Security Council\"", "", UNSC_STORY, true),
    c("UN", "", UNSC_STORY, true),
    c("\"United Nations\"", "", UNSC_STORY, true),
    c("\"United Nations Security Council\"", "", UNSC_STORY, true),
    c("\"UN Security Council\"", "", UNSC_STORY, true),
    c("UNSC", "", UNSC_STORY, false),
    c("\"Security Council\"", "", "a U.N. Security Council vote", true),
    c("UN", "", "the UN General Assembly voted", true),
    c("\"General Assembly\"", "", "the UN General Assembly voted", true),
    c("\"Security Council\" AND UN", "", UNSC_STORY, true),
    c("UN NEAR/1 \"Security Council\"", "", UNSC_STORY, true),
    c("\"European Union\"", "", "the Council of the EU agreed", true),
    c("EU", "", "the Council of the EU agreed", true),
    c("\"European Union\"", "", "the European Court of Human Rights ruled", false),
    c("\"United Nations\"", "", "the World Health Organization warned", false),
    c("\"United Nations\"", "", "the International Atomic Energy Agency said", false),
    c("\"United Nations\"", "", "the IMF said", false),
    // Different entities still resolve leftmost-longest.
    c("Sudan", "", "South Sudan and its neighbours", false),
    c("Niger", "", "Nigeria", false),
];

#[test]
fn names_of_one_entity_do_not_hide_each_other() {
    assert_no_failures(OVERLAPS.len(), run_table("overlaps", true, OVERLAPS));
}

/// Every `part of` pair of the gazetteer, as (parent, organ, the organ's other names tested).
/// Each gives the rows of [`part_of_cases`].
const PART_OF: &[(&str, &str, &[&str])] = &[
    ("United Nations", "United Nations Security Council", &["Security Council"]),
    ("United Nations", "United Nations General Assembly", &["UNGA"]),
    ("United Nations", "United Nations Human Rights Council", &["UNHRC"]),
    (
        "United Nations",
        "Office of the United Nations High Commissioner for Human Rights",
        &["UN High Commissioner for Human Rights"],
    ),
    ("United Nations", "UNHCR", &["UN Refugee Agency"]),
    ("United Nations", "UNICEF", &["UN Children's Fund"]),
    ("United Nations", "World Food Programme", &["UN World Food Programme"]),
    ("United Nations", "United Nations Development Programme", &["United Nations Development Program"]),
    ("United Nations", "United Nations Environment Programme", &["UN Environment"]),
    ("United Nations", "United Nations Population Fund", &["UN Population Fund"]),
    ("United Nations", "UN Women", &["United Nations Entity for Gender Equality and the Empowerment of Women"]),
    ("United Nations", "UNAIDS", &["Joint United Nations Programme on HIV/AIDS"]),
    ("United Nations", "UNRWA", &["UN Relief and Works Agency"]),
    (
        "United Nations",
        "Office for the Coordination of Humanitarian Affairs",
        &["United Nations Office for the Coordination of Humanitarian Affairs"],
    ),
    ("United Nations", "United Nations Office on Drugs and Crime", &["UN Office on Drugs and Crime"]),
    ("United Nations", "UNCTAD", &["UN Trade and Development"]),
    ("United Nations", "International Court of Justice", &["World Court"]),
    ("European Union", "Court of Justice of the European Union", &["ECJ"]),
    ("European Union", "Europol", &["European Union Agency for Law Enforcement Cooperation"]),
    ("European Union", "European Commission", &["EU Commission"]),
    ("European Union", "European Parliament", &["EU Parliament"]),
    ("European Union", "European Council", &[]),
    ("European Union", "Council of the European Union", &["Council of the EU"]),
    ("European Union", "European Central Bank", &["ECB"]),
    ("European Union", "European Investment Bank", &["EIB"]),
    ("European Union", "Frontex", &["European Border and Coast Guard Agency"]),
];

/// A body saying who made the statement.
fn statement_by(who: &str) -> String {
    format!("a statement by the {who} on Monday")
}

/// For each pair of [`PART_OF`], as (query, body, expect): the parent's query matches the
/// organ's name and each alias; the organ's query does not match the parent.
fn part_of_cases() -> Vec<(String, String, bool)> {
    let mut rows = Vec::new();
    for (parent, organ, aliases) in PART_OF {
        for name in std::iter::once(organ).chain(*aliases) {
            rows.push((format!("\"{parent}\""), statement_by(name), true));
        }
        rows.push((format!("\"{organ}\""), statement_by(parent), false));
    }
    rows
}

#[test]
fn an_organ_is_a_mention_of_its_organisation() {
    let cases = part_of_cases();
    let rows: Vec<(&str, Document, bool)> =
        cases.iter().map(|(q, body, e)| (q.as_str(), story("", body), *e)).collect();
    assert_no_failures(rows.len(), run_cases("part of", &[], true, &rows));
}

#[test]
fn every_part_of_pair_of_the_gazetteer_has_a_case() {
    let g = wirewatch::matcher::gazetteer::get();
    let cases = part_of_cases();
    let mut missing = Vec::new();
    for e in &g.entries {
        for parent in &e.part_of {
            let query = format!("\"{parent}\"");
            let body = statement_by(&e.name);
            if !cases.iter().any(|(q, b, expect)| *q == query && *b == body && *expect) {
                missing.push(format!("{} part of {parent}", e.name));
            }
        }
    }
    assert!(missing.is_empty(), "part-of pairs without a case: {missing:?}");
}

// ---------------------------------------------------------------------------------------------
// Empty text
// ---------------------------------------------------------------------------------------------

const EMPTY: &[Case] = &[
    c("flood", "", "", false),
    c("NOT flood", "", "", true),
    c("flood", "", "flood", true),
    c("flood", "flood", "", true),
    c("title:(flood)", "", "flood", false),
    c("NOT title:(flood)", "", "", true),
    c("Seoul NEAR/1 Tokyo", "", "", false),
    c("Russia", "", "", false),
    c("\"Kim Jong Un\"", "<p></p>", "<br/>", false),
    c("sanction*", "", "", false),
];

#[test]
fn empty_titles_and_bodies() {
    let mut failures = run_table("empty", true, EMPTY);
    // A story with every field empty: no panic, and only the watches that need no hit match.
    let m = Matcher::compile(
        &[],
        &[watch("a", "flood"), watch("b", "NOT flood"), watch("c", "author:(x) OR feed:(y)"), watch("d", "NOT UN")],
        true,
    )
    .expect("valid queries");
    let got: Vec<String> = m.match_document(&Document::default()).into_iter().map(|w| w.watch.to_string()).collect();
    if got != ["b", "d"] {
        failures.push(format!("[empty] all-empty document -> expected watches [\"b\", \"d\"], got {got:?}"));
    }
    assert_no_failures(EMPTY.len() + 1, failures);
}

// ---------------------------------------------------------------------------------------------
// What matched
// ---------------------------------------------------------------------------------------------

fn term(term: &str, text: &str, field: Field, start: usize, end: usize) -> MatchedTerm {
    MatchedTerm { term: term.into(), text: text.into(), field, start, end }
}

fn matched_of(query: &str, doc: &Document) -> Result<Vec<MatchedTerm>, String> {
    let m = Matcher::compile(&[], &[watch("w", query)], true).map_err(|e| format!("{e:?}"))?;
    let hits = m.match_document(doc);
    match hits.as_slice() {
        [one] if &*one.watch == "w" => Ok(one.matched.clone()),
        other => Err(format!("expected exactly watch \"w\" to match, got {other:?}")),
    }
}

#[test]
fn matched_terms_locate_the_story_text() {
    let mut failures = Vec::new();
    let mut check = |query: &str, doc: Document, expected: Vec<MatchedTerm>| match matched_of(query, &doc) {
        Ok(got) if got == expected => {}
        Ok(got) => failures.push(format!("{} -> expected {expected:?}\n      got {got:?}", describe(query, &doc))),
        Err(e) => failures.push(format!("{} -> {e}", describe(query, &doc))),
    };

    // An entity alias, located by characters (not bytes) after accented text.
    check(
        "Russia",
        story("", "Après la réunion, the Russian Federation’s envoy left"),
        vec![term("Russia", "Russian Federation", Field::Body, 22, 40)],
    );
    // A phrase found across a hyphen, and the other side of a NEAR.
    check(
        "\"Kim Jong Un\" NEAR/2 summit",
        story("Kim Jong-un attends summit", ""),
        vec![term("Kim Jong Un", "Kim Jong-un", Field::Title, 0, 11), term("summit", "summit", Field::Title, 20, 26)],
    );
    // Offsets are into the plain text (after HTML is removed); NOT terms are not reported.
    check(
        "\"Sao Paulo\" NOT Rio",
        story("", "<p>Rain in S&atilde;o Paulo</p>"),
        vec![term("Sao Paulo", "São Paulo", Field::Body, 8, 17)],
    );
    // A substring match in Hangul, beside a scoped term in the same title.
    check(
        "북한 AND title:(Seoul)",
        story("Seoul: 북한이 반발", "북한"),
        vec![
            term("Seoul", "Seoul", Field::Title, 0, 5),
            term("북한", "북한", Field::Title, 7, 9),
            term("북한", "북한", Field::Body, 0, 2),
        ],
    );

    // A wildcard reports the whole word it matched.
    match matched_of("title:(sanction*)", &story("New sanctions on Iran", "")) {
        Ok(got)
            if got.len() == 1
                && got[0].text == "sanctions"
                && got[0].field == Field::Title
                && (got[0].start, got[0].end) == (4, 13) => {}
        other => {
            failures.push(format!("query \"title:(sanction*)\" | title \"New sanctions on Iran\" -> got {other:?}"))
        }
    }

    assert!(failures.is_empty(), "{} of 5 matched-term checks failed:\n  {}", failures.len(), failures.join("\n  "));
}

#[test]
fn matched_terms_are_located_alike_whatever_else_matched() {
    // Watches whose hits interleave in a field with multi-byte characters: each one's report
    // must be the one it gets alone.
    let doc = story(
        "Élysée: Зеленский and Macron",
        "À Kyiv, Macron met Зеленский; later, in Paris, Зеленский thanked Macron. Kyiv Élysée",
    );
    let queries = ["Macron", "Зеленский", "Paris OR Kyiv", "Kyiv", "Élysée NEAR/3 Macron"];
    let watches: Vec<WatchDef> = queries.iter().enumerate().map(|(i, q)| watch(&format!("w{i}"), q)).collect();
    let together = Matcher::compile(&[], &watches, true).expect("queries compile").match_document(&doc);
    assert_eq!(together.len(), queries.len(), "{together:?}");
    for (found, query) in together.iter().zip(queries) {
        let alone = matched_of(query, &doc).expect("the watch matches alone");
        assert_eq!(found.matched, alone, "{query}");
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed queries
// ---------------------------------------------------------------------------------------------

/// (query, message, column)
const MALFORMED: &[(&str, &str, usize)] = &[
    ("", "the query is empty", 1),
    ("   ", "the query is empty", 1),
    ("\"Kim Jong Un", "unclosed quote", 1),
    ("Seoul \"Kim", "unclosed quote", 7),
    ("(Seoul OR Tokyo", "unclosed '('", 1),
    ("Seoul AND (Tokyo OR (Osaka)", "unclosed '('", 11),
    ("Seoul)", "unexpected ')' without a matching '('", 6),
    ("(Seoul) Tokyo)", "unexpected ')' without a matching '('", 14),
    (")Seoul", "unexpected ')' without a matching '('", 1),
    ("Seoul AND", "expected a term after AND", 7),
    ("Seoul AND )", "expected a term after AND", 11),
    ("Seoul OR", "expected a term after OR", 7),
    ("AND Seoul", "expected a term, found an operator", 1),
    ("Seoul NOT", "expected a term after NOT", 7),
    ("sanctions AND NOT", "expected a term after NOT", 15),
    ("NOT", "expected a term after NOT", 1),
    ("ab*", "a wildcard needs at least 3 letters before the *", 1),
    ("Seoul OR ab*", "a wildcard needs at least 3 letters before the *", 10),
    ("Seoul NEAR", "expected a term after NEAR", 7),
    ("Seoul NEAR/3", "expected a term after NEAR", 7),
    ("NEAR Seoul", "NEAR needs a term on its left", 1),
    ("Seoul NEAR/0 Tokyo", "NEAR/n needs a whole number of words of 1 or more, not \"0\"", 7),
    ("\"\"", "the phrase \"\" has no letters or digits to match", 1),
    ("title:(Seoul", "unclosed '('", 7),
    ("title:", "expected a term after title:", 1),
    (
        "rock or roll",
        "\"or\" is not an operator: write OR in capitals to combine terms; quote \"or\" to search the word",
        6,
    ),
    (
        "war and peace",
        "\"and\" is not an operator: write AND in capitals to combine terms; quote \"and\" to search the word",
        5,
    ),
    (
        "not guilty",
        "\"not\" is not an operator: write NOT in capitals to exclude a term; quote \"not\" to search the word",
        1,
    ),
    (
        "Seoul near/5 Tokyo",
        "\"near/5\" is not an operator: write NEAR/5 in capitals to find terms close together; quote \"near/5\" to search the word",
        7,
    ),
    (
        "sanc*ions",
        "\"sanc*ions\" never matches: a * stands only at the end of a word, as in sanc*; quote it to search the text",
        1,
    ),
];

#[test]
fn malformed_queries_are_reported_with_their_column() {
    let mut failures = Vec::new();
    for (query, message, column) in MALFORMED {
        let expected_first = format!("watch \"w\": {message} (column {column})");
        let expected = format!("{expected_first}\n    {query}\n    {}^", " ".repeat(column - 1));
        match Matcher::compile(&[], &[watch("w", query)], true) {
            Ok(_) => failures.push(format!("query {query:?} -> expected error {expected_first:?}, but it compiled")),
            Err(errs) => {
                let got: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                let first_line = got.first().and_then(|g| g.lines().next()).unwrap_or("");
                if !first_line.starts_with("watch \"w\": ") || !first_line.contains(&format!("(column {column})")) {
                    failures.push(format!("query {query:?} -> first line {first_line:?} lacks the watch or column"));
                }
                if got != [expected.clone()] {
                    failures.push(format!("query {query:?} -> expected {expected:?}, got {got:?}"));
                }
                if errs.len() == 1 && errs[0].watch_index != 0 {
                    failures.push(format!("query {query:?} -> watch_index {}", errs[0].watch_index));
                }
            }
        }
    }

    // Every bad watch is reported, with its index, and the good ones do not hide them.
    let watches = [watch("good", "Seoul"), watch("bad1", "ab*"), watch("good2", "Tokyo"), watch("bad2", "Seoul NEAR")];
    match Matcher::compile(&[], &watches, true) {
        Ok(_) => failures.push("two bad watches among good ones compiled".into()),
        Err(errs) => {
            let got: Vec<(usize, String)> = errs.iter().map(|e| (e.watch_index, e.watch.clone())).collect();
            if got != [(1, "bad1".to_string()), (3, "bad2".to_string())] {
                failures.push(format!("several bad watches -> expected [(1, bad1), (3, bad2)], got {got:?}"));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {} malformed-query checks failed:\n  {}",
        failures.len(),
        MALFORMED.len() + 1,
        failures.join("\n  ")
    );
}
