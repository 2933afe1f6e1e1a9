//! errgate's own HTTP/1.1 upstream client (src/h1_pool.rs) against raw backends: connection
//! reuse, every body framing, informational responses, bad heads, and the idle pool.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Request;
use http_body_util::BodyExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A backend that answers every request on a connection with `answer` (keep-alive).
async fn keep_alive_backend(answer: &'static str) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    raw_backend(move |mut s| async move {
        while !read_head(&mut s).await.is_empty() {
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await
}

fn with_upstream_keys(backend: &std::net::SocketAddr, keys: &str) -> String {
    config_for(&backend.to_string(), "").replace(
        "connect_timeout = \"1s\"",
        &format!("connect_timeout = \"1s\"\n{keys}"),
    )
}

#[tokio::test]
async fn sequential_requests_share_one_upstream_connection() {
    let (backend, conns) =
        keep_alive_backend("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    for _ in 0..20 {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 200);
        assert_eq!(&body[..], b"ok");
    }
    assert_eq!(conns.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn chunked_body_with_extensions_and_trailers_passes_and_keeps_the_connection() {
    let answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                  6;ext=1\r\nhello \r\n5\r\nworld\r\n0\r\nx-checksum: 42\r\n\r\n";
    let (backend, conns) = keep_alive_backend(answer).await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    for _ in 0..3 {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 200);
        assert_eq!(&body[..], b"hello world");
    }
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "the end of the chunked body was found"
    );
}

#[tokio::test]
async fn informational_responses_are_skipped() {
    let answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n\
                  HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let (backend, _) = keep_alive_backend(answer).await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"ok");
}

#[tokio::test]
async fn head_and_204_carry_no_body_and_keep_the_connection() {
    let (backend, conns) = raw_backend(|mut s| async move {
        loop {
            let head = read_head(&mut s).await;
            let answer = if head.starts_with("HEAD") {
                "HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n"
            } else if head.starts_with("DELETE") {
                "HTTP/1.1 204 No Content\r\n\r\n"
            } else if head.is_empty() {
                return;
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody"
            };
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let head = Request::head(gw.url("/x")).body(full("")).unwrap();
    let (parts, body) = send(head).await;
    assert_eq!((parts.status.as_u16(), body.len()), (200, 0));
    let delete = Request::delete(gw.url("/x")).body(full("")).unwrap();
    assert_eq!(send(delete).await.0.status, 204);
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!((parts.status.as_u16(), &body[..]), (200, &b"body"[..]));
    assert_eq!(conns.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_without_length_ends_at_close_and_is_not_reused() {
    let (backend, conns) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\nuntil ").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = s.write_all(b"close").await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    for _ in 0..2 {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 200);
        assert_eq!(&body[..], b"until close");
    }
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn conflicting_content_lengths_are_a_bad_gateway() {
    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!";
    let (backend, _) = keep_alive_backend(answer).await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
}

#[tokio::test]
async fn an_oversized_response_head_is_a_bad_gateway() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let big = format!("HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n", "a".repeat(70_000));
        let _ = s.write_all(big.as_bytes()).await;
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
}

#[tokio::test]
async fn the_request_head_is_framed_by_errgate() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (backend, _) = raw_backend(move |mut s| {
        let tx = tx.clone();
        async move {
            loop {
                let head = read_head(&mut s).await;
                if head.is_empty() {
                    return;
                }
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |v| v.parse().unwrap());
                let mut body = vec![0; length];
                s.read_exact(&mut body).await.unwrap();
                let _ = tx.send((head, body));
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let put = Request::put(gw.url("/a/b?q=1")).body(full("abc")).unwrap();
    assert_eq!(send(put).await.0.status, 200);
    let (head, body) = rx.recv().await.unwrap();
    assert!(head.starts_with("PUT /a/b?q=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("\r\ncontent-length: 3\r\n"), "{head}");
    assert!(
        head.contains(&format!("\r\nhost: {}\r\n", gw.addr)),
        "{head}"
    );
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert_eq!(body, b"abc");
    assert_eq!(send(get(&gw.url("/g"))).await.0.status, 200);
    let (head, _) = rx.recv().await.unwrap();
    assert!(head.starts_with("GET /g HTTP/1.1\r\n"), "{head}");
    assert!(
        !head.contains("content-length"),
        "a GET without body announces none: {head}"
    );
}

/// Idle pooled connections are closed after `pool_idle_timeout`, even with no traffic.
#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (backend, _) = raw_backend(move |mut s| {
        let tx = tx.clone();
        async move {
            while !read_head(&mut s).await.is_empty() {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            }
            let _ = tx.send("closed");
        }
    })
    .await;
    let toml = with_upstream_keys(&backend, "pool_idle_timeout = \"200ms\"");
    let gw = Gateway::start(&toml).await;
    assert_eq!(send(get(&gw.url("/x"))).await.0.status, 200);
    let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert_eq!(
        closed.ok().flatten(),
        Some("closed"),
        "errgate closed the idle connection"
    );
}

#[tokio::test]
async fn no_idle_connections_are_kept_with_max_idle_zero() {
    let (backend, conns) =
        keep_alive_backend("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
    let toml = with_upstream_keys(&backend, "pool_max_idle_per_host = 0");
    let gw = Gateway::start(&toml).await;
    for _ in 0..3 {
        assert_eq!(send(get(&gw.url("/x"))).await.0.status, 200);
    }
    assert_eq!(conns.load(Ordering::SeqCst), 3);
}

/// A backend that closes its side right after answering (no `Connection: close`): the next
/// request, a POST that must not be replayed, gets a fresh connection instead of the dead one.
#[tokio::test]
async fn a_connection_closed_while_idle_is_not_reused() {
    let (backend, conns) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    for _ in 0..5 {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        assert_eq!((parts.status.as_u16(), &body[..]), (200, &b"ok"[..]));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let post = Request::post(gw.url("/x")).body(full("")).unwrap();
        let (parts, body) = send(post).await;
        assert_eq!((parts.status.as_u16(), &body[..]), (200, &b"ok"[..]));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(conns.load(Ordering::SeqCst), 10);
}

/// A response cut short mid-body is an aborted transfer for the client, never a short one.
#[tokio::test]
async fn a_chunked_body_cut_short_aborts_the_client() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nonly";
        let _ = s.write_all(answer.as_bytes()).await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let resp = client().request(get(&gw.url("/x"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.into_body().collect().await.is_err());
}

/// The upstream's hop-by-hop fields never reach the client: left out while the head is parsed
/// or, when `Connection` names other fields, stripped later; on rewritten errors too.
#[tokio::test]
async fn hop_by_hop_response_fields_do_not_reach_the_client() {
    const REST: &str = "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\n\
                        Trailer: x-sum\r\nUpgrade: h2c\r\nTE: gzip\r\nX-Kept: 1\r\n\
                        content-length: 2\r\n\r\nok";
    for status in [200, 503] {
        for connection in ["keep-alive", "close, X-Secret"] {
            let answer = format!("HTTP/1.1 {status} S\r\nConnection: {connection}\r\n{REST}");
            let (backend, _) = keep_alive_backend(answer.leak()).await;
            let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
            let (parts, body) = send(get(&gw.url("/x"))).await;
            assert_eq!(parts.status, status);
            for name in ["connection", "keep-alive", "proxy-authenticate", "trailer"] {
                assert!(!parts.headers.contains_key(name), "{name}: {connection}");
            }
            assert!(!parts.headers.contains_key("upgrade") && !parts.headers.contains_key("te"));
            let nominated = connection.contains("X-Secret");
            assert_eq!(parts.headers.contains_key("x-secret"), !nominated);
            assert_eq!(parts.headers["x-kept"], "1");
            if status == 200 {
                assert_eq!(&body[..], b"ok");
            } else {
                envelope(&body);
            }
        }
    }
}
