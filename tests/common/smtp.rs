//! A real SMTP server for tests: Postfix's `smtp-sink` on a loopback port, dumping each
//! message to a file, with its fault-injection flags (`-r CMD` 4xx, `-f CMD` 5xx, `-Q CMD` 421
//! and hang-up, `-W CMD:delay` stall).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailparse::{MailHeaderMap, ParsedMail};

use super::{Setup, free_port};

/// A config with one feed, the `sanctions` and `dprk` watches and one email notifier `desk`
/// sending through `smtp`; `notifier_extra` adds keys to the notifier table.
pub fn email_setup(feed: &str, smtp: &str, notifier_extra: &str) -> Setup {
    let dprk = "[[entity]]\nname = \"North Korea\"\naliases = [\"DPRK\", \"Pyongyang\"]\n\
                [[watch]]\nname = \"dprk\"\nquery = '\"North Korea\" AND (treaty OR sanctions)'";
    let notifier = format!(
        "name = \"desk\"\ntype = \"email\"\nto = [\"desk@example.org\"]\n\
         from = \"wirewatch <alerts@example.org>\"\nsmtp = \"{smtp}\"\n{notifier_extra}"
    );
    Setup::one_feed(feed, dprk, &notifier)
}

/// A message as the server received it, parsed.
pub fn parse(raw: &str) -> ParsedMail<'_> {
    mailparse::parse_mail(raw.as_bytes()).expect("the server received a parseable message")
}

/// The first value of header `name`, which must be there.
pub fn header(m: &ParsedMail, name: &str) -> String {
    m.headers.get_first_value(name).unwrap_or_else(|| panic!("no {name} header"))
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl SmtpSink {
    /// Starts smtp-sink with extra `flags` on a fresh port.
    pub fn start(flags: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = SmtpSink { addr: ([127, 0, 0, 1], free_port()).into(), dir, child: None };
        sink.restart(flags);
        sink
    }

    /// A sink that is not running yet: its port refuses connections until [`restart`].
    pub fn down() -> SmtpSink {
        SmtpSink { addr: ([127, 0, 0, 1], free_port()).into(), dir: tempfile::tempdir().unwrap(), child: None }
    }

    /// Stops the server (if running) and starts it again on the same port with `flags`.
    pub fn restart(&mut self, flags: &[&str]) {
        self.stop();
        // smtp-sink drops privileges when run as root; the dump folder must be writable then.
        let dump = self.dir.path().join("mail");
        std::fs::create_dir_all(&dump).unwrap();
        let program = ["/usr/sbin/smtp-sink", "/usr/local/sbin/smtp-sink"].into_iter().find(|p| Path::new(p).exists());
        let mut cmd = Command::new(program.unwrap_or("smtp-sink"));
        if is_root() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
                std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o777)).unwrap();
            }
            cmd.args(["-u", "nobody"]);
        }
        cmd.args(flags).arg("-d").arg(format!("{}/%Y%m%d%H%M%S.", dump.display()));
        cmd.arg(self.addr.to_string()).arg("64").stdout(Stdio::null()).stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start smtp-sink ({e}); install Debian's postfix package (.ci/run does)")
        });
        self.child = Some(child);
        self.wait_ready();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "smtp-sink did not start listening on {}", self.addr);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far, as raw text (smtp-sink's `X-*` envelope lines first).
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files.into_iter().filter_map(|f| std::fs::read_to_string(f).ok()).filter(|m| m.contains("\n\n")).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
