//! Time, injected: expiry and lock-out logic take a `Clock` so tests can move time.

use std::sync::Arc;

/// Seconds since the Unix epoch, from some source.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;

    /// Milliseconds since the epoch, for rate limits.
    fn now_ms(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// The system's wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// A clock that stands still until moved: tests of expiry, lock-out and TOTP steps.
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(now: i64) -> ManualClock {
        ManualClock(std::sync::atomic::AtomicI64::new(now))
    }

    /// Moves the clock `secs` seconds on.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The system clock moved on by the number of seconds written in a file (read at every
/// call). Only debug builds (the ones the integration tests boot) honour it, through
/// `PASSGRID_TEST_CLOCK_FILE`: tests age links, sessions and locks through the clock
/// the server uses, on both databases, instead of editing rows.
#[cfg(debug_assertions)]
pub struct OffsetFileClock(pub std::path::PathBuf);

#[cfg(debug_assertions)]
impl Clock for OffsetFileClock {
    fn now(&self) -> i64 {
        self.now_ms() / 1000
    }

    fn now_ms(&self) -> i64 {
        let offset = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .unwrap_or(0);
        SystemClock
            .now_ms()
            .saturating_add(offset.saturating_mul(1000))
    }
}

/// The clock of this process: the system's, or in a debug build the test clock of
/// `PASSGRID_TEST_CLOCK_FILE` when that is set.
pub fn process_clock() -> SharedClock {
    #[cfg(debug_assertions)]
    if let Some(path) = std::env::var_os("PASSGRID_TEST_CLOCK_FILE") {
        return Arc::new(OffsetFileClock(path.into()));
    }
    Arc::new(SystemClock)
}
