//! tracing's writer for every log event other than the access line: the event's bytes go to
//! the access log's writer thread ([`crate::log_sink`]), so a stalled stdout (a log collector
//! that stopped reading) drops lines instead of blocking the thread that logs, and a thread's
//! events keep their place among its access lines.

use std::io::Write;

use crate::log_sink;

/// A writer for one event (tracing asks for one per event).
pub fn writer() -> EventWriter {
    EventWriter { buf: Vec::new() }
}

/// One formatted event, handed over when tracing is done with it (dropped).
pub struct EventWriter {
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let event = std::mem::take(&mut self.buf);
        if event.is_empty() {
            return;
        }
        // No sink (library use, tests): straight to stdout, as tracing would.
        if let Err(event) = log_sink::queue_event(event) {
            let _ = std::io::stdout().write_all(&event);
        }
    }
}
