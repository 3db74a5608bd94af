//! Validating `[[notifier]]` tables into [`Notifier`]s.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use lettre::message::Mailbox;
use toml::Spanned;

use super::notifier::{
    DEFAULT_SUBJECT, Delivery, Email, EmailTransport, Mode, Notifier, NotifierKind, SUBJECT_FIELDS, Schedule, Secret,
    Smtp, SmtpSecurity, Webhook, WebhookFormat, WebhookUrl, webhook_url,
};
use super::raw::RawNotifier;
use super::validate::Checker;

/// Largest `burst`: a digest holds at most 500 alerts, so a larger burst could never trigger.
const MAX_BURST: i64 = 499;

/// Keys each notifier type accepts besides `name` and `type`.
const DELIVERY_KEYS: &[&str] = &["mode", "digest", "at", "timezone", "burst", "max_age"];
const EMAIL_KEYS: &[&str] =
    &["to", "from", "smtp", "password_env", "password_file", "ca_file", "transport", "path", "subject"];
const WEBHOOK_KEYS: &[&str] = &["url", "url_env", "url_file", "format", "secret_env", "secret_file"];

pub(super) fn notifiers(c: &mut Checker, raw: &[RawNotifier]) -> Vec<Notifier> {
    if raw.is_empty() {
        let stdout = Notifier {
            name: "stdout".into(),
            kind: NotifierKind::Stdout,
            delivery: Delivery::default(),
            position: None,
        };
        return vec![stdout];
    }
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for n in raw {
        let name = n.name.get_ref().trim().to_string();
        if name.is_empty() {
            c.error(&n.name, "notifier name must not be empty");
            continue;
        }
        if let Some(line) = c.seen_before(&mut seen, name.clone(), &n.name) {
            c.error(&n.name, format!("notifier {name:?} is defined twice; first at line {line}"));
            continue;
        }
        let Some(kind) = kind(c, n, &name) else { continue };
        let delivery = delivery(c, n, &name, &kind);
        out.push(Notifier { name, kind, delivery, position: Some(c.position(&n.name)) });
    }
    out
}

fn kind(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<NotifierKind> {
    let ty = n.kind.get_ref().as_str();
    let (allowed, with_delivery): (&[&str], bool) = match ty {
        "stdout" => (&[], false),
        "jsonl" => (&["path"], false),
        "email" => (EMAIL_KEYS, true),
        "webhook" => (WEBHOOK_KEYS, true),
        "telegram" => (super::validate_chat::TELEGRAM_KEYS, true),
        "matrix" => (super::validate_chat::MATRIX_KEYS, true),
        other => {
            let valid = NotifierKind::TYPES.join(", ");
            c.error(&n.kind, format!("unknown notifier type {other:?}; valid types: {valid}"));
            return None;
        }
    };
    for (key, span) in n.keys_set() {
        let ok = allowed.contains(&key) || key == "max_age" || (with_delivery && DELIVERY_KEYS.contains(&key));
        if !ok {
            c.error_at(span, format!("notifier {name:?}: a {ty} notifier takes no {key}"));
        }
    }
    match ty {
        "stdout" => Some(NotifierKind::Stdout),
        "jsonl" => match &n.path {
            Some(p) if !p.get_ref().trim().is_empty() => Some(NotifierKind::Jsonl { path: c.path(p.get_ref()) }),
            _ => {
                c.error(&n.kind, format!("notifier {name:?}: a jsonl notifier needs path = \"alerts.jsonl\""));
                None
            }
        },
        "email" => email(c, n, name).map(NotifierKind::Email),
        "telegram" => super::validate_chat::telegram(c, n, name).map(NotifierKind::Telegram),
        "matrix" => super::validate_chat::matrix(c, n, name).map(NotifierKind::Matrix),
        _ => webhook(c, n, name).map(NotifierKind::Webhook),
    }
}

fn email(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Email> {
    let mut ok = true;
    let to = match &n.to {
        Some(list) if !list.get_ref().is_empty() => {
            for addr in list.get_ref() {
                if let Err(e) = Mailbox::from_str(addr) {
                    c.error(list, format!("notifier {name:?}: invalid address {addr:?} in to: {e}"));
                    ok = false;
                }
            }
            list.get_ref().clone()
        }
        _ => {
            c.error(&n.kind, format!("notifier {name:?}: an email notifier needs to = [\"desk@example.org\"]"));
            ok = false;
            Vec::new()
        }
    };
    let from = match &n.from {
        Some(f) => {
            if let Err(e) = Mailbox::from_str(f.get_ref()) {
                let msg = format!("notifier {name:?}: invalid from address {:?}: {e}", f.get_ref());
                c.error(f, msg);
                ok = false;
            }
            f.get_ref().clone()
        }
        None => {
            let msg = format!("notifier {name:?}: an email notifier needs from = \"wirewatch <alerts@example.org>\"");
            c.error(&n.kind, msg);
            ok = false;
            String::new()
        }
    };
    let subject = match &n.subject {
        Some(s) => {
            ok &= template(c, s, name);
            s.get_ref().clone()
        }
        None => DEFAULT_SUBJECT.to_string(),
    };
    let transport = email_transport(c, n, name);
    (ok && transport.is_some()).then(|| Email { to, from, transport: transport.expect("checked"), subject })
}

/// Checks that a subject template uses only known `{placeholders}`.
fn template(c: &mut Checker, s: &Spanned<String>, name: &str) -> bool {
    let mut rest = s.get_ref().as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let field = &rest[open + 1..open + close];
        if !SUBJECT_FIELDS.contains(&field) {
            let valid: Vec<String> = SUBJECT_FIELDS.iter().map(|f| format!("{{{f}}}")).collect();
            let msg =
                format!("notifier {name:?}: unknown placeholder {{{field}}} in subject; valid: {}", valid.join(", "));
            c.error(s, msg);
            return false;
        }
        rest = &rest[open + close + 1..];
    }
    true
}

fn email_transport(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<EmailTransport> {
    let transport = n.transport.as_ref().map_or("smtp", |t| t.get_ref().as_str());
    let path = n.path.as_ref().map(|p| c.path(p.get_ref()));
    match transport {
        "smtp" => smtp(c, n, name).map(EmailTransport::Smtp),
        "sendmail" => Some(EmailTransport::Sendmail { program: path }),
        "file" => match path {
            Some(dir) => Some(EmailTransport::File { dir }),
            None => {
                let at = n.transport.as_ref().expect("file was written");
                c.error(at, format!("notifier {name:?}: transport = \"file\" needs path = \"outbox-mail\" (a folder)"));
                None
            }
        },
        other => {
            let at = n.transport.as_ref().expect("only a written transport can be unknown");
            let msg = format!("notifier {name:?}: unknown transport {other:?}; valid transports: smtp, sendmail, file");
            c.error(at, msg);
            None
        }
    }
}

fn smtp(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Smtp> {
    let Some(raw) = &n.smtp else {
        let msg = format!(
            "notifier {name:?}: an email notifier needs smtp = \"smtp://user@mail.example.org:587?tls=required\" \
             (or transport = \"sendmail\" or \"file\")"
        );
        c.error(&n.kind, msg);
        return None;
    };
    let url = match url::Url::parse(raw.get_ref()) {
        Ok(u) => u,
        Err(e) => {
            let msg = format!("notifier {name:?}: invalid smtp URL: {e}; write e.g. \"smtps://mail.example.org\"");
            c.error(raw, msg);
            return None;
        }
    };
    let security = match (url.scheme(), url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned())) {
        ("smtps", None) => SmtpSecurity::Wrapper,
        ("smtp", None) => SmtpSecurity::None,
        ("smtp", Some(v)) if v == "required" => SmtpSecurity::StartTls,
        ("smtp", Some(v)) if v == "opportunistic" => SmtpSecurity::Opportunistic,
        ("smtp", Some(v)) if v == "none" => SmtpSecurity::None,
        (scheme, tls) => {
            let msg = match tls {
                Some(v) if scheme == "smtp" => {
                    format!("notifier {name:?}: unknown tls={v:?}; valid: tls=required, tls=opportunistic, tls=none")
                }
                _ => format!("notifier {name:?}: smtp URL must start with smtp:// or smtps://, not {scheme}://"),
            };
            c.error(raw, msg);
            return None;
        }
    };
    if url.password().is_some() {
        let msg =
            format!("notifier {name:?}: the smtp URL must not carry a password; use password_env or password_file");
        c.error(raw, msg);
        return None;
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()).map(|h| h.trim_matches(['[', ']']).to_string()) else {
        c.error(raw, format!("notifier {name:?}: the smtp URL has no host"));
        return None;
    };
    let user = Some(url.username())
        .filter(|u| !u.is_empty())
        .map(|u| percent_encoding::percent_decode_str(u).decode_utf8_lossy().into_owned());
    let password = secret(c, &n.password_env, &n.password_file, name, "password");
    match (&user, &password) {
        (None, Some(_)) => {
            c.error(raw, format!("notifier {name:?}: a password needs a user in the URL: smtp://user@host"))
        }
        (Some(_), None) => {
            let msg = format!("notifier {name:?}: a user needs password_env or password_file");
            c.error(raw, msg);
        }
        _ => {}
    }
    let clear = matches!(security, SmtpSecurity::None | SmtpSecurity::Opportunistic);
    if user.is_some() && clear && !is_loopback(&host) {
        let msg = format!(
            "notifier {name:?}: credentials could cross the network in clear text; \
             use ?tls=required or smtps://"
        );
        c.error(raw, msg);
    }
    let ca_file = n.ca_file.as_ref().map(|p| c.path(p.get_ref()));
    Some(Smtp { port: url.port().unwrap_or(security.port()), host, security, user, password, ca_file })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A secret of notifier `name` named by `<what>_env` or `<what>_file` (not both).
pub(super) fn secret(
    c: &mut Checker,
    env: &Option<Spanned<String>>,
    file: &Option<Spanned<String>>,
    name: &str,
    what: &str,
) -> Option<Secret> {
    secret_of(c, env, file, &format!("notifier {name:?}"), what)
}

/// A secret named by `<what>_env` or `<what>_file` (not both), its errors starting `owner: `.
pub(super) fn secret_of(
    c: &mut Checker,
    env: &Option<Spanned<String>>,
    file: &Option<Spanned<String>>,
    owner: &str,
    what: &str,
) -> Option<Secret> {
    match (env, file) {
        (Some(_), Some(f)) => {
            c.error(f, format!("{owner}: set {what}_env or {what}_file, not both"));
            None
        }
        (Some(e), None) if e.get_ref().trim().is_empty() => {
            c.error(e, format!("{owner}: {what}_env names no variable"));
            None
        }
        (Some(e), None) => Some(Secret::Env(e.get_ref().trim().to_string())),
        (None, Some(f)) => Some(Secret::File(c.path(f.get_ref()))),
        (None, None) => None,
    }
}

fn webhook(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Webhook> {
    let format = match &n.format {
        None => WebhookFormat::Generic,
        Some(f) => match WebhookFormat::parse(f.get_ref()) {
            Some(format) => format,
            None => {
                let valid = WebhookFormat::NAMES.join(", ");
                c.error(f, format!("notifier {name:?}: unknown webhook format {:?}; valid: {valid}", f.get_ref()));
                return None;
            }
        },
    };
    let secret = secret(c, &n.secret_env, &n.secret_file, name, "secret");
    let hidden = self::secret(c, &n.url_env, &n.url_file, name, "url");
    let url = match (&n.url, hidden) {
        (Some(raw), None) if n.url_env.is_none() && n.url_file.is_none() => match webhook_url(raw.get_ref()) {
            Ok(url) => WebhookUrl::Given(url),
            Err(e) => {
                c.error(raw, format!("notifier {name:?}: {e}"));
                return None;
            }
        },
        (Some(raw), _) => {
            c.error(raw, format!("notifier {name:?}: set url, url_env or url_file, only one"));
            return None;
        }
        (None, Some(hidden)) => WebhookUrl::Secret(hidden),
        (None, None) => {
            if n.url_env.is_none() && n.url_file.is_none() {
                let msg = format!(
                    "notifier {name:?}: a webhook notifier needs url = \"https://hooks.example.org/wirewatch\" \
                     (or url_env / url_file, for a URL that is itself a secret)"
                );
                c.error(&n.kind, msg);
            }
            return None;
        }
    };
    Some(Webhook { url, format, secret })
}

fn delivery(c: &mut Checker, n: &RawNotifier, name: &str, kind: &NotifierKind) -> Delivery {
    let d = Delivery::default();
    let timezone = match &n.timezone {
        None => d.timezone,
        Some(tz) => tz.get_ref().parse::<Tz>().unwrap_or_else(|_| {
            let msg = format!(
                "notifier {name:?}: unknown time zone {:?}; use an IANA name such as \"Europe/London\" or \"UTC\"",
                tz.get_ref()
            );
            c.error(tz, msg);
            d.timezone
        }),
    };
    let burst = match &n.burst {
        None => d.burst,
        Some(b) if (1..=MAX_BURST).contains(b.get_ref()) => *b.get_ref() as usize,
        Some(b) => {
            c.error(b, format!("notifier {name:?}: burst must be between 1 and {MAX_BURST}"));
            d.burst
        }
    };
    let max_age = c.duration(&n.max_age, "notifier.max_age", d.max_age);
    let mode = mode(c, n, name).unwrap_or(Mode::Immediate);
    if !kind.batches() && mode != Mode::Immediate {
        c.error(&n.kind, format!("notifier {name:?}: only email and webhook notifiers send digests"));
    }
    Delivery { mode, burst, max_age, timezone }
}

fn mode(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Mode> {
    let mode = n.mode.as_ref().map_or("immediate", |m| m.get_ref().as_str());
    match mode {
        "immediate" => {
            for (key, span) in n.keys_set().into_iter().filter(|(k, _)| *k == "digest" || *k == "at") {
                c.error_at(span, format!("notifier {name:?}: {key} needs mode = \"digest\""));
            }
            Some(Mode::Immediate)
        }
        "digest" => schedule(c, n, name).map(Mode::Digest),
        other => {
            let at = n.mode.as_ref().expect("only a written mode can be unknown");
            c.error(at, format!("notifier {name:?}: unknown mode {other:?}; valid modes: immediate, digest"));
            None
        }
    }
}

fn schedule(c: &mut Checker, n: &RawNotifier, name: &str) -> Option<Schedule> {
    match (&n.digest, &n.at) {
        (Some(_), Some(at)) => {
            c.error(at, format!("notifier {name:?}: set digest = \"1h\" or at = [\"08:00\"], not both"));
            None
        }
        (Some(_), None) => Some(Schedule::Every(c.duration(&n.digest, "notifier.digest", Duration::from_secs(3600)))),
        (None, Some(at)) => {
            let mut times = Vec::new();
            for t in at.get_ref() {
                match NaiveTime::parse_from_str(t.trim(), "%H:%M") {
                    Ok(time) => times.push(time),
                    Err(_) => c.error(
                        at,
                        format!("notifier {name:?}: invalid time {t:?} in at; write \"HH:MM\", e.g. \"08:00\""),
                    ),
                }
            }
            times.sort();
            times.dedup();
            if at.get_ref().is_empty() {
                c.error(at, format!("notifier {name:?}: at lists no times; write at = [\"08:00\", \"17:00\"]"));
            }
            (!times.is_empty()).then_some(Schedule::At(times))
        }
        (None, None) => {
            let at = n.mode.as_ref().expect("digest mode was written");
            c.error(at, format!("notifier {name:?}: a digest needs digest = \"1h\" or at = [\"08:00\", \"17:00\"]"));
            None
        }
    }
}
