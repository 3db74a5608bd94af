//! Turns the `toml` crate's errors into [`ConfigError`]s in the user's words: the key named,
//! and Rust's type names replaced by what to write.
//!
//! Only the wording changes; the place is the crate's span, so file:line:col stay exact.

use std::path::Path;

use super::ConfigError;

/// The error for config text `text` of `file` that did not parse into the raw config.
pub(super) fn config_error(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim_end();
    let message = match (key_path(e), message) {
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
            return format!("{words}{}", value.trim_matches('`'));
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
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected);
        }
    }
}
