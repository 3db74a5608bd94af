//! Politeness: at most `concurrency` fetches in flight in all, and `per_host` to one host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Fetch slots: one global semaphore and one per host.
#[derive(Debug)]
pub struct FetchLimits {
    global: Arc<Semaphore>,
    hosts: HostLimits,
}

/// The permits one poll holds: its host's while fetching, a global one until its result is
/// handed on (so polled feeds waiting for a parser or the writer are bounded by `concurrency`,
/// not by the number of feeds).
pub struct FetchPermit {
    host: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

impl FetchPermit {
    /// The fetch is done: the host may serve another.
    pub fn release_host(&mut self) {
        self.host = None;
    }
}

impl FetchLimits {
    pub fn new(concurrency: usize, per_host: usize) -> FetchLimits {
        FetchLimits { global: Arc::new(Semaphore::new(concurrency.max(1))), hosts: HostLimits::new(per_host) }
    }

    /// Waits for a slot on `host` first, then for a global one, so that a busy host never
    /// holds global slots other hosts could use.
    pub async fn acquire(&self, host: Option<&str>) -> FetchPermit {
        let host = self.hosts.acquire(host).await;
        let global = Arc::clone(&self.global).acquire_owned().await.ok();
        FetchPermit { host, _global: global }
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
}
