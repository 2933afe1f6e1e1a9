//! DESIGN §9 metrics through a real listener and a real scrape of the admin port: exact deltas
//! after a scripted sequence, bounded labels, and `promtool check metrics` on the output.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::scrape::{self, Sample};
use support::*;

/// A backend with one behaviour per path; `/flaky` fails twice with 503, then succeeds.
async fn scripted_backend() -> std::net::SocketAddr {
    let flaky = Arc::new(AtomicUsize::new(0));
    hyper_backend(move |req| {
        let flaky = flaky.clone();
        async move {
            match req.uri().path() {
                "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) < 2 => {
                    json_response(503, r#"{"message":"busy"}"#)
                }
                "/missing" => json_response(404, r#"{"error":"Not Found","status":404}"#),
                "/hang" => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    json_response(200, "{}")
                }
                _ => json_response(200, r#"{"ok":true}"#),
            }
        }
    })
    .await
}

fn config(good: &str, down: &str) -> String {
    format!(
        r#"
[errors]
default_locale = "en"
[defaults.retry]
attempts = 3
backoff_base = "1ms"
backoff_max = "5ms"
[upstreams.good]
endpoints = ["http://{good}"]
[upstreams.down]
endpoints = ["http://{down}"]
[[routes]]
name = "ok"
path_prefix = "/"
upstream = "good"
[[routes]]
name = "slow"
path_prefix = "/slow"
strip_prefix = true
upstream = "good"
try_timeout = "200ms"
[routes.retry]
attempts = 1
[[routes]]
name = "down"
path_prefix = "/down"
upstream = "down"
"#
    )
}

async fn status_of(gw: &Gateway, path: &str) -> u16 {
    send(get(&gw.url(path))).await.0.status.as_u16()
}

#[tokio::test]
async fn exact_deltas_after_a_scripted_sequence() {
    let good = scripted_backend().await;
    let down = refused_addr().await;
    let gw = Gateway::start(&config(&good.to_string(), &down.to_string())).await;

    assert_eq!(status_of(&gw, "/ok").await, 200);
    assert_eq!(status_of(&gw, "/flaky").await, 200); // 503, 503, then 200
    assert_eq!(status_of(&gw, "/down/x").await, 502); // three refused connects
    assert_eq!(status_of(&gw, "/slow/hang").await, 504);
    assert_eq!(status_of(&gw, "/missing").await, 404);

    let done = |s: &[Sample]| scrape::sum(s, "errgate_requests_total", &[]) == 5.0;
    let s = scrape::until(gw.admin, done).await;
    let v = |name: &str, labels: &[(&str, &str)]| scrape::sum(&s, name, labels);
    let req = "errgate_requests_total";
    assert_eq!(
        v(
            req,
            &[("route", "ok"), ("method", "GET"), ("status", "200")]
        ),
        2.0
    );
    assert_eq!(v(req, &[("route", "ok"), ("status", "404")]), 1.0);
    assert_eq!(v(req, &[("route", "down"), ("status", "502")]), 1.0);
    assert_eq!(v(req, &[("route", "slow"), ("status", "504")]), 1.0);

    let att = "errgate_upstream_attempts_total";
    assert_eq!(
        v(att, &[("upstream", "good"), ("outcome", "response")]),
        5.0
    );
    assert_eq!(v(att, &[("upstream", "good"), ("outcome", "timeout")]), 1.0);
    assert_eq!(
        v(att, &[("upstream", "down"), ("outcome", "connect_error")]),
        3.0
    );
    assert_eq!(v(att, &[("outcome", "reset")]), 0.0);
    assert_eq!(
        v("errgate_upstream_attempt_duration_seconds_count", &[]),
        9.0
    );

    let retries = "errgate_retries_total";
    assert_eq!(v(retries, &[("route", "ok"), ("reason", "503")]), 2.0);
    assert_eq!(
        v(retries, &[("route", "down"), ("reason", "connect_failure")]),
        2.0
    );
    assert_eq!(v(retries, &[]), 4.0);
    assert_eq!(v("errgate_retries_refused_total", &[]), 0.0);

    let norm = "errgate_normalized_responses_total";
    let labels = [
        ("route", "ok"),
        ("error", "NOT_FOUND"),
        ("format", "other_json"),
    ];
    assert_eq!(v(norm, &labels), 1.0, "{s:#?}");
    assert_eq!(v(norm, &[]), 1.0);

    let dur = "errgate_request_duration_seconds_count";
    assert_eq!(v(dur, &[("route", "ok")]), 3.0);
    assert_eq!(v("errgate_in_flight_requests", &[]), 0.0);
    assert_eq!(
        v(
            "errgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(v("errgate_endpoint_up", &[("upstream", "good")]), 1.0);
    let reloads = "errgate_config_reloads_total";
    assert_eq!(v(reloads, &[("result", "failure")]), 0.0);
}

#[tokio::test]
async fn histograms_have_gateway_buckets_and_counters_end_in_total() {
    let good = scripted_backend().await;
    let gw = Gateway::start(&config(&good.to_string(), "127.0.0.1:1")).await;
    assert_eq!(status_of(&gw, "/ok").await, 200);
    let text = scrape::text(gw.admin).await;
    assert!(
        !text.contains("quantile="),
        "histograms, not summaries:\n{text}"
    );
    for le in ["0.001", "0.005", "0.1", "1", "10", "30", "+Inf"] {
        let bucket = format!("errgate_request_duration_seconds_bucket{{route=\"ok\",le=\"{le}\"}}");
        assert!(text.contains(&bucket), "missing {bucket}:\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
        let parts: Vec<&str> = line.split(' ').collect();
        let (name, kind) = (parts[2], parts[3]);
        assert!(name.starts_with("errgate_"), "{line}");
        assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no help for {name}"
        );
    }
}

#[tokio::test]
async fn promtool_accepts_a_real_scrape() {
    let good = scripted_backend().await;
    let gw = Gateway::start(&config(
        &good.to_string(),
        &refused_addr().await.to_string(),
    ))
    .await;
    for path in ["/ok", "/flaky", "/missing", "/down/1", "/slow/hang"] {
        status_of(&gw, path).await;
    }
    let text = scrape::text(gw.admin).await;
    let out = Command::new("sh")
        .arg("-c")
        .arg("promtool check metrics")
        .stdin(tempfile(&text))
        .output()
        .expect("promtool runs (CI installs Debian's prometheus package)");
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{report}\n{text}"
    );
    assert!(report.trim().is_empty(), "promtool warnings:\n{report}");
}

fn tempfile(text: &str) -> std::fs::File {
    let path = std::env::temp_dir().join(format!("errgate-scrape-{}.txt", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    file
}

#[tokio::test]
async fn ten_thousand_distinct_paths_add_no_series() {
    let good = scripted_backend().await;
    let gw = Gateway::start(&config(&good.to_string(), "127.0.0.1:1")).await;
    // Warm up every series the loop below can touch.
    status_of(&gw, "/warm").await;
    status_of(&gw, "/nowhere-at-all").await;
    let before = scrape::parse(&scrape::text(gw.admin).await).len();
    let client = client();
    for i in 0..10_000u32 {
        let path = format!("/p/{}/{}", fastrand_path(i), i);
        let resp = client.request(get(&gw.url(&path))).await.unwrap();
        assert_eq!(resp.status(), 200);
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    }
    let done = |s: &[Sample]| scrape::sum(s, "errgate_requests_total", &[]) >= 10_002.0;
    let after = scrape::until(gw.admin, done).await.len();
    assert_eq!(before, after, "series were added by distinct paths");
}

fn fastrand_path(i: u32) -> String {
    format!("{:08x}", i.wrapping_mul(2_654_435_761))
}

#[tokio::test]
async fn admin_endpoints_and_public_metrics_path() {
    let good = scripted_backend().await;
    let gw = Gateway::start(&config(&good.to_string(), "127.0.0.1:1")).await;
    let admin = |p: &str| format!("http://{}{p}", gw.admin);
    let (parts, body) = send(get(&admin("/healthz"))).await;
    assert_eq!((parts.status.as_u16(), &body[..]), (200, &b"ok\n"[..]));
    let (parts, _) = send(get(&admin("/readyz"))).await;
    assert_eq!(parts.status, 200);
    let (parts, _) = send(get(&admin("/nothing"))).await;
    assert_eq!(parts.status, 404);
    // On the public listener /metrics is just a path, routed to the backend.
    let (parts, body) = send(get(&gw.url("/metrics"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], br#"{"ok":true}"#);
}

#[tokio::test]
async fn readyz_turns_503_while_draining() {
    let good = scripted_backend().await;
    let mut gw = Gateway::start(&config(&good.to_string(), "127.0.0.1:1")).await;
    // An in-flight request keeps errgate draining.
    let url = gw.url("/slow/hang");
    let pending = tokio::spawn(async move { client().request(get(&url)).await });
    let admin = gw.admin;
    let s = scrape::until(admin, |s| {
        scrape::sum(s, "errgate_in_flight_requests", &[]) == 1.0
    })
    .await;
    assert_eq!(scrape::sum(&s, "errgate_in_flight_requests", &[]), 1.0);
    gw.begin_stop();
    let mut status = 0;
    for _ in 0..100 {
        status = send(get(&format!("http://{admin}/readyz")))
            .await
            .0
            .status
            .as_u16();
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, 503);
    let (parts, _) = send(get(&format!("http://{admin}/healthz"))).await;
    assert_eq!(parts.status, 200, "still alive while draining");
    let resp = pending.await.unwrap().unwrap();
    assert_eq!(resp.status(), 504);
}
