//! errgate's own failures (DESIGN §2): each misbehaviour becomes its envelope and Proxy-Status.

mod support;

use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use support::*;
use tokio::io::AsyncWriteExt;

fn proxy_status(parts: &http::response::Parts) -> String {
    parts.headers["proxy-status"].to_str().unwrap().to_string()
}

fn assert_json_headers(parts: &http::response::Parts, body: &[u8]) {
    assert_eq!(
        parts.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        parts.headers["content-length"],
        body.len().to_string().as_str()
    );
    assert!(parts.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn refused_connection_is_502_upstream_unavailable() {
    let gw = Gateway::start(&config_for(&refused_addr().await.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_json_headers(&parts, &body);
    let (error, message) = envelope(&body);
    assert_eq!(error, "UPSTREAM_UNAVAILABLE");
    assert!(
        !message.contains("127.0.0.1"),
        "leaks the address: {message}"
    );
    assert_eq!(proxy_status(&parts), "errgate; error=connection_refused");
}

#[tokio::test]
async fn close_before_the_head_is_502_bad_gateway() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        drop(s);
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
    assert!(proxy_status(&parts).starts_with("errgate; error="));
}

#[tokio::test]
async fn reset_before_the_head_is_502_bad_gateway() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        // SO_LINGER 0 turns the close into a TCP RST.
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
}

#[tokio::test]
async fn garbage_instead_of_a_head_is_502_bad_gateway() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"SSH-2.0-OpenSSH_9.0 \x00\xff garbage\r\n\r\n")
            .await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
    assert_eq!(proxy_status(&parts), "errgate; error=http_protocol_error");
}

#[tokio::test]
async fn a_half_written_head_is_502_bad_gateway() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-ty").await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
}

async fn hanging_backend() -> std::net::SocketAddr {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    backend
}

#[tokio::test]
async fn try_timeout_is_504_upstream_timeout() {
    let backend = hanging_backend().await;
    let route = r#"try_timeout = "300ms""#;
    let gw = Gateway::start(&config_for(&backend.to_string(), route)).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 504);
    assert_eq!(envelope(&body).0, "UPSTREAM_TIMEOUT");
    assert_eq!(
        proxy_status(&parts),
        "errgate; error=http_response_timeout; details=\"try_timeout\""
    );
}

#[tokio::test]
async fn route_deadline_is_504_upstream_timeout() {
    let backend = hanging_backend().await;
    let route = "timeout = \"300ms\"\ntry_timeout = \"10s\"";
    let gw = Gateway::start(&config_for(&backend.to_string(), route)).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 504);
    assert_eq!(envelope(&body).0, "UPSTREAM_TIMEOUT");
    // The route's deadline ended it, not the 10 s try timeout.
    assert_eq!(
        proxy_status(&parts),
        "errgate; error=http_response_timeout; details=\"route_timeout\""
    );
}

#[tokio::test]
async fn dying_mid_body_aborts_the_client_connection() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let _ = s.write_all(b"5\r\nhello\r\n").await;
        let _ = s.set_zero_linger();
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let resp = client().request(get(&gw.url("/x"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    let collected = resp.into_body().collect().await;
    assert!(collected.is_err(), "a cut-off body must not look complete");
}

#[tokio::test]
async fn dying_mid_body_with_content_length_is_visible_too() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly this")
            .await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let resp = client().request(get(&gw.url("/x"))).await.unwrap();
    assert!(resp.into_body().collect().await.is_err());
}

#[tokio::test]
async fn no_route_is_404_route_not_found() {
    let toml = config_for(&refused_addr().await.to_string(), "")
        .replace("path_prefix = \"/\"", "path_prefix = \"/api\"");
    let gw = Gateway::start(&toml).await;
    for path in ["/apix", "/other", "/"] {
        let (parts, body) = send(get(&gw.url(path))).await;
        assert_eq!(parts.status, 404, "{path}");
        assert_eq!(envelope(&body).0, "ROUTE_NOT_FOUND");
        assert_eq!(proxy_status(&parts), "errgate; error=destination_not_found");
    }
}

#[tokio::test]
async fn messages_follow_accept_language_then_default_locale() {
    let toml = config_for(&refused_addr().await.to_string(), "")
        .replace("default_locale = \"en\"", "default_locale = \"es\"");
    let gw = Gateway::start(&toml).await;
    let es = send(get(&gw.url("/x"))).await;
    let req = Request::get(gw.url("/x"))
        .header("accept-language", "en-US,en;q=0.9")
        .body(full(""))
        .unwrap();
    let en = send(req).await;
    assert_eq!(es.0.headers["content-language"], "es");
    assert_eq!(en.0.headers["content-language"], "en");
    let (es_msg, en_msg) = (envelope(&es.1).1, envelope(&en.1).1);
    assert_ne!(es_msg, en_msg);
}

#[tokio::test]
async fn head_gets_the_envelope_headers_without_a_body() {
    let gw = Gateway::start(&config_for(&refused_addr().await.to_string(), "")).await;
    let req = Request::head(gw.url("/x")).body(full("")).unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 502);
    assert!(body.is_empty());
    assert_ne!(parts.headers["content-length"], "0");
}

#[tokio::test]
async fn declared_oversized_body_is_413_before_the_upstream_is_asked() {
    let (backend, connections) = raw_backend(|_| async {}).await;
    let toml = format!(
        "[listener]\nmax_request_body_bytes = 1000\n{}",
        config_for(&backend.to_string(), "")
    );
    let gw = Gateway::start(&toml).await;
    let req = Request::post(gw.url("/x"))
        .body(full(vec![b'a'; 1001]))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 413);
    assert_eq!(envelope(&body).0, "PAYLOAD_TOO_LARGE");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let backend = hyper_backend(|req: Request<hyper::body::Incoming>| async move {
        // Reads the body (which errgate cuts off) before answering.
        let _ = req.into_body().collect().await;
        Response::new(full("too late"))
    })
    .await;
    let toml = format!(
        "[listener]\nmax_request_body_bytes = 1000\n{}",
        config_for(&backend.to_string(), "")
    );
    let gw = Gateway::start(&toml).await;
    let chunked = format!(
        "POST /x HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        2000,
        "a".repeat(2000)
    );
    let answer = raw_exchange(gw.addr, chunked.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"));
}

#[tokio::test]
async fn encoded_slash_and_bad_escapes_are_400_envelopes() {
    let gw = Gateway::start(&config_for(&refused_addr().await.to_string(), "")).await;
    for path in ["/api%2Fadmin", "/a%zz"] {
        let (parts, body) = send(get(&gw.url(path))).await;
        assert_eq!(parts.status, 400, "{path}");
        assert_eq!(envelope(&body).0, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_malformed_request_never_reaches_the_upstream() {
    let (backend, connections) = raw_backend(|_| async {}).await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let answer = raw_exchange(gw.addr, b"GET /x HTTP/1.1\r\nbad header line\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}
