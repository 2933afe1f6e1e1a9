//! Lifecycle through the library (DESIGN §3, §8): graceful drain, the drain timeout, and the
//! client-side header read timeout on slow heads and idle keep-alive connections.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::Response;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const GENEROUS: Duration = Duration::from_secs(5);

/// A config whose route waits 20 s for the upstream, with extra `[listener]` lines.
fn config_with_listener(backend: SocketAddr, listener: &str) -> String {
    let route = "timeout = \"20s\"\ntry_timeout = \"20s\"\n[routes.retry]\nattempts = 1";
    format!(
        "[listener]\n{listener}\n{}",
        config_for(&backend.to_string(), route)
    )
}

/// A backend that reports each request's arrival, then answers 200 "slow done" after `delay`.
async fn slow_backend(delay: Duration) -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let addr = hyper_backend(move |_req| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(());
            tokio::time::sleep(delay).await;
            Response::new(full("slow done"))
        }
    })
    .await;
    (addr, rx)
}

async fn arrived(rx: &mut mpsc::UnboundedReceiver<()>) {
    tokio::time::timeout(GENEROUS, rx.recv())
        .await
        .expect("the request reached the backend")
        .expect("backend alive");
}

/// After shutdown, a new connection is refused, or closed without any response.
async fn assert_not_served(addr: SocketAddr) {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return;
    };
    let _ = s
        .write_all(b"GET /new HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(GENEROUS, s.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "connection after shutdown neither refused nor closed"
    );
    assert!(
        out.is_empty(),
        "served after shutdown: {}",
        String::from_utf8_lossy(&out)
    );
}

/// Reads until the peer closes (Ok(0) or an error); returns how long that took, or None.
async fn wait_closed(s: &mut TcpStream) -> (Option<Duration>, Vec<u8>) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let result = tokio::time::timeout(GENEROUS, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    (result.ok().map(|()| start.elapsed()), out)
}

#[tokio::test]
async fn in_flight_request_finishes_during_the_drain() {
    let (backend, mut rx) = slow_backend(Duration::from_millis(500)).await;
    let mut gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let addr = gw.addr;
    let url = gw.url("/slow");
    let in_flight = tokio::spawn(async move { send(get(&url)).await });
    arrived(&mut rx).await;

    gw.begin_stop();
    let (parts, body) = tokio::time::timeout(GENEROUS, in_flight)
        .await
        .expect("in-flight request finished")
        .expect("request task");
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"slow done");

    assert_not_served(addr).await;
    tokio::time::timeout(GENEROUS, gw.stop())
        .await
        .expect("drained");
}

#[tokio::test]
async fn drain_timeout_bounds_the_drain() {
    let (backend, mut rx) = slow_backend(Duration::from_secs(30)).await;
    let toml = config_with_listener(backend, "drain_timeout = \"300ms\"");
    let gw = Gateway::start(&toml).await;
    let url = gw.url("/hang");
    let _in_flight = tokio::spawn(async move { client().request(get(&url)).await });
    arrived(&mut rx).await;

    let start = Instant::now();
    tokio::time::timeout(GENEROUS, gw.stop())
        .await
        .expect("stop() returned within the bound despite a 30 s backend");
    assert!(start.elapsed() < GENEROUS);
}

#[tokio::test]
async fn connections_left_after_the_drain_timeout_are_closed() {
    let (backend, mut rx) = slow_backend(Duration::from_secs(30)).await;
    let toml = config_with_listener(backend, "drain_timeout = \"300ms\"");
    let gw = Gateway::start(&toml).await;
    let url = gw.url("/hang");
    let in_flight = tokio::spawn(async move { client().request(get(&url)).await });
    arrived(&mut rx).await;

    tokio::time::timeout(GENEROUS, gw.stop())
        .await
        .expect("stop() returned");
    // The route allows 20 s and the backend 30 s: only errgate closing the connection at the
    // end of the drain ends this request within the bound.
    let outcome = tokio::time::timeout(Duration::from_secs(3), in_flight).await;
    let result =
        outcome.expect("the in-flight request outlived run(): its connection was not closed");
    let result = result.expect("request task");
    assert!(
        result.is_err(),
        "expected the connection to be cut, got {:?}",
        result.map(|r| r.status())
    );
}

#[tokio::test]
async fn a_stalled_request_head_gets_the_connection_closed() {
    let (backend, seen) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
    })
    .await;
    let toml = config_with_listener(backend, "header_read_timeout = \"300ms\"");
    let gw = Gateway::start(&toml).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /half HTTP/1.1\r\nHost: a\r\nX-Part")
        .await
        .unwrap();
    let (closed, _) = wait_closed(&mut s).await;
    assert!(closed.is_some(), "connection still open after {GENEROUS:?}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the upstream saw a connection"
    );
}

#[tokio::test]
async fn a_stalled_request_head_is_answered_408_request_timeout() {
    // DESIGN §2: "client too slow sending its request head → 408 REQUEST_TIMEOUT".
    let backend = refused_addr().await;
    let toml = config_with_listener(backend, "header_read_timeout = \"300ms\"");
    let gw = Gateway::start(&toml).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /half HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let (closed, out) = wait_closed(&mut s).await;
    assert!(closed.is_some(), "connection still open after {GENEROUS:?}");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "expected a 408 response before the close, got {text:?}"
    );
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert_eq!(envelope(body.as_bytes()).0, "REQUEST_TIMEOUT");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let backend = hyper_backend(|_req| async { Response::new(full("ok")) }).await;
    let toml = config_with_listener(backend, "header_read_timeout = \"300ms\"");
    let gw = Gateway::start(&toml).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let mut body = [0u8; 2];
    s.read_exact(&mut body).await.unwrap();
    assert_eq!(&body, b"ok");

    let (closed, extra) = wait_closed(&mut s).await;
    assert!(
        closed.is_some(),
        "idle connection still open after {GENEROUS:?}"
    );
    assert!(extra.is_empty(), "{}", String::from_utf8_lossy(&extra));
}
