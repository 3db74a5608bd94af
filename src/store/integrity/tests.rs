use std::path::Path;

use rusqlite::Connection;

use crate::store::{Store, StoreError, stamp};

pub(in crate::store) const URLS: usize = 300;
pub(in crate::store) const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub(in crate::store) fn urls() -> Vec<String> {
    (0..URLS).map(|i| format!("https://example.org/feed/{i}.xml")).collect()
}

/// [`urls`] and one more: asking for their states writes the new feed's row.
pub(in crate::store) fn one_more_url() -> Vec<String> {
    [urls(), vec!["https://example.org/new.xml".into()]].concat()
}

pub(in crate::store) fn corrupt<T>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Corrupt { .. }))
}

/// A database with a row for each of [`urls`] and, at the end of the file, pages of a
/// table of its own; returns the file's bytes with the last page damaged (not yet written).
pub(in crate::store) fn database(path: &Path) -> Vec<u8> {
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
pub(in crate::store) fn checked(dir: &Path) -> (std::path::PathBuf, Vec<u8>, Store) {
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

pub(in crate::store) fn feed_rows(path: &Path) -> i64 {
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
fn a_clock_set_back_makes_a_check_due() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_checking(&dir.path().join("w.db"), DAY).unwrap();
    let at = store.turns.gate.checked_at().unwrap();
    assert!(store.integrity_check().due(at - 5 * 86_400, DAY));
}
