//! The access line's bytes: the fields in order, in JSON or in tracing's text layout.
//!
//! Built directly into one buffer: each format is its own monomorphized copy, so keys are
//! constant-length copies and nothing goes through `core::fmt` on the common path.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::AccessLog;
use crate::line_fmt;
use crate::logging::LogFormat;

/// A line being built, in JSON or in text.
struct Line<'a, const JSON: bool> {
    out: &'a mut Vec<u8>,
}

/// Starts a field: `,"name":` in JSON, ` name=` in text.
macro_rules! key {
    ($line:expr, $name:literal) => {
        $line.key(concat!(",\"", $name, "\":"), concat!(" ", $name, "="))
    };
}

impl<const JSON: bool> Line<'_, JSON> {
    #[inline(always)]
    fn key(&mut self, json: &'static str, text: &'static str) {
        self.out
            .extend_from_slice(if JSON { json } else { text }.as_bytes());
    }

    /// A string: JSON-escaped, or as Rust's `Debug` prints it in text.
    #[inline(always)]
    fn str(&mut self, s: &str) {
        if s.is_empty() {
            self.out.extend_from_slice(b"\"\"");
        } else if JSON {
            line_fmt::json_str(self.out, s);
        } else {
            line_fmt::debug_str(self.out, s);
        }
    }

    #[inline(always)]
    fn opt(&mut self, s: Option<&str>) {
        self.str(s.unwrap_or(""));
    }

    #[inline(always)]
    fn num(&mut self, n: u64) {
        line_fmt::u64(self.out, n);
    }

    #[inline(always)]
    fn bool(&mut self, b: bool) {
        self.out
            .extend_from_slice(if b { b"true" as &[u8] } else { b"false" });
    }

    /// Retry reasons as one comma-separated field (`503,reset`), quoted in JSON only.
    #[inline(always)]
    fn reasons(&mut self, reasons: &[&'static str]) {
        if JSON {
            self.out.push(b'"');
        }
        for (i, reason) in reasons.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(reason.as_bytes());
        }
        if JSON {
            self.out.push(b'"');
        }
    }
}

impl AccessLog {
    /// Appends the line (ending in `\n`) to `out`, which may already hold earlier lines.
    pub(super) fn write_line(
        &self,
        out: &mut Vec<u8>,
        format: LogFormat,
        now: SystemTime,
        elapsed: Duration,
    ) {
        // Rounded as a float, as the line always was (`f64` ms to three decimals).
        let micros = (elapsed.as_secs_f64() * 1_000_000.0).round() as u64;
        out.reserve(self.line_capacity());
        match format {
            LogFormat::Json => self.build(Line::<true> { out }, now, micros),
            LogFormat::Text => self.build(Line::<false> { out }, now, micros),
        }
    }

    fn build<const JSON: bool>(&self, mut line: Line<'_, JSON>, now: SystemTime, micros: u64) {
        if JSON {
            line.out.extend_from_slice(b"{\"timestamp\":\"");
            line_fmt::timestamp(line.out, now);
            line.out
                .extend_from_slice(b"\",\"level\":\"INFO\",\"target\":\"access\"");
        } else {
            line_fmt::timestamp(line.out, now);
            line.out.extend_from_slice(b"  INFO access:");
        }
        self.fields(&mut line);
        key!(line, "duration_ms");
        line_fmt::millis(line.out, micros);
        line.out
            .extend_from_slice(if JSON { b"}\n" as &[u8] } else { b"\n" });
    }

    /// Enough for the line unless its strings need escaping.
    fn line_capacity(&self) -> usize {
        let len = |s: &Option<Arc<str>>| s.as_ref().map_or(0, |s| s.len());
        let error = self.error_owned.as_ref().map_or(0, String::len);
        let strings = self.request_id.len()
            + self.uri.path().len().min(2048)
            + len(&self.route)
            + len(&self.upstream)
            + len(&self.endpoint)
            + error;
        strings + 400
    }

    /// The fields in order, up to the duration.
    fn fields<const JSON: bool>(&self, line: &mut Line<'_, JSON>) {
        key!(line, "request_id");
        match std::str::from_utf8(self.request_id.as_bytes()) {
            Ok(id) => line.str(id),
            Err(_) => line.str(&String::from_utf8_lossy(self.request_id.as_bytes())),
        }
        key!(line, "client");
        line_fmt::quoted_ip(line.out, self.client.ip());
        key!(line, "method");
        line.str(self.method.as_str());
        key!(line, "path");
        line.str(self.logged_path());
        key!(line, "route");
        line.opt(self.route.as_deref());
        key!(line, "upstream");
        line.opt(self.upstream.as_deref());
        key!(line, "endpoint");
        line.opt(self.endpoint.as_deref());
        key!(line, "status");
        line.num(self.status.into());
        key!(line, "error");
        line.str(self.error_code());
        key!(line, "error_detail");
        line.opt(self.error_detail);
        key!(line, "format");
        line.opt(self.format);
        key!(line, "attempts");
        line.num(self.attempts.into());
        key!(line, "retries");
        line.reasons(&self.retries);
        key!(line, "retry_refused");
        line.opt(self.retry_refused);
        key!(line, "bytes_in");
        line.num(self.bytes_in);
        key!(line, "bytes_out");
        line.num(self.bytes_out);
        key!(line, "aborted");
        line.bool(self.aborted);
    }

    /// The path only, never the query string (queries carry tokens and personal data), and
    /// at most 512 characters of it.
    fn logged_path(&self) -> &str {
        let path = self.uri.path();
        if path.len() <= 512 {
            return path;
        }
        path.char_indices()
            .nth(512)
            .map_or(path, |(i, _)| &path[..i])
    }
}
