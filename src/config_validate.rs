//! Checks the raw file structs and builds the typed [`Config`], collecting every problem.
//!
//! Each check falls back to the default when a value is bad, so one typo does not hide the next
//! one; the config built that way is thrown away whenever a problem was recorded.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::*;
use crate::config_file::{ConfigError, Problem};
use crate::config_raw::{RawConfig, RawErrors, RawListener, RawUpstream};
use crate::config_routes::{RouteDefaults, routes};
use crate::duration::parse_duration;

pub(crate) struct Context {
    /// The file path as shown in messages (or `<inline>`).
    pub origin: String,
    /// Dotted keys set from the environment → variable name.
    pub env_keys: BTreeMap<String, String>,
    pub source: PathBuf,
    /// Where relative paths in the file point from.
    pub base_dir: PathBuf,
}

/// The problems found so far, each tagged with where its value came from.
pub(crate) struct Problems<'a> {
    context: &'a Context,
    list: Vec<Problem>,
}

impl Problems<'_> {
    pub fn push(&mut self, key: &str, reason: impl fmt::Display) {
        self.list.push(Problem {
            origin: self.origin(key),
            key: key.to_owned(),
            reason: reason.to_string(),
            source: None,
        });
    }

    /// Records the reason of an `Err` under `key`.
    pub fn ok<T>(&mut self, key: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|reason| self.push(key, reason)).ok()
    }

    fn origin(&self, key: &str) -> String {
        // `errors.catalogs[1]` came from the variable that set the whole list.
        let set_by = self.context.env_keys.iter().find(|(env_key, _)| {
            key.strip_prefix(env_key.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
        });
        match set_by {
            Some((_, name)) => format!("environment variable {name}"),
            None => self.context.origin.clone(),
        }
    }

    pub fn duration(&mut self, raw: Option<&str>, key: &str, default: Duration) -> Duration {
        match raw.map(parse_duration) {
            None => default,
            Some(Ok(duration)) => duration,
            Some(Err(err)) => {
                self.push(key, err);
                default
            }
        }
    }

    fn address(&mut self, raw: Option<&str>, key: &str, default: &str) -> SocketAddr {
        let text = raw.unwrap_or(default);
        text.parse().unwrap_or_else(|_| {
            self.push(
                key,
                format!("expected an IP address and port such as \"{default}\", got {text:?}"),
            );
            SocketAddr::from(([0, 0, 0, 0], 0))
        })
    }

    /// A path relative to the config file's directory, which must exist now rather than fail
    /// later on the first request that needs it.
    fn existing_file(&mut self, raw: &str, key: &str) -> PathBuf {
        let path = self.context.base_dir.join(raw);
        if !path.is_file() {
            self.push(key, format!("file {} does not exist", path.display()));
        }
        path
    }

    /// `Some(n)` must be at least 1 when set: zero would make the thing unusable.
    fn at_least_one(&mut self, raw: Option<usize>, key: &str) -> Option<usize> {
        if raw == Some(0) {
            self.push(key, "must be at least 1");
        }
        raw.filter(|&n| n > 0)
    }
}

pub(crate) fn validate(raw: RawConfig, context: &Context) -> Result<Config, ConfigError> {
    let mut p = Problems {
        context,
        list: Vec::new(),
    };
    let listener = listener(&raw.listener, &mut p);
    let admin = Admin {
        address: p.address(raw.admin.address.as_deref(), "admin.address", DEFAULT_ADMIN),
    };
    let runtime = Runtime {
        worker_threads: p.at_least_one(raw.runtime.worker_threads, "runtime.worker_threads"),
    };
    let errors = errors(&raw.errors, &mut p);
    let defaults = RouteDefaults::new(&raw.defaults, &mut p);
    let upstreams = raw
        .upstreams
        .iter()
        .map(|(name, up)| (name.clone(), Arc::new(upstream(name, up, &mut p))))
        .collect();
    let routes = routes(&raw.routes, &defaults, &upstreams, &mut p);
    if !p.list.is_empty() {
        return Err(ConfigError::new(p.list));
    }
    Ok(Config {
        source: context.source.clone(),
        listener,
        admin,
        runtime,
        errors,
        upstreams,
        routes,
    })
}

fn listener(raw: &RawListener, p: &mut Problems) -> Listener {
    Listener {
        address: p.address(raw.address.as_deref(), "listener.address", DEFAULT_LISTEN),
        header_read_timeout: p.duration(
            raw.header_read_timeout.as_deref(),
            "listener.header_read_timeout",
            DEFAULT_HEADER_READ_TIMEOUT,
        ),
        max_request_body_bytes: raw
            .max_request_body_bytes
            .unwrap_or(DEFAULT_MAX_REQUEST_BODY),
        drain_timeout: p.duration(
            raw.drain_timeout.as_deref(),
            "listener.drain_timeout",
            DEFAULT_DRAIN_TIMEOUT,
        ),
        max_connections: p
            .at_least_one(raw.max_connections, "listener.max_connections")
            .unwrap_or(DEFAULT_MAX_CONNECTIONS),
    }
}

fn errors(raw: &RawErrors, p: &mut Problems) -> Errors {
    let key = "errors.default_locale";
    let default_locale = match raw.default_locale.as_deref().map(primary_language) {
        None => DEFAULT_LOCALE.to_owned(),
        Some(Ok(language)) => language,
        Some(Err(reason)) => {
            p.push(key, reason);
            DEFAULT_LOCALE.to_owned()
        }
    };
    let catalogs = raw.catalogs.iter().flatten().enumerate();
    Errors {
        default_locale,
        expose_upstream_5xx_messages: raw.expose_upstream_5xx_messages.unwrap_or(false),
        max_inspect_bytes: raw.max_inspect_bytes.unwrap_or(DEFAULT_MAX_INSPECT),
        catalogs: catalogs
            .map(|(i, path)| p.existing_file(path, &format!("errors.catalogs[{i}]")))
            .collect(),
    }
}

/// `"es-MX"` → `"es"`: messages are chosen by primary language only.
pub(crate) fn primary_language(tag: &str) -> Result<String, String> {
    let mut subtags = tag.split(['-', '_']);
    let primary = subtags.next().unwrap_or_default();
    let primary_ok =
        (2..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    let rest_ok =
        subtags.all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(primary.to_ascii_lowercase())
    } else {
        Err(format!(
            "expected a language tag such as \"es\" or \"es-MX\", got {tag:?}"
        ))
    }
}

fn upstream(name: &str, raw: &RawUpstream, p: &mut Problems) -> Upstream {
    let key = format!("upstreams.{name}");
    if let Err(reason) = check_label(name) {
        p.push(&key, reason);
    }
    let endpoints = match raw.endpoints.as_deref() {
        None => {
            p.push(
                &format!("{key}.endpoints"),
                "missing: list at least one base URL",
            );
            Vec::new()
        }
        Some([]) => {
            p.push(
                &format!("{key}.endpoints"),
                "must list at least one base URL",
            );
            Vec::new()
        }
        Some(urls) => urls
            .iter()
            .enumerate()
            .filter_map(|(i, url)| p.ok(&format!("{key}.endpoints[{i}]"), parse_endpoint(url)))
            .collect(),
    };
    Upstream {
        name: name.to_owned(),
        endpoints,
        connect_timeout: p.duration(
            raw.connect_timeout.as_deref(),
            &format!("{key}.connect_timeout"),
            DEFAULT_CONNECT_TIMEOUT,
        ),
        pool_idle_timeout: p.duration(
            raw.pool_idle_timeout.as_deref(),
            &format!("{key}.pool_idle_timeout"),
            DEFAULT_POOL_IDLE_TIMEOUT,
        ),
        pool_max_idle_per_host: raw.pool_max_idle_per_host.unwrap_or(DEFAULT_POOL_MAX_IDLE),
        ca_file: raw
            .ca_file
            .as_deref()
            .map(|path| p.existing_file(path, &format!("{key}.ca_file"))),
        max_concurrent_requests: p.at_least_one(
            raw.max_concurrent_requests,
            &format!("{key}.max_concurrent_requests"),
        ),
        load_balancing: load_balancing(raw.load_balancing.as_deref(), &key, p),
        eject_after: raw.eject_after.unwrap_or(DEFAULT_EJECT_AFTER),
        eject_for: p.duration(
            raw.eject_for.as_deref(),
            &format!("{key}.eject_for"),
            DEFAULT_EJECT_FOR,
        ),
    }
}

fn load_balancing(raw: Option<&str>, key: &str, p: &mut Problems) -> LoadBalancing {
    match raw {
        None | Some("round_robin") => LoadBalancing::RoundRobin,
        Some("least_outstanding") => LoadBalancing::LeastOutstanding,
        Some(other) => {
            p.push(
                &format!("{key}.load_balancing"),
                format!("unknown policy {other:?}: use \"round_robin\" or \"least_outstanding\""),
            );
            LoadBalancing::RoundRobin
        }
    }
}

/// Route and upstream names become metric labels, so they must stay short and plain.
pub(crate) fn check_label(name: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if (1..=64).contains(&name.len()) && name.chars().all(plain) {
        Ok(())
    } else {
        Err(format!(
            "invalid name {name:?}: use 1 to 64 of A-Z a-z 0-9 _ . -"
        ))
    }
}

/// Splits `http://host:port/base` once so the request path only concatenates.
pub(crate) fn parse_endpoint(url: &str) -> Result<Endpoint, String> {
    if url.contains('#') {
        return Err(format!("{url:?} must not have a fragment"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|err| format!("{url:?} is not a valid URL: {err}"))?;
    let scheme = match uri.scheme() {
        Some(s) if *s == http::uri::Scheme::HTTP || *s == http::uri::Scheme::HTTPS => s.clone(),
        _ => return Err(format!("{url:?} must start with http:// or https://")),
    };
    let Some(authority) = uri.authority().cloned() else {
        return Err(format!("{url:?} has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("{url:?} must not contain user info"));
    }
    if uri.query().is_some() {
        return Err(format!("{url:?} must not have a query"));
    }
    Ok(Endpoint {
        scheme,
        authority,
        base_path: uri.path().trim_end_matches('/').to_owned(),
    })
}
