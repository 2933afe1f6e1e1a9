//! Test builders: an in-process errgate on `127.0.0.1:0`, backends that behave or misbehave on
//! purpose, and real HTTP/1 and HTTP/2 clients.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub mod load;
pub mod process;
pub mod scrape;
mod scripted;
#[allow(unused_imports)] // not every test binary uses the scripted backend
pub use scripted::*;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub type BoxBody =
    http_body_util::combinators::BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A running errgate; dropping it does not stop it, `stop()` drains it.
pub struct Gateway {
    pub addr: SocketAddr,
    /// The admin listener (`/metrics`, `/healthz`, `/readyz`).
    pub admin: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Starts errgate from TOML text (the listener address in it is ignored).
    pub async fn start(toml: &str) -> Gateway {
        let config = errgate::config_file::from_toml_str(toml).expect("test config is valid");
        let gateway = errgate::gateway::Gateway::new(config).expect("gateway builds");
        let public = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = public.local_addr().unwrap();
        let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = admin_listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let listeners = errgate::Listeners {
            public,
            admin: Some(admin_listener),
        };
        let done = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            errgate::run(errgate::reload::shared(gateway), listeners, shutdown)
                .await
                .unwrap();
        });
        Gateway {
            addr,
            admin,
            stop: Some(tx),
            done,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Asks for a graceful shutdown and waits until errgate has drained.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.done.await;
    }

    /// Triggers shutdown without waiting.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A config with one upstream at `upstream` and one catch-all route `r`.
pub fn config_for(upstream: &str, extra_route: &str) -> String {
    format!(
        r#"
[errors]
default_locale = "en"

[defaults]
timeout = "5s"
try_timeout = "5s"
# One attempt and no ejection: each test sees exactly the exchange it scripts. The retry and
# ejection tests (tests/retries.rs, tests/endpoints.rs) write their own configs.
[defaults.retry]
attempts = 1

[upstreams.up]
endpoints = ["http://{upstream}"]
connect_timeout = "1s"
eject_after = 0

[[routes]]
name = "r"
path_prefix = "/"
upstream = "up"
{extra_route}
"#
    )
}

/// An address where nothing listens (bound, then released).
pub async fn refused_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// A well-behaved hyper backend answering every request with `handler`.
pub async fn hyper_backend<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<BoxBody>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

/// A raw TCP backend: each accepted connection is handed to `script`. Counts connections.
pub async fn raw_backend<F, Fut>(script: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(script(stream));
        }
    });
    (addr, count)
}

/// Reads one request head (up to the blank line) from a raw connection.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn full(body: impl Into<Bytes>) -> BoxBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn json_response(status: u16, body: &str) -> Response<BoxBody> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .unwrap()
}

pub type HttpClient = Client<HttpConnector, BoxBody>;

/// An HTTP/1.1 client with its own pool.
pub fn client() -> Client<HttpConnector, BoxBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// An HTTP/2 prior-knowledge (h2c) client.
pub fn h2_client() -> Client<HttpConnector, BoxBody> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(HttpConnector::new())
}

pub fn get(url: &str) -> Request<BoxBody> {
    Request::get(url).body(full("")).unwrap()
}

/// Sends `req`, returning the response head and the whole body.
pub async fn send(req: Request<BoxBody>) -> (http::response::Parts, Bytes) {
    let resp = client().request(req).await.expect("errgate answers");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("complete body").to_bytes();
    (parts, body)
}

/// The envelope's (error, message), asserting its exact shape.
pub fn envelope(body: &[u8]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).expect("envelope is JSON");
    let obj = v.as_object().expect("envelope is an object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 3, "exactly three keys: {v}");
    assert_eq!(v["success"], serde_json::Value::Bool(false));
    let text = String::from_utf8_lossy(body);
    let (s, m, e) = (
        text.find("\"success\""),
        text.find("\"message\""),
        text.find("\"error\""),
    );
    assert!(s < m && m < e, "key order success, message, error: {text}");
    let error = v["error"].as_str().expect("error is a string").to_string();
    let message = v["message"]
        .as_str()
        .expect("message is a string")
        .to_string();
    assert!(!message.is_empty());
    (error, message)
}

/// Writes raw bytes to errgate and reads until it closes (or `limit` bytes).
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}
