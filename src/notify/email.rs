//! The email notifier: one multipart message per alert, or one digest for many, over SMTP
//! (pooled connections), a local sendmail, or into a folder of `.eml` files.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{BuildError, DeliveryError, Outgoing, render};
use crate::config::{self, EmailTransport, SmtpSecurity};

/// Longest wait for the SMTP connection.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for one whole delivery: lettre bounds only the connect, so a server that
/// accepts and then stays silent is cut off here.
const SEND_TIMEOUT: Duration = Duration::from_secs(120);
/// Connections kept open to one SMTP server.
const POOL_SIZE: u32 = 2;

pub struct EmailNotifier {
    from: Mailbox,
    to: Vec<Mailbox>,
    subject: String,
    timezone: chrono_tz::Tz,
    transport: Transport,
}

enum Transport {
    Smtp { server: String, mailer: AsyncSmtpTransport<Tokio1Executor> },
    Sendmail(AsyncSendmailTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailNotifier").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl EmailNotifier {
    /// Builds the notifier, reading its password; errors name the notifier's setting, never a secret.
    pub fn new(spec: &config::Email, timezone: chrono_tz::Tz) -> Result<EmailNotifier, BuildError> {
        let from = spec.from.parse().map_err(|source| BuildError::Address { field: "from", source })?;
        let to = spec
            .to
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()
            .map_err(|source| BuildError::Address { field: "to", source })?;
        let transport = match &spec.transport {
            EmailTransport::Smtp(smtp) => smtp_transport(smtp)?,
            EmailTransport::Sendmail { program: Some(p) } => {
                Transport::Sendmail(AsyncSendmailTransport::new_with_command(p.as_os_str()))
            }
            EmailTransport::Sendmail { program: None } => Transport::Sendmail(AsyncSendmailTransport::new()),
            EmailTransport::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|source| BuildError::MailFolder { path: dir.clone(), source })?;
                Transport::File(AsyncFileTransport::new(dir))
            }
        };
        Ok(EmailNotifier { from, to, subject: spec.subject.clone(), timezone, transport })
    }

    /// Sends one message for `out`; returns the server's answer.
    pub async fn send(&self, out: &Outgoing<'_>) -> Result<String, DeliveryError> {
        let message = self.message(out)?;
        let silent = || DeliveryError::Silent { at: self.at(), after: SEND_TIMEOUT };
        tokio::time::timeout(SEND_TIMEOUT, self.send_message(message)).await.unwrap_or_else(|_| Err(silent()))
    }

    /// Where messages go, as errors name it.
    fn at(&self) -> String {
        match &self.transport {
            Transport::Smtp { server, .. } => server.clone(),
            Transport::Sendmail(_) => "sendmail".to_string(),
            Transport::File(_) => "mail folder".to_string(),
        }
    }

    async fn send_message(&self, message: Message) -> Result<String, DeliveryError> {
        match &self.transport {
            Transport::Smtp { server, mailer } => match mailer.send(message).await {
                Ok(response) => {
                    Ok(format!("{server}: {} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")))
                }
                Err(source) => Err(DeliveryError::Smtp { at: server.clone(), source }),
            },
            Transport::Sendmail(mailer) => {
                mailer.send(message).await.map(|()| "handed to sendmail".to_string()).map_err(DeliveryError::Sendmail)
            }
            Transport::File(mailer) => {
                mailer.send(message).await.map(|id| format!("wrote {id}.eml")).map_err(DeliveryError::MailFile)
            }
        }
    }

    fn message(&self, out: &Outgoing<'_>) -> Result<Message, DeliveryError> {
        let watch = out.alerts.first().map_or("wirewatch", |a| a.watch.as_str());
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(out.subject(&self.subject))
            .message_id(Some(message_id(out, &self.from)))
            .date_now()
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Id"), list_id(watch, out)))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
        for to in &self.to {
            b = b.to(to.clone());
        }
        let text = render::text(out.alerts, self.timezone);
        let html = render::html(out.alerts, self.timezone);
        b.multipart(MultiPart::alternative_plain_html(text, html)).map_err(DeliveryError::Build)
    }
}

/// `Message-ID` from the message's id alone, so a message sent again after a crash carries the
/// same id and mail clients fold the duplicate (RFC 1047).
fn message_id(out: &Outgoing<'_>, from: &Mailbox) -> String {
    format!("<wirewatch.{}@{}>", out.id(), from.email.domain())
}

/// `List-Id: <WATCH.wirewatch>`, the watch name reduced to characters a list id may hold; a
/// digest of several watches is `<digest.wirewatch>`, and one story matching several watches
/// is listed under the first.
fn list_id(watch: &str, out: &Outgoing<'_>) -> String {
    let several = !render::one_story(out.alerts) && out.alerts.iter().any(|a| a.watch != watch);
    let label = if several { "digest" } else { watch };
    let mut id: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    id = id.trim_matches('-').to_string();
    if id.is_empty() {
        id.push_str("watch");
    }
    format!("<{id}.wirewatch>")
}

fn smtp_transport(smtp: &config::Smtp) -> Result<Transport, BuildError> {
    let tls_params = || -> Result<TlsParameters, BuildError> {
        let tls = |source| BuildError::Tls { host: smtp.host.clone(), source };
        let mut b = TlsParameters::builder(smtp.host.clone());
        if let Some(ca) = &smtp.ca_file {
            let pem = std::fs::read(ca).map_err(|source| BuildError::CaFile { path: ca.clone(), source })?;
            let cert = Certificate::from_pem(&pem).map_err(|source| BuildError::CaCert { path: ca.clone(), source })?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(tls)
    };
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Opportunistic => Tls::Opportunistic(tls_params()?),
        SmtpSecurity::StartTls => Tls::Required(tls_params()?),
        SmtpSecurity::Wrapper => Tls::Wrapper(tls_params()?),
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(PoolConfig::new().max_size(POOL_SIZE));
    if let Some(user) = &smtp.user {
        let password = match &smtp.password {
            Some(secret) => secret.read().map_err(BuildError::Secret)?,
            None => String::new(),
        };
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    let server = format!("smtp {}:{}", smtp.host, smtp.port);
    Ok(Transport::Smtp { server, mailer: b.build() })
}
