//! Streaming without buffering (DESIGN §1, §4): a 100 MiB response and a 20 MiB request body
//! go through errgate while the process RSS stays flat. One test only, alone in its binary, so
//! nothing else running in this process disturbs the RSS samples.

mod support;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use support::*;

const MIB: u64 = 1024 * 1024;
const CHUNK: usize = 64 * 1024;
const RESPONSE_BYTES: u64 = 100 * MIB;
const REQUEST_BYTES: u64 = 20 * MIB;
/// errgate must not hold more than this of a stream at once (plus allocator noise).
const MAX_RSS_GROWTH: u64 = 40 * MIB;
/// The same for the 20 MiB upload: tighter, or buffering all of it would still pass. Observed
/// growth is 1-3 MiB.
const MAX_UPLOAD_RSS_GROWTH: u64 = 10 * MIB;

/// A body of `remaining` bytes produced 64 KiB at a time, never held in memory as a whole.
struct Generated {
    remaining: u64,
    chunk: Bytes,
}

impl Generated {
    fn new(len: u64) -> Self {
        let pattern: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        Generated {
            remaining: len,
            chunk: Bytes::from(pattern),
        }
    }
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(CHUNK as u64);
        self.remaining -= n;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n as usize)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Counts a body's bytes frame by frame, dropping each one.
async fn count_bytes<B>(mut body: B) -> u64
where
    B: Body + Unpin,
    B::Data: bytes::Buf,
    B::Error: std::fmt::Debug,
{
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame.expect("body frame").data_ref() {
            total += bytes::Buf::remaining(data) as u64;
        }
    }
    total
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}

/// Samples VmRSS on a thread until dropped; `peak()` is the highest sample.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_bytes()));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        RssSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.peak.load(Ordering::Relaxed).max(rss_bytes())
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn assert_flat(what: &str, baseline: u64, peak: u64, bound: u64) {
    let growth = peak.saturating_sub(baseline);
    assert!(
        growth < bound,
        "{what}: RSS grew by {} MiB (baseline {} MiB, peak {} MiB): errgate buffers the stream",
        growth / MIB,
        baseline / MIB,
        peak / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn large_bodies_stream_through_without_buffering() {
    let backend = hyper_backend(|req: Request<hyper::body::Incoming>| async move {
        if req.uri().path() == "/upload" {
            let n = count_bytes(req.into_body()).await;
            return Response::new(full(n.to_string()));
        }
        let len = if req.uri().path() == "/big" {
            RESPONSE_BYTES
        } else {
            MIB
        };
        Response::new(Generated::new(len).boxed())
    })
    .await;
    let route = "timeout = \"120s\"\ntry_timeout = \"120s\"";
    let toml = format!(
        "[listener]\nmax_request_body_bytes = {}\n{}",
        64 * MIB,
        config_for(&backend.to_string(), route)
    );
    let gw = Gateway::start(&toml).await;
    let client = client();

    // Warm up pools, buffers and worker threads so the baseline includes them.
    for _ in 0..3 {
        let resp = client.request(get(&gw.url("/warm"))).await.unwrap();
        assert_eq!(count_bytes(resp.into_body()).await, MIB);
    }

    let work = async {
        let baseline = rss_bytes();
        let sampler = RssSampler::start();
        let resp = client.request(get(&gw.url("/big"))).await.unwrap();
        assert_eq!(resp.status(), 200);
        let received = count_bytes(resp.into_body()).await;
        assert_eq!(received, RESPONSE_BYTES, "response bytes through errgate");
        assert_flat(
            "100 MiB response",
            baseline,
            sampler.finish(),
            MAX_RSS_GROWTH,
        );

        let baseline = rss_bytes();
        let sampler = RssSampler::start();
        let req = Request::post(gw.url("/upload"))
            .body(Generated::new(REQUEST_BYTES).boxed())
            .unwrap();
        let resp = client.request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], REQUEST_BYTES.to_string().as_bytes());
        assert_flat(
            "20 MiB request body",
            baseline,
            sampler.finish(),
            MAX_UPLOAD_RSS_GROWTH,
        );
    };
    tokio::time::timeout(Duration::from_secs(180), work)
        .await
        .expect("transfers finished within 3 minutes");
}
