//! The integrity check of a database file, `PRAGMA quick_check`, and this process's handle on
//! its verdict ([`IntegrityCheck`]); the gate that holds the verdict is `gate.rs`, the opens
//! that start a check are in `open.rs`.
//!
//! The check reads the whole file: about 45 ms for the 87 MB a thousand feeds leave. A `once`
//! run starts it on a thread of its own and fetches meanwhile; start-up only reads until the
//! verdict is in, and a damaged file is still refused before anything writes to it. A file
//! wirewatch closed cleanly and checked lately is not checked again (`stamp.rs`). `run` checks
//! its file again while it writes ([`IntegrityCheck::recheck`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError, Turns, stamp};

/// Runs `PRAGMA quick_check` on the database at `path`, if there is one to check. The
/// connection is read-only, so closing it never checkpoints a WAL into the file.
pub(super) fn quick_check(path: &Path) -> Result<(), StoreError> {
    if !has_pages(path) {
        return Ok(());
    }
    let corrupt = |detail: String| StoreError::Corrupt { path: path.to_path_buf(), detail };
    // A rollback journal left by a crash (a file not in WAL mode) must be rolled back before
    // the file can be read, which only a connection that may write does.
    let access = if hot_journal(path) { OpenFlags::SQLITE_OPEN_READ_WRITE } else { OpenFlags::SQLITE_OPEN_READ_ONLY };
    let flags = access | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    let mut stmt = conn.prepare("PRAGMA quick_check(5)").map_err(|e| corrupt(e.to_string()))?;
    let found: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e: rusqlite::Error| corrupt(e.to_string()))?;
    if found != ["ok"] {
        return Err(corrupt(found.join("; ")));
    }
    Ok(())
}

impl Store {
    /// Waits for the integrity check [`Store::open_checking`] started; an error when it found
    /// the file damaged (nothing has been written to it then).
    pub fn integrity(&self) -> Result<(), StoreError> {
        self.turns.gate.wait()
    }

    /// A handle on that check, for a thread without the store.
    pub fn integrity_check(&self) -> IntegrityCheck {
        let path = self.conn.path().filter(|p| !p.is_empty()).map(PathBuf::from);
        IntegrityCheck { turns: Arc::clone(&self.turns), path }
    }

    /// Whether `e` may mean the file is damaged (or could not be written whole): the clean
    /// close of this run then leaves no stamp, and the next start checks the file.
    pub fn may_be_damaged(e: &StoreError) -> bool {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        Store::is_storage_trouble(e)
            || matches!(e, StoreError::Corrupt { .. } | StoreError::Unchecked(_))
            || matches!(e, StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, DatabaseCorrupt | NotADatabase))
    }

    /// Records an error met on this file: one that [`Store::may_be_damaged`] withholds the
    /// stamp of a clean close. Returns whether the caller should report it: not once the file
    /// failed its integrity check, which the engine reports, once, as it stops (and nothing
    /// more is written to it).
    pub fn met(&self, e: &StoreError) -> bool {
        if Store::may_be_damaged(e) {
            self.turns.gate.taint();
        }
        self.integrity().is_ok()
    }
}

/// The integrity check of a store's file ([`Store::open_checking`]).
#[derive(Clone)]
pub struct IntegrityCheck {
    turns: Arc<Turns>,
    path: Option<PathBuf>,
}

impl IntegrityCheck {
    /// [`Store::integrity`].
    pub fn wait(&self) -> Result<(), StoreError> {
        self.turns.gate.wait()
    }

    /// Resolves once the check has a verdict: [`IntegrityCheck::wait`] for a task.
    pub fn settled(&self) -> impl Future<Output = ()> + Send + use<> {
        self.turns.gate.settled()
    }

    /// Whether `run` should check the file again at `now`: `every` after the last check, or
    /// an hour after it (at most `every`) once an error met since may mean damage.
    pub fn due(&self, now: i64, every: Duration) -> bool {
        self.turns.gate.due(now, every.as_secs() as i64)
    }

    /// Checks the file again while writes go on: the check's read-only connection reads a
    /// snapshot of it. Sound: the verdict is dated now, and the errors met before it no longer
    /// withhold the stamp. Damaged: every later write of this process fails, as after a failed
    /// check at start, and so does this.
    pub fn recheck(&self) -> impl Future<Output = Result<(), StoreError>> + Send + use<> {
        let (turns, path) = (Arc::clone(&self.turns), self.path.clone());
        async move {
            let Some(path) = path else { return Ok(()) };
            tokio::task::spawn_blocking(move || turns.gate.recheck(&path))
                .await
                .unwrap_or_else(|e| Err(StoreError::Unchecked(format!("the integrity check stopped: {e}"))))
        }
    }

    /// Once every store of this process on the file is closed: leaves the stamp that spares
    /// the next start the check, if the file was found sound, no error since cast doubt on
    /// it, and nobody else has it open.
    pub fn closed(&self) {
        if let (Some(path), Some(checked_at)) = (&self.path, self.turns.gate.checked_at()) {
            stamp::leave(path, checked_at);
        }
    }
}

/// Whether there is a database at `path` to check: a file with something in it.
pub(super) fn has_pages(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// Whether a rollback journal lies beside the database at `path`.
pub(super) fn hot_journal(path: &Path) -> bool {
    stamp::beside(path, "-journal").exists()
}

#[cfg(test)]
pub(super) mod tests;
