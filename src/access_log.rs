//! One access-log line per request, written when the response body is finished (or dropped,
//! if the client went away), so that the line carries the real duration and byte count.
//!
//! Only what an operator needs and nothing sensitive: no header values other than the request
//! id, no query string, no bodies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::Method;

use metrics::Gauge;

use crate::attempts::Trace;
use crate::metrics_handles::RouteMetrics;
use crate::retry::Refusal;

/// The request's record, filled in along its path and logged on drop.
#[derive(Debug)]
pub struct AccessLog {
    pub request_id: String,
    pub client: SocketAddr,
    pub method: Method,
    pub path: String,
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
    pub fn new(request_id: String, client: SocketAddr, method: Method, path: &str) -> Self {
        AccessLog {
            request_id,
            client,
            method,
            // The path only, never the query string: queries carry tokens and personal data.
            path: path.chars().take(512).collect(),
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

impl Drop for AccessLog {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics.request_done(&self.method, self.status, elapsed);
        }
        if let Some(gauge) = &self.in_flight {
            gauge.decrement(1.0);
        }
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        tracing::info!(
            target: "access",
            request_id = %self.request_id,
            client = %self.client.ip(),
            method = %self.method,
            path = %self.path,
            route = self.route.as_deref().unwrap_or(""),
            upstream = self.upstream.as_deref().unwrap_or(""),
            endpoint = self.endpoint.as_deref().unwrap_or(""),
            status = self.status,
            error = self.error_code(),
            error_detail = self.error_detail.unwrap_or(""),
            format = self.format.unwrap_or(""),
            attempts = self.attempts,
            retries = %Reasons(&self.retries),
            retry_refused = self.retry_refused.unwrap_or(""),
            bytes_in = self.bytes_in,
            bytes_out = self.bytes_out,
            aborted = self.aborted,
            duration_ms = (duration_ms * 1000.0).round() / 1000.0,
        );
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
