//! Reading errgate's `/metrics`: fetch, parse the text format, sum matching series.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::BodyExt;

/// One parsed sample: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The whole exposition text from the admin listener.
pub async fn text(admin: SocketAddr) -> String {
    let url = format!("http://{admin}/metrics");
    let resp = super::client()
        .request(super::get(&url))
        .await
        .expect("admin answers");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).expect("utf-8 exposition")
}

pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("sample line");
    let value: f64 = value.parse().expect("numeric value");
    let (name, labels) = match series.split_once('{') {
        None => (series.to_string(), BTreeMap::new()),
        Some((name, rest)) => (name.to_string(), parse_labels(rest.trim_end_matches('}'))),
    };
    Sample {
        name,
        labels,
        value,
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    // Label values here never contain `",` (names and codes are plain).
    text.split("\",")
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once("=\"").expect("label pair");
            (k.to_string(), v.trim_end_matches('"').to_string())
        })
        .collect()
}

/// Sum of the samples of `name` whose labels include all of `want`.
pub fn sum(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
        })
        .map(|s| s.value)
        .sum()
}

/// Scrapes until `ready` holds (metrics are recorded when a response body ends, a moment
/// after the client has read it); panics after a bounded number of tries.
pub async fn until(admin: SocketAddr, ready: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    for _ in 0..200 {
        let samples = parse(&text(admin).await);
        if ready(&samples) {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "metrics never reached the expected state:\n{}",
        text(admin).await
    );
}
