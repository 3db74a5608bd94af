//! SQLite storage: feeds and their HTTP validators, every story seen, matches, and the alert
//! outbox.
//!
//! Only this module touches SQLite. Every write that must stay consistent (a story, its matches
//! and its outbox rows) happens in one transaction, so a crash leaves either all or nothing.

mod batch;
use batch::Work;
mod clusters;
mod feeds;
mod integrity;
mod outbox;
mod prune;
mod schema;
mod sketch_index;
mod stamp;
mod stories;
mod turn;
use turn::{Turn, Turns};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

pub use clusters::{Member, RecentCluster};
pub use feeds::{Activity, FeedRow, FeedState};
pub use integrity::IntegrityCheck;
pub use outbox::{OutboxEntry, OutboxRow, OutboxState, RetryGroup};
pub use prune::Pruned;
pub use stories::{FetchMeta, IngestStats, NewAlert, Raised};

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
    #[error("database {path} has schema version {found}, newer than this wirewatch knows ({known}); upgrade wirewatch")]
    TooNew { path: PathBuf, found: i64, known: i64 },
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
    /// Whether a batch is open ([`Store::begin_batch`]).
    batch: bool,
    /// This process's queue for the write lock, and the turn an open batch holds.
    turns: std::sync::Arc<Turns>,
    turn: Option<Turn>,
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

    /// [`Store::open`] for the commands that only look or tidy up: a database that is not there
    /// is an error, not a new empty one (a config read without the service's state directory
    /// names another file).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        // Only a file that is not there is missing; one that cannot be read says why on open.
        if std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        Store::open(path)
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        stamp::remove(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
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
        Ok(Store { conn, sketches: None, sketches_loading: None, batch: false, turns, turn: None })
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
