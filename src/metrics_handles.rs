//! Metric handles resolved once per route and per upstream, so the request path records with
//! atomic operations only. Label values are bounded: route and upstream names come from the
//! config, methods are the standard set plus `OTHER`, statuses are 100..=599, error codes go
//! through [`crate::labels::error_label`], and retry reasons are a fixed set.

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use http::Method;
use metrics::{Counter, Gauge, Histogram, Label};

use crate::codes;
use crate::detect::Format;
use crate::labels;
use crate::metrics::{self as m, Metrics};
use crate::retry::Refusal;

const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "OTHER",
];
const FIRST_STATUS: u16 = 100;
const STATUSES: usize = 500;

/// "100" ..= "599", made once so status labels are `&'static str`.
static STATUS_LABELS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (FIRST_STATUS..FIRST_STATUS + STATUSES as u16)
        .map(|s| s.to_string())
        .collect()
});

fn method_index(method: &Method) -> usize {
    let name = method.as_str();
    METHODS[..9]
        .iter()
        .position(|m| *m == name)
        .unwrap_or(METHODS.len() - 1)
}

type StatusCounters = Box<[OnceLock<Counter>]>;

/// One route's handles (also used, with an empty name, for requests that matched no route).
pub struct RouteMetrics {
    metrics: Arc<Metrics>,
    route: Arc<str>,
    duration: Histogram,
    /// Per method, created on first use; per status inside, each created on first use.
    requests: [OnceLock<StatusCounters>; METHODS.len()],
    /// `errgate_normalized_responses_total` per built-in code and format, each created on first use
    /// (an upstream's own codes are looked up in the registry each time).
    normalized: OnceLock<Box<[OnceLock<Counter>]>>,
}

impl std::fmt::Debug for RouteMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteMetrics")
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}

impl RouteMetrics {
    pub fn new(metrics: &Arc<Metrics>, route: Arc<str>) -> Self {
        let duration = metrics.histogram(m::REQUEST_DURATION, vec![route_label(&route)]);
        RouteMetrics {
            metrics: metrics.clone(),
            route,
            duration,
            requests: Default::default(),
            normalized: OnceLock::new(),
        }
    }

    /// A request finished (its response body ended or was dropped).
    pub fn request_done(&self, method: &Method, status: u16, elapsed: Duration) {
        self.duration.record(elapsed.as_secs_f64());
        if let Some(counter) = self.requests_counter(method, status) {
            counter.increment(1);
        }
    }

    fn requests_counter(&self, method: &Method, status: u16) -> Option<&Counter> {
        let mi = method_index(method);
        let by_status = self.requests[mi].get_or_init(|| {
            (0..STATUSES)
                .map(|_| OnceLock::new())
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        let si = usize::from(status.clamp(FIRST_STATUS, 599) - FIRST_STATUS);
        let slot = by_status.get(si)?;
        Some(slot.get_or_init(|| {
            let labels = vec![
                route_label(&self.route),
                Label::from_static_parts("method", METHODS[mi]),
                Label::new("status", STATUS_LABELS[si].as_str()),
            ];
            self.metrics.counter(m::REQUESTS, labels)
        }))
    }

    /// A retry happened; `reason` is a [`crate::retry::Failure::label`] or `stale_connection`.
    pub fn retried(&self, reason: &'static str) {
        let labels = vec![
            route_label(&self.route),
            Label::from_static_parts("reason", reason),
        ];
        self.metrics.counter(m::RETRIES, labels).increment(1);
    }

    pub fn refused(&self, refusal: Refusal) {
        let reason = Label::from_static_parts("reason", refusal.label());
        let labels = vec![route_label(&self.route), reason];
        self.metrics
            .counter(m::RETRIES_REFUSED, labels)
            .increment(1);
    }

    /// An upstream error was rewritten with this final code and recognised format.
    pub fn normalized(&self, code: &str, format: Format) {
        let register = || {
            let labels = vec![
                route_label(&self.route),
                Label::new("error", labels::error_label(code)),
                Label::from_static_parts("format", format.as_str()),
            ];
            self.metrics.counter(m::NORMALIZED, labels)
        };
        let Some(ci) = codes::ALL.iter().position(|c| *c == code) else {
            return register().increment(1);
        };
        let table = self.normalized.get_or_init(|| {
            (0..codes::ALL.len() * Format::ALL.len())
                .map(|_| OnceLock::new())
                .collect()
        });
        if let Some(slot) = table.get(ci * Format::ALL.len() + format as usize) {
            slot.get_or_init(register).increment(1);
        }
    }
}

fn route_label(route: &Arc<str>) -> Label {
    Label::new("route", route.clone())
}

/// How an attempt ended, as `errgate_upstream_attempts_total{outcome}` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Response,
    ConnectError,
    Timeout,
    Reset,
    ProtocolError,
}

impl AttemptOutcome {
    const ALL: [AttemptOutcome; 5] = [
        AttemptOutcome::Response,
        AttemptOutcome::ConnectError,
        AttemptOutcome::Timeout,
        AttemptOutcome::Reset,
        AttemptOutcome::ProtocolError,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Response => "response",
            AttemptOutcome::ConnectError => "connect_error",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Reset => "reset",
            AttemptOutcome::ProtocolError => "protocol_error",
        }
    }
}

/// One upstream's handles.
pub struct UpstreamMetrics {
    attempts: [Counter; 5],
    duration: Histogram,
    endpoint_up: Vec<Gauge>,
}

impl std::fmt::Debug for UpstreamMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamMetrics").finish_non_exhaustive()
    }
}

impl UpstreamMetrics {
    pub fn new(metrics: &Metrics, upstream: &Arc<str>, endpoints: &[Arc<str>]) -> Self {
        let up = || Label::new("upstream", upstream.clone());
        let attempts = AttemptOutcome::ALL.map(|o| {
            let outcome = Label::from_static_parts("outcome", o.label());
            metrics.counter(m::ATTEMPTS, vec![up(), outcome])
        });
        let endpoint_up = endpoints
            .iter()
            .map(|e| {
                metrics.gauge(
                    m::ENDPOINT_UP,
                    vec![up(), Label::new("endpoint", e.clone())],
                )
            })
            .collect();
        UpstreamMetrics {
            attempts,
            duration: metrics.histogram(m::ATTEMPT_DURATION, vec![up()]),
            endpoint_up,
        }
    }

    pub fn attempt(&self, outcome: AttemptOutcome, elapsed: Duration) {
        self.attempts[outcome as usize].increment(1);
        self.duration.record(elapsed.as_secs_f64());
    }

    pub fn set_endpoint_up(&self, endpoint: usize, up: bool) {
        if let Some(g) = self.endpoint_up.get(endpoint) {
            g.set(if up { 1.0 } else { 0.0 });
        }
    }
}

#[cfg(test)]
#[path = "metrics_handles_tests.rs"]
mod tests;
