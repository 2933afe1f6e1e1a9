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
use std::time::{Duration, SystemTime};

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
        drain(sink);
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

fn write_loop() {
    let Some(sink) = SINK.get() else { return };
    loop {
        drain(sink);
        std::thread::sleep(DRAIN_EVERY);
    }
}

fn drain(sink: &Sink) {
    let Ok(rx) = sink.rx.lock() else { return };
    let mut batch: Vec<u8> = Vec::new();
    loop {
        while batch.len() < 256 * 1024 {
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
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
    }
}

/// Appends `s` as a JSON string (quoted, escaped).
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Appends the current UTC time as RFC 3339 with microseconds (`2026-11-23T05:10:59.446150Z`).
pub fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_micros()
    );
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_match_known_dates() {
        let at = |secs: u64, micros: u32| {
            let mut out = Vec::new();
            let t = SystemTime::UNIX_EPOCH + Duration::new(secs, micros * 1000);
            timestamp(&mut out, t);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(1_795_410_659, 446_150), "2026-11-23T05:10:59.446150Z");
        assert_eq!(at(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        json_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
    }
}
