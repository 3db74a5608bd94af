//! The gate every write of this process to a database file waits at: open while the file's
//! integrity check (`integrity.rs`) has passed or none was asked for, shut while one runs,
//! closed for good once one found the file damaged.
//!
//! Threads wait on a condition variable ([`Gate::wait`]); tasks on a watch channel
//! ([`Gate::settled`]). The check's thread settles the verdict itself. The gate never reads or
//! writes the database: it only holds the verdict.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::StoreError;
use super::integrity::{has_pages, quick_check};
use super::stamp;

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
    pub(super) fn due(&self, now: i64, every: i64) -> bool {
        let Verdict::Passed(at) = *self.0.verdict() else { return false };
        let doubted = self.0.tainted.load(Ordering::SeqCst);
        // A clock set back since the last check cannot put the next one off.
        now < at || now - at >= every || (doubted && now - at >= every.min(DOUBTS_WAIT))
    }

    /// Checks the file again while writes go on ([`IntegrityCheck::recheck`]).
    pub(super) fn recheck(&self, path: &Path) -> Result<(), StoreError> {
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
    use super::*;
    use crate::store::integrity::tests::{DAY, URLS, checked, corrupt, database, feed_rows, one_more_url, urls};
    use crate::store::{Store, Turns};

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
        assert!(matches!(*gate.0.verdict(), Verdict::Pending), "the start-up check keeps the gate");
        assert!(matches!(found, Err(StoreError::Unchecked(_))), "what it found is not the verdict");
        release.send(()).unwrap();
        assert!(store.integrity().is_ok(), "the start-up check's verdict stands");
        let missing = dir.path().join("gone.db");
        assert!(matches!(gate.recheck(&missing), Err(StoreError::Unchecked(_))), "a file gone is not sound");
    }
}
