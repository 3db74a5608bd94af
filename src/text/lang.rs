//! The language a story is written in, as an ISO 639-1 code, told from its text with whatlang.
//!
//! Pure: a function of the text alone. whatlang was measured against lingua on the labelled
//! multilingual set (`tests/fixtures/multilingual/`, 86 stories in 14 languages): on title and
//! body, which is what is detected here, whatlang told 85 of 86 and lingua all 86; the miss was
//! Persian typed with Arabic yeh, which the Persian letters rule below decides. On titles alone
//! lingua did better (86 against 74), but it added 58 MB to the binary and 17 minutes of
//! single-core compile time for its language models, against seconds for whatlang.

use whatlang::{Lang, Script};

/// Below this whatlang confidence a story in Latin script is of unknown language rather than a
/// guess: the wrong answers on the labelled set came with confidences of 0.03 to 0.18, and most
/// right ones above 0.5.
const MIN_CONFIDENCE: f64 = 0.2;

/// Letters Persian writes and Arabic does not (peh, tcheh, jeh, gaf, keheh, Farsi yeh).
const PERSIAN_LETTERS: &[char] = &['\u{067E}', '\u{0686}', '\u{0698}', '\u{06AF}', '\u{06A9}', '\u{06CC}'];

/// Bytes of the body read after the title: whatlang's cost grows with the text, its answer
/// hardly does past a few sentences. Reading whole bodies made detection a quarter of a first
/// poll's CPU time on the feed farm. On the stories of the 200-file corpus with longer bodies,
/// the answer from this much is the whole text's for 1,054 of 1,059 (3 name another language,
/// all on one Russian site of quotes); from 600 bytes, for 912 of 915; from 250, 1,406 of 1,420
/// (7 flips).
const BODY_SAMPLE: usize = 400;

/// The language of a story with `title` and `body` (its first [`BODY_SAMPLE`] bytes), or `None`
/// when it cannot be told.
pub fn detect(title: &str, body: &str) -> Option<&'static str> {
    let text = format!("{title}. {}", &body[..super::floor_char_boundary(body, BODY_SAMPLE)]);
    let info = whatlang::detect(&text)?;
    if info.script() == Script::Arabic && matches!(info.lang(), Lang::Ara | Lang::Pes | Lang::Urd) {
        // whatlang weighs trigrams; a single Persian letter settles it.
        let persian = text.contains(PERSIAN_LETTERS);
        return Some(if persian && info.lang() != Lang::Urd { "fa" } else { iso639_1(info.lang())? });
    }
    // Latin script is shared by the languages whatlang confuses on short text (es/pt, en/fr);
    // within Cyrillic, Arabic and the single-language scripts its answer held on the labelled set.
    let sure = info.confidence() >= MIN_CONFIDENCE || info.script() != Script::Latin;
    if sure { iso639_1(info.lang()) } else { None }
}

/// Whether `code` is an ISO 639-1 code of a language that can be detected.
pub fn is_known(code: &str) -> bool {
    CODES.iter().any(|(_, c)| *c == code)
}

/// The ISO 639-1 codes that can be detected, sorted.
pub fn known_codes() -> Vec<&'static str> {
    let mut v: Vec<&str> = CODES.iter().map(|(_, c)| *c).collect();
    v.sort_unstable();
    v
}

fn iso639_1(l: Lang) -> Option<&'static str> {
    CODES.iter().find(|(lang, _)| *lang == l).map(|(_, c)| *c)
}

/// whatlang's languages that have an ISO 639-1 code.
const CODES: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"),
    (Lang::Eng, "en"),
    (Lang::Rus, "ru"),
    (Lang::Cmn, "zh"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Ita, "it"),
    (Lang::Ben, "bn"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ukr, "uk"),
    (Lang::Kat, "ka"),
    (Lang::Ara, "ar"),
    (Lang::Hin, "hi"),
    (Lang::Jpn, "ja"),
    (Lang::Heb, "he"),
    (Lang::Yid, "yi"),
    (Lang::Pol, "pl"),
    (Lang::Amh, "am"),
    (Lang::Jav, "jv"),
    (Lang::Kor, "ko"),
    (Lang::Nob, "nb"),
    (Lang::Dan, "da"),
    (Lang::Swe, "sv"),
    (Lang::Fin, "fi"),
    (Lang::Tur, "tr"),
    (Lang::Nld, "nl"),
    (Lang::Hun, "hu"),
    (Lang::Ces, "cs"),
    (Lang::Ell, "el"),
    (Lang::Bul, "bg"),
    (Lang::Bel, "be"),
    (Lang::Mar, "mr"),
    (Lang::Kan, "kn"),
    (Lang::Ron, "ro"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Srp, "sr"),
    (Lang::Mkd, "mk"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Est, "et"),
    (Lang::Tam, "ta"),
    (Lang::Vie, "vi"),
    (Lang::Urd, "ur"),
    (Lang::Tha, "th"),
    (Lang::Guj, "gu"),
    (Lang::Uzb, "uz"),
    (Lang::Pan, "pa"),
    (Lang::Aze, "az"),
    (Lang::Ind, "id"),
    (Lang::Tel, "te"),
    (Lang::Pes, "fa"),
    (Lang::Mal, "ml"),
    (Lang::Ori, "or"),
    (Lang::Mya, "my"),
    (Lang::Nep, "ne"),
    (Lang::Sin, "si"),
    (Lang::Khm, "km"),
    (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"),
    (Lang::Zul, "zu"),
    (Lang::Sna, "sn"),
    (Lang::Afr, "af"),
    (Lang::Lat, "la"),
    (Lang::Slk, "sk"),
    (Lang::Cat, "ca"),
    (Lang::Tgl, "tl"),
    (Lang::Hye, "hy"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_languages_of_short_news() {
        assert_eq!(
            detect("North Korea and Russia sign defence pact", "The treaty was signed on Wednesday."),
            Some("en")
        );
        assert_eq!(detect("КНДР и Россия подписали договор", "Договор подписан в Пхеньяне."), Some("ru"));
        assert_eq!(detect("북한과 러시아, 조약 체결", ""), Some("ko"));
        assert_eq!(detect("بازرسان آژانس بين المللي", "مدیر آژانس به تهران سفر کرد."), Some("fa"));
        assert_eq!(detect("", ""), None);
    }

    #[test]
    fn every_code_is_known_and_unique() {
        let codes = known_codes();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(is_known("uk") && is_known("fa") && !is_known("xx") && !is_known("ukr"));
    }
}
