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

/// The first connection answers `/slow` when told to, then `/next` with keep-alive; every
/// other connection answers once and closes, so that it never waits in errgate's pool.
async fn backend() -> (SocketAddr, Arc<AtomicUsize>, Arc<Backend>) {
    let state = Arc::new(Backend::default());
    let shared = state.clone();
    let (addr, accepted) = raw_backend(move |mut s| {
        let state = shared.clone();
        async move {
            let first = !state.first_taken.swap(true, Ordering::SeqCst);
            loop {
                let head = read_head(&mut s).await;
                if head.is_empty() {
                    return;
                }
                if head.starts_with("GET /slow") {
                    state.got_slow.notify_one();
                    state.answer_slow.notified().await;
                    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nslow!";
                    if s.write_all(answer.as_bytes()).await.is_err() {
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
    (addr, accepted, state)
}

#[tokio::test]
async fn a_client_leaving_mid_request_does_not_cost_the_upstream_connection() {
    let (addr, _accepted, state) = backend().await;
    let gw = Gateway::start(&config_for(&addr.to_string(), "")).await;

    let mut client = TcpStream::connect(gw.addr).await.unwrap();
    client
        .write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::timeout(GENEROUS, state.got_slow.notified())
        .await
        .expect("the request reaches the backend");
    // The client leaves; errgate abandons the request and closes its side, unanswered.
    client.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(GENEROUS, client.read_to_end(&mut answer))
        .await
        .expect("errgate closes the connection")
        .unwrap();
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));

    // Only now the backend answers: errgate reads the answer for nobody and keeps the
    // connection, so a later request is served on it. (Until the connection is back in the
    // pool, requests open connections of their own, which the backend closes.)
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

/// A client that sends `request`, reads until `until` appears in the answer (or nothing, if
/// empty), and leaves.
async fn leave_after(gw: SocketAddr, request: &str, until: &str) {
    let mut client = TcpStream::connect(gw).await.unwrap();
    client.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !until.is_empty() && !String::from_utf8_lossy(&seen).contains(until) {
        let n = tokio::time::timeout(GENEROUS, client.read(&mut chunk))
            .await
            .expect("errgate answers")
            .unwrap();
        assert!(
            n > 0,
            "errgate closed early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn an_abandoned_request_is_waited_for_only_until_its_try_timeout() {
    let closed = Arc::new(Notify::new());
    let got = Arc::new(Notify::new());
    let (c, g) = (closed.clone(), got.clone());
    let (addr, _) = raw_backend(move |mut s| {
        let (closed, got) = (c.clone(), g.clone());
        async move {
            read_head(&mut s).await;
            got.notify_one();
            // Never answers; errgate gives up on the connection at the try timeout.
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
            closed.notify_one();
        }
    })
    .await;
    let config = config_for(&addr.to_string(), "")
        .replace("try_timeout = \"5s\"", "try_timeout = \"300ms\"");
    let gw = Gateway::start(&config).await;
    let request = "GET /hang HTTP/1.1\r\nhost: x\r\n\r\n";
    let leaving = tokio::spawn(leave_after(gw.addr, request, ""));
    tokio::time::timeout(GENEROUS, got.notified())
        .await
        .unwrap();
    leaving.await.unwrap();
    tokio::time::timeout(GENEROUS, closed.notified())
        .await
        .expect("errgate closes the upstream connection");
    gw.stop().await;
}

#[tokio::test]
async fn a_large_abandoned_body_closes_its_connection() {
    let closed = Arc::new(Notify::new());
    let c = closed.clone();
    let (addr, _) = raw_backend(move |mut s| {
        let closed = c.clone();
        async move {
            read_head(&mut s).await;
            let len = 4 << 20;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
            let body = vec![b'x'; len];
            // Fails part-way once errgate closes; or all of it sits in socket buffers.
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
            // Closed by errgate, not kept: the next read ends.
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
            closed.notify_one();
        }
    })
    .await;
    // Idle connections are kept long: only giving up on the body may close this one.
    let config = config_for(&addr.to_string(), "").replace(
        "connect_timeout = \"1s\"",
        "connect_timeout = \"1s\"\npool_idle_timeout = \"60s\"",
    );
    let gw = Gateway::start(&config).await;
    leave_after(
        gw.addr,
        "GET /big HTTP/1.1\r\nhost: x\r\n\r\n",
        "HTTP/1.1 200",
    )
    .await;
    tokio::time::timeout(GENEROUS, closed.notified())
        .await
        .expect("errgate closes the upstream connection");
    gw.stop().await;
}
