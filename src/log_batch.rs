//! A thread's batch of access lines ([`crate::log_sink`]): lines are formatted straight into
//! it, and it says when it is due to be handed to the writer thread. Its buffers are recycled:
//! once the first few exist, batches cost no allocation either.

use std::sync::Mutex;
use std::time::SystemTime;

use crate::log_sink::{self, DRAIN_EVERY};

/// A thread's batch is handed to the writer once it holds this much.
pub(crate) const HANDOFF: usize = 32 * 1024;
/// Room past [`HANDOFF`], so that the line crossing it does not grow (and copy) the batch.
const SLACK: usize = 4 * 1024;
/// A batch buffer's size.
pub(crate) const CAPACITY: usize = HANDOFF + SLACK;
/// Emptied batch buffers the writer gives back for threads to fill again: once the
/// first few exist, batches cost no allocation either. Locked once per batch, never per line.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// Spare buffers kept at most; more are freed.
const SPARES: usize = 16;

/// One thread's lines not yet handed over.
#[derive(Debug)]
pub(crate) struct Batch {
    buf: Vec<u8>,
    lines: u64,
    /// The first line's time.
    since: SystemTime,
}

impl Batch {
    pub(crate) const fn new() -> Self {
        Batch {
            buf: Vec::new(),
            lines: 0,
            since: SystemTime::UNIX_EPOCH,
        }
    }

    /// Adds a line; `true` when the batch should be handed over now.
    pub(crate) fn add(&mut self, now: SystemTime, build: impl FnOnce(&mut Vec<u8>)) -> bool {
        if self.buf.is_empty() {
            self.since = now;
            if self.buf.capacity() == 0 {
                self.buf = spare().unwrap_or_else(|| Vec::with_capacity(CAPACITY));
            }
        }
        build(&mut self.buf);
        self.lines += 1;
        // A clock that stepped back leaves the batch's age unknown: it goes over now.
        let old = now
            .duration_since(self.since)
            .map_or(true, |age| age >= DRAIN_EVERY);
        self.buf.len() >= HANDOFF || old
    }

    /// Takes the lines out, leaving the batch empty; `None` if it was.
    pub(crate) fn take(&mut self) -> Option<(Vec<u8>, u64)> {
        if self.buf.is_empty() {
            return None;
        }
        let lines = std::mem::take(&mut self.lines);
        Some((std::mem::take(&mut self.buf), lines))
    }

    /// Copies the lines out, leaving the batch empty with its buffer kept; `None` if empty.
    pub(crate) fn take_copy(&mut self) -> Option<(Vec<u8>, u64)> {
        if self.buf.is_empty() {
            return None;
        }
        let copy = self.buf.clone();
        self.buf.clear();
        Some((copy, std::mem::take(&mut self.lines)))
    }
}

impl Drop for Batch {
    /// A thread that ends without the runtime's stop hook (one that is not a worker) still
    /// hands its lines over.
    fn drop(&mut self) {
        if let Some((buf, lines)) = self.take() {
            log_sink::hand_over(buf, lines);
        }
    }
}

fn spare() -> Option<Vec<u8>> {
    SPARE.lock().ok()?.pop()
}

/// Gives an emptied batch buffer back (unless enough are spare, or it is not a batch's).
pub(crate) fn recycle(mut buf: Vec<u8>) {
    if !reusable(buf.capacity()) {
        return;
    }
    buf.clear();
    if let Ok(mut spare) = SPARE.lock()
        && spare.len() < SPARES
    {
        spare.push(buf);
    }
}

/// A batch's buffer, possibly grown by a line longer than the slack, is kept; a lone line's
/// copy (smaller) and one grown far by a huge line are freed, so that spares stay small.
fn reusable(capacity: usize) -> bool {
    (CAPACITY..=MAX_SPARE_CAPACITY).contains(&capacity)
}

/// The largest buffer kept as a spare.
const MAX_SPARE_CAPACITY: usize = 4 * CAPACITY;

#[cfg(test)]
#[path = "log_batch_tests.rs"]
mod tests;
