//! The config loader through its public API: shipped files, defaults, inheritance, environment
//! overrides, and one test per rejected input (each naming the file, the key and the reason).

use std::path::{Path, PathBuf};
use std::time::Duration;

use errgate::config::*;
use errgate::config_file::{from_toml_str, load, load_with_env};

const UPSTREAM_AND_ROUTE: &str = r#"
[upstreams.trips]
endpoints = ["http://127.0.0.1:3001"]

[[routes]]
name = "trips"
path_prefix = "/api/trips"
upstream = "trips"
"#;

/// Writes `text` to a file unique to this test process and test name.
fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("errgate-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write temp config");
    path
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The error must name `origin` (file or variable), `key` and `reason`.
fn assert_rejected_at(
    path: &Path,
    env: Vec<(String, String)>,
    origin: &str,
    key: &str,
    reason: &str,
) {
    let err = load_with_env(path, env).expect_err("config should be rejected");
    let message = err.to_string();
    for part in [origin, key, reason] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
}

#[test]
fn every_shipped_config_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("config dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let config = load_with_env(&path, no_env())
                .unwrap_or_else(|err| panic!("{} does not load:\n{err}", path.display()));
            assert_eq!(config.source, path);
            assert!(!config.routes.is_empty(), "{} has no route", path.display());
            seen += 1;
        }
    }
    assert!(
        seen >= 3,
        "expected gateway.toml, minimal.toml and demo.toml"
    );
}

#[test]
fn shipped_example_matches_its_comments() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/gateway.toml");
    let config = load(&path).expect("gateway.toml loads");
    let route = &config.routes[0];
    assert_eq!(route.path_prefix, "/api/trips");
    let endpoint = &route.upstream.endpoints[0];
    assert_eq!(endpoint.scheme, http::uri::Scheme::HTTP);
    assert_eq!(endpoint.authority.as_str(), "127.0.0.1:3001");
    assert_eq!(endpoint.base_path, "");
}

#[test]
fn defaults_apply_to_a_minimal_config() {
    let config = from_toml_str(UPSTREAM_AND_ROUTE).expect("minimal config");
    assert_eq!(config.source, Path::new("<inline>"));
    assert_eq!(config.listener.address.to_string(), DEFAULT_LISTEN);
    assert_eq!(
        config.listener.header_read_timeout,
        DEFAULT_HEADER_READ_TIMEOUT
    );
    assert_eq!(config.listener.max_connections, DEFAULT_MAX_CONNECTIONS);
    assert_eq!(config.admin.address.to_string(), DEFAULT_ADMIN);
    assert_eq!(config.runtime.worker_threads, None);
    assert_eq!(config.errors.default_locale, DEFAULT_LOCALE);
    assert!(!config.errors.expose_upstream_5xx_messages);
    let upstream = &config.upstreams["trips"];
    assert_eq!(upstream.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
    assert_eq!(upstream.pool_max_idle_per_host, DEFAULT_POOL_MAX_IDLE);
    let route = &config.routes[0];
    assert_eq!(route.timeout, DEFAULT_TIMEOUT);
    assert_eq!(route.try_timeout, DEFAULT_TRY_TIMEOUT);
    assert!(route.normalize && !route.strip_prefix);
    assert_eq!(route.host_rewrite, None);
    assert_eq!(route.retry.attempts, DEFAULT_RETRY_ATTEMPTS);
    assert_eq!(route.retry.backoff_max, DEFAULT_BACKOFF_MAX);
    assert_eq!(route.retry.idempotency_header, DEFAULT_IDEMPOTENCY_HEADER);
    assert_eq!(route.retry.on.len(), 7);
    assert!(!route.retry.on.contains(&RetryOn::Status(501)));
}

#[test]
fn routes_inherit_defaults_and_override_field_by_field() {
    let text = format!(
        r#"
[defaults]
timeout = "20s"
normalize = false
[defaults.retry]
attempts = 4
backoff_base = "50ms"
on = ["reset", 503]
{UPSTREAM_AND_ROUTE}
[[routes]]
name = "own"
path_prefix = "/own"
upstream = "trips"
timeout = "5s"
normalize = true
[routes.retry]
attempts = 1
on = ["connect-failure"]
"#
    );
    let config = from_toml_str(&text).expect("config");
    let (inherits, own) = (&config.routes[0], &config.routes[1]);
    assert_eq!(inherits.timeout, Duration::from_secs(20));
    assert!(!inherits.normalize);
    assert_eq!(inherits.retry.attempts, 4);
    assert_eq!(inherits.retry.on, [RetryOn::Reset, RetryOn::Status(503)]);
    assert_eq!(own.timeout, Duration::from_secs(5));
    assert_eq!(own.try_timeout, DEFAULT_TRY_TIMEOUT);
    assert!(own.normalize);
    assert_eq!(own.retry.attempts, 1);
    assert_eq!(own.retry.on, [RetryOn::ConnectFailure]);
    // Not set on the route: still the [defaults.retry] value, not the built-in one.
    assert_eq!(own.retry.backoff_base, Duration::from_millis(50));
}

#[test]
fn route_options_are_normalized() {
    let text = format!(
        r#"{UPSTREAM_AND_ROUTE}
host = "API.Example.com:8443"
host_rewrite = true
[[routes.errors]]
status = 404
error = "TRIP_NOT_FOUND"
message = {{ es-MX = "Viaje no encontrado", en = "Trip not found" }}
[[routes.errors]]
upstream_error = "SEAT_TAKEN"
message = "Seat taken"

[[routes]]
name = "root"
path_prefix = "//"
upstream = "trips"
host_rewrite = "trips.internal"
"#
    );
    let config = from_toml_str(&text).expect("config");
    let route = &config.routes[0];
    assert_eq!(route.host.as_deref(), Some("api.example.com"));
    assert_eq!(route.host_rewrite, Some(HostRewrite::Endpoint));
    assert_eq!(route.errors[0].status, Some(404));
    assert_eq!(route.errors[0].message["es"], "Viaje no encontrado");
    assert_eq!(route.errors[1].message[ANY_LANGUAGE], "Seat taken");
    assert_eq!(config.routes[1].path_prefix, "/");
    let literal = HostRewrite::Literal("trips.internal".into());
    assert_eq!(config.routes[1].host_rewrite, Some(literal));
}

#[test]
fn endpoint_base_url_is_split() {
    let text = UPSTREAM_AND_ROUTE.replace("http://127.0.0.1:3001", "https://svc.local:8443/v1/");
    let config = from_toml_str(&text).expect("config");
    let endpoint = &config.upstreams["trips"].endpoints[0];
    assert_eq!(endpoint.scheme, http::uri::Scheme::HTTPS);
    assert_eq!(endpoint.authority.as_str(), "svc.local:8443");
    assert_eq!(endpoint.base_path, "/v1");
}

#[test]
fn locale_keeps_the_primary_language() {
    let text = format!("[errors]\ndefault_locale = \"ES-mx\"\n{UPSTREAM_AND_ROUTE}");
    let config = from_toml_str(&text).expect("config");
    assert_eq!(config.errors.default_locale, "es");
}

#[test]
fn environment_overrides_the_file() {
    let text = format!("[listener]\naddress = \"0.0.0.0:8080\"\n{UPSTREAM_AND_ROUTE}");
    let path = write_temp("env_override", &text);
    let vars = env(&[
        ("ERRGATE_LISTENER__ADDRESS", "127.0.0.1:9000"),
        ("ERRGATE_ERRORS__DEFAULT_LOCALE", "es"),
        ("ERRGATE_ERRORS__EXPOSE_UPSTREAM_5XX_MESSAGES", "true"),
        ("ERRGATE_DEFAULTS__RETRY__ATTEMPTS", "2"),
        ("ERRGATE_DEFAULTS__RETRY__ON", "reset,503"),
        ("ERRGATE_UPSTREAMS__TRIPS__CONNECT_TIMEOUT", "750ms"),
        ("UNRELATED", "1"),
    ]);
    let config = load_with_env(&path, vars).expect("config");
    assert_eq!(config.listener.address.to_string(), "127.0.0.1:9000");
    assert_eq!(config.errors.default_locale, "es");
    assert!(config.errors.expose_upstream_5xx_messages);
    let route = &config.routes[0];
    assert_eq!(route.retry.attempts, 2);
    assert_eq!(route.retry.on, [RetryOn::Reset, RetryOn::Status(503)]);
    let connect = config.upstreams["trips"].connect_timeout;
    assert_eq!(connect, Duration::from_millis(750));
}

#[test]
fn cli_variables_and_non_keys_are_ignored() {
    let path = write_temp("env_ignored", UPSTREAM_AND_ROUTE);
    let vars = env(&[
        ("ERRGATE_CONFIG", "/elsewhere.toml"),
        ("ERRGATE_LOG", "debug"),
        ("ERRGATE_SOMETHING", "x"),
    ]);
    let config = load_with_env(&path, vars).expect("config");
    assert_eq!(config.routes.len(), 1);
}

#[test]
fn bad_environment_value_names_the_variable() {
    let path = write_temp("env_bad", UPSTREAM_AND_ROUTE);
    let vars = env(&[("ERRGATE_DEFAULTS__RETRY__ATTEMPTS", "0")]);
    let origin = "environment variable ERRGATE_DEFAULTS__RETRY__ATTEMPTS";
    assert_rejected_at(
        &path,
        vars,
        origin,
        "defaults.retry.attempts",
        "between 1 and 10",
    );
}

#[test]
fn unknown_environment_key_names_the_variable() {
    let path = write_temp("env_unknown", UPSTREAM_AND_ROUTE);
    let vars = env(&[("ERRGATE_LISTENER__ADRESS", "127.0.0.1:1")]);
    let origin = "environment variable ERRGATE_LISTENER__ADRESS";
    assert_rejected_at(&path, vars, origin, "listener", "unknown field `adress`");
}
