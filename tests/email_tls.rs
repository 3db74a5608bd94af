//! Email over STARTTLS to a real TLS-only SMTP server on 127.0.0.1 (aiosmtpd, with a
//! certificate made for the test), trusted through the notifier's `ca_file`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{FeedServer, Item, Setup, free_port, rss};
use wirewatch::engine;

struct TlsSmtp {
    port: u16,
    mail: tempfile::TempDir,
    child: Child,
}

impl TlsSmtp {
    /// Starts the server with a fresh self-signed certificate for 127.0.0.1, written to `dir`.
    fn start(dir: &Path) -> TlsSmtp {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        std::fs::write(dir.join("ca.pem"), cert.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
        let mail = tempfile::tempdir().unwrap();
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_smtp.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.join("ca.pem"))
            .arg(dir.join("key.pem"))
            .arg(mail.path())
            .stdout(Stdio::piped())
            // The refused handshake of the untrusted case makes aiosmtpd print a traceback.
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(
            line.trim(),
            "READY",
            "the TLS SMTP server did not start (is aiosmtpd installed? .ci/run installs it)"
        );
        TlsSmtp { port, mail, child }
    }

    fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.mail.path()).unwrap().map(|e| e.unwrap().path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
    }
}

impl Drop for TlsSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn setup(feed: &str, port: u16, ca: bool) -> Setup {
    let ca_line = if ca { "ca_file = \"ca.pem\"" } else { "" };
    let notifier = format!(
        "name = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\n\
         from = \"wirewatch <alerts@example.org>\"\nsmtp = \"smtp://127.0.0.1:{port}?tls=required\"\n{ca_line}"
    );
    Setup::one_feed(feed, "", &notifier)
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_with_a_private_ca_delivers_and_an_untrusted_certificate_does_not() {
    let server = FeedServer::start().await;
    server.set_rss("wire.xml", rss("Wire", &[Item::new("s-1", "EU widens sanctions", "A package.")]));

    let certs = tempfile::tempdir().unwrap();
    let smtp = TlsSmtp::start(certs.path());
    let untrusted = setup(&server.url("wire.xml"), smtp.port, false);
    assert_eq!(engine::once(untrusted.load()).await.unwrap().delivered, 0);
    let (state, error): (String, String) =
        untrusted.db().query_row("SELECT state, last_error FROM outbox", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(state, "queued", "a certificate problem may be fixed: transient");
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert!(smtp.messages().is_empty());

    let trusted = setup(&server.url("wire.xml"), smtp.port, true);
    std::fs::copy(certs.path().join("ca.pem"), trusted.path("ca.pem")).unwrap();
    assert_eq!(engine::once(trusted.load()).await.unwrap().delivered, 1);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("Subject: [wirewatch] sanctions: EU widens sanctions"), "{}", messages[0]);
}
