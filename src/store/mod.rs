//! SQLite storage: feeds and their HTTP validators, every story seen, matches, and the alert
//! outbox.
//!
//! Only this module touches SQLite. Every write that must stay consistent (a story, its matches
//! and its outbox rows) happens in one transaction, so a crash leaves either all or nothing.

mod articles;
mod batch;
use batch::Work;
mod clusters;
mod faults;
mod feeds;
mod gate;
mod integrity;
mod lock;
mod open;
mod outbox;
mod prune;
mod schema;
mod sentence_index;
mod sketch_index;
mod stamp;
mod stories;
mod turn;
mod views;
use turn::{Turn, Turns};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

pub use articles::{ArticleOutcome, PendingArticle, StoredStory};
pub use clusters::{Member, RecentCluster};
pub use feeds::{Activity, FeedRow, FeedState};
pub use integrity::IntegrityCheck;
pub use lock::{Holder, Owner};
pub use outbox::{DeliveryTrouble, OutboxEntry, OutboxRow, OutboxState, RetryGroup};
pub use prune::{PRUNE_STEP, Pruned};
pub use stories::{FetchMeta, IngestStats, NewAlert, Raised};
pub use views::{AlertFilter, AlertRow, Report, StoryRow};

/// How long a connection waits for another one's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no database at {path}: `wirewatch once` or `run` creates it. Under systemd the service's \
         database is in its state directory: put STATE_DIRECTORY=/var/lib/wirewatch before the \
         command, or set [storage] path"
    )]
    Missing { path: PathBuf },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "database {path} has schema version {found}, newer than this wirewatch knows ({known}): use the newer \
         wirewatch that wrote it"
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error(
        "database {path} has schema version {found}, older than this wirewatch reads ({known}): use the wirewatch \
         that last ran on it, or let this one's `wirewatch run` or `once` upgrade it first"
    )]
    TooOld { path: PathBuf, found: i64, known: i64 },
    #[error("database {path} has no tables yet: `wirewatch run` or `once` is creating it")]
    Empty { path: PathBuf },
    #[error(
        "database {path} is in use by {holder}, and one process at a time writes to a database: look at it with \
         `wirewatch status`, `feeds`, `recent` or `outbox` (they only read), or stop that process before \
         starting another `run` or `once`"
    )]
    Locked { path: PathBuf, holder: Holder },
    #[error("cannot lock the database with {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "database {path} is damaged (PRAGMA quick_check: {detail}); wirewatch writes nothing more to it: \
         restore it from a backup, or move it aside to start afresh (stories then alert again \
         within [poll] backfill)"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot check the database: {0}")]
    Unchecked(String),
    #[error("corrupt alert payload in outbox row {id}: {source}")]
    Payload { id: i64, source: serde_json::Error },
    #[error("the database rolled back a batch of polls after an error writing it")]
    BatchRolledBack,
    #[error("matching a new story crashed (a bug in wirewatch); the poll is rolled back")]
    MatchCrashed,
}

/// One connection to the database. Open one per thread that needs it.
pub struct Store {
    conn: Connection,
    /// The cross-feed candidate index (the ingest writer's only): preloaded on a thread of its
    /// own, else loaded on first use.
    sketches: Option<sketch_index::SketchIndex>,
    /// The index being loaded on a thread of its own ([`Store::preload_sketch_index`]).
    sketches_loading: Option<std::thread::JoinHandle<Result<sketch_index::SketchIndex, StoreError>>>,
    /// Bytes the candidate index may hold (`[dedupe] memory`).
    sketch_memory: usize,
    /// Whether a batch is open ([`Store::begin_batch`]).
    batch: bool,
    /// This process's queue for the write lock, and the turn an open batch holds.
    turns: std::sync::Arc<Turns>,
    turn: Option<Turn>,
    /// The database's lock, held by every store that may write (`lock.rs`); `None` for a
    /// read-only one.
    _owner: Option<Owner>,
}

impl Store {
    /// Copies what the WAL holds into the database file, as far as readers allow, without
    /// waiting for them or for writers (a passive checkpoint). Best effort: a failure only
    /// leaves the work to the next checkpoint.
    pub fn checkpoint(&mut self) {
        // A preload still reading would pin the WAL at its snapshot, older than this run's writes.
        self.finish_preload();
        if self.integrity().is_ok()
            && let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            self.met(&e.into());
        }
    }

    /// The write-ahead log SQLite keeps beside the database at `path`.
    pub fn wal_path(path: &Path) -> PathBuf {
        stamp::beside(path, "-wal")
    }

    /// Caps the database file at about `bytes` (never below its current size): writes past
    /// it fail as on a full disk.
    pub fn limit_size(&self, bytes: u64) -> Result<(), StoreError> {
        let page: i64 = self.conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages = (bytes as i64 + page - 1) / page;
        self.conn.pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }

    /// Whether `e` means the disk (or `[storage] max_size`) is full or the file cannot be
    /// written: a condition of the machine, not of one feed.
    pub fn is_storage_trouble(e: &StoreError) -> bool {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, ReadOnly, SystemIoFailure};
        matches!(e, StoreError::BatchRolledBack)
            || matches!(e, StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, DiskFull | SystemIoFailure | ReadOnly | CannotOpen))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.finish_preload();
        if self.integrity().is_ok() {
            // A sound file: the last connection to close checkpoints the WAL and removes it.
            let _ = self.conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false);
        }
    }
}

/// Seconds since the Unix epoch, the unit of every time column.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Unix seconds as RFC 3339 UTC (`2026-11-24T06:42:00Z`), as listings, JSON output and the web
/// view write times; `-` for a time outside the calendar.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(|| "-".into(), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
