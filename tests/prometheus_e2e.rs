//! End to end with a real Prometheus server (Debian's `prometheus` package; CI installs it):
//! it scrapes errgate's admin port every second, and its HTTP API must return the request count
//! and a `histogram_quantile` that match what errgate served.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http_body_util::BodyExt;
use support::scrape::{self, Sample};
use support::*;

const REQUESTS: usize = 40;

/// A Prometheus process, killed (by its PID) and its data removed on drop.
struct Prometheus {
    child: Child,
    dir: std::path::PathBuf,
    addr: SocketAddr,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn free_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

async fn start_prometheus(target: SocketAddr) -> Prometheus {
    let dir = std::env::temp_dir().join(format!("errgate-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: errgate\n    static_configs:\n      - targets: ['{target}']\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let addr = free_port().await;
    let bin = std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| "prometheus".into());
    let child = Command::new(bin)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus runs (CI installs Debian's prometheus package)");
    Prometheus { child, dir, addr }
}

/// One instant query; `None` until Prometheus has an answer.
async fn query(prom: SocketAddr, promql: &str) -> Option<f64> {
    let q: String = promql
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let url = format!("http://{prom}/api/v1/query?query={q}");
    let resp = client().request(get(&url)).await.ok()?;
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let value = json["data"]["result"].get(0)?["value"][1].as_str()?;
    value.parse().ok()
}

/// Polls `promql` until it returns `want` (bounded: about 60 s).
async fn eventually(prom: SocketAddr, promql: &str, want: impl Fn(f64) -> bool) -> f64 {
    let mut last = None;
    for _ in 0..240 {
        last = query(prom, promql).await;
        if last.is_some_and(&want) {
            return last.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{promql} never returned the expected value; last answer {last:?}");
}

/// The p50 that Prometheus's `histogram_quantile` computes, from errgate's own buckets.
fn expected_median(samples: &[Sample]) -> f64 {
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.name == "errgate_request_duration_seconds_bucket")
        .filter(|s| s.labels.get("route").map(String::as_str) == Some("r"))
        .map(|s| (s.labels["le"].parse::<f64>().unwrap(), s.value))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().unwrap().1;
    let rank = 0.5 * total;
    let mut prev = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= rank {
            return prev.0 + (le - prev.0) * (rank - prev.1) / (count - prev.1);
        }
        prev = (le, count);
    }
    unreachable!("+Inf bucket holds every sample")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_errgate() {
    // Every request takes at least 20 ms at the backend, so the quantile is not in the
    // first bucket and the interpolation is exercised.
    let backend = hyper_backend(|_req| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        json_response(200, r#"{"ok":true}"#)
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let prom = start_prometheus(gw.admin).await;
    for _ in 0..REQUESTS {
        let (parts, _) = send(get(&gw.url("/trip"))).await;
        assert_eq!(parts.status, 200);
    }
    let done = |s: &[Sample]| scrape::sum(s, "errgate_requests_total", &[]) == REQUESTS as f64;
    let samples = scrape::until(gw.admin, done).await;

    let total = r#"sum(errgate_requests_total{route="r",method="GET",status="200"})"#;
    let got = eventually(prom.addr, total, |v| v == REQUESTS as f64).await;
    assert_eq!(got, REQUESTS as f64);

    let p50 = r#"histogram_quantile(0.5, sum by (le) (errgate_request_duration_seconds_bucket{route="r"}))"#;
    let want = expected_median(&samples);
    let got = eventually(prom.addr, p50, |v| (v - want).abs() < 1e-9).await;
    assert!(got >= 0.01, "every request took over 20 ms, p50 {got}");
}
