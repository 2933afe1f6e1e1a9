//! Where access lines go: formatted on the request's thread into one buffer, handed to a
//! writer thread through a bounded channel, and written to stdout in batches.
//!
//! The access log is the one log line per request, so it skips tracing's generic formatting
//! and the per-line `write` to a line-buffered stdout (the benchmark profile put them at ~10 %
//! of a small request's CPU). Logging never blocks a request: if stdout cannot keep up and the
//! channel is full, lines are dropped and counted, and the count is reported.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::logging::LogFormat;

/// Lines waiting for the writer thread at most.
const QUEUE: usize = 16 * 1024;

struct Sink {
    tx: SyncSender<Vec<u8>>,
    /// Taken by the writer thread, and by [`flush`] at exit; never by a request.
    rx: Mutex<Receiver<Vec<u8>>>,
    format: LogFormat,
}

/// How often the writer thread drains the queue. It sleeps instead of blocking on the
/// channel, so a request queuing a line never has to wake a thread (a futex call and a
/// context switch per request on a busy core).
const DRAIN_EVERY: Duration = Duration::from_millis(20);

static SINK: OnceLock<Sink> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Starts the writer thread; later calls keep the first format.
pub fn init(format: LogFormat) {
    let mut started = false;
    SINK.get_or_init(|| {
        started = true;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        Sink {
            tx,
            rx: Mutex::new(rx),
            format,
        }
    });
    if started {
        let spawned = std::thread::Builder::new()
            .name("errgate-log".into())
            .spawn(write_loop);
        if let Err(err) = spawned {
            eprintln!("errgate: access log writer did not start: {err}");
        }
    }
}

/// Writes every queued line now (at exit, so the last requests' lines are not lost).
pub fn flush() {
    if let Some(sink) = SINK.get() {
        drain(sink, &mut Vec::new());
    }
}

/// The format lines should be built in, or `None` when no sink was started (library use,
/// tests): then nothing is logged.
pub fn format() -> Option<LogFormat> {
    SINK.get().map(|s| s.format)
}

/// Queues one complete line (ending in `\n`).
pub fn send(line: Vec<u8>) {
    let Some(sink) = SINK.get() else { return };
    if let Err(TrySendError::Full(_)) = sink.tx.try_send(line) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Bytes gathered for one `write` at most.
const BATCH: usize = 256 * 1024;

fn write_loop() {
    let Some(sink) = SINK.get() else { return };
    // One buffer for the thread's life: growing a fresh one on every drain cost more than
    // formatting the lines (its reallocations copied each batch several times).
    let mut batch = Vec::with_capacity(BATCH + 4096);
    loop {
        drain(sink, &mut batch);
        std::thread::sleep(DRAIN_EVERY);
    }
}

fn drain(sink: &Sink, batch: &mut Vec<u8>) {
    let Ok(rx) = sink.rx.lock() else { return };
    batch.clear();
    loop {
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(line) => batch.extend_from_slice(&line),
                Err(_) => break,
            }
        }
        let dropped = DROPPED.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = format!(
                "{{\"level\":\"WARN\",\"target\":\"access\",\"message\":\"{dropped} access lines dropped: stdout is not keeping up\"}}\n"
            );
            batch.extend_from_slice(note.as_bytes());
        }
        if batch.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(batch).and_then(|()| out.flush());
        batch.clear();
    }
}
