//! The integrity check of a database file, `PRAGMA quick_check`, and the gate that keeps every
//! write of this process waiting for its verdict.
//!
//! The check reads the whole file: about 45 ms for the 87 MB a thousand feeds leave. A `once`
//! run starts it on a thread of its own and fetches meanwhile; start-up only reads until the
//! verdict is in, and a damaged file is still refused before anything writes to it. A file
//! wirewatch closed cleanly and checked within a day is not checked again (`stamp.rs`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::{StoreError, stamp};

/// Runs `PRAGMA quick_check` on the database at `path`, if there is one to check.
pub(super) fn quick_check(path: &Path) -> Result<(), StoreError> {
    if !std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let corrupt = |detail: String| StoreError::Corrupt { path: path.to_path_buf(), detail };
    let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
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

/// Whether writes may go ahead: open unless a check is running or has failed.
#[derive(Default)]
pub(super) struct Gate(Mutex<Verdict>);

#[derive(Default)]
enum Verdict {
    /// No check asked for (commands other than `once` and `run`).
    #[default]
    Unchecked,
    /// Sound, as checked (or vouched for by a stamp) at this time.
    Passed(i64),
    /// Being checked since this time.
    Pending(i64, JoinHandle<Result<(), StoreError>>),
    /// The file checked and the error's text (which names it), for every later writer.
    Failed(PathBuf, String),
}

impl Gate {
    /// Checks the database at `path` on a thread of its own, unless a stamp vouches for it;
    /// until the check is done, [`Gate::wait`] waits for it.
    pub(super) fn start(&self, path: &Path) {
        let now = super::unix_now();
        let verdict = match stamp::vouched(path, now) {
            Some(checked_at) => {
                tracing::debug!(database = %path.display(), checked_at, "closed cleanly and checked lately: not checked again");
                Verdict::Passed(checked_at)
            }
            None => {
                let path = path.to_path_buf();
                let check = std::thread::Builder::new()
                    .name("wirewatch-check".into())
                    .spawn(move || quick_check(&path))
                    .expect("the OS can start a thread");
                Verdict::Pending(now, check)
            }
        };
        *self.verdict() = verdict;
    }

    /// Records that a file just created is sound.
    pub(super) fn pass(&self) {
        *self.verdict() = Verdict::Passed(super::unix_now());
    }

    /// When the file was found sound (after [`Gate::wait`]); `None` if it was not checked.
    pub(super) fn checked_at(&self) -> Option<i64> {
        match *self.verdict() {
            Verdict::Passed(at) => Some(at),
            _ => None,
        }
    }

    /// Waits for the verdict of a check still running; an error when it found the file damaged.
    pub(super) fn wait(&self) -> Result<(), StoreError> {
        let mut verdict = self.verdict();
        if let Verdict::Pending(..) = &*verdict {
            let Verdict::Pending(started, check) = std::mem::take(&mut *verdict) else { unreachable!() };
            *verdict = match check.join() {
                Ok(Ok(())) => Verdict::Passed(started),
                Ok(Err(StoreError::Corrupt { path, detail })) => Verdict::Failed(path, detail),
                Ok(Err(e)) => Verdict::Failed(PathBuf::new(), e.to_string()),
                Err(_) => Verdict::Failed(PathBuf::new(), "the integrity check crashed".into()),
            };
        }
        match &*verdict {
            Verdict::Unchecked | Verdict::Passed(_) | Verdict::Pending(..) => Ok(()),
            Verdict::Failed(path, detail) if !path.as_os_str().is_empty() => {
                Err(StoreError::Corrupt { path: path.clone(), detail: detail.clone() })
            }
            Verdict::Failed(_, error) => Err(StoreError::Unchecked(error.clone())),
        }
    }

    fn verdict(&self) -> std::sync::MutexGuard<'_, Verdict> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreError};

    #[test]
    fn a_damaged_file_opens_for_reading_but_every_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let urls: Vec<String> = (0..300).map(|i| format!("https://example.org/feed/{i}.xml")).collect();
        let store = Store::open(&path).unwrap();
        store.feed_states(&urls).unwrap();
        // Pages of their own at the end of the file, for the damage.
        store
            .conn
            .execute_batch("CREATE TABLE filler (x); INSERT INTO filler SELECT randomblob(3000) FROM feeds LIMIT 50;")
            .unwrap();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 4096;
        bytes[last..last + 64].fill(0xA5);
        std::fs::write(&path, &bytes).unwrap();

        let mut store = Store::open_checking(&path).expect("the schema page is sound");
        let corrupt = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Corrupt { .. }));
        assert!(corrupt(store.integrity()));
        let more = [urls.clone(), vec!["https://example.org/new.xml".into()]].concat();
        assert!(corrupt(store.feed_states(&more).map(drop)), "a new feed's row is a write");
        assert!(corrupt(store.begin_batch()));
        store.checkpoint();
        drop(store);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was written");
        assert!(corrupt(Store::open_checked(&path).map(drop)));
    }

    #[test]
    fn a_sound_file_is_written_once_the_check_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        Store::open(&path).unwrap().feed_states(&["https://example.org/a.xml".into()]).unwrap();
        let store = Store::open_checking(&path).unwrap();
        let urls = ["https://example.org/a.xml".into(), "https://example.org/b.xml".into()];
        assert_eq!(store.feed_states(&urls).unwrap().len(), 2);
        store.integrity().unwrap();
    }

    #[test]
    fn a_file_closed_cleanly_is_not_checked_again_until_it_is_opened_without_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Store::open_checking(&path).unwrap();
        store.conn.execute_batch("CREATE TABLE filler (x); INSERT INTO filler VALUES (randomblob(30000));").unwrap();
        let check = store.integrity_check();
        drop(store);
        check.closed();
        assert!(dir.path().join("w.db-closed").exists(), "a sound file closed cleanly is stamped");

        // Damage the stamp cannot see: in place, same length, same modification time.
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 4096;
        bytes[last..last + 64].fill(0xA5);
        std::fs::write(&path, &bytes).unwrap();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(modified).unwrap();

        let store = Store::open_checking(&path).unwrap();
        assert!(store.integrity().is_ok(), "vouched for, so not checked");
        drop(store);
        let store = Store::open_checking(&path).unwrap();
        assert!(matches!(store.integrity(), Err(StoreError::Corrupt { .. })), "the stamp is gone once opened");
    }
}
