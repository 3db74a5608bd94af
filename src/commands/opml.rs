//! `wirewatch import-opml FILE` and `wirewatch export-opml`.
//!
//! Import edits the config file in place with toml_edit, so its comments and layout survive;
//! the result is validated before it replaces the file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use quick_xml::events::{BytesStart, Event};

use super::CommandError;
use crate::config::{Config, FeedLocation};

/// A feed listed in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub title: Option<String>,
    /// The outline's `category`, split at commas: the feed's `tags`.
    pub tags: Vec<String>,
}

/// Every `<outline xmlUrl=...>` of an OPML document, nested ones included, in order.
pub fn parse_opml(text: &str) -> Result<Vec<OpmlFeed>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Vec::new();
    let mut saw_opml = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                saw_opml |= e.local_name().into_inner().eq_ignore_ascii_case("opml");
                if e.local_name().into_inner().eq_ignore_ascii_case("outline") {
                    out.extend(outline(&e));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not valid OPML at byte {}: {e}", reader.error_position())),
        }
    }
    if !saw_opml {
        return Err("not an OPML document (no <opml> element)".into());
    }
    Ok(out)
}

fn outline(e: &BytesStart) -> Option<OpmlFeed> {
    let attr = |name: &str| {
        e.attributes().flatten().find(|a| a.key.local_name().into_inner().eq_ignore_ascii_case(name)).and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::default())
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    let url = attr("xmlUrl")?;
    let tags = attr("category")
        .map_or_else(Vec::new, |c| c.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect());
    Some(OpmlFeed { url, title: attr("title").or_else(|| attr("text")), tags })
}

pub fn import(config: &Config, file: &Path) -> Result<ExitCode, CommandError> {
    let opml = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let feeds = parse_opml(&opml).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let text = std::fs::read_to_string(&config.source).context("cannot read the config file")?;
    let mut doc: toml_edit::DocumentMut = text.parse().context("cannot edit the config file")?;
    let base = config.source.parent().unwrap_or(Path::new(""));
    let mut known: Vec<String> = config.feeds.iter().map(|f| f.url()).collect();
    let (mut added, mut skipped, mut invalid) = (0, 0, Vec::new());
    for f in feeds {
        let key = match FeedLocation::parse(&f.url, base) {
            Ok(location) => location.key(),
            Err(e) => {
                invalid.push(format!("{}: {e}", f.url));
                continue;
            }
        };
        if known.contains(&key) {
            skipped += 1;
            continue;
        }
        let mut table = toml_edit::Table::new();
        table.insert("url", toml_edit::value(f.url.clone()));
        if let Some(title) = &f.title {
            table.insert("name", toml_edit::value(title.clone()));
        }
        if !f.tags.is_empty() {
            table.insert("tags", toml_edit::value(f.tags.iter().collect::<toml_edit::Array>()));
        }
        let feeds = doc.entry("feed").or_insert(toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
        feeds
            .as_array_of_tables_mut()
            .ok_or_else(|| anyhow!("`feed` in the config is not a list of [[feed]] tables"))?
            .push(table);
        known.push(key);
        added += 1;
    }
    let updated = doc.to_string();
    Config::from_str(&updated, &config.source)?;
    if added > 0 {
        let tmp = config.source.with_extension("toml.tmp");
        std::fs::write(&tmp, &updated).context("cannot write the config file")?;
        std::fs::rename(&tmp, &config.source).context("cannot replace the config file")?;
    }
    let added = super::counted(added, "feed", "feeds");
    super::emit(format!("{}: added {added}, skipped {skipped} already present\n", config.source.display()))?;
    for e in &invalid {
        eprintln!("skipped an invalid feed URL: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(config: &Config, with_secrets: bool) -> Result<ExitCode, CommandError> {
    super::emit(to_opml(config, with_secrets))?;
    Ok(ExitCode::SUCCESS)
}

/// The configured feeds as an OPML 2.0 document; their URLs redacted unless `with_secrets`.
pub fn to_opml(config: &Config, with_secrets: bool) -> String {
    let attr = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str("  <head>\n    <title>wirewatch feeds</title>\n");
    out.push_str(&format!("    <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n", chrono::Utc::now().to_rfc2822()));
    for f in &config.feeds {
        let url = if with_secrets { f.url() } else { crate::redact::redact(&f.url()) };
        let name = f.name.clone().unwrap_or_else(|| url.clone());
        let category =
            if f.tags.is_empty() { String::new() } else { format!(" category=\"{}\"", attr(&f.tags.join(","))) };
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{}\" title=\"{}\" xmlUrl=\"{}\"{category}/>\n",
            attr(&name),
            attr(&name),
            attr(&url)
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_outlines_and_skips_folders() {
        let opml = r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
            <outline text="News"><outline text="Wire &amp; Co" xmlUrl="https://example.org/wire.xml"/>
            <outline title="Blog" text="ignored" xmlurl="https://example.org/blog.atom"/></outline>
            <outline text="no url"/></body></opml>"#;
        let feeds = parse_opml(opml).unwrap();
        assert_eq!(
            feeds,
            [
                OpmlFeed { url: "https://example.org/wire.xml".into(), title: Some("Wire & Co".into()), tags: vec![] },
                OpmlFeed { url: "https://example.org/blog.atom".into(), title: Some("Blog".into()), tags: vec![] },
            ]
        );
        assert!(parse_opml("<html><body/></html>").unwrap_err().contains("not an OPML document"));
        assert!(parse_opml("<opml><body><outline xmlUrl=\"x\"></body></opml>").is_err());
    }
}
