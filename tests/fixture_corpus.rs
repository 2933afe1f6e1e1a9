//! Every real error response in `tests/fixtures/errors/` (captured from Flask, FastAPI, Django,
//! Express, nginx, HAProxy… or faithful samples of documented formats) must become the envelope
//! its `case.toml` expects — both through `decide` and through a real listener.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use errgate::catalog::Catalog;
use errgate::decide::{self, Inspected};
use http::Request;
use support::*;
use tokio::io::AsyncWriteExt;

struct Fixture {
    name: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    raw: Vec<u8>,
    case: toml::Table,
}

impl Fixture {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    fn expect(&self, key: &str) -> Option<&toml::Value> {
        self.case.get("expect")?.get(key)
    }

    fn expect_str(&self, key: &str) -> Option<&str> {
        self.expect(key).and_then(toml::Value::as_str)
    }

    fn request(&self, key: &str) -> Option<&str> {
        self.case.get("request")?.get(key)?.as_str()
    }

    fn lang(&self) -> &str {
        self.request("accept_language").unwrap_or("en")
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.retain(|d| d.join("case.toml").exists());
    dirs.sort();
    dirs.iter().map(|d| load(d)).collect()
}

fn load(dir: &Path) -> Fixture {
    let raw = fs::read(dir.join("response.http")).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head ends");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let case: toml::Table = fs::read_to_string(dir.join("case.toml"))
        .unwrap()
        .parse()
        .unwrap();
    Fixture {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        status,
        headers,
        body: raw[split + 4..].to_vec(),
        raw,
        case,
    }
}

/// The message a fixture expects: its literal one, or the catalog's for its code.
fn expected_message(f: &Fixture, catalog: &Catalog) -> String {
    match f.expect_str("message") {
        Some(m) => m.to_string(),
        None => {
            let code = f.expect_str("error").unwrap();
            catalog
                .message(code, f.status, f.lang(), "en")
                .text
                .to_string()
        }
    }
}

fn route() -> errgate::config::Route {
    let cfg = errgate::config_file::from_toml_str(&config_for("127.0.0.1:1", "")).unwrap();
    cfg.routes[0].clone()
}

#[test]
fn every_fixture_is_decided_as_its_case_expects() {
    let catalog = Catalog::builtin();
    let cfg = errgate::config_file::from_toml_str(&config_for("127.0.0.1:1", "")).unwrap();
    let route = route();
    let all = fixtures();
    assert!(all.len() >= 40, "the corpus went missing");
    let mut failures = Vec::new();
    for f in &all {
        let insp = Inspected {
            status: f.status,
            content_type: f.header("content-type"),
            content_encoding: f.header("content-encoding"),
            body: &f.body[..f.body.len().min(cfg.errors.max_inspect_bytes)],
            complete: f.body.len() <= cfg.errors.max_inspect_bytes,
        };
        let lang = errgate::locale::negotiate(Some(f.lang().as_bytes()), &catalog, "en");
        let d = decide::decide(&insp, &route, &cfg.errors, &catalog, lang);
        let want = (
            f.expect_str("error").unwrap().to_string(),
            expected_message(f, &catalog),
            f.expect_str("format")
                .unwrap_or(d.format.as_str())
                .to_string(),
        );
        let got = (
            d.code.to_string(),
            d.message.to_string(),
            d.format.as_str().to_string(),
        );
        if want != got {
            failures.push(format!(
                "{}:\n  want {want:?}\n  got  {got:?} ({:?})",
                f.name, d.message_from
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// Serves the fixture named by the request's `x-fixture` header, byte for byte, then closes.
async fn replay_backend(all: Arc<HashMap<String, Vec<u8>>>) -> std::net::SocketAddr {
    let (addr, _) = raw_backend(move |mut s| {
        let all = all.clone();
        async move {
            let head = read_head(&mut s).await;
            let name = head
                .lines()
                .find_map(|l| l.strip_prefix("x-fixture: "))
                .unwrap_or_default()
                .to_string();
            if let Some(bytes) = all.get(&name) {
                let _ = s.write_all(bytes).await;
            }
        }
    })
    .await;
    addr
}

#[tokio::test]
async fn every_fixture_becomes_its_envelope_through_a_real_listener() {
    let all = fixtures();
    let bytes: HashMap<String, Vec<u8>> = all
        .iter()
        .map(|f| (f.name.clone(), f.raw.clone()))
        .collect();
    let backend = replay_backend(Arc::new(bytes)).await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let catalog = Catalog::builtin();
    let mut failures = Vec::new();
    for f in &all {
        let method = f.request("method").unwrap_or("GET");
        let method = if method == "HEAD" { "GET" } else { method };
        let req = Request::builder()
            .method(method)
            .uri(gw.url("/fixture"))
            .header("x-fixture", f.name.as_str())
            .header("accept-language", f.lang())
            .body(full(""))
            .unwrap();
        let (parts, body) = send(req).await;
        let (error, message) = envelope(&body);
        let want = (
            f.status,
            f.expect_str("error").unwrap().to_string(),
            expected_message(f, &catalog),
        );
        let got = (parts.status.as_u16(), error, message);
        if want != got {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", f.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
