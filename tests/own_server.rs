//! errgate's own HTTP/1.1 server loop (src/h1_server.rs) with raw clients: pipelined requests,
//! the hand-over to hyper in the middle of a connection, HEAD, chunked answers, bodies cut
//! short, and heads it leaves to hyper.

mod support;

use std::time::Duration;

use http::Response;
use http_body_util::BodyExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A backend answering `METHOD PATH BODY-LENGTH`.
async fn echo_backend() -> std::net::SocketAddr {
    hyper_backend(|req: http::Request<hyper::body::Incoming>| async move {
        let line = format!("{} {}", req.method(), req.uri().path());
        let body = req.into_body().collect().await.unwrap().to_bytes();
        Response::new(full(format!("{line} {}", body.len())))
    })
    .await
}

/// Sends `request` on one connection and reads until errgate closes it (bounded).
async fn exchange(gw: &Gateway, request: &str) -> String {
    let read = raw_exchange(gw.addr, request.as_bytes());
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("errgate closed the connection")
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order_across_the_hand_over_to_hyper() {
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    // The GET is served by errgate's loop, the POST (a chunked body) makes it hand the
    // connection, with the rest of the pipeline, to hyper, which serves the POST and the last
    // GET.
    let text = exchange(
        &gw,
        "GET /a HTTP/1.1\r\nhost: t\r\n\r\n\
         POST /b HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
         GET /c HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{text}");
    let (a, b, c) = (
        text.find("GET /a 0").unwrap(),
        text.find("POST /b 5").unwrap(),
        text.find("GET /c 0").unwrap(),
    );
    assert!(a < b && b < c, "{text}");
}

/// A small body that arrived with its head is read by the loop itself, exactly to its length:
/// the requests pipelined behind it are served in order on the same connection.
#[tokio::test]
async fn small_bodies_pipelined_between_gets_reach_the_upstream_whole() {
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    let text = exchange(
        &gw,
        "POST /a HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello\
         GET /b HTTP/1.1\r\nhost: t\r\n\r\n\
         PUT /c HTTP/1.1\r\nhost: t\r\ncontent-length: 11\r\n\r\nGET /x HTTP\
         DELETE /d HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 4, "{text}");
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    let (a, b, c, d) = (
        at("POST /a 5"),
        at("GET /b 0"),
        at("PUT /c 11"),
        at("DELETE /d 0"),
    );
    assert!(a < b && b < c && c < d, "{text}");
    assert!(
        !text.contains("/x"),
        "a body is never taken for a request: {text}"
    );
}

#[tokio::test]
async fn head_answers_carry_no_body_and_the_connection_goes_on() {
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    let text = exchange(
        &gw,
        "HEAD /h HTTP/1.1\r\nhost: t\r\n\r\n\
         GET /g HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    let (head, get) = text.split_at(text.rfind("HTTP/1.1 200 OK").unwrap());
    assert!(head.contains("content-length: 9\r\n"), "{head}");
    assert!(
        head.ends_with("\r\n\r\n"),
        "no body bytes after the HEAD answer: {head}"
    );
    assert!(get.contains("connection: close\r\n"), "{get}");
    assert!(get.ends_with("\r\n\r\nGET /g 0"), "{get}");
}

#[tokio::test]
async fn a_body_of_unknown_length_is_chunked_to_the_client() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                      5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let _ = s.write_all(answer.as_bytes()).await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let text = exchange(
        &gw,
        "GET /x HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(text.contains("transfer-encoding: chunked\r\n"), "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let body = body.replace("\r\n", "|");
    assert!(body.ends_with("|0||"), "terminated: {body}");
    assert!(body.contains("hello") && body.contains(" world"), "{body}");
}

#[tokio::test]
async fn an_upstream_body_cut_short_ends_the_client_connection_without_completing_it() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
            .await;
        // Closed here: 90 bytes short.
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    // A keep-alive request: only errgate closing the connection ends the read.
    let text = exchange(&gw, "GET /x HTTP/1.1\r\nhost: t\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.len() < 100, "{body}");
}

#[tokio::test]
async fn heads_the_loop_refuses_get_hyper_s_answer() {
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    let text = exchange(&gw, "GET /x HTTP/1.1\r\nbad header line\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
}

#[tokio::test]
async fn a_keep_alive_connection_serves_many_requests() {
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    for i in 0..50 {
        let req = format!("GET /n{i} HTTP/1.1\r\nhost: t\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let want = format!("GET /n{i} 0");
        let mut seen = Vec::new();
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).ends_with(&want) {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed after {i} requests");
            seen.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&seen);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("\r\ndate: "), "{text}");
        assert!(text.contains("\r\nx-request-id: "), "{text}");
    }
}

#[tokio::test]
async fn a_length_next_to_chunked_encoding_never_reaches_the_client() {
    // A backend trying to split the response: its Content-Length covers only "ok", so a
    // client trusting it would read the rest as the answer to its next request.
    let (backend, _) = raw_backend(|mut s| async move {
        while !read_head(&mut s).await.is_empty() {
            let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n\
                          2c\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil\r\n0\r\n\r\n";
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let text = exchange(
        &gw,
        "GET /a HTTP/1.1\r\nhost: t\r\n\r\nGET /b HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(!text.contains("content-length: 2\r\n"), "{text}");
    assert_eq!(
        text.matches("transfer-encoding: chunked\r\n").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("\r\n0\r\n\r\n").count(), 2, "{text}");
}

#[tokio::test]
async fn a_request_buffered_behind_another_is_not_taken_for_a_departed_client() {
    // The client half-closes after pipelining two requests. While the first is in flight the
    // second is already buffered, so the end of the stream is not looked at and the first is
    // answered. (The last request of a half-closed connection is abandoned at the end of the
    // stream, as hyper and nginx do with a client that went away.)
    let gw = Gateway::start(&config_for(&echo_backend().await.to_string(), "")).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let reqs = "GET /a HTTP/1.1\r\nhost: t\r\n\r\nGET /b HTTP/1.1\r\nhost: t\r\n\r\n";
    s.write_all(reqs.as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out);
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("errgate closed the connection")
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("GET /a 0"), "{text}");
}

#[tokio::test]
async fn a_client_leaving_mid_body_releases_the_upstream_connection() {
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel();
    let (backend, _) = raw_backend(move |mut s| {
        let closed = closed_tx.clone();
        async move {
            read_head(&mut s).await;
            let start = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n";
            let _ = s.write_all(start.as_bytes()).await;
            // Then silence, like a server-sent event stream; errgate closing is the end.
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
            let _ = closed.send(());
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 512];
    while !String::from_utf8_lossy(&seen).contains("first") {
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&chunk[..n]);
    }
    drop(s);
    let released = tokio::time::timeout(Duration::from_secs(10), closed_rx.recv()).await;
    assert!(
        released.is_ok(),
        "the upstream connection was closed after the client left"
    );
}

#[tokio::test]
async fn blank_lines_after_a_request_do_not_count_as_a_started_head() {
    let backend = echo_backend().await.to_string();
    let toml = format!(
        "{}\n[listener]\nheader_read_timeout = \"300ms\"\n",
        config_for(&backend, "")
    );
    let gw = Gateway::start(&toml).await;
    // The client stays idle after its request and the stray CRLF: the connection is closed
    // silently when the timeout passes, with no 408.
    let text = exchange(&gw, "GET /a HTTP/1.1\r\nhost: t\r\n\r\n\r\n").await;
    assert!(text.contains("GET /a 0"), "{text}");
    assert!(!text.contains("408"), "{text}");
}

/// The upstream's fields reach the client the same way whichever server answers: errgate's
/// own loop (which copies the head it kept as bytes) or hyper (HTTP/1.0, which gets a map):
/// repeated fields kept, hop-by-hop ones gone, the request id errgate's.
#[tokio::test]
async fn upstream_fields_reach_the_client_alike_on_both_servers() {
    let (backend, _) = raw_backend(|mut s| async move {
        while !read_head(&mut s).await.is_empty() {
            let answer = "HTTP/1.1 200 OK\r\nX-Request-Id: upstream\r\nSet-Cookie: a=1\r\n\
                          Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Custom: v\r\n\
                          Set-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok";
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    for version in ["1.1", "1.0"] {
        let request = format!("GET /f HTTP/{version}\r\nhost: t\r\nconnection: close\r\n\r\n");
        let text = exchange(&gw, &request).await.to_ascii_lowercase();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, "ok", "{text}");
        let lines: Vec<&str> = head.lines().skip(1).collect();
        let with = |name: &str| -> Vec<&str> {
            let prefix = format!("{name}: ");
            lines
                .iter()
                .filter_map(|l| l.strip_prefix(prefix.as_str()))
                .collect()
        };
        assert_eq!(with("set-cookie"), ["a=1", "b=2"], "{head}");
        assert_eq!(with("x-custom"), ["v"], "{head}");
        assert_eq!(with("content-length"), ["2"], "{head}");
        assert!(with("keep-alive").is_empty(), "{head}");
        let ids = with("x-request-id");
        assert_eq!(ids.len(), 1, "{head}");
        assert_ne!(ids[0], "upstream", "{head}");
    }
}
