//! The ways a [`Store`] opens its file: for writing ([`Store::open`], by the owner of the
//! database's lock), after or while checking its integrity ([`Store::open_checked`],
//! [`Store::open_checking`]), and for reading only ([`Store::open_read_only`]).
//!
//! A writable open takes the database's lock (`lock.rs`) before it touches the folder or the
//! file. A read-only open never migrates, creates or changes anything, and refuses a file of
//! another schema version rather than misreading it.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::integrity::{has_pages, hot_journal, quick_check};
use super::lock::Owner;
use super::{BUSY_TIMEOUT, Store, StoreError, Turns, schema, stamp};

/// The command a lock taken by a bare [`Store::open`] names (tests, benches): `run` and
/// `once` take theirs first, under their own names.
const UNNAMED: &str = "(library)";

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date, as
    /// the owner of its lock: refused with [`StoreError::Locked`] while another process owns it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let owner = Owner::acquire(path, UNNAMED)?;
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        stamp::remove(path);
        let mut conn = Connection::open(path).map_err(open_err)?;
        // Until the file is known sound, closing must not copy a WAL left by a crash into it
        // (as the last connection to close does): a damaged file is left as found.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Every transaction here reads, then writes. A deferred one that reads while another
        // connection commits cannot upgrade to a write and fails at once, busy timeout or not;
        // an immediate one takes the write lock first and waits for it.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        let turns = Turns::of(path);
        // WAL lets the delivery task read while the ingest task writes; NORMAL sync is durable
        // against a crash of wirewatch, and after a power cut loses whole transactions only.
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Switching rewrites the header: not before the integrity check has passed.
            turns.gate.wait()?;
            conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        // A batch runs each poll in a savepoint, whose undo pages SQLite keeps in a temporary
        // journal: in memory, not spilled to a temporary file past 64 KiB (measured: ingest with
        // 300,000 stories stored went from 22,500 to 27,000 stories/s).
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(open_err)?;
        // 32 MiB of page cache per connection (SQLite's default is 2 MiB): the dedupe index and
        // the story indexes stay in memory instead of being read back from the OS on every
        // lookup.
        conn.pragma_update(None, "cache_size", -32_768).map_err(open_err)?;
        // Checkpoint every 32,768 pages (128 MiB of WAL) rather than 1,000: pages written by many
        // transactions in a row (index pages above all) reach the database file once. Measured
        // against 8,192: a million-story ingest went from 17,400 to 19,100 stories/s.
        conn.pragma_update(None, "wal_autocheckpoint", 32_768).map_err(open_err)?;
        schema::migrate(&mut conn, path, || turns.gate.wait())?;
        // The writer runs some twenty statements per poll; SQLite parses each once.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store::with(conn, turns, Some(owner)))
    }

    /// [`Store::open`], after `PRAGMA quick_check` has found the file sound. A damaged file is
    /// refused before anything writes to it.
    pub fn open_checked(path: &Path) -> Result<Store, StoreError> {
        // The check of a file with a rollback journal writes: the owner's alone.
        let _owner = Owner::acquire(path, UNNAMED)?;
        quick_check(path)?;
        Store::open(path)
    }

    /// [`Store::open`] while `PRAGMA quick_check` runs on a thread of its own: reads go ahead at
    /// once, and every write of this process to the file (a turn, a migration, a checkpoint)
    /// waits for the check to pass. [`Store::integrity`] waits for its verdict. A stamp spares
    /// the check a file closed cleanly and checked within `every`.
    pub fn open_checking(path: &Path, every: Duration) -> Result<Store, StoreError> {
        let _owner = Owner::acquire(path, UNNAMED)?;
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

    /// Opens the database at `path` to read it, as `status`, `feeds`, `recent`, `outbox` and
    /// `/metrics` do, beside a daemon or without one: no lock, no migration, nothing created
    /// or changed, and it works for a user who may only read the file. A database that is not
    /// there is an error, not a new empty one; so is one of another schema version.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let conn = read_only(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
        schema::readable(path, found)?;
        Ok(Store::with(conn, Turns::of(path), None))
    }

    fn with(conn: Connection, turns: std::sync::Arc<Turns>, owner: Option<Owner>) -> Store {
        Store { conn, sketches: None, sketches_loading: None, batch: false, turns, turn: None, _owner: owner }
    }
}

/// A read-only connection to the database at `path`.
fn read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match path.to_str() {
        // No WAL beside the file: no process has it open (the last to close removes it), so
        // the file holds every commit. `immutable` reads it without creating a `-wal` or
        // `-shm` beside it: a reader's user would own them, and a service of another user
        // could then not open its own database. A writer that starts meanwhile writes to a
        // WAL of its own and changes the file only at a checkpoint, 128 MiB of WAL later.
        Some(text) if !stamp::beside(path, "-wal").exists() => {
            const SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'?').add(b'#').add(b'%');
            let uri = format!("file:{}?immutable=1", percent_encoding::utf8_percent_encode(text, SET));
            Connection::open_with_flags(uri, flags)
        }
        // A writer has it open (or crashed): its latest commits are in the WAL, read through
        // the shared `-shm` index, which SQLite reads without writing to when it may not.
        _ => Connection::open_with_flags(path, flags),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// What a read must leave unchanged: the folder's listing and the file's bytes.
    fn snapshot(dir: &Path, db: &Path) -> (Vec<std::ffi::OsString>, Vec<u8>) {
        let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        (names, std::fs::read(db).unwrap())
    }

    #[test]
    fn a_read_only_open_of_a_closed_file_creates_and_changes_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let store = Store::open(&db).unwrap();
        store.feed_states(&["https://example.org/rss".into()]).unwrap();
        drop(store);
        stamp::leave(&db, 1);
        let before = snapshot(dir.path(), &db);
        let store = Store::open_read_only(&db).unwrap();
        assert_eq!(store.feed_rows().unwrap().len(), 1);
        assert!(store.feed_states(&["https://example.org/new".into()]).is_err(), "a write is refused");
        drop(store);
        assert_eq!(snapshot(dir.path(), &db), before, "no -wal, -shm or lock made, the stamp kept");
    }

    #[test]
    fn a_read_only_open_beside_a_writer_reads_its_latest_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let writer = Store::open(&db).unwrap();
        writer.feed_states(&["https://example.org/rss".into()]).unwrap();
        assert!(Store::wal_path(&db).exists(), "the commit is in the WAL");
        assert_eq!(Store::open_read_only(&db).unwrap().feed_rows().unwrap().len(), 1);
    }

    #[test]
    fn a_read_only_open_refuses_a_file_of_another_schema_version_and_leaves_it_as_found() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        drop(Store::open(&db).unwrap());
        let missing = Store::open_read_only(&dir.path().join("none.db"));
        assert!(matches!(missing, Err(StoreError::Missing { .. })));
        for (version, expected) in [
            (schema::VERSION - 1, "older than this wirewatch reads"),
            (schema::VERSION + 1, "newer than this wirewatch knows"),
            (0, "no tables yet"),
        ] {
            Connection::open(&db).unwrap().pragma_update(None, "user_version", version).unwrap();
            let before = snapshot(dir.path(), &db);
            let refused = Store::open_read_only(&db).map(|_| ()).unwrap_err().to_string();
            assert!(refused.contains(expected) && refused.contains(&db.display().to_string()), "{refused}");
            assert_eq!(snapshot(dir.path(), &db), before, "version {version}: nothing migrated or created");
        }
    }

    #[test]
    fn a_reader_beside_a_migration_reads_the_old_version_or_the_new_and_never_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        schema::create_at(&db, 1);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = std::thread::spawn({
            let (db, done) = (db.clone(), std::sync::Arc::clone(&done));
            move || {
                let (mut read, mut refused) = (0, 0);
                while !done.load(std::sync::atomic::Ordering::SeqCst) || read == 0 {
                    match Store::open_read_only(&db) {
                        Ok(store) => read += store.feed_rows().map(|_| 1).unwrap(),
                        Err(StoreError::TooOld { .. }) => refused += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                (read, refused)
            }
        });
        let mut store = Store::open(&db).expect("the migration is not disturbed");
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let (read, _) = reader.join().unwrap();
        assert!(read > 0);
        let version: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, schema::VERSION);
        assert!(store.begin_batch().is_ok());
    }

    #[test]
    fn a_writable_open_is_refused_while_another_owner_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fresh.db");
        let lock = std::fs::File::create(dir.path().join("fresh.db-lock")).unwrap();
        std::fs::write(dir.path().join("fresh.db-lock"), format!("{} run\n", std::process::id())).unwrap();
        assert!(fs4::fs_std::FileExt::try_lock_exclusive(&lock).unwrap());
        for refused in [Store::open(&db).err(), Store::open_checking(&db, Duration::from_secs(60)).err()] {
            let message = refused.expect("refused").to_string();
            assert!(message.contains(&format!("`wirewatch run` (PID {})", std::process::id())), "{message}");
            assert!(message.contains("`wirewatch status`"), "{message}");
        }
        assert!(!db.exists(), "nothing created");
    }
}
