//! Retry policy end to end (DESIGN §4): which requests are repeated, how many times, when
//! Retry-After and the route deadline stop it, and how the budget bounds a retry storm.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use http::Request;
use support::*;

const NO_EJECT: &str = "eject_after = 0";

fn post(url: &str, key: Option<&str>, body: &'static str) -> Request<BoxBody> {
    let mut req = Request::post(url);
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    req.body(full(body)).unwrap()
}

async fn gateway(backend: SocketAddr, retry: &str, route: &str) -> Gateway {
    Gateway::start(&retry_config(&[backend], retry, NO_EJECT, route)).await
}

#[tokio::test]
async fn a_post_without_key_whose_bytes_went_out_is_sent_once() {
    let backend = Scripted::start(|_| Action::Close).await;
    let gw = gateway(backend.addr, "attempts = 3", "").await;
    let (parts, body) = send(post(&gw.url("/orders"), None, "charge 10 EUR")).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
    let seen = backend.seen();
    assert_eq!(seen.len(), 1, "a POST without key must never be replayed");
    assert_eq!(seen[0].len, "charge 10 EUR".len(), "its bytes did go out");
}

#[tokio::test]
async fn a_post_with_idempotency_key_is_retried() {
    let backend = Scripted::start(|n| if n == 1 { Action::Close } else { Action::ok() }).await;
    let gw = gateway(backend.addr, "attempts = 3", "").await;
    let (parts, _) = send(post(&gw.url("/orders"), Some("k-1"), "charge 10 EUR")).await;
    assert_eq!(parts.status, 200);
    let seen = backend.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0], seen[1],
        "the replay is the same request, byte for byte"
    );
}

#[tokio::test]
async fn attempts_never_exceed_retry_attempts() {
    let backend = Scripted::start(|_| Action::status(503)).await;
    let gw = gateway(backend.addr, "attempts = 4", "").await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 503);
    assert_eq!(envelope(&body).0, "SERVICE_UNAVAILABLE");
    assert_eq!(backend.count(), 4);
}

#[tokio::test]
async fn the_route_deadline_wins_over_remaining_attempts() {
    let backend = Scripted::start(|_| Action::Hang).await;
    let route = "timeout = \"1s\"\ntry_timeout = \"300ms\"";
    let gw = gateway(backend.addr, "attempts = 10", route).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 504);
    assert_eq!(envelope(&body).0, "UPSTREAM_TIMEOUT");
    // 300 ms tries in a 1 s deadline: at most 4 fit, whatever the backoff.
    let tries = backend.count();
    assert!((2..=4).contains(&tries), "{tries} attempts");
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_and_retried() {
    let backend = Scripted::start(|n| match n {
        1 => Action::retry_after(503, "1"),
        _ => Action::ok(),
    })
    .await;
    let gw = gateway(backend.addr, "retry_after_max = \"5s\"", "").await;
    let (parts, _) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(backend.count(), 2);
}

/// A Retry-After beyond `retry_after_max` goes to the client at once, with its header.
async fn assert_not_retried(retry_after: &str) {
    let value = retry_after.to_string();
    let backend = Scripted::start(move |_| Action::retry_after(503, &value)).await;
    let gw = gateway(backend.addr, "retry_after_max = \"5s\"", "").await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 503);
    assert_eq!(envelope(&body).0, "SERVICE_UNAVAILABLE");
    assert_eq!(parts.headers["retry-after"], retry_after);
    assert_eq!(
        backend.count(),
        1,
        "Retry-After {retry_after} must stop retries"
    );
}

#[tokio::test]
async fn a_long_retry_after_goes_to_the_client_at_once() {
    assert_not_retried("30").await;
}

#[tokio::test]
async fn a_far_http_date_retry_after_goes_to_the_client_at_once() {
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    assert_not_retried(&date).await;
}

#[tokio::test]
async fn the_budget_bounds_attempts_under_sustained_failure() {
    let backend = Scripted::start(|_| Action::status(503)).await;
    let retry = "attempts = 3\nbudget_percent = 20\nbudget_min_per_second = 0";
    let gw = gateway(backend.addr, retry, "").await;
    let client = client();
    for _ in 0..100 {
        let resp = client.request(get(&gw.url("/x"))).await.unwrap();
        assert_eq!(resp.status(), 503);
        http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap();
    }
    // Without a budget: 300. With 20 %: 100 first tries and about 20 retries.
    let attempts = backend.count();
    assert!(attempts > 100, "some retries are allowed: {attempts}");
    assert!(attempts <= 130, "retries stay near 20 %: {attempts}");
}
