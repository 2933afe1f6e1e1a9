//! The client's fields on their way upstream, through errgate's own server (the fields stay
//! the head's bytes) and through hyper's (a map; a request with a body goes there): one `Host`
//! only, no client-chosen `X-Forwarded-Host`, and a key the client's `Connection` names makes
//! nothing retryable.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A backend that records each request head it reads and answers 200.
async fn head_backend() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let log = heads.clone();
    let (addr, _) = raw_backend(move |mut stream| {
        let log = log.clone();
        async move {
            loop {
                let head = read_head(&mut stream).await;
                if head.is_empty() {
                    return;
                }
                log.lock().unwrap().push(head);
                let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                if stream.write_all(ok).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (addr, heads)
}

/// The same request as errgate's own server takes it and, with a one-byte body, as hyper's.
fn both_ways(head: &str) -> [String; 2] {
    both_ways_in("1.1", head)
}

fn both_ways_in(version: &str, head: &str) -> [String; 2] {
    let own = format!("GET /x HTTP/{version}\r\n{head}Connection: close\r\n\r\n");
    let hyper =
        format!("POST /x HTTP/{version}\r\n{head}Content-Length: 1\r\nConnection: close\r\n\r\nx");
    [own, hyper]
}

/// Both servers answer an HTTP/1.1 request with these fields with the 400 envelope.
async fn assert_400_both_ways(gw: &Gateway, head: &str) {
    for request in both_ways(head) {
        let answer = raw_exchange(gw.addr, request.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{request:?} got {answer:?}"
        );
        assert!(answer.contains("\"error\":\"BAD_REQUEST\""), "{answer}");
    }
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_refused_with_400_and_http_1_0_is_served() {
    let (backend, heads) = head_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    assert_400_both_ways(&gw, "X-A: 1\r\n").await;
    assert!(heads.lock().unwrap().is_empty(), "nothing went upstream");
    // HTTP/1.0 has no Host requirement: such a client is served.
    for request in both_ways_in("1.0", "X-A: 1\r\n") {
        let answer = raw_exchange(gw.addr, request.as_bytes()).await;
        assert!(answer.contains(" 200 "), "{request:?} got {answer:?}");
    }
    assert_eq!(heads.lock().unwrap().len(), 2);
    gw.stop().await;
}

#[tokio::test]
async fn a_second_host_is_refused_with_400_before_anything_goes_upstream() {
    let (backend, heads) = head_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    assert_400_both_ways(&gw, "Host: a.example\r\nHost: b.example\r\n").await;
    for request in both_ways("Host: a.example\r\n") {
        let answer = raw_exchange(gw.addr, request.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{request:?} got {answer:?}"
        );
    }
    assert_eq!(
        heads.lock().unwrap().len(),
        2,
        "only the single-Host requests went on"
    );
    gw.stop().await;
}

#[tokio::test]
async fn without_a_host_the_client_s_x_forwarded_host_is_dropped() {
    let (backend, heads) = head_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    // Only an HTTP/1.0 client may leave `Host` out.
    for request in both_ways_in("1.0", "X-Forwarded-Host: evil.example\r\nX-Kept: 1\r\n") {
        let answer = raw_exchange(gw.addr, request.as_bytes()).await;
        assert!(answer.contains(" 200 "), "{request:?} got {answer:?}");
    }
    for request in both_ways("Host: good.example\r\nX-Forwarded-Host: evil.example\r\n") {
        raw_exchange(gw.addr, request.as_bytes()).await;
    }
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 4);
    for head in &heads {
        let head = head.to_ascii_lowercase();
        assert!(!head.contains("evil.example"), "{head}");
    }
    assert!(heads[0].to_ascii_lowercase().contains("x-kept: 1"));
    assert!(
        heads[2]
            .to_ascii_lowercase()
            .contains("x-forwarded-host: good.example")
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_the_client_calls_hop_by_hop_makes_nothing_retryable() {
    let backend = Scripted::start(|_| Action::status(503)).await;
    let config = retry_config(&[backend.addr], "attempts = 3", "eject_after = 0", "");
    let gw = Gateway::start(&config).await;
    // A POST with an empty body goes through errgate's own server, one with a body through
    // hyper's.
    for (body, retried) in [("", true), ("x", true), ("", false), ("x", false)] {
        let before = backend.count();
        let hop = if retried {
            ""
        } else {
            "Connection: idempotency-key\r\n"
        };
        let request = format!(
            "POST /orders HTTP/1.1\r\nHost: a\r\nIdempotency-Key: k-1\r\n{hop}\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let answer = raw_exchange(gw.addr, request.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        let attempts = backend.count() - before;
        assert_eq!(attempts, if retried { 3 } else { 1 }, "{request:?}");
    }
    gw.stop().await;
}

/// An upstream that repeats an agreeing `Content-Length` (RFC 9110 §8.6 lets a recipient take
/// it) gets its response to the client through either server, `HEAD` included.
#[tokio::test]
async fn a_repeated_content_length_reaches_the_client_once() {
    let repeats = [
        "Content-Length: 2\r\nContent-Length: 2\r\n",
        "Content-Length: 2, 2\r\n",
    ];
    for lengths in repeats {
        let reply = format!("HTTP/1.1 200 OK\r\n{lengths}\r\n");
        let (backend, _) = raw_backend(move |mut stream| {
            let reply = reply.clone();
            async move {
                loop {
                    let head = read_head(&mut stream).await;
                    if head.is_empty() {
                        return;
                    }
                    // A request body, if any, is one byte (`both_ways`).
                    if head.to_ascii_lowercase().contains("content-length: 1\r\n") {
                        let _ = stream.read_exact(&mut [0u8; 1]).await;
                    }
                    let body: &[u8] = if head.starts_with("HEAD") { b"" } else { b"ok" };
                    let _ = stream.write_all(&[reply.as_bytes(), body].concat()).await;
                }
            }
        })
        .await;
        let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
        for method in ["GET", "HEAD"] {
            for request in both_ways("Host: a\r\n") {
                let request = request
                    .replacen("GET", method, 1)
                    .replacen("POST", method, 1);
                let answer = raw_exchange(gw.addr, request.as_bytes()).await;
                assert!(
                    answer.starts_with("HTTP/1.1 200"),
                    "{request:?} got {answer:?}"
                );
                let lengths = answer
                    .to_ascii_lowercase()
                    .matches("content-length: 2\r\n")
                    .count();
                assert_eq!(lengths, 1, "{request:?} got {answer:?}");
            }
        }
        gw.stop().await;
    }
}

/// A small chunked POST is read whole before it goes upstream (any method's body up to
/// `retry.max_body_bytes`, as nginx buffers request bodies): the upstream gets it with its
/// length and errgate's own client sends it.
#[tokio::test]
async fn a_small_chunked_post_goes_upstream_with_its_length() {
    let (backend, heads) = head_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let request = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
                   Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let answer = raw_exchange(gw.addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    let head = heads[0].to_ascii_lowercase();
    assert!(head.contains("\r\ncontent-length: 11\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    gw.stop().await;
}
