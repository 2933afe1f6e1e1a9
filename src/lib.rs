//! errgate: a reverse-proxy gateway that turns every failure into one JSON envelope.
//!
//! # Layout
//! - `cli`: the command line and start-up; `shutdown`: signals; `logging`: log set-up.
//! - `config`: the validated, typed configuration; `config_file`: TOML + env → `config`.
//!   Behind it: `config_raw` (file structs), `config_validate`, `config_routes`,
//!   `config_retry` (checks and defaults), `duration` (`"250ms"` strings).
//! - `reload`: SIGHUP and `--watch` reloads, swapped atomically.
//! - `server`: the public listener, connection limits, drain; `client_io`: the client socket,
//!   shared so a client that stalls mid-head still gets its 408.
//! - `gateway`: the running state built from a config (routes, upstream clients, catalog).
//! - `client_request`: the client's request as either server hands it over (body, host,
//!   declared length).
//! - `proxy`: one request's path, top to bottom; `upgrade`: WebSocket relay; `cold`: futures
//!   kept off that path's code.
//! - `routing`: path normalization and longest-prefix route matching.
//! - `headers`: hop-by-hop removal, `X-Forwarded-*`, request ids.
//! - `upstream`: the pooled client per upstream (TCP or rustls); `upstream_conn`: connections
//!   that know whether they were reused (the stale keep-alive race).
//! - `attempts`: the attempt loop (retries, backoff, stale-connection replays); `retry`: the
//!   retry policy; `budget`: the retry budget; `balance`: endpoint choice, ejection and the
//!   concurrency limit.
//! - `send`: one attempt's upstream request and how it ended.
//! - `request_body`: the request body, replayable or streamed; `body`: the response body.
//! - `error`: the request path's failures and their status, code and `Proxy-Status`.
//! - `respond`: errgate's own failures as envelope responses.
//! - `codes`, `catalog`, `locale`, `envelope`: error codes, messages, languages, the JSON body;
//!   `catalog_file`: extra catalogs from TOML.
//! - `detect`: recognises an upstream error body's format and extracts message and code;
//!   `code_convert`: upstream codes to UPPER_SNAKE.
//! - `normalize`: an upstream 4xx/5xx → the envelope; `decide`: which code and message, and why.
//! - `decode`: a capped error body to text (gzip/deflate, charset); `clean`: message
//!   cleaning; `leak`: the guard against stack traces, paths, SQL and internal addresses.
//! - `labels`: bounded metric label values for error codes (100 upstream codes, then OTHER).
//! - `explain`: the `errgate explain` report.
//! - `metrics`: the Prometheus recorder and metric names; `metrics_handles`: per-route and
//!   per-upstream handles; `admin`: `/metrics`, `/healthz`, `/readyz`.
//! - `access_log`: one line per request; `line_fmt`: its byte-level formatting; `log_sink`: its
//!   batched writer thread; `demo`: the built-in sample backend.

pub mod access_log;
pub mod admin;
pub mod attempts;
pub mod balance;
pub mod body;
pub mod budget;
pub mod catalog;
mod catalog_builtin;
pub mod catalog_file;
pub mod clean;
pub mod cli;
pub mod client_io;
pub mod client_request;
pub mod code_convert;
pub mod codes;
pub mod cold;
pub mod config;
pub mod config_file;
mod config_raw;
mod config_retry;
mod config_routes;
mod config_validate;
pub mod decide;
pub mod decode;
pub mod demo;
pub mod detect;
mod duration;
pub mod envelope;
pub mod error;
pub mod explain;
pub mod gateway;
pub mod h1_body;
pub mod h1_conn;
pub mod h1_head;
pub mod h1_pool;
pub mod h1_reclaim;
pub mod h1_request;
pub mod h1_respond;
pub mod h1_server;
pub mod h1_wire;
pub mod headers;
pub mod labels;
pub mod lazy_timer;
pub mod leak;
mod line_fmt;
pub mod locale;
mod log_batch;
pub mod log_event;
pub mod log_sink;
pub mod logging;
pub mod metrics;
pub mod metrics_handles;
pub mod normalize;
pub mod prefixed_io;
pub mod proxy;
pub mod raw_head;
pub mod reload;
pub mod req_fields;
pub mod request_body;
pub mod respond;
pub mod retry;
pub mod routing;
pub mod send;
pub mod server;
pub mod shutdown;
pub mod upgrade;
pub mod upstream;
pub mod upstream_body;
pub mod upstream_conn;
pub mod watch;

pub use server::{Listeners, run};
