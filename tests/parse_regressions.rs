//! One regression test per feed-reading gap, each on a small fixture in
//! `tests/fixtures/parsing/` (see its `SOURCE`): formats, repairs, encodings, text, links,
//! dates, keys, and that a document with items never yields nothing quietly.

use std::path::PathBuf;

use wirewatch::feed::{ParseError, ParsedFeed, Repair, parse};

const BASE: &str = "https://example.org/feeds/wire.xml";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parsing").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str) -> ParsedFeed {
    parse(&fixture(name), Some(BASE)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.stories.iter().map(|s| s.title.as_str()).collect()
}

fn urls(feed: &ParsedFeed) -> Vec<Option<&str>> {
    feed.stories.iter().map(|s| s.url.as_deref()).collect()
}

fn date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc())
}

#[test]
fn atom_0_3_is_read_like_atom_1_0() {
    let feed = read("atom03.xml");
    assert_eq!(feed.title.as_deref(), Some("Atom 0.3 wire"));
    assert_eq!(titles(&feed), ["Escaped content", "Base64 content"]);
    assert_eq!(urls(&feed), [Some("https://example.org/a/1"), Some("https://example.org/a/2")]);
    assert_eq!(feed.stories[0].published, date("2004-01-02T10:00:00Z"), "issued");
    assert_eq!(feed.stories[1].published, date("2004-01-04T10:00:00Z"), "modified when not issued");
    assert_eq!(feed.stories[0].body, "Talks resumed today.", "mode=escaped is HTML");
    assert_eq!(feed.stories[1].body, "Treaty signed", "mode=base64 is decoded");
}

#[test]
fn rss_0_93_and_0_94_are_feeds() {
    for name in ["rss093.xml", "rss094.xml"] {
        let feed = read(name);
        assert_eq!(titles(&feed), ["First", "Second"], "{name}");
        assert_eq!(feed.stories[0].published, date("2004-01-02T10:00:00Z"), "{name}");
    }
}

#[test]
fn rdf_items_without_a_link_use_rdf_about() {
    let feed = read("rdf_about.xml");
    assert_eq!(urls(&feed), [Some("https://example.org/rdf/1"), Some("https://example.org/rdf/2/page")]);
    assert_eq!(feed.stories[0].published, date("2004-01-02T10:00:00Z"));
    let old = read("rss090_about.xml");
    assert_eq!(urls(&old), [Some("https://example.org/090/1")]);
}

#[test]
fn rss_2_in_a_default_namespace_is_read() {
    let feed = read("rss2_default_ns.xml");
    assert_eq!(titles(&feed), ["One", "Two"]);
}

#[test]
fn an_unknown_or_empty_text_type_is_read_as_text() {
    let feed = read("atom_unknown_type.xml");
    assert_eq!(feed.title.as_deref(), Some("Typed oddly"));
    assert_eq!(titles(&feed), ["Custom type title", "Base64 title"]);
    assert_eq!(feed.stories[0].body, "An empty type is text");
}

#[test]
fn bare_ampersands_and_html_entities_are_read_leniently_with_a_warning_naming_the_line() {
    let feed = read("bare_amp.xml");
    assert_eq!(feed.title.as_deref(), Some("Fish & Chips"));
    assert_eq!(titles(&feed), ["Cod & chips © &bogus;", "Second"]);
    assert_eq!(feed.stories[0].url.as_deref(), Some("https://example.org/f/1?a=1&b=2"));
    assert_eq!(feed.repairs, [Repair::Entity { line: 4 }]);
    assert_eq!(feed.repairs[0].to_string(), "read leniently: a bare `&` or an entity XML does not define at line 4");
}

#[test]
fn a_broken_item_is_skipped_and_counted_and_the_others_kept() {
    let feed = read("broken_item.xml");
    assert_eq!(titles(&feed), ["Good one", "Good two"]);
    assert_eq!(feed.skipped(), 1);
    assert_eq!(feed.repairs, [Repair::SkippedItem { line: 6 }]);
    let atom = read("broken_entry.xml");
    assert_eq!(titles(&atom), ["Good", "Also good"]);
    assert_eq!(atom.skipped(), 1);
}

#[test]
fn legacy_encodings_without_a_declaration_are_detected() {
    let samples: [(&'static encoding_rs::Encoding, &str); 8] = [
        (encoding_rs::WINDOWS_1252, "Le président a annoncé une réforme économique très attendue à Genève"),
        (encoding_rs::ISO_8859_2, "Prezydent ogłosił reformę gospodarczą, która zmieni życie wielu ludzi"),
        (encoding_rs::KOI8_R, "Правительство объявило о новых мерах поддержки экономики страны"),
        (encoding_rs::SHIFT_JIS, "東京の天気予報と今日のニュースをお伝えします。政府は新しい政策を発表しました"),
        (encoding_rs::EUC_KR, "정부는 오늘 새로운 경제 정책을 발표했습니다. 국민들의 반응이 주목됩니다"),
        (encoding_rs::GB18030, "政府今天宣布了新的经济政策，市场反应积极，专家认为这将促进经济增长"),
        (encoding_rs::BIG5, "政府今天宣布了新的經濟政策，市場反應積極，專家認為這將促進經濟增長"),
        (encoding_rs::ISO_8859_7, "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία της χώρας"),
    ];
    for (encoding, title) in samples {
        let doc = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>c</title>\
             <item><guid>1</guid><title>{title}</title><description>{title}</description></item></channel></rss>"
        );
        let (bytes, _, unmappable) = encoding.encode(&doc);
        assert!(!unmappable, "{}", encoding.name());
        let feed = parse(&bytes, None).unwrap_or_else(|e| panic!("{}: {e}", encoding.name()));
        assert_eq!(feed.stories[0].title, title, "{}", encoding.name());
    }
}

#[test]
fn the_http_charset_and_the_xml_declaration_win_over_detection() {
    // Bytes that detection could read another way: the declaration says what they are.
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(
        "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel><title>c</title>\
         <item><guid>1</guid><title>Новости</title></item></channel></rss>",
    );
    assert_eq!(parse(&bytes, None).unwrap().stories[0].title, "Новости");
    let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(
        "<rss version=\"2.0\"><channel><title>c</title><item><guid>1</guid><title>Café</title></item></channel></rss>",
    );
    let decoded = wirewatch::feed::apply_http_charset(&latin1, Some("iso-8859-1"));
    assert_eq!(parse(&decoded, None).unwrap().stories[0].title, "Café");
}

#[test]
fn text_is_read_as_the_feed_meant_it() {
    let feed = read("text_types.xml");
    assert_eq!(titles(&feed), ["History of the <blink> tag", "Markets rally on & news", "Raw markup keeps words"]);
    let rss = read("rss_naked_title.xml");
    assert_eq!(titles(&rss), ["Summit ends today", "Escaped markup too"]);
}

#[test]
fn links_are_alternate_or_permalink_guids_never_other_relations() {
    let feed = read("links.xml");
    assert_eq!(
        urls(&feed),
        [Some("https://example.org/l/1"), None, Some("https://example.org/news/story/3")],
        "a permalink guid, never comments or an enclosure; xml:base first"
    );
    let atom = read("atom_links.xml");
    assert_eq!(
        urls(&atom),
        [None, Some("https://example.org/l/2"), Some("https://example.org/feeds/l/3")],
        "never self, via, license, replies or enclosure; then the document's URL"
    );
}

#[test]
fn dates_and_titles_come_from_other_vocabularies() {
    let feed = read("dates.xml");
    let days: Vec<u32> = feed.stories.iter().map(|s| chrono::Datelike::day(&s.published.unwrap())).collect();
    assert_eq!(days, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(feed.stories[6].title, "Title from dc:title");
}

#[test]
fn untitled_undated_items_without_links_keep_distinct_keys() {
    let feed = read("untitled.xml");
    let mut keys: Vec<&str> = feed.stories.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys.len(), 3);
    keys.dedup();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(read("untitled.xml").stories[0].key, feed.stories[0].key, "stable across parses");
}

#[test]
fn a_document_with_entries_that_yields_no_story_is_an_error() {
    let e = parse(&fixture("no_stories.xml"), Some(BASE)).unwrap_err();
    assert!(matches!(e, ParseError::NoStories { items: 2, .. }), "{e}");
    assert!(e.to_string().starts_with("no stories: the document has 2 item or entry elements"), "{e}");
    let empty = parse(b"<rss version=\"2.0\"><channel><title>t</title></channel></rss>", None).unwrap();
    assert!(empty.stories.is_empty(), "a feed without items is fine");
}
