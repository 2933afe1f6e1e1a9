//! Request bodies and retries (DESIGN §4): any method's body up to `retry.max_body_bytes` is
//! read before the first attempt, a replayed body is byte-identical, a body over
//! `retry.max_body_bytes` is not replayed (except after a connect failure, when nothing was
//! sent), and nothing is retried once response bytes reached the client.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;
use support::*;
use tokio::io::AsyncWriteExt;

const CAP: usize = 1024;

fn closes_then_succeeds(n: usize) -> Action {
    if n == 1 { Action::Close } else { Action::ok() }
}

async fn gateway(endpoints: &[std::net::SocketAddr]) -> Gateway {
    let retry = format!("attempts = 3\nmax_body_bytes = {CAP}");
    Gateway::start(&retry_config(endpoints, &retry, "eject_after = 0", "")).await
}

fn put(url: &str, body: BoxBody) -> Request<BoxBody> {
    Request::put(url).body(body).unwrap()
}

/// Both attempts carried exactly `data`.
fn assert_replayed(seen: &[Seen], data: &Bytes) {
    assert_eq!(seen.len(), 2, "one failure, one replay: {seen:?}");
    for s in seen {
        assert_eq!((s.hash, s.len), (body_hash(data), data.len()));
        assert_eq!(s.method, "PUT");
    }
}

#[tokio::test]
async fn a_put_read_then_failed_is_replayed_byte_for_byte() {
    let backend = Scripted::start(closes_then_succeeds).await;
    let gw = gateway(&[backend.addr]).await;
    let data = payload(CAP - 24);
    let (parts, _) = send(put(&gw.url("/doc"), full(data.clone()))).await;
    assert_eq!(parts.status, 200);
    assert_replayed(&backend.seen(), &data);
}

#[tokio::test]
async fn a_chunked_put_is_replayed_byte_for_byte() {
    let backend = Scripted::start(closes_then_succeeds).await;
    let gw = gateway(&[backend.addr]).await;
    let data = payload(CAP - 24);
    let (parts, _) = send(put(&gw.url("/doc"), chunked(&data, 100))).await;
    assert_eq!(parts.status, 200);
    assert_replayed(&backend.seen(), &data);
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_is_replayed() {
    let backend = Scripted::start(closes_then_succeeds).await;
    let gw = gateway(&[backend.addr]).await;
    let data = payload(CAP);
    let (parts, _) = send(put(&gw.url("/doc"), full(data.clone()))).await;
    assert_eq!(parts.status, 200);
    assert_replayed(&backend.seen(), &data);
}

async fn assert_one_over_the_cap_is_sent_once(body: impl Fn(&Bytes) -> BoxBody) {
    let backend = Scripted::start(closes_then_succeeds).await;
    let gw = gateway(&[backend.addr]).await;
    let data = payload(CAP + 1);
    let (parts, resp_body) = send(put(&gw.url("/doc"), body(&data))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&resp_body).0, "BAD_GATEWAY");
    let seen = backend.seen();
    assert_eq!(seen.len(), 1, "a streamed body cannot be replayed");
    assert_eq!(seen[0].len, CAP + 1, "and it did go out whole");
}

#[tokio::test]
async fn a_body_one_byte_over_the_cap_is_not_replayed() {
    assert_one_over_the_cap_is_sent_once(|d| full(d.clone())).await;
}

#[tokio::test]
async fn a_chunked_body_one_byte_over_the_cap_is_not_replayed() {
    assert_one_over_the_cap_is_sent_once(|d| chunked(d, 100)).await;
}

/// `req(url)` sent to [refused, good]: after the connect failure nothing was sent, so the good
/// endpoint gets `data` whole, once, whatever the method and however the body was read.
async fn assert_whole_after_a_connect_failure(
    data: &Bytes,
    req: impl FnOnce(String) -> Request<BoxBody>,
) {
    let backend = Scripted::start(|_| Action::ok()).await;
    // The first request of a round robin starts with the first endpoint: the refused one.
    let gw = gateway(&[refused_addr().await, backend.addr]).await;
    let (parts, _) = send(req(gw.url("/upload"))).await;
    assert_eq!(parts.status, 200);
    let seen = backend.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].hash, seen[0].len), (body_hash(data), data.len()));
}

/// A body too large to buffer streams; it is given back unread after the connect failure.
async fn assert_streamed_body_survives_a_connect_failure(method: &str) {
    let data = payload(200 * CAP);
    assert_whole_after_a_connect_failure(&data, |url| {
        let req = Request::builder().method(method).uri(url);
        req.body(chunked(&data, 8192)).unwrap()
    })
    .await;
}

#[tokio::test]
async fn a_large_post_goes_to_the_next_endpoint_after_a_connect_failure() {
    assert_streamed_body_survives_a_connect_failure("POST").await;
}

/// A body is read up to the cap first, whatever the method: the read prefix and the
/// streamed rest both go.
#[tokio::test]
async fn a_large_put_goes_to_the_next_endpoint_after_a_connect_failure() {
    assert_streamed_body_survives_a_connect_failure("PUT").await;
}

/// A body over the cap that arrived with its head (errgate's own server reads it whole) is
/// still not replayed after a reset (`a_body_one_byte_over_the_cap_is_not_replayed`), but
/// after a connect failure nothing was sent, so it goes to the next endpoint.
#[tokio::test]
async fn a_body_over_the_cap_read_with_its_head_survives_a_connect_failure() {
    let data = payload(CAP + 1);
    assert_whole_after_a_connect_failure(&data, |url| put(&url, full(data.clone()))).await;
}

/// A small POST is read whole before the first attempt (as a PUT is), but reading it makes it
/// no more retryable: after a reset nothing is sent again.
#[tokio::test]
async fn a_small_post_is_not_replayed_after_a_reset() {
    let backend = Scripted::start(closes_then_succeeds).await;
    let gw = gateway(&[backend.addr]).await;
    let data = payload(CAP - 24);
    let req = Request::post(gw.url("/orders"))
        .body(chunked(&data, 100))
        .unwrap();
    let (parts, _) = send(req).await;
    assert_eq!(parts.status, 502);
    let seen = backend.seen();
    assert_eq!(seen.len(), 1, "a POST is not replayed after a reset");
    assert_eq!((seen[0].hash, seen[0].len), (body_hash(&data), data.len()));
}

/// After a connect failure nothing was sent: the small POST goes to the next endpoint whole.
#[tokio::test]
async fn a_small_post_goes_to_the_next_endpoint_after_a_connect_failure() {
    let data = payload(CAP / 2);
    assert_whole_after_a_connect_failure(&data, |url| {
        Request::post(url).body(chunked(&data, 100)).unwrap()
    })
    .await;
}

#[tokio::test]
async fn nothing_is_retried_once_response_bytes_reached_the_client() {
    let heads = Arc::new(AtomicUsize::new(0));
    let counted = heads.clone();
    let (backend, _) = raw_backend(move |mut s| {
        let counted = counted.clone();
        async move {
            read_head(&mut s).await;
            counted.fetch_add(1, Ordering::SeqCst);
            let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n";
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(b"the first part of the body").await;
        }
    })
    .await;
    let gw = gateway(&[backend]).await;
    let resp = client().request(get(&gw.url("/x"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.into_body().collect().await.is_err(),
        "truncation shows"
    );
    assert_eq!(heads.load(Ordering::SeqCst), 1, "a GET, yet not retried");
}
