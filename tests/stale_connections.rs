//! The stale keep-alive race (issue 4): a backend that closes a kept-alive connection exactly
//! when errgate reuses it. Idempotent requests are replayed transparently, even with
//! `attempts = 1`; a POST without key is not, because the backend may have acted on it.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::Request;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the backend saw.
#[derive(Default)]
struct Counts {
    answered: AtomicUsize,
    /// Requests that arrived on a connection that had already served one, and were dropped.
    stale_closes: AtomicUsize,
    posts: AtomicUsize,
}

/// Answers one request per connection with keep-alive advertised, then reads the next
/// request's head on that connection and closes without answering.
async fn one_answer_per_connection() -> (SocketAddr, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    let (addr, _) = raw_backend(move |mut s| {
        let counts = shared.clone();
        async move {
            if !read_request(&mut s, &counts).await {
                return;
            }
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            if s.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            counts.answered.fetch_add(1, Ordering::SeqCst);
            let next = read_head(&mut s).await;
            if !next.is_empty() {
                counts.stale_closes.fetch_add(1, Ordering::SeqCst);
                counts_post(&counts, &next);
            }
        }
    })
    .await;
    (addr, counts)
}

fn counts_post(counts: &Counts, head: &str) {
    if head.starts_with("POST ") {
        counts.posts.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reads a request head and its Content-Length body; false if the connection closed first.
async fn read_request(s: &mut TcpStream, counts: &Counts) -> bool {
    let head = read_head(s).await;
    if head.is_empty() {
        return false;
    }
    counts_post(counts, &head);
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.trim().parse().unwrap());
    let mut body = vec![0; length];
    s.read_exact(&mut body).await.is_ok()
}

async fn gateway(backend: SocketAddr) -> Gateway {
    Gateway::start(&retry_config(&[backend], "attempts = 1", "", "")).await
}

async fn get_ok(client: &support::HttpClient, url: &str) {
    let resp = client.request(get(url)).await.expect("no client error");
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await;
    assert_eq!(&body.unwrap().to_bytes()[..], b"ok");
}

#[tokio::test]
async fn hundreds_of_gets_never_see_the_race() {
    let (backend, counts) = one_answer_per_connection().await;
    let gw = gateway(backend).await;
    let url = gw.url("/x");
    let client = client();
    for _ in 0..300 {
        get_ok(&client, &url).await;
    }
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                for _ in 0..100 {
                    get_ok(&client, &url).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(counts.answered.load(Ordering::SeqCst), 700);
    let stale = counts.stale_closes.load(Ordering::SeqCst);
    assert!(
        stale > 100,
        "errgate did reuse connections the backend closed: {stale}"
    );
}

/// A POST without key on a connection the backend then drops: errgate cannot know whether the
/// backend acted on it, so it is not replayed and the client gets 502 BAD_GATEWAY.
///
/// Run for both upstream clients: a streamed body goes through hyper-util's pool (warmed by
/// an earlier streamed POST), an empty one through errgate's own (warmed by a GET).
async fn post_caught_in_the_race(warm: impl Fn(&str) -> Request<BoxBody>, body: &'static str) {
    let (backend, counts) = one_answer_per_connection().await;
    let gw = gateway(backend).await;
    let (parts, _) = send(warm(&gw.url("/x"))).await;
    assert_eq!(parts.status, 200);
    let posts_before = counts.posts.load(Ordering::SeqCst);
    // Let the connection go back to errgate's pool before the POST takes it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let req = Request::post(gw.url("/orders")).body(full(body)).unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 502);
    assert_eq!(envelope(&body).0, "BAD_GATEWAY");
    assert_eq!(
        counts.stale_closes.load(Ordering::SeqCst),
        1,
        "it hit the race"
    );
    assert_eq!(
        counts.posts.load(Ordering::SeqCst) - posts_before,
        1,
        "and was sent only once"
    );
}

#[tokio::test]
async fn a_streamed_post_without_key_caught_in_the_race_is_not_replayed() {
    let warm = |url: &str| Request::post(url).body(full("warm")).unwrap();
    post_caught_in_the_race(warm, "pay").await;
}

#[tokio::test]
async fn an_empty_post_without_key_caught_in_the_race_is_not_replayed() {
    post_caught_in_the_race(get, "").await;
}
