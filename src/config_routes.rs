//! `[[routes]]`: each route's match (host, path prefix), its upstream, what it inherits from
//! `[defaults]`, and its `[[routes.errors]]` mappings.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use crate::config::*;
use crate::config_raw::{RawDefaults, RawErrorMapping, RawHostRewrite, RawMessage, RawRoute};
use crate::config_retry::{builtin_retry, resolve_retry};
use crate::config_validate::{Problems, check_label, primary_language};

/// `[defaults]`, resolved: what a route gets for each key it leaves out.
pub(crate) struct RouteDefaults {
    timeout: Duration,
    try_timeout: Duration,
    normalize: bool,
    retry: Retry,
}

impl RouteDefaults {
    pub fn new(raw: &RawDefaults, p: &mut Problems) -> Self {
        Self {
            timeout: p.duration(raw.timeout.as_deref(), "defaults.timeout", DEFAULT_TIMEOUT),
            try_timeout: p.duration(
                raw.try_timeout.as_deref(),
                "defaults.try_timeout",
                DEFAULT_TRY_TIMEOUT,
            ),
            normalize: raw.normalize.unwrap_or(true),
            retry: resolve_retry(&raw.retry, &builtin_retry(), "defaults.retry", p),
        }
    }
}

pub(crate) fn routes(
    raw: &[RawRoute],
    defaults: &RouteDefaults,
    upstreams: &BTreeMap<String, Arc<Upstream>>,
    p: &mut Problems,
) -> Vec<Route> {
    // First route index per name and per (host, prefix), to point duplicates at the original.
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut matches: HashMap<(Option<String>, String), usize> = HashMap::new();
    let mut routes = Vec::with_capacity(raw.len());
    for (i, raw_route) in raw.iter().enumerate() {
        let key = format!("routes[{i}]");
        if let Some(name) = raw_route.name.as_deref()
            && let Some(first) = first_of(&mut names, name, i)
        {
            let reason = format!("duplicate route name {name:?} (also routes[{first}])");
            p.push(&format!("{key}.name"), reason);
        }
        let Some(route) = route(raw_route, &key, defaults, upstreams, p) else {
            continue;
        };
        let matched = (route.host.clone(), route.path_prefix.clone());
        if let Some(first) = first_of(&mut matches, matched, i) {
            let reason = format!(
                "same host and path_prefix as routes[{first}]: the match would be ambiguous"
            );
            p.push(&format!("{key}.path_prefix"), reason);
        }
        routes.push(route);
    }
    routes
}

/// Records `index` as the first holder of `value`, or returns the earlier holder.
fn first_of<K: Eq + Hash>(seen: &mut HashMap<K, usize>, value: K, index: usize) -> Option<usize> {
    match seen.entry(value) {
        Entry::Occupied(first) => Some(*first.get()),
        Entry::Vacant(slot) => {
            slot.insert(index);
            None
        }
    }
}

/// `None` when a required key is missing or bad (already reported).
fn route(
    raw: &RawRoute,
    key: &str,
    defaults: &RouteDefaults,
    upstreams: &BTreeMap<String, Arc<Upstream>>,
    p: &mut Problems,
) -> Option<Route> {
    let field = |name: &str| format!("{key}.{name}");
    let name = required(raw.name.as_deref(), &field("name"), p)
        .and_then(|name| p.ok(&field("name"), check_label(name).map(|()| name.to_owned())));
    let host = raw.host.as_deref();
    let host = host.and_then(|host| p.ok(&field("host"), normalize_host(host)));
    let path_prefix = required(raw.path_prefix.as_deref(), &field("path_prefix"), p)
        .and_then(|prefix| p.ok(&field("path_prefix"), normalize_path_prefix(prefix)));
    let upstream = required(raw.upstream.as_deref(), &field("upstream"), p).and_then(|name| {
        let found = upstreams.get(name).cloned();
        p.ok(
            &field("upstream"),
            found.ok_or_else(|| format!("unknown upstream {name:?}")),
        )
    });
    // The rest is checked even when the route is unusable, so all its problems show at once.
    let host_rewrite = host_rewrite(raw.host_rewrite.as_ref(), &field("host_rewrite"), p);
    let timeout = p.duration(raw.timeout.as_deref(), &field("timeout"), defaults.timeout);
    let try_timeout = raw.try_timeout.as_deref();
    let try_timeout = p.duration(try_timeout, &field("try_timeout"), defaults.try_timeout);
    let retry = resolve_retry(&raw.retry, &defaults.retry, &field("retry"), p);
    let errors = raw.errors.iter().enumerate();
    let errors = errors.map(|(j, m)| error_mapping(m, &format!("{key}.errors[{j}]"), p));
    let errors = errors.collect();
    Some(Route {
        name: name?,
        host,
        path_prefix: path_prefix?,
        strip_prefix: raw.strip_prefix.unwrap_or(false),
        upstream: upstream?,
        host_rewrite,
        timeout,
        try_timeout,
        retry,
        normalize: raw.normalize.unwrap_or(defaults.normalize),
        errors,
    })
}

fn required<'a>(value: Option<&'a str>, key: &str, p: &mut Problems) -> Option<&'a str> {
    if value.is_none() {
        p.push(key, "missing (required)");
    }
    value
}

/// `/api//trips/` → `/api/trips`, so matching can compare segment by segment.
pub(crate) fn normalize_path_prefix(raw: &str) -> Result<String, String> {
    if !raw.starts_with('/') {
        return Err(format!("{raw:?} must start with \"/\""));
    }
    // An encoded or relative prefix could never match the way its author reads it.
    if let Some(c) = raw
        .chars()
        .find(|&c| matches!(c, '%' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        return Err(format!("{raw:?} must not contain {c:?}"));
    }
    let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(format!("{raw:?} must not contain \".\" or \"..\" segments"));
    }
    Ok(format!("/{}", segments.join("/")))
}

/// `Api.Example.com:8443` → `api.example.com`: requests are matched on the host alone.
fn normalize_host(raw: &str) -> Result<String, String> {
    match raw.parse::<http::uri::Authority>() {
        Ok(authority) if !authority.as_str().contains('@') && !authority.host().is_empty() => {
            Ok(authority.host().to_ascii_lowercase())
        }
        _ => Err(format!("{raw:?} is not a valid host name")),
    }
}

fn host_rewrite(raw: Option<&RawHostRewrite>, key: &str, p: &mut Problems) -> Option<HostRewrite> {
    match raw? {
        RawHostRewrite::Flag(true) => Some(HostRewrite::Endpoint),
        RawHostRewrite::Flag(false) => None,
        RawHostRewrite::Host(host) if host.parse::<http::uri::Authority>().is_ok() => {
            Some(HostRewrite::Literal(host.clone()))
        }
        RawHostRewrite::Host(host) => {
            p.push(key, format!("{host:?} is not a valid Host header value"));
            None
        }
    }
}

fn error_mapping(raw: &RawErrorMapping, key: &str, p: &mut Problems) -> ErrorMapping {
    let field = |name: &str| format!("{key}.{name}");
    if raw.status.is_none() && raw.upstream_error.is_none() {
        p.push(key, "needs status or upstream_error (what to match)");
    }
    if raw.error.is_none() && raw.message.is_none() {
        p.push(key, "needs error or message (what to send instead)");
    }
    let status = raw.status.and_then(|status| match u16::try_from(status) {
        Ok(code) if (100..=599).contains(&code) => Some(code),
        _ => {
            p.push(
                &field("status"),
                format!("must be an HTTP status 100..599, got {status}"),
            );
            None
        }
    });
    if let Some(Err(reason)) = raw.error.as_deref().map(check_code) {
        p.push(&field("error"), reason);
    }
    if raw.upstream_error.as_deref() == Some("") {
        p.push(&field("upstream_error"), "must not be empty");
    }
    ErrorMapping {
        status,
        upstream_error: raw.upstream_error.clone(),
        error: raw.error.clone(),
        message: messages(raw.message.as_ref(), &field("message"), p),
    }
}

/// Codes are part of the envelope clients branch on: `UPPER_SNAKE`, at most 64 characters.
fn check_code(code: &str) -> Result<(), String> {
    let mut chars = code.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let rest_ok = chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && code.len() <= 64 {
        Ok(())
    } else {
        Err(format!(
            "invalid error code {code:?}: use UPPER_SNAKE_CASE such as \"TRIP_NOT_FOUND\""
        ))
    }
}

fn messages(raw: Option<&RawMessage>, key: &str, p: &mut Problems) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match raw {
        None => {}
        Some(RawMessage::Everywhere(text)) => {
            out.insert(ANY_LANGUAGE.to_owned(), text.clone());
        }
        Some(RawMessage::ByLanguage(by_language)) => {
            for (tag, text) in by_language {
                match primary_language(tag) {
                    Ok(language) if out.contains_key(&language) => {
                        p.push(
                            &format!("{key}.{tag}"),
                            format!("a message for {language:?} is already given"),
                        );
                    }
                    Ok(language) => {
                        out.insert(language, text.clone());
                    }
                    Err(reason) => p.push(&format!("{key}.{tag}"), reason),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefix_is_normalized() {
        assert_eq!(normalize_path_prefix("/").as_deref(), Ok("/"));
        assert_eq!(normalize_path_prefix("//").as_deref(), Ok("/"));
        assert_eq!(
            normalize_path_prefix("/api/trips").as_deref(),
            Ok("/api/trips")
        );
        assert_eq!(
            normalize_path_prefix("/api/trips/").as_deref(),
            Ok("/api/trips")
        );
        assert_eq!(
            normalize_path_prefix("/api//trips//").as_deref(),
            Ok("/api/trips")
        );
    }

    #[test]
    fn path_prefix_rejects_relative_and_encoded() {
        for bad in [
            "api",
            "",
            "/api/../x",
            "/./api",
            "/a%2Fb",
            "/a?b",
            "/a#b",
            "/a b",
        ] {
            assert!(normalize_path_prefix(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn host_is_lower_cased_without_port() {
        assert_eq!(
            normalize_host("Api.Example.COM:8443").as_deref(),
            Ok("api.example.com")
        );
        assert_eq!(normalize_host("[::1]:80").as_deref(), Ok("[::1]"));
        assert!(normalize_host("user@host").is_err());
        assert!(normalize_host("").is_err());
    }

    #[test]
    fn error_codes() {
        assert!(check_code("TRIP_NOT_FOUND").is_ok());
        assert!(check_code("E2").is_ok());
        for bad in ["", "trip", "_X", "2X", "TRIP-NOT", &"A".repeat(65)] {
            assert!(check_code(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
