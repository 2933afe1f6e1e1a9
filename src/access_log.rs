//! One access-log line per request, written when the response body is finished (or dropped,
//! if the client went away), so that the line carries the real duration and byte count.
//!
//! Only what an operator needs and nothing sensitive: no header values other than the request
//! id, no query string, no bodies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{HeaderValue, Method, Uri};

use metrics::Gauge;

use crate::attempts::Trace;
use crate::log_sink;
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
        let now = SystemTime::now();
        log_sink::append(now, |out| self.write_line(out, format, now, elapsed));
    }
}

#[path = "access_line.rs"]
mod line;

#[cfg(test)]
#[path = "access_log_tests.rs"]
mod tests;
