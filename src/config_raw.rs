//! The config file exactly as written: serde structs that mirror DESIGN §6, before validation.
//!
//! Every field is optional here (even the required ones) so that `config_validate` can report
//! all missing and bad values at once with their keys, instead of serde stopping at the first.
//! `deny_unknown_fields` everywhere: a typo in a gateway config is an outage.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub listener: RawListener,
    pub admin: RawAdmin,
    pub runtime: RawRuntime,
    pub errors: RawErrors,
    pub defaults: RawDefaults,
    pub upstreams: BTreeMap<String, RawUpstream>,
    pub routes: Vec<RawRoute>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawListener {
    pub address: Option<String>,
    pub header_read_timeout: Option<String>,
    pub max_request_body_bytes: Option<u64>,
    pub drain_timeout: Option<String>,
    pub max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAdmin {
    pub address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRuntime {
    pub worker_threads: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawErrors {
    pub default_locale: Option<String>,
    pub expose_upstream_5xx_messages: Option<bool>,
    pub max_inspect_bytes: Option<usize>,
    pub catalogs: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDefaults {
    pub timeout: Option<String>,
    pub try_timeout: Option<String>,
    pub normalize: Option<bool>,
    pub retry: RawRetry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRetry {
    pub attempts: Option<i64>,
    pub on: Option<Vec<RawRetryOn>>,
    pub backoff_base: Option<String>,
    pub backoff_max: Option<String>,
    pub retry_after_max: Option<String>,
    pub max_body_bytes: Option<u64>,
    pub budget_percent: Option<f64>,
    pub budget_min_per_second: Option<u32>,
    pub idempotency_header: Option<String>,
}

/// `"503"` and `503` both mean the status, since both spellings are natural in TOML.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "invalid value: expected a string such as \"reset\" or a status such as 503"
)]
pub enum RawRetryOn {
    Text(String),
    Status(i64),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUpstream {
    pub endpoints: Option<Vec<String>>,
    pub connect_timeout: Option<String>,
    pub pool_idle_timeout: Option<String>,
    pub pool_max_idle_per_host: Option<usize>,
    pub ca_file: Option<String>,
    pub max_concurrent_requests: Option<usize>,
    pub load_balancing: Option<String>,
    pub eject_after: Option<u32>,
    pub eject_for: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRoute {
    pub name: Option<String>,
    pub host: Option<String>,
    pub path_prefix: Option<String>,
    pub strip_prefix: Option<bool>,
    pub upstream: Option<String>,
    pub host_rewrite: Option<RawHostRewrite>,
    pub timeout: Option<String>,
    pub try_timeout: Option<String>,
    pub normalize: Option<bool>,
    pub retry: RawRetry,
    pub errors: Vec<RawErrorMapping>,
}

/// `true` sends the endpoint's host; a string sends that host.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "invalid value: expected a boolean or a host name"
)]
pub enum RawHostRewrite {
    Flag(bool),
    Host(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawErrorMapping {
    pub status: Option<i64>,
    pub upstream_error: Option<String>,
    pub error: Option<String>,
    pub message: Option<RawMessage>,
}

/// A plain string is the same text for every language.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "invalid value: expected a string or a table of language = text"
)]
pub enum RawMessage {
    Everywhere(String),
    ByLanguage(BTreeMap<String, String>),
}
