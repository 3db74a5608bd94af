//! Turns the `toml` crate's errors into [`ConfigError`]s in the user's words: the key named,
//! and Rust's type names replaced by what to write.
//!
//! Only the wording changes; the place is the crate's span, so file:line:col stay exact.

use std::ops::Range;
use std::path::Path;

use super::ConfigError;

/// The error for config text `text` of `file` that did not parse into the raw config.
pub(super) fn config_error(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim_end();
    let message = match (key_path(e), message) {
        (_, "duplicate key") => duplicate(text, span.clone()),
        (Some(key), "wanted string or table") => format!("{key}: expected a string in quotes"),
        (Some(key), m) => match m.strip_prefix("invalid type: ").and_then(|m| m.rsplit_once(", expected ")) {
            Some((found, expected)) => {
                format!("{key}: expected {}, found {}", expected_words(expected), found_words(found))
            }
            None => m.to_string(),
        },
        (None, m) => m.to_string(),
    };
    ConfigError::at(file, text, span, message)
}

/// The dotted key an error is about (`poll.concurrency`). The crate records it but shows it
/// only in the text of an error that carries no source (a last line "in `poll.concurrency`").
fn key_path(e: &toml::de::Error) -> Option<String> {
    let mut bare = e.clone();
    bare.set_input(None);
    let shown = bare.to_string();
    let key = shown.lines().last()?.strip_prefix("in `")?.strip_suffix('`')?;
    Some(key.to_string())
}

/// What serde expected, in the words of a config file.
fn expected_words(serde: &str) -> &str {
    match serde {
        "i64" => "a whole number",
        "a boolean" => "true or false",
        "a string" => "a string in quotes",
        "a sequence" => "a list in brackets such as [\"a\", \"b\"]",
        s if s.starts_with("struct ") => "a table",
        s => s,
    }
}

/// What serde found (`string "8"`, ``integer `100` ``), in the words of a config file.
fn found_words(serde: &str) -> String {
    let described = [("string ", "the string "), ("integer ", "the number "), ("floating point ", "the number ")];
    for (prefix, words) in described {
        if let Some(value) = serde.strip_prefix(prefix) {
            // The value stands between backticks, which a note may follow (`` `1e30` as i128 ``).
            let value = value.strip_prefix('`').and_then(|v| v.split('`').next()).unwrap_or(value);
            return format!("{words}{value}");
        }
    }
    match serde {
        "boolean `true`" => "true".into(),
        "boolean `false`" => "false".into(),
        "sequence" => "a list".into(),
        "map" => "a table or a date".into(),
        other => other.into(),
    }
}

/// The crate says only "duplicate key"; its span covers the key or table name in `text`.
fn duplicate(text: &str, span: Range<usize>) -> String {
    let (Some(name), Some(before)) = (text.get(span.clone()), text.get(..span.start)) else {
        return "duplicate key".into();
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    if let Some(table) = text[line_start..].lines().next().and_then(header) {
        return format!("table {table} is defined twice; write its keys under one {table}");
    }
    // A key first on its line may be dotted (`a.b = 1`); the span covers only its last part.
    let key = if before[line_start..].contains(['=', '{']) { name } else { text[line_start..span.end].trim() };
    match before[..line_start].lines().rev().find_map(header) {
        Some(table) => format!("key `{key}` is set twice in one {table}"),
        None => format!("key `{key}` is set twice"),
    }
}

/// The table a header line opens, as `[name]` or `[[name]]`; `None` for any other line.
fn header(line: &str) -> Option<String> {
    let line = line.trim();
    let name = line.strip_prefix('[')?.trim_start_matches('[').split(']').next()?.trim();
    Some(if line.starts_with("[[") { format!("[[{name}]]") } else { format!("[{name}]") })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;

    fn error(text: &str) -> String {
        Config::from_str(text, Path::new("c.toml")).unwrap_err().to_string()
    }

    /// Wrong types were reported in Rust's words (`expected i64`) without the key.
    #[test]
    fn a_value_of_the_wrong_type_names_the_key_and_what_to_write() {
        let cases = [
            (
                "[poll]\nconcurrency = \"8\"\n",
                "c.toml:2:15: poll.concurrency: expected a whole number, found the string \"8\"",
            ),
            (
                "[poll]\nbackfill = 100\n",
                "c.toml:2:12: poll.backfill: expected a duration in quotes such as \"24h\", found the number 100",
            ),
            (
                "[storage]\nmax_size = 2.5\n",
                "c.toml:2:12: storage.max_size: expected a size in quotes such as \"10MiB\", found the number 2.5",
            ),
            (
                "[poll]\nadaptive = \"yes\"\n",
                "c.toml:2:12: poll.adaptive: expected true or false, found the string \"yes\"",
            ),
            (
                "[[feed]]\nurl = \"a\"\ntags = \"x\"\n",
                "c.toml:3:8: feed.tags: expected a list in brackets such as [\"a\", \"b\"], found the string \"x\"",
            ),
            ("[[feed]]\nurl = true\n", "c.toml:2:7: feed.url: expected a string in quotes, found true"),
            ("poll = 3\n", "c.toml:1:8: poll: expected a table, found the number 3"),
            ("[log]\nformat = 3\n", "c.toml:2:10: log.format: expected a string in quotes"),
            (
                "[poll]\nconcurrency = 99999999999999999999\n",
                "c.toml:2:15: poll.concurrency: expected a whole number, found the number 99999999999999999999",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected);
        }
    }

    /// "duplicate key" named neither the key nor the table.
    #[test]
    fn a_duplicate_key_or_table_is_named() {
        let cases = [
            ("[[feed]]\nurl = \"a\"\nurl = \"b\"\n", "c.toml:3:1: key `url` is set twice in one [[feed]]"),
            (
                "[storage]\nretain = \"90d\"\n\n[ storage ]\n",
                "c.toml:4:3: table [storage] is defined twice; write its keys under one [storage]",
            ),
            (
                "[poll]\ninterval = \"1h\"\n[poll.interval]\n",
                "c.toml:3:7: table [poll.interval] is defined twice; write its keys under one [poll.interval]",
            ),
            ("x.y = 1\nx.y = 2\n", "c.toml:2:3: key `x.y` is set twice"),
            ("[poll]\nx = { a = 1, a = 2 }\n", "c.toml:2:14: key `a` is set twice in one [poll]"),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected);
        }
    }
}
