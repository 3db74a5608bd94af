//! `wirewatch notify-test`: one test alert through each notifier, bypassing the outbox, with
//! the receiving end's answer.

use std::process::ExitCode;

use chrono::{SecondsFormat, Utc};

use super::CommandError;
use crate::alert::Alert;
use crate::config::Config;
use crate::matcher::{Field, MatchedTerm};
use crate::notify::{Notifier, Outgoing};

pub async fn notify_test(config: &Config, only: Option<&str>) -> Result<ExitCode, CommandError> {
    let specs: Vec<_> = config.notifiers.iter().filter(|n| only.is_none_or(|o| o == n.name)).collect();
    if specs.is_empty() {
        let names: Vec<&str> = config.notifiers.iter().map(|n| n.name.as_str()).collect();
        let msg = format!("no notifier named {:?}; configured: {}", only.unwrap_or_default(), names.join(", "));
        return Err(CommandError::Other(anyhow::anyhow!(msg)));
    }
    let alert = sample();
    let mut failed = false;
    for spec in specs {
        let result = match Notifier::new(spec) {
            Ok(n) => {
                let key = format!("notify-test/{}/{}", spec.name, Utc::now().timestamp_nanos_opt().unwrap_or_default());
                n.send(&Outgoing { alerts: std::slice::from_ref(&alert), key, digest: false })
                    .await
                    .map_err(|e| e.chain())
            }
            Err(e) => Err(crate::error_chain(&e)),
        };
        match result {
            Ok(answer) => super::emit(format!("{}: ok: {answer}\n", spec.name))?,
            Err(e) => {
                failed = true;
                super::emit(format!("{}: failed: {e}\n", spec.name))?;
            }
        }
    }
    Ok(if failed { ExitCode::from(super::EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

fn sample() -> Alert {
    let title = "wirewatch test alert: Security Council adopts sanctions resolution".to_string();
    let term = |term: &str, text: &str, start: usize| MatchedTerm {
        term: term.into(),
        text: text.into(),
        field: Field::Title,
        start,
        end: start + text.chars().count(),
    };
    Alert {
        watch: "notify-test".into(),
        feed: "wirewatch".into(),
        id: "notify-test".into(),
        url: Some("https://example.org/wirewatch-test".into()),
        matched: vec![term("sanction*", "sanctions", title.find("sanctions").unwrap_or_default())],
        snippet: title.clone(),
        title,
        published: Some(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
        lang: Some("en".into()),
        also_reported_by: vec!["Example Wire".into()],
    }
}
