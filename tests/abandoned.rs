//! Exchanges errgate abandons keep their upstream connection (src/h1_reclaim.rs): a client
//! that leaves while the upstream works, and a retried response set aside, do not cost the
//! upstream the connection it was answering on.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

const GENEROUS: Duration = Duration::from_secs(5);

/// What the backend saw, and how the test steers it.
#[derive(Default)]
struct Backend {
    first_taken: AtomicBool,
    /// `/next` requests that arrived on the first connection.
    next_on_first: AtomicUsize,
    /// Connections that ended (the peer closed) before answering `/slow`.
    slow_cut: AtomicUsize,
    got_slow: Notify,
    answer_slow: Notify,
}

/// The first connection answers `/slow` with `now` at once and `later` when told to, then
/// `/next` with keep-alive; every other connection answers once and closes, so that it never
/// waits in errgate's pool.
async fn backend(now: &'static str, later: &'static str) -> (SocketAddr, Arc<Backend>) {
    let state = Arc::new(Backend::default());
    let shared = state.clone();
    let (addr, _) = raw_backend(move |mut s| {
        let state = shared.clone();
        async move {
            let first = !state.first_taken.swap(true, Ordering::SeqCst);
            loop {
                let head = read_head(&mut s).await;
                if head.is_empty() {
                    return;
                }
                if head.starts_with("GET /slow") {
                    let _ = s.write_all(now.as_bytes()).await;
                    state.got_slow.notify_one();
                    state.answer_slow.notified().await;
                    if s.write_all(later.as_bytes()).await.is_err() {
                        state.slow_cut.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                } else if first {
                    state.next_on_first.fetch_add(1, Ordering::SeqCst);
                    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    let _ = s.write_all(answer.as_bytes()).await;
                } else {
                    let answer =
                        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok";
                    let _ = s.write_all(answer.as_bytes()).await;
                    return;
                }
            }
        }
    })
    .await;
    (addr, state)
}

/// A client asks for `/slow`, reads until `seen` (nothing if empty) and leaves; only then the
/// backend sends the rest. errgate reads the rest for nobody and keeps the connection, so a
/// later request is served on it. (Until the connection is back in the pool, requests open
/// connections of their own, which the backend closes.)
async fn left_mid_exchange(now: &'static str, seen: &str, later: &'static str) {
    left_mid_exchange_with(now, seen, later, "").await;
}

/// [`left_mid_exchange`] with `upstream` added to the upstream's settings.
async fn left_mid_exchange_with(
    now: &'static str,
    seen: &str,
    later: &'static str,
    upstream: &str,
) {
    let (addr, state) = backend(now, later).await;
    let gw = Gateway::start(&config_with(addr, upstream)).await;
    let answer = ask_and_leave(gw.addr, "/slow", &state.got_slow, seen).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.contains(seen) && !answer.contains("world"),
        "{answer}"
    );

    state.answer_slow.notify_one();
    for _ in 0..250 {
        let reply = raw_exchange(
            gw.addr,
            b"GET /next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        if state.next_on_first.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state.slow_cut.load(Ordering::SeqCst), 0);
    assert_eq!(state.next_on_first.load(Ordering::SeqCst), 1);
    gw.stop().await;
}

#[tokio::test]
async fn a_client_leaving_before_the_answer_does_not_cost_the_upstream_connection() {
    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhelloworld";
    left_mid_exchange("", "", answer).await;
}

#[tokio::test]
async fn a_client_leaving_mid_body_does_not_cost_the_upstream_connection() {
    let head = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello";
    left_mid_exchange(head, "hello", "world").await;
}

#[tokio::test]
async fn a_client_leaving_mid_chunked_body_does_not_cost_the_upstream_connection() {
    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
    let rest = "5\r\nworld\r\n0\r\nx-checksum: 1\r\n\r\n";
    left_mid_exchange(head, "hello", rest).await;
}

#[tokio::test]
async fn a_client_leaving_before_500_tiny_chunks_does_not_cost_the_upstream_connection() {
    // Within the frame bound (compare the 2,000 chunks below, which close the connection).
    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
    let rest = "1\r\nz\r\n".repeat(500) + "0\r\n\r\n";
    left_mid_exchange(head, "hello", Box::leak(rest.into_boxed_str())).await;
}

#[tokio::test]
async fn a_pool_of_one_still_keeps_an_abandoned_connection() {
    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhelloworld";
    left_mid_exchange_with("", "", answer, "pool_max_idle_per_host = 1").await;
}

/// The test config for a backend at `addr`, with `upstream` added to the upstream's settings.
fn config_with(addr: SocketAddr, upstream: &str) -> String {
    config_for(&addr.to_string(), "").replace(
        "connect_timeout = \"1s\"",
        &format!("connect_timeout = \"1s\"\n{upstream}"),
    )
}

/// A client asks errgate at `gw` for `path`, waits until the backend has the request
/// (`reached`) and errgate's answer shows `seen` (nothing if empty), and leaves (half-closes);
/// returns what errgate sent before it closed the connection too.
async fn ask_and_leave(gw: SocketAddr, path: &str, reached: &Notify, seen: &str) -> Vec<u8> {
    let mut client = TcpStream::connect(gw).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    tokio::time::timeout(GENEROUS, reached.notified())
        .await
        .expect("the request reaches the backend");
    let mut answer = read_until(&mut client, seen).await;
    client.shutdown().await.unwrap();
    tokio::time::timeout(GENEROUS, client.read_to_end(&mut answer))
        .await
        .expect("errgate closes the connection")
        .unwrap();
    answer
}

/// Reads from `s` until `until` came (at once if empty).
async fn read_until(s: &mut TcpStream, until: &str) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(until) {
        let n = tokio::time::timeout(GENEROUS, s.read(&mut chunk))
            .await
            .expect("errgate answers")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&chunk[..n]);
    }
    seen
}

#[tokio::test]
async fn a_retried_response_leaves_its_connection_in_the_pool() {
    // Each connection's first request gets a 503 with a page; later ones a 200.
    let (addr, accepted) = raw_backend(|mut s| async move {
        let mut first = true;
        loop {
            if read_head(&mut s).await.is_empty() {
                return;
            }
            let answer = if first {
                let page = "<html><body>busy, try again</body></html>";
                format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{page}",
                    page.len()
                )
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string()
            };
            first = false;
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let config = config_for(&addr.to_string(), "").replace("attempts = 1", "attempts = 2");
    let gw = Gateway::start(&config).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"ok");
    // The 503's page was read off and the retry went out on the same connection.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    gw.stop().await;
}

/// A scripted backend's steering, and what it saw of its connection.
#[derive(Default)]
struct Hang {
    got: Notify,
    /// Told by the test once the client left and errgate closed the client's connection.
    left: Notify,
    /// The connection was still open then.
    kept: AtomicBool,
    closed: Notify,
}

/// A backend that never answers.
async fn hanging_backend() -> (SocketAddr, Arc<Hang>) {
    scripted_backend(String::new(), String::new()).await
}

/// A backend that answers a request with `now`, and with `later` once the client left; then
/// waits until errgate closes the connection.
async fn scripted_backend(now: String, later: String) -> (SocketAddr, Arc<Hang>) {
    let hang = Arc::new(Hang::default());
    let shared = hang.clone();
    let (addr, _) = raw_backend(move |mut s| {
        let (hang, now, later) = (shared.clone(), now.clone(), later.clone());
        async move {
            read_head(&mut s).await;
            let _ = s.write_all(now.as_bytes()).await;
            hang.got.notify_one();
            hang.left.notified().await;
            let mut probe = [0u8; 1];
            let open = matches!(s.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
            hang.kept.store(open, Ordering::SeqCst);
            // Fails part-way once errgate has closed, or sits in socket buffers.
            let _ = s.write_all(later.as_bytes()).await;
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
            hang.closed.notify_one();
        }
    })
    .await;
    (addr, hang)
}

/// A client asks errgate (configured by `config`) for `/hang` and leaves; returns once errgate
/// closed the client's connection and the backend looked at its own.
async fn leave_hanging(config: &str, hang: &Hang) -> Gateway {
    let gw = Gateway::start(config).await;
    ask_and_leave(gw.addr, "/hang", &hang.got, "").await;
    hang.left.notify_one();
    gw
}

#[tokio::test]
async fn an_abandoned_request_is_waited_for_only_until_its_try_timeout() {
    let (addr, hang) = hanging_backend().await;
    let config =
        config_for(&addr.to_string(), "").replace("try_timeout = \"5s\"", "try_timeout = \"2s\"");
    let gw = leave_hanging(&config, &hang).await;
    tokio::time::timeout(GENEROUS, hang.closed.notified())
        .await
        .expect("errgate closes the upstream connection at the try timeout");
    assert!(
        hang.kept.load(Ordering::SeqCst),
        "kept while the answer was due"
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_abandoned_request_is_not_waited_for_when_the_pool_keeps_nothing() {
    let (addr, hang) = hanging_backend().await;
    let config = config_with(addr, "pool_max_idle_per_host = 0")
        .replace("try_timeout = \"5s\"", "try_timeout = \"60s\"")
        .replace("timeout = \"5s\"", "timeout = \"60s\"");
    let gw = leave_hanging(&config, &hang).await;
    tokio::time::timeout(GENEROUS, hang.closed.notified())
        .await
        .expect("errgate closes the upstream connection at once");
    gw.stop().await;
}

#[tokio::test]
async fn a_large_abandoned_body_closes_its_connection() {
    let len = 4 << 20;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
    assert_closed_after_leaving(head, "x".repeat(len), "HTTP/1.1 200").await;
}

/// A client leaves once it saw `seen` of `now`; the backend then sends `later`, more than
/// worth reading for nobody: errgate closes the upstream connection.
async fn assert_closed_after_leaving(now: String, later: String, seen: &str) {
    let (addr, hang) = scripted_backend(now, later).await;
    // Idle connections are kept long: only giving up on the body may close this one.
    let gw = Gateway::start(&config_with(addr, "pool_idle_timeout = \"60s\"")).await;
    ask_and_leave(gw.addr, "/big", &hang.got, seen).await;
    hang.left.notify_one();
    tokio::time::timeout(GENEROUS, hang.closed.notified())
        .await
        .expect("errgate closes the upstream connection");
    gw.stop().await;
}

#[tokio::test]
async fn an_abandoned_body_of_tiny_chunks_closes_its_connection() {
    let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n";
    // 2,000 one-byte chunks: little data, but far more frames than worth reading.
    let rest = "1\r\ny\r\n".repeat(2000) + "0\r\n\r\n";
    assert_closed_after_leaving(head.to_string(), rest, "1\r\nx\r\n").await;
}
