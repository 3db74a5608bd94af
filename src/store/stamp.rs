//! The stamp wirewatch leaves beside a database it closed cleanly (`<file>-closed`), so that the
//! next start can skip `PRAGMA quick_check` on a file nothing has touched since.
//!
//! As a file system is checked after an unclean unmount and every so often: a file is checked
//! when no stamp vouches for it (a crash, another program's write, a restored copy, a check
//! older than `[storage] check_every`). Opening the file removes the stamp; the last connection to
//! close removes the WAL, and only then is a stamp left.

use std::path::{Path, PathBuf};

/// What identifies the file's bytes as they were at the close: a write changes the length or
/// the modification and change times (the latter no program can set back), a restored or
/// replaced file is another inode.
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let (mtime_ns, ctime_ns) = (ns(m.mtime(), m.mtime_nsec()), ns(m.ctime(), m.ctime_nsec()));
    Some(Identity { dev: m.dev(), ino: m.ino(), len: m.len(), mtime_ns, ctime_ns })
}

/// Without inode numbers a copy cannot be told from the original: no stamp, every start checks.
#[cfg(not(unix))]
fn identity(_: &Path) -> Option<Identity> {
    None
}

/// The file SQLite keeps beside the database `db` under `suffix` (`-wal`, `-journal`).
pub(super) fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn stamp_path(db: &Path) -> PathBuf {
    beside(db, "-closed")
}

/// The file itself, through any symbolic link: where SQLite keeps its WAL. The path as given
/// when it cannot be resolved (no such file yet).
pub(super) fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// When the file at `path` was last checked, if its stamp vouches for it: left at a clean
/// close, the file unchanged since, and the check younger than `every` seconds at `now`.
pub(super) fn vouched(path: &Path, now: i64, every: i64) -> Option<i64> {
    let path = &real(path);
    let text = std::fs::read_to_string(stamp_path(path)).ok()?;
    let fields: Vec<&str> = text.lines().nth(1)?.split_whitespace().collect();
    let [dev, ino, len, mtime_ns, ctime_ns, checked_at] = fields[..] else { return None };
    let stamped = Identity {
        dev: dev.parse().ok()?,
        ino: ino.parse().ok()?,
        len: len.parse().ok()?,
        mtime_ns: mtime_ns.parse().ok()?,
        ctime_ns: ctime_ns.parse().ok()?,
    };
    let checked_at: i64 = checked_at.parse().ok()?;
    let unchanged = identity(path)? == stamped && !beside(path, "-wal").exists();
    (unchanged && (0..every).contains(&(now - checked_at))).then_some(checked_at)
}

/// Removes the stamp of the file at `path`: whoever opens the file may change it.
pub(super) fn remove(path: &Path) {
    let _ = std::fs::remove_file(stamp_path(&real(path)));
}

/// Leaves a stamp for the file at `path`, last checked at `checked_at`, if it is closed: no
/// WAL beside it (the last connection to close removes it). Best effort: without a stamp the
/// next start checks the file.
pub(super) fn leave(path: &Path, checked_at: i64) {
    let path = &real(path);
    let Some(id) = identity(path).filter(|_| !beside(path, "-wal").exists()) else { return };
    let text = format!(
        "wirewatch closed this database cleanly; the next start checks it only if this file is gone, \
         the database changed or the check below is older than [storage] check_every.\n{} {} {} {} {} {checked_at}\n",
        id.dev, id.ino, id.len, id.mtime_ns, id.ctime_ns
    );
    let _ = std::fs::write(stamp_path(path), text);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600;

    fn closed_db(dir: &Path) -> PathBuf {
        let db = dir.join("w.db");
        std::fs::write(&db, b"pages").unwrap();
        db
    }

    /// Writes `bytes` over the file, its modification time moved `later` seconds on.
    fn rewrite(db: &Path, bytes: &[u8], later: u64) {
        let modified = std::fs::metadata(db).unwrap().modified().unwrap();
        std::fs::write(db, bytes).unwrap();
        let file = std::fs::File::options().write(true).open(db).unwrap();
        file.set_modified(modified + std::time::Duration::from_secs(later)).unwrap();
    }

    /// Puts a copy with the same bytes and modification time in the file's place.
    fn replace(db: &Path) {
        let copy = beside(db, ".copy");
        std::fs::copy(db, &copy).unwrap();
        let modified = std::fs::metadata(db).unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(&copy).unwrap().set_modified(modified).unwrap();
        std::fs::rename(&copy, db).unwrap();
    }

    #[test]
    fn a_stamp_vouches_only_for_the_file_as_it_was_closed_and_for_a_day() {
        let now = 1_800_000_000;
        type Spoil = fn(&Path);
        let cases: [(&str, i64, Spoil, bool); 8] = [
            ("as closed", now - 60, |_| {}, true),
            ("checked a day ago", now - DAY, |_| {}, false),
            ("checked in the future", now + 60, |_| {}, false),
            ("written since", now - 60, |db| rewrite(db, b"pageS", 1), false),
            ("grown since", now - 60, |db| std::fs::write(db, b"pages+").unwrap(), false),
            ("replaced by a copy", now - 60, |db| replace(db), false),
            ("a WAL beside it", now - 60, |db| std::fs::write(beside(db, "-wal"), b"").unwrap(), false),
            ("stamp unreadable", now - 60, |db| std::fs::write(stamp_path(db), "1 2 3").unwrap(), false),
        ];
        for (case, checked_at, spoil, vouches) in cases {
            let dir = tempfile::tempdir().unwrap();
            let db = closed_db(dir.path());
            leave(&db, checked_at);
            assert!(stamp_path(&db).exists(), "{case}");
            spoil(&db);
            assert_eq!(vouched(&db, now, DAY), vouches.then_some(checked_at), "{case}");
        }
    }

    #[test]
    fn no_stamp_is_left_while_a_wal_shows_the_file_open_and_opening_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = closed_db(dir.path());
        std::fs::write(beside(&db, "-wal"), b"").unwrap();
        leave(&db, 1);
        assert!(!stamp_path(&db).exists());
        std::fs::remove_file(beside(&db, "-wal")).unwrap();

        let db = dir.path().join("real.db");
        drop(crate::store::Store::open(&db).unwrap());
        leave(&db, 1);
        assert!(stamp_path(&db).exists());
        let store = crate::store::Store::open(&db).unwrap();
        assert!(!stamp_path(&db).exists(), "an open file may change");
        drop(store);
    }

    #[cfg(unix)]
    #[test]
    fn a_database_reached_through_a_link_is_stamped_beside_the_file_itself() {
        let dir = tempfile::tempdir().unwrap();
        let db = closed_db(dir.path());
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        leave(&link, 100);
        assert!(stamp_path(&db).exists() && !stamp_path(&link).exists());
        assert_eq!((vouched(&link, 160, DAY), vouched(&db, 160, DAY)), (Some(100), Some(100)));
        remove(&link);
        assert!(!stamp_path(&db).exists());
    }
}
