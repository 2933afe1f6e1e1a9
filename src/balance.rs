//! Which endpoint of an upstream gets the next attempt: round robin or least outstanding
//! requests, skipping ejected endpoints and, for a retry, the ones already tried; plus the
//! upstream's concurrency limit.
//!
//! Passive ejection: an endpoint that fails `eject_after` times in a row is taken out for
//! `eject_for`. When that time is over it is on probation: the next failure takes it out again
//! for twice as long (up to [`MAX_EJECT_FACTOR`] times), a success restores it fully.
//!
//! All state is atomics, read and written without locks; two requests racing on the same
//! endpoint can at worst count one failure late, which ejection tolerates.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{LoadBalancing, Upstream};

/// The longest ejection, as a multiple of `eject_for`.
pub const MAX_EJECT_FACTOR: u32 = 30;

/// The endpoints already tried by one request (bit `i % 64` for endpoint `i`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tried(u64);

impl Tried {
    pub fn add(&mut self, i: usize) {
        self.0 |= 1 << (i % 64);
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << (i % 64)) != 0
    }
}

#[derive(Debug, Default)]
struct EndpointState {
    /// Attempts in flight (kept only for least-outstanding).
    outstanding: AtomicU32,
    failures: AtomicU32,
    /// Milliseconds since [`Endpoints::epoch`] until which the endpoint is out; 0: healthy.
    /// Past that time, a non-zero value means "on probation".
    ejected_until: AtomicU64,
    ejections: AtomicU32,
}

/// One upstream's endpoints and their health.
#[derive(Debug)]
pub struct Endpoints {
    policy: LoadBalancing,
    eject_after: u32,
    eject_for: Duration,
    max_in_flight: Option<usize>,
    epoch: Instant,
    next: AtomicUsize,
    in_flight: AtomicUsize,
    states: Box<[EndpointState]>,
}

/// The upstream is at `max_concurrent_requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded;

/// One request counted against the upstream's concurrency limit until dropped.
#[derive(Debug)]
pub struct Admission(Arc<Endpoints>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// One attempt counted as outstanding on its endpoint until dropped.
#[derive(Debug)]
pub struct Outstanding(Arc<Endpoints>, usize);

impl Drop for Outstanding {
    fn drop(&mut self) {
        self.0.states[self.1].outstanding.fetch_sub(1, Relaxed);
    }
}

/// What a response holds until its body is done: the request's admission and, under
/// least-outstanding, its endpoint's count.
#[derive(Debug)]
pub struct Hold {
    pub admission: Option<Admission>,
    pub outstanding: Option<Outstanding>,
}

impl Endpoints {
    pub fn new(config: &Upstream) -> Self {
        let states = (0..config.endpoints.len().max(1))
            .map(|_| EndpointState::default())
            .collect();
        Endpoints {
            policy: config.load_balancing,
            eject_after: config.eject_after,
            eject_for: config.eject_for,
            max_in_flight: config.max_concurrent_requests,
            epoch: Instant::now(),
            next: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            states,
        }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Counts a request against `max_concurrent_requests`; `None` when there is no limit.
    pub fn admit(self: &Arc<Self>) -> Result<Option<Admission>, Overloaded> {
        let Some(max) = self.max_in_flight else {
            return Ok(None);
        };
        if self.in_flight.fetch_add(1, Relaxed) >= max {
            self.in_flight.fetch_sub(1, Relaxed);
            return Err(Overloaded);
        }
        Ok(Some(Admission(self.clone())))
    }

    /// The endpoint for the next attempt, preferring ones not in `tried`; `None` when every
    /// endpoint is ejected.
    pub fn pick(&self, tried: Tried) -> Option<usize> {
        // The clock is read only while some endpoint has an ejection on record (cleared by its
        // next success); the usual case reads none.
        let now = if self
            .states
            .iter()
            .any(|s| s.ejected_until.load(Relaxed) != 0)
        {
            self.now_ms()
        } else {
            0
        };
        let n = self.states.len();
        if n == 1 {
            return self.available(0, now).then_some(0);
        }
        let start = self.next.fetch_add(1, Relaxed) % n;
        let order = (0..n).map(|k| (start + k) % n);
        let candidates = order.filter(|&i| self.available(i, now));
        let key = |i: usize| {
            let load = match self.policy {
                LoadBalancing::RoundRobin => 0,
                LoadBalancing::LeastOutstanding => self.states[i].outstanding.load(Relaxed),
            };
            (tried.has(i), load)
        };
        // min_by_key keeps the first of equals, so ties follow the rotation.
        candidates.min_by_key(|&i| key(i))
    }

    /// Marks an attempt on `i` as outstanding (least-outstanding only).
    pub fn start(self: &Arc<Self>, i: usize) -> Option<Outstanding> {
        if self.policy != LoadBalancing::LeastOutstanding {
            return None;
        }
        self.states.get(i)?.outstanding.fetch_add(1, Relaxed);
        Some(Outstanding(self.clone(), i))
    }

    /// Whether `i` is in rotation (healthy or on probation).
    pub fn is_up(&self, i: usize) -> bool {
        self.available(i, self.now_ms())
    }

    pub fn record_success(&self, i: usize) {
        let Some(state) = self.states.get(i) else {
            return;
        };
        // Loads first: the common case writes nothing, so endpoints' cache lines stay shared.
        if state.failures.load(Relaxed) != 0 {
            state.failures.store(0, Relaxed);
        }
        if state.ejected_until.load(Relaxed) != 0 {
            state.ejected_until.store(0, Relaxed);
            state.ejections.store(0, Relaxed);
        }
    }

    /// Counts a failure; returns true when it ejected the endpoint.
    pub fn record_failure(&self, i: usize) -> bool {
        let Some(state) = self.states.get(i) else {
            return false;
        };
        if self.eject_after == 0 {
            return false;
        }
        let now = self.now_ms();
        let until = state.ejected_until.load(Relaxed);
        if until != 0 && now < until {
            return false; // already out; a late answer from before the ejection
        }
        let on_probation = until != 0;
        if !on_probation && state.failures.fetch_add(1, Relaxed) + 1 < self.eject_after {
            return false;
        }
        state.failures.store(0, Relaxed);
        let factor = (1u32 << state.ejections.fetch_add(1, Relaxed).min(5)).min(MAX_EJECT_FACTOR);
        let length = self.eject_for.saturating_mul(factor);
        let length_ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        state
            .ejected_until
            .store(now.saturating_add(length_ms).max(1), Relaxed);
        true
    }

    fn available(&self, i: usize, now: u64) -> bool {
        let until = self.states[i].ejected_until.load(Relaxed);
        until == 0 || now >= until
    }

    fn now_ms(&self) -> u64 {
        let ms = Instant::now().duration_since(self.epoch).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
#[path = "balance_tests.rs"]
mod tests;
