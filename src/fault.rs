//! Faults injected on purpose, to test the supervision of delivery. They exist only in builds
//! with the `fault-injection` feature (the test suite's); in any other build every function
//! here does nothing, whatever the environment says.

use std::time::Duration;

/// Called at the start of each delivery pass. With `WIREWATCH_FAULT=delivery-panic` it
/// panics; with `delivery-stall` it never returns.
pub async fn delivery_pass() {
    #[cfg(feature = "fault-injection")]
    match std::env::var("WIREWATCH_FAULT").as_deref() {
        Ok("delivery-panic") => panic!("injected fault: delivery-panic"),
        Ok("delivery-stall") => std::future::pending::<()>().await,
        _ => {}
    }
}

/// How long a delivery pass may go without progress: `default`, or
/// `WIREWATCH_STALL_AFTER` seconds under fault injection.
pub fn stall_after(default: Duration) -> Duration {
    #[cfg(feature = "fault-injection")]
    if let Some(secs) = std::env::var("WIREWATCH_STALL_AFTER").ok().and_then(|v| v.parse().ok()) {
        return Duration::from_secs(secs);
    }
    default
}
