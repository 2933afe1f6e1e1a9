//! The validated, typed configuration every other module reads.
//!
//! Built by [`crate::config_file`] from TOML (plus `ERRGATE_*` environment overrides): the raw
//! file structs are checked once, at load time, so nothing on the request path has to parse a
//! duration or look up an upstream by a name that might not exist.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::uri::{Authority, Scheme};

pub use crate::config_file::{ConfigError, load};

pub const DEFAULT_CONFIG_PATH: &str = "config/gateway.toml";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_ADMIN: &str = "127.0.0.1:9901";
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_MAX_REQUEST_BODY: u64 = 10 * 1024 * 1024;
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
pub const DEFAULT_LOCALE: &str = "en";
pub const DEFAULT_MAX_INSPECT: usize = 64 * 1024;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);
pub const DEFAULT_TRY_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
pub const DEFAULT_POOL_MAX_IDLE: usize = 256;
pub const DEFAULT_EJECT_AFTER: u32 = 5;
pub const DEFAULT_EJECT_FOR: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 3;
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(100);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);
pub const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRY_MAX_BODY: u64 = 64 * 1024;
pub const DEFAULT_BUDGET_PERCENT: f64 = 20.0;
pub const DEFAULT_BUDGET_MIN_PER_SECOND: u32 = 10;
pub const DEFAULT_IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Key of [`ErrorMapping::message`] for a text meant for every language (`message = "..."`).
pub const ANY_LANGUAGE: &str = "*";

/// The whole gateway configuration, after validation.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from (for messages and reloads).
    pub source: PathBuf,
    pub listener: Listener,
    pub admin: Admin,
    pub runtime: Runtime,
    pub errors: Errors,
    pub upstreams: BTreeMap<String, Arc<Upstream>>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub address: SocketAddr,
    /// Time a client has to send a complete request head; in hyper it also bounds the idle
    /// wait for the next request on a keep-alive connection.
    pub header_read_timeout: Duration,
    pub max_request_body_bytes: u64,
    /// How long in-flight requests may run after SIGTERM/SIGINT.
    pub drain_timeout: Duration,
    /// Accepted client connections at once; beyond it new ones wait in the kernel backlog.
    pub max_connections: usize,
}

#[derive(Debug, Clone)]
pub struct Admin {
    pub address: SocketAddr,
}

#[derive(Debug, Clone, Default)]
pub struct Runtime {
    /// `None`: one per core.
    pub worker_threads: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Errors {
    /// Lower-case primary language tag (`es`, `en`).
    pub default_locale: String,
    pub expose_upstream_5xx_messages: bool,
    pub max_inspect_bytes: usize,
    /// Extra TOML message catalogs, resolved relative to the config file.
    pub catalogs: Vec<PathBuf>,
}

/// One upstream service: its endpoints and how to connect to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    /// Extra PEM roots trusted for `https://` endpoints, beside the webpki roots.
    pub ca_file: Option<PathBuf>,
    pub max_concurrent_requests: Option<usize>,
    pub load_balancing: LoadBalancing,
    /// Consecutive failures that take an endpoint out; 0 never ejects.
    pub eject_after: u32,
    /// First ejection's length; it doubles on each repeat (up to 30x).
    pub eject_for: Duration,
}

/// How an upstream spreads attempts over its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadBalancing {
    #[default]
    RoundRobin,
    /// The endpoint with the fewest attempts in flight (ties rotate).
    LeastOutstanding,
}

/// A base URL of an upstream, split once so the request path only concatenates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    pub authority: Authority,
    /// Path prefix of the base URL without a trailing slash (`""` for `http://h:1/`).
    pub base_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRewrite {
    /// Send the endpoint's `host[:port]` as `Host`.
    Endpoint,
    /// Send this literal value as `Host`.
    Literal(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    /// Lower-case host without port; `None` matches any host.
    pub host: Option<String>,
    /// Normalized: starts with `/`, no trailing `/` unless it is exactly `/`.
    pub path_prefix: String,
    pub strip_prefix: bool,
    pub upstream: Arc<Upstream>,
    pub host_rewrite: Option<HostRewrite>,
    /// Whole request, all attempts included.
    pub timeout: Duration,
    /// One attempt, until the response head.
    pub try_timeout: Duration,
    pub retry: Retry,
    /// `false`: upstream 4xx/5xx pass through unchanged.
    pub normalize: bool,
    pub errors: Vec<ErrorMapping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOn {
    ConnectFailure,
    Reset,
    Timeout,
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Retry {
    /// Counts the first try; 1 disables retries.
    pub attempts: u32,
    pub on: Vec<RetryOn>,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub retry_after_max: Duration,
    pub max_body_bytes: u64,
    pub budget_percent: f64,
    pub budget_min_per_second: u32,
    /// Lower-case header name that makes POST/PATCH retryable.
    pub idempotency_header: String,
}

/// A per-route override of the code and message for some upstream failures.
#[derive(Debug, Clone)]
pub struct ErrorMapping {
    pub status: Option<u16>,
    /// Matches the upstream's (already converted) code.
    pub upstream_error: Option<String>,
    pub error: Option<String>,
    /// Lower-case primary language tag (or [`ANY_LANGUAGE`]) → message.
    pub message: BTreeMap<String, String>,
}
