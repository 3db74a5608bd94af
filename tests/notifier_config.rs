//! Notifier tables in the config: every mistake gets one precise error with its line and the
//! valid choices.

use std::path::Path;

use wirewatch::config::NotifierKind;
use wirewatch::config::{Config, EmailTransport, Mode, Schedule, SmtpSecurity, WebhookFormat};

const BASE: &str = "[[feed]]\nurl = \"https://example.org/feed.xml\"\n[[watch]]\nname = \"w\"\nquery = \"treaty\"\n";

fn load(notifier: &str) -> Result<Config, String> {
    Config::from_str(&format!("{BASE}[[notifier]]\n{notifier}"), Path::new("/etc/wirewatch/config.toml"))
        .map_err(|e| e.to_string())
}

const EMAIL: &str =
    "name = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\nfrom = \"wirewatch <a@example.org>\"\n";

#[test]
fn every_notifier_mistake_is_reported_with_its_place() {
    let cases: &[(&str, &str)] = &[
        (
            "name = \"x\"\ntype = \"pager\"",
            "8:8: unknown notifier type \"pager\"; valid types: stdout, jsonl, email, webhook",
        ),
        ("name = \"x\"\ntype = \"stdout\"\nto = [\"a@b.c\"]", "9:6: notifier \"x\": a stdout notifier takes no to"),
        (
            "name = \"desk\"\ntype = \"email\"\nfrom = \"a@example.org\"\nsmtp = \"smtp://h\"",
            "needs to = [\"desk@example.org\"]",
        ),
        (
            &format!("{EMAIL}smtp = \"smtp://u:pw@mail.example.org:587?tls=required\""),
            "must not carry a password; use password_env or password_file",
        ),
        (&format!("{EMAIL}smtp = \"imap://mail.example.org\""), "must start with smtp:// or smtps://, not imap://"),
        (
            &format!("{EMAIL}smtp = \"smtp://mail.example.org?tls=always\""),
            "unknown tls=\"always\"; valid: tls=required, tls=opportunistic, tls=none",
        ),
        (
            &format!("{EMAIL}smtp = \"smtp://u@mail.example.org\"\npassword_env = \"P\""),
            "credentials could cross the network in clear text",
        ),
        (
            &format!("{EMAIL}smtp = \"smtps://u@h\"\npassword_env = \"P\"\npassword_file = \"p\""),
            "set password_env or password_file, not both",
        ),
        (EMAIL, "needs smtp = \"smtp://user@mail.example.org:587?tls=required\""),
        (
            &format!("{EMAIL}transport = \"pigeon\""),
            "unknown transport \"pigeon\"; valid transports: smtp, sendmail, file",
        ),
        (&format!("{EMAIL}transport = \"file\""), "transport = \"file\" needs path"),
        (
            &format!("{EMAIL}smtp = \"smtps://h\"\nsubject = \"{{watch}} {{story}}\""),
            "unknown placeholder {story} in subject; valid: {watch}, {title}, {feed}",
        ),
        (
            "name = \"d\"\ntype = \"email\"\nto = [\"not an address\"]\nfrom = \"a@example.org\"\nsmtp = \"smtps://h\"",
            "9:6: notifier \"d\": invalid address \"not an address\" in to",
        ),
        (
            &format!("{EMAIL}smtp = \"smtps://h\"\nmode = \"weekly\""),
            "unknown mode \"weekly\"; valid modes: immediate, digest",
        ),
        (
            &format!("{EMAIL}smtp = \"smtps://h\"\nmode = \"digest\""),
            "a digest needs digest = \"1h\" or at = [\"08:00\", \"17:00\"]",
        ),
        (
            &format!("{EMAIL}smtp = \"smtps://h\"\nmode = \"digest\"\nat = [\"8am\"]"),
            "invalid time \"8am\" in at; write \"HH:MM\"",
        ),
        (&format!("{EMAIL}smtp = \"smtps://h\"\ndigest = \"1h\""), "digest needs mode = \"digest\""),
        (&format!("{EMAIL}smtp = \"smtps://h\"\ntimezone = \"Mars/Olympus\""), "unknown time zone \"Mars/Olympus\""),
        (&format!("{EMAIL}smtp = \"smtps://h\"\nburst = 0"), "burst must be between 1 and 499"),
        (
            "name = \"j\"\ntype = \"jsonl\"\npath = \"a.jsonl\"\nmode = \"digest\"\ndigest = \"1h\"",
            "a jsonl notifier takes no mode",
        ),
        ("name = \"h\"\ntype = \"webhook\"\nurl = \"ftp://x\"", "webhook URL must be http:// or https://, not ftp://"),
        (
            "name = \"h\"\ntype = \"webhook\"\nurl = \"https://x\"\nformat = \"teams\"",
            "unknown webhook format \"teams\"; valid: generic, slack, discord, ntfy",
        ),
        ("name = \"h\"\ntype = \"webhook\"", "needs url = \"https://hooks.example.org/wirewatch\""),
        (
            "name = \"h\"\ntype = \"webhook\"\nurl = \"https://bob:pw@x\"",
            "the webhook URL must not carry a user or password",
        ),
        (
            &format!("{EMAIL}smtp = \"smtp://u@mail.example.org?tls=opportunistic\"\npassword_env = \"P\""),
            "credentials could cross the network in clear text",
        ),
        (&format!("{EMAIL}smtp = \"smtps://u@mail.example.org\""), "a user needs password_env or password_file"),
    ];
    for (notifier, expected) in cases {
        let err = load(notifier).expect_err(notifier);
        assert!(err.contains(expected), "{notifier}\n  expected: {expected}\n  got: {err}");
        assert!(err.starts_with("/etc/wirewatch/config.toml:"), "{err}");
    }
}

#[test]
fn a_full_email_and_webhook_setup_is_understood() {
    let config = Config::from_str(
        &format!(
            r#"{BASE}
[[notifier]]
name = "analysts"
type = "email"
to = ["desk@example.org", "Night Desk <night@example.org>"]
from = "wirewatch <alerts@example.org>"
smtp = "smtp://alerts@mail.example.org:587?tls=required"
password_env = "WIREWATCH_SMTP_PASSWORD"
mode = "digest"
at = ["17:00", "08:00"]
timezone = "Europe/London"
subject = "[news] {{watch}}: {{title}}"

[[notifier]]
name = "chat"
type = "webhook"
url = "https://hooks.example.org/wirewatch"
format = "slack"
burst = 5
max_age = "2h"
"#
        ),
        Path::new("config.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let email = &config.notifiers[0];
    let NotifierKind::Email(e) = &email.kind else { panic!("an email notifier") };
    let EmailTransport::Smtp(smtp) = &e.transport else { panic!("smtp") };
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("mail.example.org", 587, SmtpSecurity::StartTls));
    assert_eq!(smtp.user.as_deref(), Some("alerts"));
    assert_eq!(e.subject, "[news] {watch}: {title}");
    let Mode::Digest(Schedule::At(times)) = &email.delivery.mode else { panic!("a scheduled digest") };
    assert_eq!(times.iter().map(|t| t.to_string()).collect::<Vec<_>>(), ["08:00:00", "17:00:00"]);
    assert_eq!(email.delivery.timezone.name(), "Europe/London");
    let chat = &config.notifiers[1];
    let NotifierKind::Webhook(w) = &chat.kind else { panic!("a webhook") };
    assert_eq!(w.format, WebhookFormat::Slack);
    assert_eq!((chat.delivery.burst, chat.delivery.max_age.as_secs()), (5, 7200));
    assert_eq!(config.watches[0].notify, ["analysts", "chat"]);
}

#[test]
fn the_commented_notifier_examples_in_the_shipped_config_are_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("# Uncomment to also append").expect("the examples are in the file");
    let uncommented: String = text[start..]
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.starts_with("[[notifier]]") || l.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(uncommented.matches("[[notifier]]").count(), 3, "{uncommented}");
    let config =
        Config::from_str(&format!("{}\n{uncommented}", &text[..start]), &path).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = config.notifiers.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["console", "log", "analysts", "chat"]);
}
