//! What a feed document says about itself beyond its stories: how often to poll it (RSS `ttl`,
//! the syndication module's `updatePeriod`/`updateFrequency`), and its text encoding: from the
//! HTTP header when the document declares none, else detected from the bytes (chardetng) when
//! they are not UTF-8. The order is the byte-order mark, the XML declaration, the HTTP
//! charset, then detection.

use std::borrow::Cow;
use std::time::Duration;

/// How much of the document's start is searched for channel-level hints.
const HINT_WINDOW: usize = 16 * 1024;

/// The `sy:updatePeriod` / `sy:updateFrequency` pair as a duration (`daily` and `2`: 12 hours).
pub fn syndication_period(bytes: &[u8]) -> Option<Duration> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(HINT_WINDOW)]);
    let period = element_text(&head, "updatePeriod")?;
    let secs: u64 = match period.to_ascii_lowercase().as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency = element_text(&head, "updateFrequency").and_then(|f| f.parse::<u64>().ok()).filter(|&f| f > 0);
    Some(Duration::from_secs(secs / frequency.unwrap_or(1)))
}

/// The text of the first `<prefix:name>` (any prefix) in `s`, trimmed.
fn element_text<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let at = s.find(&format!("{name}>"))?;
    let open_end = at + name.len() + 1;
    let close = s[open_end..].find('<')?;
    // Make sure this was an opening tag: `<name>` or `<prefix:name>`.
    let before = &s[..at];
    let tag_start = before.rfind('<')?;
    if before[tag_start + 1..].contains(['/', ' ', '>']) {
        return None;
    }
    Some(s[open_end..open_end + close].trim())
}

/// `bytes` re-encoded as UTF-8 when they carry no byte-order mark, declare no encoding of
/// their own, and the HTTP `charset` names another one; otherwise unchanged.
pub fn apply_http_charset<'a>(bytes: &'a [u8], charset: Option<&str>) -> Cow<'a, [u8]> {
    let Some(encoding) = charset.and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes())) else {
        return Cow::Borrowed(bytes);
    };
    if encoding == encoding_rs::UTF_8 || encoding_rs::Encoding::for_bom(bytes).is_some() || declares_encoding(bytes) {
        return Cow::Borrowed(bytes);
    }
    let (text, _, _) = encoding.decode(bytes);
    Cow::Owned(text.into_owned().into_bytes())
}

/// The document decoded to UTF-8 from the encoding its bytes suggest, when it has no
/// byte-order mark, declares no encoding and is not UTF-8; otherwise `None`.
pub fn detect_encoding(bytes: &[u8]) -> Option<String> {
    // The checks of the first bytes before the one of the whole document.
    if encoding_rs::Encoding::for_bom(bytes).is_some() || declares_encoding(bytes) || std::str::from_utf8(bytes).is_ok()
    {
        return None;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    Some(encoding.decode_without_bom_handling(bytes).0.into_owned())
}

/// Whether an XML declaration at the start names an encoding.
fn declares_encoding(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with("<?xml") && text.find("?>").is_some_and(|end| text[..end].contains("encoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_syndication_module() {
        let rss = br#"<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
            <sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>"#;
        assert_eq!(syndication_period(rss), Some(Duration::from_secs(43_200)));
        assert_eq!(
            syndication_period(b"<rss><channel><sy:updatePeriod>hourly</sy:updatePeriod>"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(syndication_period(b"<rss><channel><title>x</title>"), None);
        assert_eq!(syndication_period(b"<sy:updatePeriod>fortnightly</sy:updatePeriod>"), None);
    }

    #[test]
    fn undeclared_legacy_encodings_are_detected() {
        let (koi8, _, _) = encoding_rs::KOI8_R
            .encode("<rss><channel><title>Новости дня: правительство объявило о новых мерах</title></channel></rss>");
        assert!(detect_encoding(&koi8).unwrap().contains("Новости дня"));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("<rss><channel><title>東京の天気予報と今日のニュースです</title></channel></rss>");
        assert!(detect_encoding(&sjis).unwrap().contains("東京の天気予報"));
        assert_eq!(detect_encoding("<rss>Café</rss>".as_bytes()), None, "UTF-8 stays as it is");
        assert_eq!(detect_encoding(b"<?xml version=\"1.0\" encoding=\"koi8-r\"?><rss>\xee</rss>"), None);
    }

    #[test]
    fn the_http_charset_fills_in_for_a_missing_declaration() {
        let latin1 = b"<?xml version=\"1.0\"?><rss><channel><title>Caf\xe9</title></channel></rss>";
        let fixed = apply_http_charset(latin1, Some("iso-8859-1"));
        assert!(String::from_utf8(fixed.into_owned()).unwrap().contains("Café"));
        let declared = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>";
        assert!(matches!(apply_http_charset(declared, Some("iso-8859-1")), Cow::Borrowed(_)));
        assert!(matches!(apply_http_charset(latin1, Some("utf-8")), Cow::Borrowed(_)));
        assert!(matches!(apply_http_charset(latin1, None), Cow::Borrowed(_)));
    }
}
