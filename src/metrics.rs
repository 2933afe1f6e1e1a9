//! The Prometheus metrics of DESIGN §9.
//!
//! One [`Metrics`] per process, created at start-up and kept across config reloads: it owns
//! the recorder (not installed globally, so tests run gateways side by side without sharing
//! counters). Everything the request path records goes through handles resolved once — per
//! route and per upstream when the gateway is built ([`crate::metrics_handles`]) — so a request
//! costs atomic adds, not registry lookups or label allocations.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

pub const REQUESTS: &str = "errgate_requests_total";
pub const REQUEST_DURATION: &str = "errgate_request_duration_seconds";
pub const ATTEMPTS: &str = "errgate_upstream_attempts_total";
pub const ATTEMPT_DURATION: &str = "errgate_upstream_attempt_duration_seconds";
pub const RETRIES: &str = "errgate_retries_total";
pub const RETRIES_REFUSED: &str = "errgate_retries_refused_total";
pub const NORMALIZED: &str = "errgate_normalized_responses_total";
pub const IN_FLIGHT: &str = "errgate_in_flight_requests";
pub const ENDPOINT_UP: &str = "errgate_endpoint_up";
pub const CONFIG_RELOADS: &str = "errgate_config_reloads_total";
pub const BUILD_INFO: &str = "errgate_build_info";

/// Histogram buckets for a gateway: 1 ms to 30 s, dense where requests usually finish.
pub const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
];

/// How often histogram samples are folded into buckets when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static METADATA: Metadata<'static> = Metadata::new("errgate", Level::INFO, Some("errgate"));

/// (name, unit, help) of every metric, described once so each has HELP and TYPE lines.
const DESCRIPTIONS: [(&str, Option<Unit>, &str); 11] = [
    (
        REQUESTS,
        None,
        "Client requests answered, by route, method and final status.",
    ),
    (
        REQUEST_DURATION,
        Some(Unit::Seconds),
        "Time from request head to the end of the response, by route.",
    ),
    (
        ATTEMPTS,
        None,
        "Upstream attempts by how each ended (retries count each attempt).",
    ),
    (
        ATTEMPT_DURATION,
        Some(Unit::Seconds),
        "Time from sending an attempt to its response head or failure, by upstream.",
    ),
    (
        RETRIES,
        None,
        "Retries made, by route and the failure that caused them.",
    ),
    (
        RETRIES_REFUSED,
        None,
        "Retries that retry.on asked for but were not made, by reason.",
    ),
    (
        NORMALIZED,
        None,
        "Upstream error responses rewritten into the envelope.",
    ),
    (IN_FLIGHT, None, "Client requests being served right now."),
    (
        ENDPOINT_UP,
        None,
        "1 if the endpoint is in rotation, 0 while it is ejected.",
    ),
    (CONFIG_RELOADS, None, "Configuration reloads by result."),
    (
        BUILD_INFO,
        None,
        "Always 1; the version label says which errgate is running.",
    ),
];

/// The process's metrics: the recorder, its renderer and the process-wide handles.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    pub in_flight: Gauge,
    pub reloads_ok: Counter,
    pub reloads_failed: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let builder = PrometheusBuilder::new()
            .with_recommended_naming(true)
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS);
        // Only fails for an empty bucket list, which BUCKETS is not.
        let recorder = match builder {
            Ok(b) => b.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        for (name, unit, help) in DESCRIPTIONS {
            describe(&recorder, name, unit, help);
        }
        let m = Metrics {
            in_flight: recorder.register_gauge(&Key::from_static_name(IN_FLIGHT), &METADATA),
            reloads_ok: counter_with(&recorder, CONFIG_RELOADS, "result", "success"),
            reloads_failed: counter_with(&recorder, CONFIG_RELOADS, "result", "failure"),
            recorder,
            handle,
        };
        // Both reload series exist from the start, so `increase()` sees the first failure.
        m.reloads_ok.increment(0);
        m.reloads_failed.increment(0);
        let version = Label::new("version", env!("CARGO_PKG_VERSION"));
        m.gauge(BUILD_INFO, vec![version]).set(1.0);
        Arc::new(m)
    }

    /// The Prometheus text exposition of everything recorded.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds histogram samples into buckets every few seconds, so memory stays bounded between
    /// scrapes; ends when `metrics` is dropped everywhere else.
    pub fn spawn_upkeep(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                tick.tick().await;
                let Some(m) = weak.upgrade() else { return };
                m.handle.run_upkeep();
            }
        });
    }

    pub fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }
}

fn describe(
    recorder: &PrometheusRecorder,
    name: &'static str,
    unit: Option<Unit>,
    help: &'static str,
) {
    let key = KeyName::from_const_str(name);
    if name.ends_with("_total") {
        recorder.describe_counter(key, unit, help.into());
    } else if name.ends_with("_seconds") {
        recorder.describe_histogram(key, unit, help.into());
    } else {
        recorder.describe_gauge(key, unit, help.into());
    }
}

fn counter_with(
    recorder: &PrometheusRecorder,
    name: &'static str,
    label: &'static str,
    value: &'static str,
) -> Counter {
    let key = Key::from_parts(name, vec![Label::from_static_parts(label, value)]);
    recorder.register_counter(&key, &METADATA)
}
