//! Repeated failed sign-ins slow down, then lock the name for a while.
//!
//! Per sign-in name (known or not, so the answer does not reveal which names exist):
//! after [`FREE_FAILURES`] failures within [`WINDOW`], each further attempt waits
//! `DELAY_STEP × (failures − FREE_FAILURES)` before it is answered; at [`LOCK_AFTER`]
//! failures the name is locked for [`LOCK_FOR`] — every attempt, even with the right
//! password, is refused with `Retry-After`. A success clears the count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures answered at once.
pub const FREE_FAILURES: u32 = 3;
/// Extra wait per failure past the free ones.
pub const DELAY_STEP: Duration = Duration::from_millis(500);
/// Failures that lock the name.
pub const LOCK_AFTER: u32 = 6;
/// How long a lock lasts.
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Names tracked at most (oldest forgotten first), so a flood of names cannot fill memory.
const MAX_NAMES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// What to do with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password after waiting this long.
    Proceed(Duration),
    /// Refuse; the lock lifts after this long.
    Locked(Duration),
}

/// Failed sign-ins per name.
#[derive(Debug, Default)]
pub struct Throttle {
    names: Mutex<HashMap<String, Record>>,
}

impl Throttle {
    /// Whether an attempt for `name` may proceed at `now`, and after what wait.
    pub fn gate(&self, name: &str, now: Instant) -> Gate {
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        let Some(r) = names.get(name) else {
            return Gate::Proceed(Duration::ZERO);
        };
        if let Some(until) = r.locked_until.filter(|&u| u > now) {
            return Gate::Locked(until - now);
        }
        if now.duration_since(r.last) > WINDOW {
            return Gate::Proceed(Duration::ZERO);
        }
        Gate::Proceed(DELAY_STEP * r.failures.saturating_sub(FREE_FAILURES))
    }

    /// Records a failure for `name`; returns whether the name is now locked.
    pub fn failed(&self, name: &str, now: Instant) -> bool {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.len() >= MAX_NAMES && !names.contains_key(name) {
            let oldest = names
                .iter()
                .min_by_key(|(_, r)| r.last)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                names.remove(&k);
            }
        }
        let r = names.entry(name.to_owned()).or_insert(Record {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(r.last) > WINDOW || r.locked_until.is_some_and(|u| u <= now) {
            *r = Record {
                failures: 0,
                last: now,
                locked_until: None,
            };
        }
        r.failures += 1;
        r.last = now;
        if r.failures >= LOCK_AFTER {
            r.locked_until = Some(now + LOCK_FOR);
        }
        r.locked_until.is_some()
    }

    /// Clears `name`'s failures after a successful sign-in.
    pub fn succeeded(&self, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        names.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_down_then_lock_then_expire() {
        let t = Throttle::default();
        let start = Instant::now();
        assert_eq!(t.gate("a", start), Gate::Proceed(Duration::ZERO));
        for _ in 0..FREE_FAILURES {
            assert!(!t.failed("a", start));
        }
        assert_eq!(t.gate("a", start), Gate::Proceed(Duration::ZERO));
        assert!(!t.failed("a", start));
        assert_eq!(t.gate("a", start), Gate::Proceed(DELAY_STEP));
        assert!(!t.failed("a", start));
        assert_eq!(t.gate("a", start), Gate::Proceed(DELAY_STEP * 2));
        assert!(t.failed("a", start));
        assert_eq!(t.gate("a", start), Gate::Locked(LOCK_FOR));
        // Other names are not affected.
        assert_eq!(t.gate("b", start), Gate::Proceed(Duration::ZERO));
        // The lock lifts.
        let later = start + LOCK_FOR + Duration::from_secs(1);
        assert_eq!(t.gate("a", later), Gate::Proceed(Duration::ZERO));
        assert!(!t.failed("a", later));
        t.succeeded("a");
        assert_eq!(t.gate("a", later), Gate::Proceed(Duration::ZERO));
    }
}
