//! One access-log line per request, written when the response body is finished (or dropped,
//! if the client went away), so that the line carries the real duration and byte count.
//!
//! Only what an operator needs and nothing sensitive: no header values other than the request
//! id, no query string, no bodies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, SystemTime};

use http::{HeaderValue, Method, Uri};

use metrics::Gauge;

use crate::attempts::Trace;
use crate::log_sink;
use crate::logging::LogFormat;
use crate::metrics_handles::RouteMetrics;
use crate::retry::Refusal;

/// The request's record, filled in along its path and logged on drop.
#[derive(Debug)]
pub struct AccessLog {
    pub request_id: HeaderValue,
    pub client: SocketAddr,
    pub method: Method,
    /// The request target as received; only its path is logged.
    uri: Uri,
    pub route: Option<Arc<str>>,
    pub upstream: Option<Arc<str>>,
    pub endpoint: Option<Arc<str>>,
    pub status: u16,
    pub error: Option<&'static str>,
    pub error_owned: Option<String>,
    /// Which limit expired, for errgate's own timeouts (`try_timeout`, `route_timeout`, ...).
    pub error_detail: Option<&'static str>,
    /// The recognised format of a rewritten upstream error body.
    pub format: Option<&'static str>,
    pub attempts: u32,
    /// Why each retry happened, in order (empty without retries).
    pub retries: Vec<&'static str>,
    /// Why a retry that was wanted did not happen.
    pub retry_refused: Option<&'static str>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub aborted: bool,
    pub started: Instant,
    /// Where the request is counted when it ends: its route's, or the unrouted handles.
    pub metrics: Option<Arc<RouteMetrics>>,
    in_flight: Option<Gauge>,
}

impl AccessLog {
    pub fn new(request_id: HeaderValue, client: SocketAddr, method: Method, uri: &Uri) -> Self {
        AccessLog {
            request_id,
            client,
            method,
            // Cloning a parsed Uri shares its bytes; the line is built only when logged.
            uri: uri.clone(),
            route: None,
            upstream: None,
            endpoint: None,
            status: 0,
            error: None,
            error_owned: None,
            error_detail: None,
            format: None,
            attempts: 0,
            retries: Vec::new(),
            retry_refused: None,
            bytes_in: 0,
            bytes_out: 0,
            aborted: false,
            started: Instant::now(),
            metrics: None,
            in_flight: None,
        }
    }

    /// Counts the request in `errgate_in_flight_requests` until this record is dropped.
    pub fn track_in_flight(&mut self, gauge: &Gauge) {
        gauge.increment(1.0);
        self.in_flight = Some(gauge.clone());
    }

    /// Takes the attempt loop's record: attempts, retry reasons and the last endpoint.
    pub fn record_attempts(&mut self, trace: Trace, endpoint_labels: &[Arc<str>]) {
        self.attempts = trace.attempts;
        self.retries = trace.retries;
        self.retry_refused = trace.refused.map(Refusal::label);
        self.endpoint = trace.endpoint.and_then(|i| endpoint_labels.get(i).cloned());
        if let Some(metrics) = &self.metrics {
            for reason in &self.retries {
                metrics.retried(reason);
            }
            if let Some(refusal) = trace.refused {
                metrics.refused(refusal);
            }
        }
    }

    pub fn add_bytes_out(&mut self, n: usize) {
        self.bytes_out += n as u64;
    }

    /// The response was cut off after its head was sent.
    pub fn mark_aborted(&mut self) {
        self.aborted = true;
    }

    fn error_code(&self) -> &str {
        self.error.or(self.error_owned.as_deref()).unwrap_or("")
    }
}

/// Client closed the request before a response (nginx's 499), for logs and metrics.
const CLIENT_CLOSED: u16 = 499;

impl Drop for AccessLog {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        if self.status == 0 {
            self.status = CLIENT_CLOSED;
            self.aborted = true;
        }
        if let Some(metrics) = &self.metrics {
            metrics.request_done(&self.method, self.status, elapsed);
        }
        if let Some(gauge) = &self.in_flight {
            gauge.decrement(1.0);
        }
        let Some(format) = log_sink::format() else {
            return;
        };
        if !tracing::enabled!(target: "access", tracing::Level::INFO) {
            return;
        }
        let line = self.line(format, SystemTime::now(), elapsed);
        log_sink::send(line);
    }
}

impl AccessLog {
    /// The fields in order; strings are escaped by the caller's format.
    fn fields(&self) -> [(&'static str, Value<'_>); 18] {
        fn text(s: &str) -> Value<'_> {
            Value::Str(Cow::Borrowed(s))
        }
        fn opt(s: Option<&Arc<str>>) -> Value<'_> {
            Value::Str(Cow::Borrowed(s.map_or("", |s| s)))
        }
        let path = self.uri.path();
        // The path only, never the query string: queries carry tokens and personal data.
        let path = path
            .char_indices()
            .nth(512)
            .map_or(path, |(i, _)| &path[..i]);
        [
            (
                "request_id",
                Value::Str(String::from_utf8_lossy(self.request_id.as_bytes())),
            ),
            ("client", Value::Ip(self.client.ip())),
            ("method", Value::Str(Cow::Borrowed(self.method.as_str()))),
            ("path", Value::Str(Cow::Borrowed(path))),
            ("route", opt(self.route.as_ref())),
            ("upstream", opt(self.upstream.as_ref())),
            ("endpoint", opt(self.endpoint.as_ref())),
            ("status", Value::Num(u64::from(self.status))),
            ("error", Value::Str(Cow::Borrowed(self.error_code()))),
            ("error_detail", text(self.error_detail.unwrap_or(""))),
            ("format", text(self.format.unwrap_or(""))),
            ("attempts", Value::Num(u64::from(self.attempts))),
            ("retries", Value::Reasons(&self.retries)),
            ("retry_refused", text(self.retry_refused.unwrap_or(""))),
            ("bytes_in", Value::Num(self.bytes_in)),
            ("bytes_out", Value::Num(self.bytes_out)),
            ("aborted", Value::Bool(self.aborted)),
            ("duration_ms", Value::Duration),
        ]
    }

    fn line(&self, format: LogFormat, now: SystemTime, elapsed: Duration) -> Vec<u8> {
        let duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        match format {
            LogFormat::Json => self.json_line(now, duration_ms),
            LogFormat::Text => self.text_line(now, duration_ms),
        }
    }

    fn json_line(&self, now: SystemTime, duration_ms: f64) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"timestamp\":\"");
        log_sink::timestamp(&mut out, now);
        out.extend_from_slice(b"\",\"level\":\"INFO\",\"target\":\"access\"");
        for (name, value) in self.fields() {
            let _ = write!(out, ",\"{name}\":");
            value.write_json(&mut out, duration_ms);
        }
        out.extend_from_slice(b"}\n");
        out
    }

    fn text_line(&self, now: SystemTime, duration_ms: f64) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        log_sink::timestamp(&mut out, now);
        out.extend_from_slice(b"  INFO access:");
        for (name, value) in self.fields() {
            let _ = write!(out, " {name}=");
            value.write_text(&mut out, duration_ms);
        }
        out.push(b'\n');
        out
    }
}

/// One field's value.
enum Value<'a> {
    Str(Cow<'a, str>),
    Num(u64),
    /// The request's duration in ms, passed at write time.
    Duration,
    Bool(bool),
    Ip(std::net::IpAddr),
    Reasons(&'a [&'static str]),
}

impl Value<'_> {
    fn write_json(&self, out: &mut Vec<u8>, duration_ms: f64) {
        match self {
            Value::Str(s) => log_sink::json_str(out, s),
            Value::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Duration => {
                let _ = write!(out, "{duration_ms}");
            }
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Ip(ip) => {
                let _ = write!(out, "\"{ip}\"");
            }
            Value::Reasons(r) => {
                let _ = write!(out, "\"{}\"", Reasons(r));
            }
        }
    }

    fn write_text(&self, out: &mut Vec<u8>, duration_ms: f64) {
        match self {
            Value::Str(s) => {
                let _ = write!(out, "{s:?}");
            }
            Value::Reasons(r) => {
                let _ = write!(out, "{}", Reasons(r));
            }
            other => other.write_json(out, duration_ms),
        }
    }
}

/// Retry reasons as one comma-separated field (`503,reset`), written without allocating.
struct Reasons<'a>(&'a [&'static str]);

impl std::fmt::Display for Reasons<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, reason) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(reason)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "access_log_tests.rs"]
mod tests;
