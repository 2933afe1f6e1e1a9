//! Several endpoints per upstream (DESIGN §5): passive ejection and recovery (longer on
//! repeat), a retry preferring the other endpoint, every endpoint ejected, and
//! least-outstanding balancing.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::*;

async fn gateway(endpoints: &[SocketAddr], retry: &str, upstream: &str) -> Gateway {
    Gateway::start(&retry_config(endpoints, retry, upstream, "")).await
}

async fn assert_all_ok(gw: &Gateway, requests: usize) {
    for i in 0..requests {
        let (parts, _) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 200, "request {i}");
    }
}

/// Endpoint A fails with `failure` until it is flipped healthy; B always answers.
async fn ejection_and_recovery(failure: Action) {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = healthy.clone();
    let a = Scripted::start(move |_| match flag.load(Ordering::SeqCst) {
        true => Action::ok(),
        false => failure.clone(),
    })
    .await;
    let b = Scripted::start(|_| Action::ok()).await;
    let upstream = "eject_after = 2\neject_for = \"1s\"";
    let gw = gateway(&[a.addr, b.addr], "attempts = 2", upstream).await;

    // Each failure on A is retried on B, so the client never sees one.
    assert_all_ok(&gw, 12).await;
    assert_eq!(a.count(), 2, "A sees eject_after failures, then nothing");
    assert!(b.count() >= 12);

    healthy.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_all_ok(&gw, 6).await;
    assert!(a.count() > 2, "A is back in rotation after eject_for");
}

#[tokio::test]
async fn an_endpoint_answering_503_is_ejected_and_comes_back() {
    ejection_and_recovery(Action::status(503)).await;
}

#[tokio::test]
async fn an_endpoint_closing_connections_is_ejected_and_comes_back() {
    ejection_and_recovery(Action::Close).await;
}

/// A always fails with `failure`, B answers; without ejection every request starting on A
/// must be retried on B to succeed.
async fn retries_go_to_the_other_endpoint(failure: Action, route: &str) {
    let a = Scripted::start(move |_| failure.clone()).await;
    let b = Scripted::start(|_| Action::ok()).await;
    let toml = retry_config(&[a.addr, b.addr], "attempts = 2", "eject_after = 0", route);
    let gw = Gateway::start(&toml).await;
    assert_all_ok(&gw, 10).await;
    assert!(a.count() > 0, "round robin did start requests on A");
    assert_eq!(b.count(), 10, "every request ended on B");
}

/// Sends requests until endpoint `a` has seen `n` attempts (round robin reaches it within two).
async fn until_seen(gw: &Gateway, a: &Scripted, n: usize) {
    for _ in 0..2 {
        if a.count() < n {
            assert_all_ok(gw, 1).await;
        }
    }
    assert_eq!(a.count(), n);
}

#[tokio::test]
async fn an_endpoint_failing_again_after_its_ejection_stays_out_twice_as_long() {
    let a = Scripted::start(|_| Action::status(503)).await;
    let b = Scripted::start(|_| Action::ok()).await;
    let upstream = "eject_after = 1\neject_for = \"300ms\"";
    let gw = gateway(&[a.addr, b.addr], "attempts = 2", upstream).await;
    until_seen(&gw, &a, 1).await; // out for 300 ms
    let sleep = || tokio::time::sleep(Duration::from_millis(400));
    sleep().await;
    until_seen(&gw, &a, 2).await; // fails on probation: out for 600 ms
    sleep().await;
    assert_all_ok(&gw, 4).await;
    assert_eq!(a.count(), 2, "still out 400 ms into a 600 ms ejection");
    sleep().await;
    until_seen(&gw, &a, 3).await;
}

#[tokio::test]
async fn a_retry_after_503_goes_to_the_other_endpoint() {
    retries_go_to_the_other_endpoint(Action::status(503), "").await;
}

#[tokio::test]
async fn a_retry_after_a_try_timeout_goes_to_the_other_endpoint() {
    retries_go_to_the_other_endpoint(Action::Hang, "try_timeout = \"100ms\"").await;
}

#[tokio::test]
async fn all_endpoints_ejected_is_503_upstream_unavailable_without_contact() {
    let a = Scripted::start(|_| Action::Close).await;
    let b = Scripted::start(|_| Action::status(503)).await;
    let upstream = "eject_after = 1\neject_for = \"10s\"";
    let gw = gateway(&[a.addr, b.addr], "attempts = 2", upstream).await;

    // One request fails on both endpoints, ejecting both.
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert!(
        parts.status == 502 || parts.status == 503,
        "{}",
        parts.status
    );
    envelope(&body);
    assert_eq!((a.count(), b.count()), (1, 1));

    for _ in 0..3 {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 503);
        assert_eq!(envelope(&body).0, "UPSTREAM_UNAVAILABLE");
        let proxy_status = parts.headers["proxy-status"].to_str().unwrap();
        assert!(
            proxy_status.contains("destination_unavailable"),
            "{proxy_status}"
        );
    }
    assert_eq!((a.count(), b.count()), (1, 1), "no endpoint was contacted");
}

#[tokio::test]
async fn least_outstanding_sends_new_requests_away_from_the_slow_endpoint() {
    let slow = Scripted::start(|_| Action::Hold).await;
    let fast = Scripted::start(|_| Action::ok()).await;
    let upstream = "load_balancing = \"least_outstanding\"\neject_after = 0";
    let gw = gateway(&[slow.addr, fast.addr], "attempts = 1", upstream).await;

    let mut held = Vec::new();
    for i in 1..=20 {
        let before = fast.count();
        let task = tokio::spawn(send(get(&gw.url("/x"))));
        eventually("the request reached a backend", || {
            slow.count() + fast.count() == i
        })
        .await;
        if fast.count() > before {
            assert_eq!(task.await.unwrap().0.status, 200);
        } else {
            held.push(task);
        }
    }
    // Round robin would have sent 10 to the slow endpoint. Least outstanding sends it the
    // first request, and at most one more on a tie while a fast response is finishing.
    assert!(slow.count() <= 2, "slow got {}", slow.count());
    assert!(fast.count() >= 18, "fast got {}", fast.count());

    slow.release();
    for task in held {
        assert_eq!(task.await.unwrap().0.status, 200);
    }
}

/// The failure that ejects the last endpoint goes to the client as it was (its own message
/// and Retry-After), not a made-up "no healthy endpoint" after waiting out the backoff.
#[tokio::test]
async fn a_retry_with_every_endpoint_ejected_returns_the_last_failure() {
    let backend = Scripted::start(|_| Action::Respond {
        status: 503,
        headers: vec![("retry-after", "1".to_string())],
        body: r#"{"success": false, "message": "Down for maintenance", "error": "MAINTENANCE"}"#,
    })
    .await;
    let gw = gateway(&[backend.addr], "attempts = 3", "eject_after = 1").await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 503);
    assert_eq!(envelope(&body).0, "MAINTENANCE");
    assert_eq!(parts.headers["retry-after"], "1");
    assert_eq!(backend.count(), 1);
}
