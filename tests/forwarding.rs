//! Forwarding: bodies both ways, headers both ways, request ids, HTTP/2, upgrades.

mod support;

use std::sync::{Arc, Mutex};

use http::{Request, Response};
use http_body_util::BodyExt;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a backend saw of the last request.
#[derive(Default, Clone, Debug)]
struct Seen {
    uri: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

async fn recording_backend() -> (std::net::SocketAddr, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let rec = seen.clone();
    let addr = hyper_backend(move |req: Request<hyper::body::Incoming>| {
        let rec = rec.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            *rec.lock().unwrap() = Seen {
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body: body.to_vec(),
            };
            Response::builder()
                .header("x-backend", "yes")
                .header("connection", "x-hop")
                .header("x-hop", "secret")
                .header("keep-alive", "timeout=5")
                .body(full("hello"))
                .unwrap()
        }
    })
    .await;
    (addr, seen)
}

#[tokio::test]
async fn passes_a_success_through_with_its_headers() {
    let (backend, _) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/hello?x=1"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"hello");
    assert_eq!(parts.headers["x-backend"], "yes");
    assert!(
        parts.headers.get("x-hop").is_none(),
        "Connection-nominated header leaked"
    );
    assert!(parts.headers.get("keep-alive").is_none());
    assert_eq!(parts.headers["x-request-id"].len(), 32);
}

#[tokio::test]
async fn rewrites_request_headers_for_the_upstream() {
    let (backend, seen) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let req = Request::get(gw.url("/a/b?q=1"))
        .header("host", "api.example.com")
        .header("x-request-id", "client-id-1")
        .header("x-forwarded-for", "203.0.113.7")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "1")
        .header("proxy-authorization", "Basic abc")
        .header("authorization", "Bearer keep")
        .body(full(""))
        .unwrap();
    let (parts, _) = send(req).await;
    assert_eq!(parts.headers["x-request-id"], "client-id-1");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.uri, "/a/b?q=1");
    let h = &seen.headers;
    assert_eq!(h["host"], "api.example.com");
    assert_eq!(h["x-request-id"], "client-id-1");
    assert_eq!(h["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert_eq!(h["x-forwarded-host"], "api.example.com");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["authorization"], "Bearer keep");
    assert!(h.get("x-drop-me").is_none());
    assert!(h.get("proxy-authorization").is_none());
}

#[tokio::test]
async fn replaces_an_insane_request_id_and_sends_the_same_one_upstream() {
    let (backend, seen) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let long = "x".repeat(200);
    let req = Request::get(gw.url("/"))
        .header("x-request-id", long.as_str())
        .body(full(""))
        .unwrap();
    let (parts, _) = send(req).await;
    let returned = parts.headers["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(returned, long);
    assert_eq!(
        seen.lock().unwrap().headers["x-request-id"],
        returned.as_str()
    );
}

#[tokio::test]
async fn host_rewrite_sends_the_endpoint_authority() {
    let (backend, seen) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "host_rewrite = true")).await;
    let req = Request::get(gw.url("/"))
        .header("host", "public.example")
        .body(full(""))
        .unwrap();
    send(req).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.headers["host"], backend.to_string().as_str());
    assert_eq!(seen.headers["x-forwarded-host"], "public.example");
}

#[tokio::test]
async fn streams_a_request_body_upstream_byte_for_byte() {
    let (backend, seen) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let req = Request::post(gw.url("/upload"))
        .body(full(payload.clone()))
        .unwrap();
    let (parts, _) = send(req).await;
    assert_eq!(parts.status, 200);
    assert!(
        seen.lock().unwrap().body == payload,
        "upstream got different bytes"
    );
}

#[tokio::test]
async fn serves_http2_prior_knowledge_clients() {
    let (backend, seen) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let resp = h2_client().request(get(&gw.url("/h2"))).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"hello");
    // The HTTP/1 upstream must still get a Host header from the :authority.
    assert_eq!(
        seen.lock().unwrap().headers["host"],
        gw.addr.to_string().as_str()
    );
}

#[tokio::test]
async fn relays_a_websocket_upgrade_after_a_real_101() {
    let (backend, _) = raw_backend(|mut s| async move {
        let head = read_head(&mut s).await;
        assert!(head.to_ascii_lowercase().contains("upgrade: websocket"), "{head}");
        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        s.write_all(&buf).await.unwrap(); // echo
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let mut c = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    c.write_all(
        b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
    )
    .await
    .unwrap();
    let head = read_head(&mut c).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    c.write_all(b"ping").await.unwrap();
    let mut echo = [0u8; 4];
    c.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");
}

#[tokio::test]
async fn an_upgrade_refused_by_the_upstream_is_a_normal_response() {
    let (backend, _) = recording_backend().await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let req = Request::get(gw.url("/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .body(full(""))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"hello");
}
