//! Routing through a real listener (DESIGN §6): longest prefix on segment boundaries, hosts,
//! `strip_prefix`, dot segments and encodings resolved before matching, queries kept intact.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::Response;
use support::*;

/// A backend answering "<tag> <request-target it received>", counting requests in `hits`.
async fn echo_backend(tag: &'static str, hits: Arc<AtomicUsize>) -> SocketAddr {
    hyper_backend(move |req: http::Request<hyper::body::Incoming>| {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            Response::new(full(format!("{tag} {}", req.uri())))
        }
    })
    .await
}

struct Setup {
    gw: Gateway,
    hits: Arc<AtomicUsize>,
}

/// Routes: `/` → root, `/api` → api, `/api/trips` (stripped) → trips, `/admin` → admin,
/// `/api` on host `b.example` → hosted. Each has its own upstream, tagged by name.
async fn setup() -> Setup {
    let hits = Arc::new(AtomicUsize::new(0));
    let mut toml = String::from("[errors]\ndefault_locale = \"en\"\n");
    let routes = [
        ("root", "/", ""),
        ("api", "/api", ""),
        ("trips", "/api/trips", "strip_prefix = true\n"),
        ("admin", "/admin", ""),
        ("hosted", "/api", "host = \"b.example\"\n"),
    ];
    for (name, _, _) in routes {
        let addr = echo_backend(name, hits.clone()).await;
        toml.push_str(&format!(
            "[upstreams.{name}]\nendpoints = [\"http://{addr}\"]\n"
        ));
    }
    for (name, prefix, extra) in routes {
        toml.push_str(&format!(
            "[[routes]]\nname = \"{name}\"\npath_prefix = \"{prefix}\"\nupstream = \"{name}\"\n{extra}"
        ));
    }
    Setup {
        gw: Gateway::start(&toml).await,
        hits,
    }
}

/// Sends `GET <target>` exactly as written; returns (status, body).
async fn fetch_host(gw: &Gateway, target: &str, host: &str) -> (u16, String) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let response = raw_exchange(gw.addr, request.as_bytes()).await;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

async fn fetch(gw: &Gateway, target: &str) -> (u16, String) {
    fetch_host(gw, target, "a.example").await
}

/// Asserts 200 and that route `tag` received exactly `forwarded`.
async fn assert_routed(gw: &Gateway, target: &str, tag: &str, forwarded: &str) {
    let (status, body) = fetch(gw, target).await;
    assert_eq!(status, 200, "{target}: {body}");
    assert_eq!(body, format!("{tag} {forwarded}"), "for {target}");
}

#[tokio::test]
async fn longest_prefix_wins() {
    let s = setup().await;
    assert_routed(&s.gw, "/api/trips/7", "trips", "/7").await;
    assert_routed(&s.gw, "/api/other", "api", "/api/other").await;
    assert_routed(&s.gw, "/elsewhere", "root", "/elsewhere").await;
    assert_routed(&s.gw, "/", "root", "/").await;
}

#[tokio::test]
async fn prefixes_match_on_segment_boundaries() {
    let s = setup().await;
    assert_routed(&s.gw, "/api", "api", "/api").await;
    assert_routed(&s.gw, "/api/", "api", "/api/").await;
    assert_routed(&s.gw, "/api/x", "api", "/api/x").await;
    assert_routed(&s.gw, "/apix", "root", "/apix").await;
    assert_routed(&s.gw, "/api/tripsx", "api", "/api/tripsx").await;
}

#[tokio::test]
async fn a_host_route_applies_only_to_its_host() {
    let s = setup().await;
    for host in ["b.example", "B.Example:8080", "b.example."] {
        let (status, body) = fetch_host(&s.gw, "/api/x", host).await;
        assert_eq!(status, 200);
        assert_eq!(body, "hosted /api/x", "Host: {host}");
    }
    for host in ["a.example", "xb.example", "b.example.org"] {
        let (_, body) = fetch_host(&s.gw, "/api/x", host).await;
        assert_eq!(body, "api /api/x", "Host: {host}");
    }
    // Outside the host route's prefix, the host does not matter.
    let (_, body) = fetch_host(&s.gw, "/admin", "b.example").await;
    assert_eq!(body, "admin /admin");
}

#[tokio::test]
async fn strip_prefix_forwards_the_rest_with_the_query() {
    let s = setup().await;
    assert_routed(&s.gw, "/api/trips/7?x=1", "trips", "/7?x=1").await;
    assert_routed(&s.gw, "/api/trips/7/seats", "trips", "/7/seats").await;
    assert_routed(&s.gw, "/api/trips?x=1", "trips", "/?x=1").await;
}

#[tokio::test]
async fn dot_segments_are_resolved_before_matching() {
    let s = setup().await;
    assert_routed(&s.gw, "/api/../admin", "admin", "/admin").await;
    assert_routed(&s.gw, "/api/./../admin/x", "admin", "/admin/x").await;
    assert_routed(&s.gw, "/api/trips/../../admin", "admin", "/admin").await;
    assert_routed(&s.gw, "//api//x", "api", "/api/x").await;
    assert_routed(&s.gw, "/../../admin", "admin", "/admin").await;
}

#[tokio::test]
async fn encoded_dot_segments_are_resolved_too() {
    let s = setup().await;
    assert_routed(&s.gw, "/api/%2e%2e/admin", "admin", "/admin").await;
    assert_routed(&s.gw, "/api/%2E%2E/admin", "admin", "/admin").await;
    assert_routed(&s.gw, "/api/.%2e/admin", "admin", "/admin").await;
    assert_routed(&s.gw, "/api/trips/%2e%2e/%2e%2e/admin", "admin", "/admin").await;
    assert_routed(&s.gw, "/%61pi/x", "api", "/api/x").await;
}

#[tokio::test]
async fn an_encoded_slash_is_a_bad_request() {
    let s = setup().await;
    for target in [
        "/api%2Fadmin",
        "/api%2fadmin",
        "/api/..%2Fadmin",
        "/api%5Cadmin",
    ] {
        let (status, body) = fetch(&s.gw, target).await;
        assert_eq!(status, 400, "{target}: {body}");
        assert_eq!(envelope(body.as_bytes()).0, "BAD_REQUEST", "{target}");
    }
    assert_eq!(s.hits.load(Ordering::SeqCst), 0, "an upstream was reached");
}

#[tokio::test]
async fn queries_are_preserved_byte_for_byte() {
    let s = setup().await;
    let queries = [
        "?b=2&a=1&b=3",
        "?q=%2F%2e%2E..%zz&x=a+b%20c",
        "?a=/../admin&&=&;x=y",
        "?",
        "?%41=%61",
    ];
    for q in queries {
        assert_routed(&s.gw, &format!("/api/x{q}"), "api", &format!("/api/x{q}")).await;
        assert_routed(
            &s.gw,
            &format!("/api/trips/1{q}"),
            "trips",
            &format!("/1{q}"),
        )
        .await;
    }
}
