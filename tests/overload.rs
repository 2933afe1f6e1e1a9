//! `max_concurrent_requests` (DESIGN §5): beyond it, 503 OVERLOADED at once, never a queue;
//! and every way a request can end gives its slot back.

mod support;

use std::net::SocketAddr;

use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn limited_to_two(backend: SocketAddr) -> Gateway {
    let upstream = "eject_after = 0\nmax_concurrent_requests = 2";
    Gateway::start(&retry_config(&[backend], "attempts = 1", upstream, "")).await
}

async fn assert_overloaded(gw: &Gateway) {
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 503);
    assert_eq!(envelope(&body).0, "OVERLOADED");
    let proxy_status = parts.headers["proxy-status"].to_str().unwrap();
    assert!(
        proxy_status.contains("connection_limit_reached"),
        "{proxy_status}"
    );
}

#[tokio::test]
async fn the_third_concurrent_request_is_shed_at_once() {
    let backend = Scripted::start(|_| Action::Hold).await;
    let gw = limited_to_two(backend.addr).await;
    let first = tokio::spawn(send(get(&gw.url("/x"))));
    let second = tokio::spawn(send(get(&gw.url("/x"))));
    eventually("two requests held", || backend.count() == 2).await;

    assert_overloaded(&gw).await;
    assert!(
        !first.is_finished() && !second.is_finished(),
        "still pending"
    );
    assert_eq!(backend.count(), 2, "the shed request never went upstream");

    backend.release();
    assert_eq!(first.await.unwrap().0.status, 200);
    assert_eq!(second.await.unwrap().0.status, 200);
    for _ in 0..3 {
        assert_eq!(send(get(&gw.url("/x"))).await.0.status, 200);
    }
}

/// Sends a GET on a raw connection that the caller drops without reading the answer.
async fn abandoned_get(gw: &Gateway) -> TcpStream {
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let req = "GET /x HTTP/1.1\r\nhost: test\r\n\r\n";
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

#[tokio::test]
async fn slots_come_back_when_clients_disconnect() {
    // The first two requests are held for ever; the backend answers the rest.
    let backend = Scripted::start(|n| if n <= 2 { Action::Hold } else { Action::ok() }).await;
    let gw = limited_to_two(backend.addr).await;
    let a = abandoned_get(&gw).await;
    let b = abandoned_get(&gw).await;
    eventually("two requests held", || backend.count() == 2).await;
    assert_overloaded(&gw).await;

    drop((a, b));
    // errgate notices the clients left and frees their slots, though the backend still holds.
    let mut status = 0;
    for _ in 0..100 {
        status = send(get(&gw.url("/x"))).await.0.status.as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 200, "the abandoned requests' slots were released");
}

#[tokio::test]
async fn slots_come_back_after_error_responses() {
    // Closes (errgate's own 502) and 500s (normalized), then successes. The 500s close their
    // connection too: a close on a reused connection would be replayed as a stale one.
    let failed = Action::Respond {
        status: 500,
        headers: vec![("connection", "close".to_string())],
        body: "backend failure",
    };
    let backend = Scripted::start(move |n| match n {
        1 | 3 | 5 => Action::Close,
        2 | 4 | 6 => failed.clone(),
        _ => Action::ok(),
    })
    .await;
    let gw = limited_to_two(backend.addr).await;
    for (i, expected) in [502, 500, 502, 500, 502, 500, 200, 200]
        .into_iter()
        .enumerate()
    {
        let (parts, body) = send(get(&gw.url("/x"))).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(parts.status, expected, "request {i}: {text}");
    }
}
