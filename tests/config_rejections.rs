//! One test per rejected configuration: each error names the file, the key and the reason.

use std::path::PathBuf;

use errgate::config_file::{from_toml_str, load_with_env};

const UPSTREAM: &str = "[upstreams.trips]\nendpoints = [\"http://127.0.0.1:3001\"]\n";
const ROUTE: &str =
    "[[routes]]\nname = \"trips\"\npath_prefix = \"/api/trips\"\nupstream = \"trips\"\n";

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("errgate-reject-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write temp config");
    path
}

/// Loads `text` from a file named after the test; the error must name that file, `key`, `reason`.
fn assert_rejected(name: &str, text: &str, key: &str, reason: &str) {
    let path = write_temp(name, text);
    let err = load_with_env(&path, Vec::new()).expect_err("config should be rejected");
    let message = err.to_string();
    let file = path.display().to_string();
    for part in [file.as_str(), key, reason] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
}

fn with_route(extra: &str) -> String {
    format!("{UPSTREAM}{ROUTE}{extra}\n")
}

#[test]
fn syntax_error() {
    let text = format!("[listener\naddress = \"0.0.0.0:1\"\n{UPSTREAM}");
    assert_rejected("syntax", &text, "", "invalid TOML at line 1, column 10");
}

#[test]
fn syntax_error_is_one_line_and_keeps_its_cause() {
    let err = from_toml_str("a = \n").expect_err("rejected");
    assert_eq!(err.to_string().lines().count(), 1, "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn unknown_top_level_key() {
    let text = format!("[listenr]\naddress = \"0.0.0.0:1\"\n{UPSTREAM}{ROUTE}");
    assert_rejected("unknown_top", &text, "", "unknown field `listenr`");
}

#[test]
fn unknown_key_in_a_section() {
    let text = format!("[listener]\nadress = \"0.0.0.0:1\"\n{UPSTREAM}{ROUTE}");
    assert_rejected(
        "unknown_section",
        &text,
        "listener",
        "unknown field `adress`",
    );
}

#[test]
fn unknown_key_in_a_route() {
    let text = with_route("[[routes]]\nname = \"b\"\npath_prefix = \"/b\"\nupstraem = \"trips\"");
    assert_rejected(
        "unknown_route",
        &text,
        "routes[1]",
        "unknown field `upstraem`",
    );
}

#[test]
fn wrong_type() {
    let text = format!("[listener]\nmax_connections = \"many\"\n{UPSTREAM}{ROUTE}");
    assert_rejected(
        "wrong_type",
        &text,
        "listener.max_connections",
        "invalid type",
    );
}

#[test]
fn bad_duration() {
    let text = format!("[defaults]\ntimeout = \"25\"\n{UPSTREAM}{ROUTE}");
    assert_rejected("bad_duration", &text, "defaults.timeout", "missing unit");
    let text = with_route("try_timeout = \"0s\"");
    assert_rejected(
        "zero_duration",
        &text,
        "routes[0].try_timeout",
        "greater than zero",
    );
}

#[test]
fn unknown_upstream() {
    let text = with_route("[[routes]]\nname = \"b\"\npath_prefix = \"/b\"\nupstream = \"trip\"");
    assert_rejected(
        "unknown_upstream",
        &text,
        "routes[1].upstream",
        "unknown upstream \"trip\"",
    );
}

#[test]
fn duplicate_route_name() {
    let text =
        with_route("[[routes]]\nname = \"trips\"\npath_prefix = \"/b\"\nupstream = \"trips\"");
    assert_rejected(
        "duplicate_name",
        &text,
        "routes[1].name",
        "duplicate route name \"trips\"",
    );
}

#[test]
fn bad_route_name() {
    let text = with_route("[[routes]]\nname = \"a b\"\npath_prefix = \"/b\"\nupstream = \"trips\"");
    assert_rejected("bad_name", &text, "routes[1].name", "invalid name");
}

#[test]
fn missing_required_route_keys() {
    let text = format!("{UPSTREAM}[[routes]]\nname = \"a\"\n");
    assert_rejected("missing_keys", &text, "routes[0].path_prefix", "missing");
    assert_rejected("missing_keys2", &text, "routes[0].upstream", "missing");
}

#[test]
fn bad_endpoint_url() {
    let cases = [
        ("ftp://host", "http:// or https://"),
        ("http://host/?q=1", "must not have a query"),
        ("http://user@host", "user info"),
        ("http://host/#top", "fragment"),
    ];
    for (i, (url, reason)) in cases.into_iter().enumerate() {
        let text = format!("[upstreams.trips]\nendpoints = [\"http://ok:1\", \"{url}\"]\n{ROUTE}");
        let key = "upstreams.trips.endpoints[1]";
        assert_rejected(&format!("bad_endpoint_{i}"), &text, key, reason);
    }
}

#[test]
fn empty_endpoints() {
    let text = format!("[upstreams.trips]\nendpoints = []\n{ROUTE}");
    assert_rejected(
        "no_endpoints",
        &text,
        "upstreams.trips.endpoints",
        "at least one",
    );
}

#[test]
fn bad_path_prefix() {
    let text =
        with_route("[[routes]]\nname = \"b\"\npath_prefix = \"/a/../b\"\nupstream = \"trips\"");
    assert_rejected(
        "dotdot_prefix",
        &text,
        "routes[1].path_prefix",
        "\"..\" segments",
    );
    let text = with_route("[[routes]]\nname = \"b\"\npath_prefix = \"api\"\nupstream = \"trips\"");
    assert_rejected(
        "relative_prefix",
        &text,
        "routes[1].path_prefix",
        "must start with",
    );
}

#[test]
fn bad_error_code() {
    let text = with_route("[[routes.errors]]\nstatus = 404\nerror = \"trip-not-found\"");
    assert_rejected(
        "bad_code",
        &text,
        "routes[0].errors[0].error",
        "invalid error code",
    );
}

#[test]
fn error_mapping_needs_a_match() {
    let text = with_route("[[routes.errors]]\nerror = \"TRIP_NOT_FOUND\"");
    assert_rejected(
        "no_match",
        &text,
        "routes[0].errors[0]",
        "needs status or upstream_error",
    );
}

#[test]
fn bad_retry_on() {
    let text = format!("[defaults.retry]\non = [\"reset\", \"404\"]\n{UPSTREAM}{ROUTE}");
    let reason = "unknown retry condition \"404\"";
    assert_rejected("bad_retry_on", &text, "defaults.retry.on[1]", reason);
}

#[test]
fn backoff_base_above_backoff_max() {
    let text = with_route("[routes.retry]\nbackoff_base = \"3s\"");
    let reason = "must not exceed backoff_max";
    assert_rejected("backoff", &text, "routes[0].retry.backoff_base", reason);
}

#[test]
fn bad_attempts() {
    let text = format!("[defaults.retry]\nattempts = 11\n{UPSTREAM}{ROUTE}");
    assert_rejected(
        "attempts",
        &text,
        "defaults.retry.attempts",
        "between 1 and 10",
    );
}

#[test]
fn missing_ca_file() {
    let text = format!(
        "[upstreams.trips]\nendpoints = [\"https://h:1\"]\nca_file = \"nope.pem\"\n{ROUTE}"
    );
    assert_rejected(
        "ca_file",
        &text,
        "upstreams.trips.ca_file",
        "does not exist",
    );
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join("errgate-no-such-config.toml");
    let err = load_with_env(&path, Vec::new()).expect_err("missing file");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("cannot read the config file"), "{message}");
    let source = std::error::Error::source(&err).expect("io error kept");
    assert!(source.downcast_ref::<std::io::Error>().is_some());
}

#[test]
fn all_problems_are_reported_together() {
    let text = format!("[listener]\naddress = \"nowhere\"\n{UPSTREAM}{ROUTE}upstream = \"x\"\n");
    let err = from_toml_str(&text.replace("upstream = \"trips\"\nupstream", "upstream"))
        .expect_err("rejected");
    let message = err.to_string();
    assert_eq!(err.problems().len(), 2, "{message}");
    assert!(
        message.contains("<inline>: listener.address: expected an IP address"),
        "{message}"
    );
    assert!(
        message.contains("<inline>: routes[0].upstream: unknown upstream \"x\""),
        "{message}"
    );
}

#[test]
fn an_unusable_route_still_reports_its_other_problems() {
    let text = format!("{UPSTREAM}{ROUTE}[[routes.errors]]\nstatus = 700\nerror = \"X\"\n");
    let err = from_toml_str(&text.replace("upstream = \"trips\"", "upstream = \"nope\""))
        .expect_err("rejected");
    let message = err.to_string();
    assert!(
        message.contains("routes[0].upstream: unknown upstream"),
        "{message}"
    );
    assert!(
        message.contains("routes[0].errors[0].status: must be an HTTP status"),
        "{message}"
    );
}

#[test]
fn wrong_type_inside_a_route_names_the_field() {
    let text = with_route("host_rewrite = 3");
    let reason = "expected a boolean or a host name";
    assert_rejected("host_rewrite", &text, "routes[0].host_rewrite", reason);
}
