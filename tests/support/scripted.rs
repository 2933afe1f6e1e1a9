//! A scripted backend for the retry and endpoint tests: it records every attempt it saw
//! (method, path, a hash of the body, its length) and answers each one as its script says.

use std::hash::{DefaultHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{BoxBody, full};

/// What the backend does with one request, after reading its whole body.
#[derive(Debug, Clone)]
pub enum Action {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: &'static str,
    },
    /// Close the connection without answering (the body was read: its bytes went out).
    Close,
    /// Never answer.
    Hang,
    /// Answer 200 once [`Scripted::release`] was called.
    Hold,
}

impl Action {
    pub fn ok() -> Action {
        Action::status(200)
    }

    pub fn status(status: u16) -> Action {
        let body = if status < 400 {
            "ok"
        } else {
            "backend failure"
        };
        Action::Respond {
            status,
            headers: Vec::new(),
            body,
        }
    }

    pub fn retry_after(status: u16, value: &str) -> Action {
        Action::Respond {
            status,
            headers: vec![("retry-after", value.to_string())],
            body: "try later",
        }
    }
}

/// One request as the backend saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub hash: u64,
    pub len: usize,
    /// The `x-request-id` errgate sent: the same on every attempt of one request.
    pub request_id: Option<String>,
}

type Script = dyn Fn(usize) -> Action + Send + Sync;

/// A running scripted backend. The script gets the 1-based number of the attempt.
pub struct Scripted {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    release: watch::Sender<bool>,
}

impl Scripted {
    pub async fn start(script: impl Fn(usize) -> Action + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release, released) = watch::channel(false);
        let shared = Shared {
            script: Arc::new(script),
            seen: seen.clone(),
            released,
        };
        tokio::spawn(accept_loop(listener, shared));
        Scripted {
            addr,
            seen,
            release,
        }
    }

    /// Every attempt seen so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Lets every held request (now and later) answer 200.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Seen>>>,
    released: watch::Receiver<bool>,
}

async fn accept_loop(listener: TcpListener, shared: Shared) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| serve(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// Returning `Err` makes hyper close the connection without a response.
async fn serve(shared: Shared, req: Request<Incoming>) -> Result<Response<BoxBody>, String> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let number = {
        let mut seen = shared.seen.lock().unwrap();
        seen.push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            hash: body_hash(&bytes),
            len: bytes.len(),
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        });
        seen.len()
    };
    match (shared.script)(number) {
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let mut resp = Response::builder().status(status);
            for (name, value) in headers {
                resp = resp.header(name, value);
            }
            Ok(resp.body(full(body)).unwrap())
        }
        Action::Close => Err("scripted close".into()),
        Action::Hang => std::future::pending().await,
        Action::Hold => {
            let mut released = shared.released.clone();
            let _ = released.wait_for(|r| *r).await;
            Ok(Response::new(full("released")))
        }
    }
}

pub fn body_hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// `len` bytes that are not all the same, so a reordering or a cut shows in the hash.
pub fn payload(len: usize) -> Bytes {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// A body sent in `chunk`-sized pieces with no Content-Length (chunked on the wire).
pub fn chunked(data: &Bytes, chunk: usize) -> BoxBody {
    let frames: Vec<Result<Frame<Bytes>, super::BoxError>> = data
        .chunks(chunk)
        .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

/// Waits until `done` holds, polling; panics after 5 s so a broken test cannot hang.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

/// A config with retries on: one catch-all route `r` to upstream `up` at `endpoints`.
/// `retry` goes in `[routes.retry]`, `upstream` in `[upstreams.up]`, `route` in the route.
/// Backoff is 1–10 ms so retries are quick; ejection stays at its default unless set.
pub fn retry_config(endpoints: &[SocketAddr], retry: &str, upstream: &str, route: &str) -> String {
    let list: Vec<String> = endpoints
        .iter()
        .map(|a| format!("\"http://{a}\""))
        .collect();
    format!(
        r#"
[errors]
default_locale = "en"

[defaults]
timeout = "5s"
try_timeout = "2s"
[defaults.retry]
attempts = 3
backoff_base = "1ms"
backoff_max = "10ms"

[upstreams.up]
endpoints = [{}]
connect_timeout = "1s"
{upstream}

[[routes]]
name = "r"
path_prefix = "/"
upstream = "up"
{route}
[routes.retry]
{retry}
"#,
        list.join(", ")
    )
}
