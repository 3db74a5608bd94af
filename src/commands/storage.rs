//! What `wirewatch status` says of the storage under the database: whether it can be written
//! and has room.
//!
//! A daemon that cannot write its database cannot record that in it either, so `status` looks
//! at the storage itself: the file system's flags and free space, the permissions of the file
//! and its folder, `[storage] max_size`. It only looks, so it works beside a daemon and for a
//! user who may only read. [`judge`] decides from those facts alone.

use std::path::Path;

use serde::Serialize;

/// Less free space than this on the database's file system is a full disk: SQLite needs room
/// for a WAL and the pages a poll writes.
const FULL_BELOW: u64 = 1024 * 1024;

/// How close to `[storage] max_size` the file is full: the last pages are never used whole.
const MAX_SIZE_SLACK: u64 = 64 * 1024;

/// The storage under the database, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Storage {
    /// `ok`, `full`, `read-only` or `unknown`.
    pub state: &'static str,
    /// What is wrong and what it means, when something is.
    pub problem: Option<String>,
    /// Space left for unprivileged users on the database's file system.
    pub available_bytes: Option<u64>,
}

/// What [`judge`] decides from.
#[derive(Debug, Clone, Default)]
struct Facts {
    /// The file system is mounted read-only.
    mounted_read_only: bool,
    /// Nobody may write the file, or its folder (where SQLite keeps its WAL), by their modes.
    file_read_only: bool,
    folder_read_only: bool,
    available: Option<u64>,
    /// The database file's size.
    bytes: u64,
    max_size: Option<u64>,
}

/// The storage under the database at `path`, capped at `max_size`.
pub fn storage(path: &Path, max_size: Option<u64>) -> Storage {
    judge(&facts(path, max_size), path)
}

fn judge(f: &Facts, path: &Path) -> Storage {
    let db = path.display();
    let (state, problem) = if f.mounted_read_only {
        ("read-only", Some(format!("the file system holding {db} is mounted read-only: no poll can be stored")))
    } else if f.file_read_only {
        ("read-only", Some(format!("{db} may not be written (no write permission): no poll can be stored")))
    } else if f.folder_read_only {
        let folder = path.parent().unwrap_or(Path::new(".")).display();
        (
            "read-only",
            Some(format!("the folder {folder} may not be written (no write permission): no poll can be stored")),
        )
    } else if f.available.is_some_and(|a| a < FULL_BELOW) {
        let free = bytesize::ByteSize::b(f.available.unwrap_or(0));
        let problem = format!(
            "{free} free on the file system holding {db}: polls back off and nothing is marked seen until there is room"
        );
        ("full", Some(problem))
    } else if let Some(max) = f.max_size.filter(|&max| f.bytes + MAX_SIZE_SLACK >= max) {
        let max = bytesize::ByteSize::b(max);
        let problem = format!("{db} has reached [storage] max_size ({max}): raise it, or lower [storage] retain");
        ("full", Some(problem))
    } else if f.available.is_none() {
        ("unknown", None)
    } else {
        ("ok", None)
    };
    Storage { state, problem, available_bytes: f.available }
}

#[cfg(unix)]
fn facts(path: &Path, max_size: Option<u64>) -> Facts {
    use std::os::unix::fs::PermissionsExt;
    let folder = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stats = rustix::fs::statvfs(path).ok();
    let read_only = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o222 == 0);
    Facts {
        mounted_read_only: stats.as_ref().is_some_and(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY)),
        file_read_only: read_only(path),
        folder_read_only: read_only(folder),
        available: stats.map(|s| s.f_bavail.saturating_mul(s.f_frsize)),
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        max_size,
    }
}

#[cfg(not(unix))]
fn facts(path: &Path, max_size: Option<u64>) -> Facts {
    Facts {
        file_read_only: std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()),
        available: fs4::available_space(path).ok(),
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        max_size,
        ..Facts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_judged_by_what_stops_a_write_first() {
        let roomy = Facts { available: Some(10 << 30), bytes: 1 << 20, ..Facts::default() };
        let cases: [(&str, Facts, &str, &str); 7] = [
            ("room", roomy.clone(), "ok", ""),
            ("mounted read-only", Facts { mounted_read_only: true, ..roomy.clone() }, "read-only", "mounted read-only"),
            ("file read-only", Facts { file_read_only: true, ..roomy.clone() }, "read-only", "w.db may not be written"),
            ("folder read-only", Facts { folder_read_only: true, ..roomy.clone() }, "read-only", "folder /srv may not"),
            ("disk full", Facts { available: Some(4096), ..roomy.clone() }, "full", "4.0 KiB free on the file system"),
            ("at max_size", Facts { max_size: Some(1 << 20), ..roomy.clone() }, "full", "reached [storage] max_size"),
            ("no statistics", Facts { available: None, ..roomy.clone() }, "unknown", ""),
        ];
        for (case, facts, state, problem) in cases {
            let judged = judge(&facts, Path::new("/srv/w.db"));
            assert_eq!(judged.state, state, "{case}");
            assert!(judged.problem.as_deref().unwrap_or_default().contains(problem), "{case}: {judged:?}");
            assert_eq!(judged.problem.is_none(), problem.is_empty(), "{case}");
        }
    }
}
