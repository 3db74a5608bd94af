//! Politeness and memory: at most `concurrency` fetches in flight in all, `per_host` to one
//! host, and `[poll] memory` bytes of fetched bodies (and the stories parsed from them) held
//! until the writer has applied them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A body and the stories parsed from it are charged at this many times the body's size: the
/// parsed text, its folded copy for matching and the stories' keys are about the body's size
/// again (an estimate, kept on the safe side).
pub const PARSED_FACTOR: u64 = 2;

/// The byte budget's unit: permits count KiB, so that a budget of up to 4 TiB fits a
/// semaphore's permits.
const UNIT: u64 = 1024;

/// Fetch slots: one global semaphore and one per host; and the byte budget of bodies held.
#[derive(Debug)]
pub struct FetchLimits {
    global: Arc<Semaphore>,
    hosts: HostLimits,
    memory: Arc<Semaphore>,
    /// The budget in [`UNIT`]s, the most one body is charged.
    memory_units: u32,
}

/// The permits one poll holds: its host's while fetching, a global one until its result is
/// handed on (so polled feeds waiting for a parser or the writer are bounded by `concurrency`,
/// not by the number of feeds).
pub struct FetchPermit {
    host: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
    memory: Arc<Semaphore>,
    memory_units: u32,
    /// The bytes of the body fetched (and its stories), until the result is applied.
    held: Option<OwnedSemaphorePermit>,
}

impl FetchPermit {
    /// The fetch is done: the host may serve another.
    pub fn release_host(&mut self) {
        self.host = None;
    }

    /// Waits until a body of `bytes` (and what is parsed from it) fits the memory budget, and
    /// holds that share until this permit is dropped. A body larger than the whole budget
    /// takes all of it.
    pub async fn hold_body(&mut self, bytes: usize) {
        let units = (bytes as u64).saturating_mul(PARSED_FACTOR).div_ceil(UNIT).clamp(1, self.memory_units as u64);
        self.held = Arc::clone(&self.memory).acquire_many_owned(units as u32).await.ok();
    }
}

impl FetchLimits {
    /// `memory`: the bytes of bodies fetched and parsed but not yet applied (`[poll] memory`).
    pub fn new(concurrency: usize, per_host: usize, memory: u64) -> FetchLimits {
        let memory_units = (memory / UNIT).clamp(1, u32::MAX as u64 >> 3) as u32;
        FetchLimits {
            global: Arc::new(Semaphore::new(concurrency.max(1))),
            hosts: HostLimits::new(per_host),
            memory: Arc::new(Semaphore::new(memory_units as usize)),
            memory_units,
        }
    }

    /// Waits for a slot on `host` first, then for a global one, so that a busy host never
    /// holds global slots other hosts could use.
    pub async fn acquire(&self, host: Option<&str>) -> FetchPermit {
        let host = self.hosts.acquire(host).await;
        let global = Arc::clone(&self.global).acquire_owned().await.ok();
        let (memory, memory_units) = (Arc::clone(&self.memory), self.memory_units);
        FetchPermit { host, _global: global, memory, memory_units, held: None }
    }
}

/// One semaphore per host, made on first use.
#[derive(Debug)]
pub struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    pub fn new(per_host: usize) -> HostLimits {
        HostLimits { per_host: per_host.max(1), hosts: Mutex::new(HashMap::new()) }
    }

    /// Waits for a fetch slot on `host` (`None`: a local file, no limit).
    pub async fn acquire(&self, host: Option<&str>) -> Option<OwnedSemaphorePermit> {
        let host = host?;
        let sem = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                hosts.entry(host.to_ascii_lowercase()).or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        sem.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_host_gets_at_most_its_share_and_other_hosts_are_not_held_up() {
        let limits = HostLimits::new(2);
        let a1 = limits.acquire(Some("a.example")).await;
        let a2 = limits.acquire(Some("A.example")).await;
        assert!(a1.is_some() && a2.is_some());
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), limits.acquire(Some("a.example"))).await;
        assert!(third.is_err(), "a third fetch to the same host waits");
        assert!(limits.acquire(Some("b.example")).await.is_some());
        drop(a1);
        assert!(limits.acquire(Some("a.example")).await.is_some(), "a freed slot is reused");
        assert!(limits.acquire(None).await.is_none());
    }

    /// Bodies were bounded by count (`concurrency`), so 64 bodies of 10 MiB could be held at
    /// once; now by bytes, until each permit (held until the writer applied it) is dropped.
    #[tokio::test]
    async fn bodies_held_are_bounded_by_bytes_not_by_count() {
        let limits = FetchLimits::new(64, 64, 1024 * 1024);
        let mut first = limits.acquire(Some("a.example")).await;
        first.hold_body(400 * 1024).await;
        let mut second = limits.acquire(Some("b.example")).await;
        let wait = std::time::Duration::from_millis(50);
        let blocked = tokio::time::timeout(wait, second.hold_body(400 * 1024)).await;
        assert!(blocked.is_err(), "800 KiB held and 800 KiB more do not fit 1 MiB");
        drop(first);
        second.hold_body(400 * 1024).await;
        let mut huge = limits.acquire(None).await;
        drop(second);
        huge.hold_body(50 * 1024 * 1024).await;
        assert_eq!(limits.memory.available_permits(), 0, "a body larger than the budget takes all of it");
        let mut small = limits.acquire(None).await;
        assert!(tokio::time::timeout(wait, small.hold_body(10)).await.is_err());
    }
}
