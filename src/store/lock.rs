//! The lock that makes one process at a time the owner of a database, the only one that writes
//! to it.
//!
//! `run` and `once` take it as they start and hold it for their whole life (across SIGHUP
//! reloads); every writable [`Store`](super::Store) of the process shares it. A second writer
//! finds it taken and is refused before it opens, creates or migrates anything: two owners
//! would each requeue the other's messages in flight and send alerts twice. It is an advisory
//! lock (`flock`, through fs4) on `<database>-lock` beside the file, which the kernel releases
//! when the process ends however it ends, so a crash never leaves a database locked. The file
//! names the owner's PID and command for the refusal message. It is left in place when the
//! owner ends: removing it would race with another process taking it. Commands that only read
//! never take the lock.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use fs4::fs_std::FileExt;

use super::{StoreError, stamp};

/// How long a refused process waits for the owner to write its PID into a lock file it has
/// just taken (the lock and the write are two steps), before saying the PID is unknown.
const PID_WAIT: Duration = Duration::from_millis(500);

/// This process's ownership of a database; the lock is released when the last owner of this
/// process on the file drops (every [`Owner::acquire`] of it shares one lock).
pub struct Owner {
    held: Arc<Held>,
}

struct Held {
    file: File,
    /// The lock file.
    path: PathBuf,
}

/// The process that holds a database's lock, as its lock file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    /// The wirewatch command it runs (`run`, `once`, `outbox retry`).
    pub command: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let command =
            self.command.as_deref().map_or("another wirewatch process".into(), |c| format!("`wirewatch {c}`"));
        match self.pid {
            Some(pid) => write!(f, "{command} (PID {pid})"),
            None => write!(f, "{command} (PID not known yet)"),
        }
    }
}

impl Owner {
    /// Takes the lock of the database at `path` for `command`, creating the folder and the
    /// lock file if needed; shared with the rest of this process if it already holds it. A
    /// lock another process holds is [`StoreError::Locked`], naming it.
    pub fn acquire(path: &Path, command: &str) -> Result<Owner, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let lock = lock_path(path);
        let lock_err = |source| StoreError::Lock { path: lock.clone(), source };
        let mut held = registry();
        held.retain(|_, h| h.strong_count() > 0);
        if let Some(held) = held.get(&lock).and_then(Weak::upgrade) {
            return Ok(Owner { held });
        }
        let mut file =
            File::options().read(true).write(true).create(true).truncate(false).open(&lock).map_err(lock_err)?;
        if !FileExt::try_lock_exclusive(&file).map_err(lock_err)? {
            drop(held);
            return Err(StoreError::Locked { path: path.to_path_buf(), holder: holder(&mut file) });
        }
        // Only the owner writes the file, and only while it holds the lock.
        file.set_len(0).and_then(|()| writeln!(file, "{} {command}", std::process::id())).map_err(lock_err)?;
        let owner = Owner { held: Arc::new(Held { file, path: lock.clone() }) };
        held.insert(lock, Arc::downgrade(&owner.held));
        Ok(owner)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A stale PID must not be read after the owner is gone (a crash leaves one, which
        // `holder` tells from the live owner's).
        if self.file.set_len(0).is_err() {
            tracing::debug!(lock = %self.path.display(), "cannot clear the lock file");
        }
    }
}

/// The lock file of the database at `path`: beside the file itself (through a symbolic link),
/// however its path is spelt.
pub(super) fn lock_path(path: &Path) -> PathBuf {
    let real = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    });
    stamp::beside(real.as_deref().unwrap_or(path), "-lock")
}

fn registry() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Weak<Held>>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, Weak<Held>>>> = OnceLock::new();
    HELD.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// The holder a lock file taken by another process names. It may have just taken the lock and
/// not yet written its PID, or the PID read may be a crashed owner's: read again for a moment
/// until it names a live process.
fn holder(file: &mut File) -> Holder {
    let deadline = std::time::Instant::now() + PID_WAIT;
    loop {
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let mut words = text.split_whitespace();
        let pid = words.next().and_then(|p| p.parse::<u32>().ok());
        let command = words.collect::<Vec<_>>().join(" ");
        let found = Holder { pid, command: Some(command).filter(|c| !c.is_empty()) };
        if read.is_err() || pid.is_some_and(alive) || std::time::Instant::now() >= deadline {
            return Holder { pid: pid.filter(|&p| alive(p)), ..found };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process with this PID exists (one we may not signal exists too).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

#[cfg(not(unix))]
fn alive(_: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_naming_the_first_and_one_process_shares_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state/w.db");
        let first = Owner::acquire(&db, "run").unwrap();
        let again = Owner::acquire(&dir.path().join("state/../state/w.db"), "once").unwrap();
        assert!(Arc::ptr_eq(&first.held, &again.held), "one lock per file in a process");
        let text = std::fs::read_to_string(dir.path().join("state/w.db-lock")).unwrap();
        assert_eq!(text, format!("{} run\n", std::process::id()));

        // Another open of the lock file is another owner to the kernel, as another process is.
        let other = File::options().read(true).write(true).open(dir.path().join("state/w.db-lock")).unwrap();
        assert!(!FileExt::try_lock_exclusive(&other).unwrap(), "held while an owner lives");
        drop((first, again));
        assert!(FileExt::try_lock_exclusive(&other).unwrap(), "released with the last owner");
        assert_eq!(std::fs::read_to_string(dir.path().join("state/w.db-lock")).unwrap(), "", "no stale PID left");
    }

    #[test]
    fn a_refusal_names_a_live_holder_and_not_a_crashed_one() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("w.db-lock");
        let me = std::process::id();
        for (text, expected) in [
            (format!("{me} run\n"), Holder { pid: Some(me), command: Some("run".into()) }),
            // PIDs stop below 2^22 on Linux: this one never lives.
            ("4194305 once\n".to_string(), Holder { pid: None, command: Some("once".into()) }),
            (String::new(), Holder { pid: None, command: None }),
        ] {
            std::fs::write(&lock, &text).unwrap();
            let mut file = File::open(&lock).unwrap();
            assert_eq!(holder(&mut file), expected, "{text:?}");
        }
        assert_eq!(Holder { pid: Some(7), command: Some("run".into()) }.to_string(), "`wirewatch run` (PID 7)");
    }
}
