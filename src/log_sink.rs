//! Where access lines go: each thread formats its lines into a batch of its own
//! ([`crate::log_batch`]), hands the batch to a writer thread when it is full, when its first
//! line is a drain period old, or when the thread is about to go idle (the runtime's park
//! hook), and the writer thread writes the batches to stdout. tracing's other events take the
//! same way ([`crate::log_event`]), so nothing that logs waits on stdout.
//!
//! The access log is the one log line per request, so it skips tracing's generic formatting
//! and the per-line `write` to a line-buffered stdout. A line costs no allocation and no
//! cross-thread traffic of its own: a buffer allocated per line on the request's thread and
//! freed on the writer's (glibc takes the allocating arena's lock for that) was a third of
//! what logging cost a small request. Logging never blocks a request: if stdout cannot keep
//! up and too much is queued, lines are dropped and counted, and the count is reported.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use crate::log_batch::{Batch, CAPACITY, recycle};
use crate::logging::LogFormat;

/// Bytes queued for the writer thread at most; batches beyond that are dropped.
const MAX_QUEUED: usize = 16 * 1024 * 1024;

struct Sink {
    tx: Sender<Vec<u8>>,
    /// Taken by the writer thread, and by [`flush`] at exit; never by a request.
    rx: Mutex<Receiver<Vec<u8>>>,
    format: LogFormat,
}

/// How often the writer thread drains the queue, and the most a line waits in a busy
/// thread's batch. The writer sleeps instead of blocking on the channel, so handing a batch
/// over never has to wake a thread (a futex call and a context switch on a busy core).
pub(crate) const DRAIN_EVERY: Duration = Duration::from_millis(20);

static SINK: OnceLock<Sink> = OnceLock::new();
/// The writer thread, woken early for log events.
static WRITER: OnceLock<std::thread::Thread> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUED: AtomicUsize = AtomicUsize::new(0);
/// Set when the process is about to exit without stopping its runtime: every thread hands
/// its batch over with its next line.
static URGENT: AtomicBool = AtomicBool::new(false);
/// How long [`flush_before_exit`] gives busy threads to hand their batches over.
const EXIT_GRACE: Duration = Duration::from_millis(50);

/// Starts the writer thread; later calls keep the first format.
pub fn init(format: LogFormat) {
    let mut started = false;
    SINK.get_or_init(|| {
        started = true;
        let (tx, rx) = mpsc::channel();
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
        match spawned {
            Ok(handle) => {
                let _ = WRITER.set(handle.thread().clone());
            }
            Err(err) => eprintln!("errgate: access log writer did not start: {err}"),
        }
    }
}

/// Writes every queued line now, this thread's batch included (at exit, so the last
/// requests' lines are not lost), and returns within `limit` whatever stdout does: a stalled
/// pipe must not keep errgate from exiting.
pub fn flush(limit: Duration) {
    write_out(limit, Duration::ZERO);
}

/// [`flush`] before the process exits without stopping its runtime (a second shutdown
/// signal). Idle workers handed their lines over when they parked; busy ones hand theirs over
/// with their next line, within a short grace period.
pub fn flush_before_exit(limit: Duration) {
    URGENT.store(true, Ordering::Relaxed);
    write_out(limit, EXIT_GRACE);
}

fn write_out(limit: Duration, grace: Duration) {
    if SINK.get().is_none() {
        return;
    }
    flush_thread();
    let (done, finished) = mpsc::channel();
    let writer = std::thread::Builder::new().spawn(move || {
        std::thread::sleep(grace);
        if let Some(sink) = SINK.get() {
            drain(sink, &mut Vec::new());
        }
        let _ = done.send(());
    });
    if writer.is_ok() {
        let _ = finished.recv_timeout(limit + grace);
    }
}

/// Hands this thread's lines to the writer: the runtime calls it before a worker thread
/// parks or stops, so an idle thread holds no lines back.
///
/// A worker parks whenever it runs out of ready tasks, often a few dozen requests into a
/// batch. Those lines go over as an exact-size copy and the thread keeps its batch buffer:
/// handing over the buffer itself put dozens of them in flight per drain, more than the
/// spares, and the allocation churn left a 200-connection run with a fifth more RSS.
pub fn flush_thread() {
    let Some(sink) = SINK.get() else { return };
    let _ = BATCH_OF_THREAD.try_with(|batch| {
        if let Ok(mut batch) = batch.try_borrow_mut()
            && let Some((lines, count)) = batch.take_copy()
        {
            queue(sink, lines, count);
        }
    });
}

/// Queues one complete log event (tracing's, see [`crate::log_event`]) after this thread's
/// earlier access lines; gives it back when no sink was started.
pub(crate) fn queue_event(event: Vec<u8>) -> Result<(), Vec<u8>> {
    let Some(sink) = SINK.get() else {
        return Err(event);
    };
    flush_thread();
    queue(sink, event, 1);
    // Events are rare and often worth reading at once (a failed reload, a warning): the
    // writer wakes for them instead of at its next drain.
    if let Some(writer) = WRITER.get() {
        writer.unpark();
    }
    Ok(())
}

/// The format lines should be built in, or `None` when no sink was started (library use,
/// tests): then nothing is logged.
pub fn format() -> Option<LogFormat> {
    SINK.get().map(|s| s.format)
}

/// Appends one line to this thread's batch: `build` writes it (complete, ending in `\n`)
/// after what the batch holds; `now` is the line's time.
pub fn append(now: SystemTime, build: impl FnOnce(&mut Vec<u8>)) {
    let Some(sink) = SINK.get() else { return };
    let mut build = Some(build);
    let _ = BATCH_OF_THREAD.try_with(|batch| {
        if let Ok(mut batch) = batch.try_borrow_mut()
            && let Some(build) = build.take()
        {
            push(&mut batch, sink, now, build);
        }
    });
    // The thread is exiting (its storage is gone), or a line is being built inside another's
    // building: the line goes on its own.
    if let Some(build) = build {
        let mut line = Vec::new();
        build(&mut line);
        queue(sink, line, 1);
    }
}

thread_local! {
    static BATCH_OF_THREAD: RefCell<Batch> = const { RefCell::new(Batch::new()) };
}

/// Adds a line to a thread's batch, and hands the batch over when it is due.
fn push(batch: &mut Batch, sink: &Sink, now: SystemTime, build: impl FnOnce(&mut Vec<u8>)) {
    if (batch.add(now, build) || URGENT.load(Ordering::Relaxed))
        && let Some((buf, lines)) = batch.take()
    {
        queue(sink, buf, lines);
    }
}

/// Queues the lines of a batch dropped with its thread (see `Drop for Batch`).
pub(crate) fn hand_over(buf: Vec<u8>, lines: u64) {
    if let Some(sink) = SINK.get() {
        queue(sink, buf, lines);
    }
}

/// Queues a batch for the writer thread, or drops and counts its lines when too much is
/// already waiting.
fn queue(sink: &Sink, batch: Vec<u8>, lines: u64) {
    let len = batch.len();
    if QUEUED.fetch_add(len, Ordering::Relaxed) + len > MAX_QUEUED {
        QUEUED.fetch_sub(len, Ordering::Relaxed);
        DROPPED.fetch_add(lines, Ordering::Relaxed);
        return;
    }
    if sink.tx.send(batch).is_err() {
        QUEUED.fetch_sub(len, Ordering::Relaxed);
        DROPPED.fetch_add(lines, Ordering::Relaxed);
    }
}

/// Bytes gathered for one `write` at most.
const WRITE: usize = 256 * 1024;

fn write_loop() {
    let Some(sink) = SINK.get() else { return };
    // One buffer for the thread's life: growing a fresh one on every drain cost more than
    // formatting the lines (its reallocations copied each batch several times).
    let mut out = Vec::with_capacity(WRITE + CAPACITY);
    loop {
        drain(sink, &mut out);
        // Woken early by a log event (see `queue_event`); access lines wait for the period.
        std::thread::park_timeout(DRAIN_EVERY);
    }
}

fn drain(sink: &Sink, out: &mut Vec<u8>) {
    let Ok(rx) = sink.rx.lock() else { return };
    out.clear();
    loop {
        while out.len() < WRITE {
            match rx.try_recv() {
                Ok(batch) => {
                    QUEUED.fetch_sub(batch.len(), Ordering::Relaxed);
                    out.extend_from_slice(&batch);
                    recycle(batch);
                }
                Err(_) => break,
            }
        }
        let dropped = DROPPED.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = format!(
                "{{\"level\":\"WARN\",\"target\":\"access\",\"message\":\"{dropped} access lines dropped: stdout is not keeping up\"}}\n"
            );
            out.extend_from_slice(note.as_bytes());
        }
        if out.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out).and_then(|()| stdout.flush());
        out.clear();
    }
}
