//! Garbage from an upstream never crashes errgate: each kind of broken response head gives the
//! client a 502 envelope (DESIGN §1–§2), and the next request still works.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned()
}

fn gateway_config(backend: SocketAddr) -> String {
    config_for(&backend.to_string(), "[routes.retry]\nattempts = 1")
}

async fn still_up(gw: &Gateway, what: &str) {
    let (parts, body) = timeout(LIMIT, send(get(&gw.url("/ok"))))
        .await
        .unwrap_or_else(|_| panic!("errgate answers after {what}"));
    assert_eq!(parts.status, 200, "after {what}: {}", shown(&body));
    assert_eq!(&body[..], b"fine");
}

/// The garbage an upstream sends instead of a response head, by case number.
fn upstream_garbage(case: usize) -> Vec<u8> {
    let text = |s: &str| s.as_bytes().to_vec();
    match case {
        0 => text("HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"),
        1 => text("HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        2 => text("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n"),
        3 => {
            let mut v = text("HTTP/1.1 200 OK\r\nX-Big: ");
            v.resize(v.len() + 10 * 1024 * 1024, b'a');
            v.extend_from_slice(b"\r\n\r\n");
            v
        }
        4 => text("HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n"),
        5 => text("HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"),
        // 1000 interim responses and then the connection closes: no final head ever came.
        6 => text(&"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000)),
        7 => text("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n"),
        8 => vec![0u8; 4096],
        9 => text("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
        10 => text("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
        11 => text("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        _ => text("\r\n\r\n"),
    }
}

const UPSTREAM_CASES: usize = 13;

#[tokio::test]
async fn upstream_garbage_is_a_502_envelope_and_errgate_stays_up() {
    let (backend, _) = raw_backend(|mut s| async move {
        let head = read_head(&mut s).await;
        let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
        let reply = match path.strip_prefix("/ok/case/").and_then(|n| n.parse().ok()) {
            Some(case) => upstream_garbage(case),
            None => b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine".to_vec(),
        };
        let _ = timeout(LIMIT, s.write_all(&reply)).await;
    })
    .await;
    let gw = Gateway::start(&gateway_config(backend)).await;
    for case in 0..UPSTREAM_CASES {
        let what = format!("upstream garbage case {case}");
        let (parts, body) = timeout(LIMIT, send(get(&gw.url(&format!("/ok/case/{case}")))))
            .await
            .unwrap_or_else(|_| panic!("{what}: errgate answers in time"));
        assert_eq!(parts.status, 502, "{what}: {}", shown(&body));
        let (error, message) = envelope(&body);
        assert_eq!(error, "BAD_GATEWAY", "{what}");
        assert!(
            !message.contains("aaaa") && !message.contains('\0'),
            "{what}: {message}"
        );
        still_up(&gw, &what).await;
    }
}

#[tokio::test]
async fn interim_responses_before_a_final_one_are_skipped() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let mut reply = "HTTP/1.1 100 Continue\r\n\r\n".repeat(1000);
        reply.push_str("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let _ = timeout(LIMIT, s.write_all(reply.as_bytes())).await;
    })
    .await;
    let gw = Gateway::start(&gateway_config(backend)).await;
    let (parts, body) = timeout(LIMIT, send(get(&gw.url("/ok"))))
        .await
        .expect("errgate answers in time");
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"ok");
}

/// RFC 9110 §15: valid status codes are 100 to 599; anything else is an invalid head (§1: 502).
#[tokio::test]
async fn upstream_status_outside_100_to_599_is_a_502_envelope() {
    let (backend, _) = raw_backend(|mut s| async move {
        let head = read_head(&mut s).await;
        let status = if head.contains("/ok/600") { 600 } else { 999 };
        let reply = format!("HTTP/1.1 {status} Weird\r\nContent-Length: 2\r\n\r\nok");
        let _ = timeout(LIMIT, s.write_all(reply.as_bytes())).await;
    })
    .await;
    let gw = Gateway::start(&gateway_config(backend)).await;
    for path in ["/ok/600", "/ok/999"] {
        let (parts, body) = timeout(LIMIT, send(get(&gw.url(path))))
            .await
            .expect("errgate answers in time");
        assert_eq!(parts.status, 502, "{path}: {}", shown(&body));
        assert_eq!(envelope(&body).0, "BAD_GATEWAY", "{path}");
    }
}
