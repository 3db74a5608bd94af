//! Turns at the write lock for the connections of this process to one database file.
//!
//! A connection that finds the database locked sleeps in SQLite's busy handler and tries again,
//! up to 100 ms at a time. The ingest writer commits a batch and begins the next at once, so on
//! a first poll of a thousand feeds the dispatcher found the lock taken at every try and
//! delivered nothing until polling was over. The writers of the ingest thread and the
//! dispatcher therefore queue here first, in arrival order: after each batch, whoever waited
//! goes next. A turn is waited for without a time limit (a stuck writer is the watchdog's to
//! catch); other processes still meet SQLite's lock, and its 10 s busy timeout, alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};

use rusqlite::Connection;

use super::gate::Gate;
use super::{Store, StoreError};

impl Store {
    /// Runs `work` in an immediate transaction of its own, in this process's turn at the write
    /// lock: how the dispatcher and the writer's start-up write. (The writer's batches hold a
    /// turn from [`Store::begin_batch`] to their commit.)
    pub(super) fn write<T>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let _turn = self.turns.take()?;
        let done = (|| {
            let tx = self.conn.unchecked_transaction()?;
            let done = work(&tx)?;
            // A check while running may have found the file damaged since the turn began.
            self.turns.gate.wait()?;
            tx.commit()?;
            Ok(done)
        })();
        if let Err(e) = &done {
            self.met(e);
        }
        done
    }
}

/// A ticket queue: tickets are served in the order they were drawn, once the file's integrity
/// check (if one is running) has passed.
#[derive(Default)]
pub(super) struct Turns {
    /// (next ticket to hand out, ticket being served)
    tickets: Mutex<(u64, u64)>,
    served: Condvar,
    pub(super) gate: Gate,
}

/// The write turn, held until dropped.
pub(super) struct Turn(Arc<Turns>);

impl Turns {
    /// The queue of the database file at `path` (which exists), shared by every store of this
    /// process opened on that file, however its path is spelt.
    pub(super) fn of(path: &Path) -> Arc<Turns> {
        static ALL: OnceLock<Mutex<HashMap<PathBuf, Weak<Turns>>>> = OnceLock::new();
        let path = super::stamp::real(path);
        let mut all = lock(ALL.get_or_init(Mutex::default));
        all.retain(|_, turns| turns.strong_count() > 0);
        if let Some(turns) = all.get(&path).and_then(Weak::upgrade) {
            return turns;
        }
        let turns = Arc::new(Turns::default());
        all.insert(path, Arc::downgrade(&turns));
        turns
    }

    /// Waits for this caller's turn; an error, and no turn, when the file failed its integrity
    /// check, before the turn or while it was waited for. Never take a second turn while
    /// holding one.
    pub(super) fn take(self: &Arc<Self>) -> Result<Turn, StoreError> {
        self.gate.wait()?;
        let ticket = self.draw();
        let turn = self.wait(ticket);
        self.gate.wait()?;
        Ok(turn)
    }

    fn draw(&self) -> u64 {
        let mut tickets = lock(&self.tickets);
        tickets.0 += 1;
        tickets.0 - 1
    }

    fn wait(self: &Arc<Self>, ticket: u64) -> Turn {
        let mut tickets = lock(&self.tickets);
        while tickets.1 != ticket {
            tickets = self.served.wait(tickets).unwrap_or_else(|p| p.into_inner());
        }
        Turn(Arc::clone(self))
    }
}

#[cfg(test)]
impl Turns {
    /// Turns being held or waited for.
    pub(super) fn queued(&self) -> u64 {
        let tickets = lock(&self.tickets);
        tickets.0 - tickets.1
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        lock(&self.0.tickets).1 += 1;
        self.0.served.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_served_in_arrival_order_and_shared_per_path() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Turns::of(&dir.path().join("a.db")), Turns::of(&dir.path().join("a.db")));
        assert!(Arc::ptr_eq(&a, &b), "one queue per file");
        assert!(!Arc::ptr_eq(&a, &Turns::of(&dir.path().join("b.db"))));
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = a.take().unwrap();
        let (queued_tx, queued_rx) = std::sync::mpsc::channel();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let (turns, order, queued) = (Arc::clone(&a), Arc::clone(&order), queued_tx.clone());
                let waiter = std::thread::spawn(move || {
                    let ticket = turns.draw();
                    queued.send(()).unwrap();
                    let turn = turns.wait(ticket);
                    order.lock().unwrap().push(i);
                    drop(turn);
                });
                queued_rx.recv().unwrap();
                waiter
            })
            .collect();
        assert!(order.lock().unwrap().is_empty(), "nobody goes while the first turn is held");
        drop(first);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
        drop(b.take().unwrap());
    }
}
