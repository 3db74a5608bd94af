//! The integrity check of a database file, `PRAGMA quick_check`, and the gate that keeps every
//! write of this process waiting for its verdict.
//!
//! The check reads the whole file: about 45 ms for the 87 MB a thousand feeds leave. A `once`
//! run starts it on a thread of its own and fetches meanwhile; start-up only reads until the
//! verdict is in, and a damaged file is still refused before anything writes to it. A file
//! wirewatch closed cleanly and checked lately is not checked again (`stamp.rs`). `run` checks
//! its file again while it writes ([`IntegrityCheck::recheck`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::watch;

use super::{Store, StoreError, Turns, stamp};

/// Runs `PRAGMA quick_check` on the database at `path`, if there is one to check. The
/// connection is read-only, so closing it never checkpoints a WAL into the file.
fn quick_check(path: &Path) -> Result<(), StoreError> {
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
    /// [`Store::open`], after `PRAGMA quick_check` has found the file sound. A damaged file is
    /// refused before anything writes to it.
    pub fn open_checked(path: &Path) -> Result<Store, StoreError> {
        quick_check(path)?;
        Store::open(path)
    }

    /// [`Store::open`] while `PRAGMA quick_check` runs on a thread of its own: reads go ahead at
    /// once, and every write of this process to the file (a turn, a migration, a checkpoint)
    /// waits for the check to pass. [`Store::integrity`] waits for its verdict. A stamp spares
    /// the check a file closed cleanly and checked within `every`.
    pub fn open_checking(path: &Path, every: Duration) -> Result<Store, StoreError> {
        if !has_pages(path) || hot_journal(path) {
            // Nothing to check, or a journal to roll back first: no reading ahead of the check.
            let store = Store::open_checked(path)?;
            store.turns.gate.pass();
            return Ok(store);
        }
        // Held until the store holds it, so that the store's queue is the one with the check.
        let turns = Turns::of(path);
        turns.gate.start(path, every);
        // A file too damaged to open is reported as damaged.
        Store::open(path).map_err(|e| turns.gate.wait().err().unwrap_or(e))
    }

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
fn has_pages(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// Whether a rollback journal lies beside the database at `path`.
fn hot_journal(path: &Path) -> bool {
    stamp::beside(path, "-journal").exists()
}

/// Whether writes may go ahead: yes unless a check is running or has failed. The check's
/// thread settles the verdict itself, for threads ([`Gate::wait`]) and tasks
/// ([`Gate::settled`]) alike.
pub(super) struct Gate(Arc<Shared>);

struct Shared {
    verdict: Mutex<Verdict>,
    settled: Condvar,
    /// Whether the verdict is in, for tasks.
    published: watch::Sender<bool>,
    /// Set by an error that may mean damage: the file is then not stamped as sound.
    tainted: AtomicBool,
    /// Threads waiting for a pending verdict.
    #[cfg(test)]
    waiting: std::sync::atomic::AtomicUsize,
}

/// How long after a check an error that may mean damage waits for the next one.
const DOUBTS_WAIT: i64 = 3600;

#[derive(Default)]
enum Verdict {
    /// No check asked for (commands other than `once` and `run`).
    #[default]
    Unchecked,
    /// Sound, as checked (or vouched for by a stamp) at this time.
    Passed(i64),
    /// Being checked.
    Pending,
    Corrupt {
        path: PathBuf,
        detail: String,
    },
    /// The check could not run (the file could not be opened, or the check crashed).
    Unreadable(String),
}

impl Verdict {
    /// What running `check`, begun at `now`, found.
    fn of(check: impl FnOnce() -> Result<(), StoreError>, now: i64) -> Verdict {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            Ok(Ok(())) => Verdict::Passed(now),
            Ok(Err(StoreError::Corrupt { path, detail })) => Verdict::Corrupt { path, detail },
            Ok(Err(e)) => Verdict::Unreadable(e.to_string()),
            Err(_) => Verdict::Unreadable("the integrity check crashed".into()),
        }
    }
}

impl Default for Gate {
    fn default() -> Gate {
        Gate(Arc::new(Shared {
            verdict: Mutex::default(),
            settled: Condvar::new(),
            published: watch::Sender::new(true),
            tainted: AtomicBool::new(false),
            #[cfg(test)]
            waiting: Default::default(),
        }))
    }
}

impl Gate {
    /// Checks the database at `path` on a thread of its own, unless a stamp vouches for it (a
    /// check within `every`); until the check is done, [`Gate::wait`] waits for it.
    pub(super) fn start(&self, path: &Path, every: Duration) {
        self.start_with(path, every, quick_check);
    }

    fn start_with(
        &self,
        path: &Path,
        every: Duration,
        check: impl FnOnce(&Path) -> Result<(), StoreError> + Send + 'static,
    ) {
        let now = super::unix_now();
        if let Some(checked_at) = stamp::vouched(path, now, every.as_secs() as i64) {
            tracing::debug!(database = %path.display(), checked_at, "closed cleanly and checked lately: not checked again");
            return self.0.settle(Verdict::Passed(checked_at));
        }
        *self.0.verdict() = Verdict::Pending;
        self.0.published.send_replace(false);
        let (shared, path) = (Arc::clone(&self.0), path.to_path_buf());
        let spawned = std::thread::Builder::new()
            .name("wirewatch-check".into())
            .spawn(move || shared.settle(Verdict::of(|| check(&path), now)));
        if let Err(e) = spawned {
            self.0.settle(Verdict::Unreadable(format!("cannot start the integrity check: {e}")));
        }
    }

    /// Whether a check is due at `now` ([`IntegrityCheck::due`]).
    fn due(&self, now: i64, every: i64) -> bool {
        let Verdict::Passed(at) = *self.0.verdict() else { return false };
        let doubted = self.0.tainted.load(Ordering::SeqCst);
        // A clock set back since the last check cannot put the next one off.
        now < at || now - at >= every || (doubted && now - at >= every.min(DOUBTS_WAIT))
    }

    /// Checks the file again while writes go on ([`IntegrityCheck::recheck`]).
    fn recheck(&self, path: &Path) -> Result<(), StoreError> {
        self.recheck_with(path, quick_check)
    }

    fn recheck_with(&self, path: &Path, check: impl FnOnce(&Path) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let now = super::unix_now();
        // Only a sound verdict is checked again; the one found replaces it only if nothing
        // else has since (a start-up check of a restarted engine sharing this gate, say).
        let Verdict::Passed(before) = *self.0.verdict() else {
            return Err(StoreError::Unchecked("another check of the file is under way".into()));
        };
        // An error met from here on casts its doubt on the next check, not on this one.
        let doubted = self.0.tainted.swap(false, Ordering::SeqCst);
        let found = if !has_pages(path) {
            Verdict::Unreadable(format!("{} is gone or empty", path.display()))
        } else {
            Verdict::of(|| check(path), now)
        };
        match found {
            Verdict::Unreadable(error) => {
                if doubted {
                    self.taint();
                }
                Err(StoreError::Unchecked(error))
            }
            found => match self.0.settle_if(before, found) {
                true => self.wait(),
                false => Err(StoreError::Unchecked("another check of the file took the verdict".into())),
            },
        }
    }

    /// Records that the file was just created, or checked before anything read it: sound.
    pub(super) fn pass(&self) {
        self.0.settle(Verdict::Passed(super::unix_now()));
    }

    /// Waits for a pending verdict; an error when the check found the file damaged or could
    /// not run.
    pub(super) fn wait(&self) -> Result<(), StoreError> {
        let mut verdict = self.0.verdict();
        while let Verdict::Pending = *verdict {
            #[cfg(test)]
            self.0.waiting.fetch_add(1, Ordering::SeqCst);
            verdict = self.0.settled.wait(verdict).unwrap_or_else(|p| p.into_inner());
            #[cfg(test)]
            self.0.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        match &*verdict {
            Verdict::Unchecked | Verdict::Passed(_) | Verdict::Pending => Ok(()),
            Verdict::Corrupt { path, detail } => {
                Err(StoreError::Corrupt { path: path.clone(), detail: detail.clone() })
            }
            Verdict::Unreadable(error) => Err(StoreError::Unchecked(error.clone())),
        }
    }

    /// Resolves once the verdict is in: [`Gate::wait`] for a task.
    pub(super) fn settled(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut published = self.0.published.subscribe();
        async move {
            let _ = published.wait_for(|settled| *settled).await;
        }
    }

    /// Withholds the stamp of a clean close: an error met on the way may mean damage.
    pub(super) fn taint(&self) {
        self.0.tainted.store(true, Ordering::SeqCst);
    }

    /// When the file was found sound, if nothing since has cast doubt on it.
    pub(super) fn checked_at(&self) -> Option<i64> {
        match *self.0.verdict() {
            Verdict::Passed(at) if !self.0.tainted.load(Ordering::SeqCst) => Some(at),
            _ => None,
        }
    }
}

impl Shared {
    fn settle(&self, verdict: Verdict) {
        *self.verdict() = verdict;
        self.publish();
    }

    /// [`Shared::settle`], if the verdict is still the one passed at `before`; whether it was.
    fn settle_if(&self, before: i64, verdict: Verdict) -> bool {
        {
            let mut current = self.verdict();
            if !matches!(*current, Verdict::Passed(at) if at == before) {
                return false;
            }
            *current = verdict;
        }
        self.publish();
        true
    }

    /// Wakes the threads and tasks waiting for a verdict.
    fn publish(&self) {
        self.settled.notify_all();
        self.published.send_replace(true);
    }

    fn verdict(&self) -> MutexGuard<'_, Verdict> {
        self.verdict.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::Ordering;

    use rusqlite::Connection;

    use crate::store::{Store, StoreError, Turns, stamp};

    const URLS: usize = 300;
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

    fn urls() -> Vec<String> {
        (0..URLS).map(|i| format!("https://example.org/feed/{i}.xml")).collect()
    }

    /// [`urls`] and one more: asking for their states writes the new feed's row.
    fn one_more_url() -> Vec<String> {
        [urls(), vec!["https://example.org/new.xml".into()]].concat()
    }

    fn corrupt<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::Corrupt { .. }))
    }

    /// A database with a row for each of [`urls`] and, at the end of the file, pages of a
    /// table of its own; returns the file's bytes with the last page damaged (not yet written).
    fn database(path: &Path) -> Vec<u8> {
        let store = Store::open(path).unwrap();
        store.feed_states(&urls()).unwrap();
        store
            .conn
            .execute_batch("CREATE TABLE filler (x); INSERT INTO filler SELECT randomblob(3000) FROM feeds LIMIT 50;")
            .unwrap();
        drop(store);
        let mut bytes = std::fs::read(path).unwrap();
        let last = bytes.len() - 4096;
        bytes[last..last + 64].fill(0xA5);
        bytes
    }

    /// [`database`] at `w.db` in `dir`, opened with its check passed: its path, the damaged
    /// bytes and the store.
    fn checked(dir: &Path) -> (std::path::PathBuf, Vec<u8>, Store) {
        let path = dir.join("w.db");
        let damaged = database(&path);
        let store = Store::open_checking(&path, DAY).unwrap();
        assert!(store.integrity().is_ok());
        (path, damaged, store)
    }

    /// The number `sql` counts in the file, read without writing.
    fn count(path: &Path, sql: &str) -> i64 {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn feed_rows(path: &Path) -> i64 {
        count(path, "SELECT COUNT(*) FROM feeds")
    }

    #[test]
    fn a_damaged_file_is_read_but_never_written_not_even_by_the_last_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let damaged = database(&path);
        let wal_bytes = leave_wal(&path);
        let wal = stamp::beside(&path, "-wal");
        std::fs::write(&path, &damaged).unwrap();

        let mut store = Store::open_checking(&path, DAY).expect("the schema page is sound");
        assert!(corrupt(store.integrity()));
        assert_eq!(store.feed_states(&urls()).unwrap().len(), URLS, "reads go ahead");
        assert!(corrupt(store.feed_states(&one_more_url())), "a new feed's row is a write");
        assert!(corrupt(store.begin_batch()));
        store.checkpoint();
        drop(store);
        assert!(std::fs::read(&path).unwrap() == damaged, "nothing was written to the file");
        assert!(std::fs::read(&wal).unwrap() == wal_bytes, "the WAL is kept as it was");
        assert!(corrupt(Store::open_checked(&path)));
    }

    /// Leaves committed pages in a WAL beside the file, as a crash does (a close that does not
    /// copy them into the file); returns the WAL's bytes.
    fn leave_wal(path: &Path) -> Vec<u8> {
        let conn = Connection::open(path).unwrap();
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).unwrap();
        conn.execute("UPDATE feeds SET etag = 'x'", []).unwrap();
        drop(conn);
        let wal = std::fs::read(stamp::beside(path, "-wal")).unwrap();
        assert!(!wal.is_empty());
        wal
    }

    #[test]
    fn a_file_too_damaged_to_open_keeps_its_wal_as_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        database(&path);
        // A page of the schema past the first: every statement fails, the header stays.
        let page = count(&path, "SELECT max(pageno) FROM dbstat WHERE name = 'sqlite_schema'") as usize;
        assert!(page > 1, "the schema spans pages");
        let wal = leave_wal(&path);
        let mut damaged = std::fs::read(&path).unwrap();
        damaged[(page - 1) * 4096..(page - 1) * 4096 + 64].fill(0xA5);
        std::fs::write(&path, &damaged).unwrap();
        let opened = Store::open_checking(&path, DAY).map(|s| s.integrity());
        assert!(matches!(opened, Err(StoreError::Corrupt { .. })), "{:?}", opened.map(|_| ()));
        assert!(std::fs::read(&path).unwrap() == damaged, "nothing was written to the file");
        assert!(std::fs::read(stamp::beside(&path, "-wal")).unwrap() == wal, "the WAL is kept as it was");
    }

    #[test]
    fn a_write_waits_for_a_pending_check_while_reads_go_ahead() {
        for sound in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("w.db");
            database(&path);
            let turns = Turns::of(&path);
            let (release, released) = std::sync::mpsc::channel::<()>();
            turns.gate.start_with(&path, DAY, move |path| {
                released.recv().unwrap();
                if sound { Ok(()) } else { Err(StoreError::Corrupt { path: path.into(), detail: "held".into() }) }
            });
            // A read does not wait: it is done while the check is held.
            let (read_tx, read_rx) = std::sync::mpsc::channel();
            let reader = std::thread::spawn(move || {
                let store = Store::open(&path).unwrap();
                let read = store.feed_states(&urls()).map(|states| states.len());
                read_tx.send(read).unwrap();
                store
            });
            let read = read_rx.recv_timeout(std::time::Duration::from_secs(20)).expect("a read waited for the check");
            assert_eq!(read.unwrap(), URLS);
            let store = reader.join().unwrap();
            let path = dir.path().join("w.db");
            let writer = std::thread::spawn(move || store.feed_states(&one_more_url()).map(|states| states.len()));
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while turns.gate.0.waiting.load(Ordering::SeqCst) == 0 {
                assert!(std::time::Instant::now() < deadline, "the write never reached the gate");
                std::thread::yield_now();
            }
            assert_eq!(feed_rows(&path), URLS as i64, "nothing written while the check runs");
            release.send(()).unwrap();
            let written = writer.join().unwrap();
            if sound {
                assert_eq!(written.unwrap(), URLS + 1);
            } else {
                assert!(corrupt(written));
                assert_eq!(feed_rows(&path), URLS as i64);
            }
        }
    }

    #[test]
    fn a_file_closed_cleanly_is_not_checked_again_until_it_is_opened_without_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Store::open_checking(&path, DAY).unwrap();
        store.conn.execute_batch("CREATE TABLE filler (x); INSERT INTO filler VALUES (randomblob(30000));").unwrap();
        let check = store.integrity_check();
        drop(store);
        check.closed();
        assert!(dir.path().join("w.db-closed").exists(), "a sound file closed cleanly is stamped");

        // Damage the stamp cannot see (a disk's bit rot): a stamp left for the damaged bytes.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 4096;
        bytes[last..last + 64].fill(0xA5);
        std::fs::write(&path, &bytes).unwrap();
        stamp::leave(&path, crate::store::unix_now());

        let store = Store::open_checking(&path, DAY).unwrap();
        assert!(store.integrity().is_ok(), "vouched for, so not checked");
        drop(store);
        let store = Store::open_checking(&path, DAY).unwrap();
        assert!(corrupt(store.integrity()), "the stamp is gone once opened");
    }

    #[test]
    fn an_error_that_may_mean_damage_withholds_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Store::open_checking(&path, DAY).unwrap();
        let check = store.integrity_check();
        store.met(&StoreError::MatchCrashed);
        assert!(check.turns.gate.checked_at().is_some(), "not a database error");
        store.met(&StoreError::BatchRolledBack);
        drop(store);
        check.closed();
        assert!(!dir.path().join("w.db-closed").exists());
    }

    #[test]
    fn a_check_is_due_a_day_after_the_last_or_an_hour_after_it_once_in_doubt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_checking(&dir.path().join("w.db"), DAY).unwrap();
        let (check, at) = (store.integrity_check(), store.turns.gate.checked_at().unwrap());
        let hour = std::time::Duration::from_secs(3600);
        assert!(!check.due(at + 3599, DAY) && !check.due(at + 3600, DAY));
        assert!(check.due(at + 24 * 3600, DAY) && check.due(at + 60, std::time::Duration::from_secs(60)));
        store.met(&StoreError::BatchRolledBack);
        assert!(!check.due(at + 3599, DAY) && check.due(at + 3600, DAY), "in doubt: an hour");
        assert!(!check.due(at + 1799, hour / 2) && check.due(at + 1800, hour / 2), "never past check_every");
    }

    #[tokio::test]
    async fn a_check_while_running_clears_old_doubts_or_stops_every_later_write() {
        let dir = tempfile::tempdir().unwrap();
        let (path, damaged, mut store) = checked(dir.path());
        let check = store.integrity_check();
        store.met(&StoreError::BatchRolledBack);
        assert!(check.turns.gate.checked_at().is_none(), "in doubt");
        check.recheck().await.unwrap();
        assert!(check.turns.gate.checked_at().is_some(), "sound again: a clean close may stamp it");

        // A batch begun before the verdict is rolled back at its commit, not written.
        store.begin_batch().unwrap();
        store.conn.execute("UPDATE feeds SET etag = 'late'", []).unwrap();
        std::fs::write(&path, &damaged).unwrap();
        assert!(corrupt(check.recheck().await));
        assert!(corrupt(store.commit_batch()));
        assert_eq!(
            count(&path, "SELECT COUNT(*) FROM feeds WHERE etag = 'late'"),
            0,
            "nothing committed after the verdict"
        );
        assert!(corrupt(store.begin_batch()), "no write after the verdict");
        assert!(corrupt(store.feed_states(&one_more_url())));
        drop(store);
        check.closed();
        assert!(!dir.path().join("w.db-closed").exists());
    }

    #[test]
    fn a_check_while_running_never_overrides_a_verdict_reached_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, store) = checked(dir.path());
        let gate = &store.turns.gate;
        let (release, released) = std::sync::mpsc::channel::<()>();
        // While it runs, a restarted engine's start-up check takes the verdict and is held.
        let found = gate.recheck_with(&path, |_| {
            gate.start_with(&path, DAY, move |_| {
                released.recv().unwrap();
                Ok(())
            });
            Err(StoreError::Corrupt { path: path.clone(), detail: "found late".into() })
        });
        assert!(matches!(*gate.0.verdict(), super::Verdict::Pending), "the start-up check keeps the gate");
        assert!(matches!(found, Err(StoreError::Unchecked(_))), "what it found is not the verdict");
        release.send(()).unwrap();
        assert!(store.integrity().is_ok(), "the start-up check's verdict stands");
        let missing = dir.path().join("gone.db");
        assert!(matches!(gate.recheck(&missing), Err(StoreError::Unchecked(_))), "a file gone is not sound");
    }

    #[test]
    fn a_clock_set_back_makes_a_check_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_checking(&dir.path().join("w.db"), DAY).unwrap();
        let at = store.turns.gate.checked_at().unwrap();
        assert!(store.integrity_check().due(at - 5 * 86_400, DAY));
    }
}
