//! The retry budget of one upstream (DESIGN §4): retries may add at most `budget_percent` of
//! the request rate, with a floor of `budget_min_per_second`, so a failing backend is not hit
//! by a retry storm.
//!
//! Rates are estimated over a sliding one-second window: the current second's counts plus the
//! previous second's, weighted by how much of it is still inside the window (the estimate
//! Cloudflare's rate limiter uses). Counts are packed into one atomic per second (requests in
//! the high half, retries in the low half), so the request path never takes a lock.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tokio::time::Instant;

const RETRY_ONE: u64 = 1;
const REQUEST_ONE: u64 = 1 << 32;

#[derive(Debug)]
pub struct RetryBudget {
    epoch: Instant,
    /// The second (since `epoch`) that `current` counts.
    second: AtomicU64,
    current: AtomicU64,
    previous: AtomicU64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryBudget {
    pub fn new() -> Self {
        RetryBudget {
            epoch: Instant::now(),
            second: AtomicU64::new(0),
            current: AtomicU64::new(0),
            previous: AtomicU64::new(0),
        }
    }

    /// Counts a client request (once, however many attempts it takes) that arrived at `now`
    /// (the caller's clock reading: the request's start serves).
    pub fn record_request(&self, now: Instant) {
        self.roll(now);
        self.current.fetch_add(REQUEST_ONE, Relaxed);
    }

    /// Takes one retry from the budget if it has room.
    pub fn try_retry(&self, percent: f64, min_per_second: u32) -> bool {
        let weight = self.roll(Instant::now());
        let (cur_req, cur_retry) = unpack(self.current.load(Relaxed));
        let (prev_req, prev_retry) = unpack(self.previous.load(Relaxed));
        let requests = prev_req * weight + cur_req;
        let retries = prev_retry * weight + cur_retry;
        let allowed = (requests * percent / 100.0).max(f64::from(min_per_second));
        if retries + 1.0 > allowed {
            return false;
        }
        self.current.fetch_add(RETRY_ONE, Relaxed);
        true
    }

    /// Moves to `now`'s second if it is a later one; returns the previous second's weight.
    /// Only forward: a reading taken just before another thread rolled counts in the new
    /// second instead of resetting the window.
    fn roll(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.epoch);
        let second = elapsed.as_secs();
        let seen = self.second.load(Relaxed);
        if second > seen
            && self
                .second
                .compare_exchange(seen, second, Relaxed, Relaxed)
                .is_ok()
        {
            let counts = self.current.swap(0, Relaxed);
            let carried = if second == seen + 1 { counts } else { 0 };
            self.previous.store(carried, Relaxed);
        }
        1.0 - f64::from(elapsed.subsec_millis()) / 1000.0
    }
}

fn unpack(counts: u64) -> (f64, f64) {
    ((counts >> 32) as f64, (counts & 0xffff_ffff) as f64)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn retries_allowed(budget: &RetryBudget, percent: f64, min: u32, tries: u32) -> u32 {
        (0..tries)
            .filter(|_| budget.try_retry(percent, min))
            .count() as u32
    }

    #[tokio::test(start_paused = true)]
    async fn floor_allows_min_per_second_without_traffic() {
        let b = RetryBudget::new();
        assert_eq!(retries_allowed(&b, 20.0, 10, 50), 10);
        // A second and a bit later the window has slid past those retries.
        tokio::time::advance(Duration::from_millis(2001)).await;
        assert_eq!(retries_allowed(&b, 20.0, 10, 50), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_are_a_share_of_requests() {
        let b = RetryBudget::new();
        for _ in 0..1000 {
            b.record_request(Instant::now());
        }
        assert_eq!(retries_allowed(&b, 20.0, 0, 1000), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_failure_stays_within_budget() {
        // 100 requests a second for 10 s, each wanting 2 retries.
        let b = RetryBudget::new();
        let mut granted = 0;
        for _ in 0..1000 {
            b.record_request(Instant::now());
            granted += retries_allowed(&b, 20.0, 10, 2);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        // 20 % of 1000 requests, plus rounding at second boundaries.
        assert!((190..=215).contains(&granted), "granted {granted}");
    }

    #[tokio::test(start_paused = true)]
    async fn zero_percent_and_zero_floor_refuses_everything() {
        let b = RetryBudget::new();
        for _ in 0..100 {
            b.record_request(Instant::now());
        }
        assert_eq!(retries_allowed(&b, 0.0, 0, 10), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_gap_forgets_old_counts() {
        let b = RetryBudget::new();
        assert_eq!(retries_allowed(&b, 20.0, 3, 10), 3);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(retries_allowed(&b, 20.0, 3, 10), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_reading_does_not_roll_the_window_back() {
        let b = RetryBudget::new();
        let early = Instant::now();
        tokio::time::advance(Duration::from_millis(1500)).await;
        for _ in 0..100 {
            b.record_request(Instant::now());
        }
        // A request whose clock reading was taken before the second changed.
        b.record_request(early);
        // All 101 count in the current second: 20 % of them.
        assert_eq!(retries_allowed(&b, 20.0, 0, 100), 20);
    }
}
