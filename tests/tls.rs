//! HTTPS upstreams (DESIGN §5): a CA made at test time, trusted through `ca_file`; without it the
//! webpki roots refuse the upstream; a `ca_file` that holds no certificate is a config error.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use http::{Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use support::*;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the TLS upstream saw: path, HTTP version and fields of each request.
type Seen = Arc<Mutex<Vec<(String, Version, http::HeaderMap)>>>;

/// A throw-away CA and a server certificate it signed for `localhost` and `127.0.0.1`.
struct Pki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn pki(alpn: &[&[u8]]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "errgate-secret-test-ca");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .unwrap();
    server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// An HTTPS backend on 127.0.0.1:0 answering 200 with a fixed body; records each request.
async fn tls_backend(server: Arc<rustls::ServerConfig>) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let acceptor = TlsAcceptor::from(server);
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                // A client that rejects our certificate fails the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req: http::Request<_>| {
                    let log = log.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let fields = req.headers().clone();
                        log.lock().unwrap().push((path, req.version(), fields));
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .header("content-type", "text/plain")
                                .body(full("hello over tls \u{2713}"))
                                .unwrap(),
                        )
                    }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// A file in the temp dir, unique per test process and `name`.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("errgate-tls-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

fn https_config(endpoint: &str, ca_file: Option<&PathBuf>) -> String {
    let ca = ca_file
        .map(|p| format!("ca_file = {:?}", p.display().to_string()))
        .unwrap_or_default();
    format!(
        r#"
[errors]
default_locale = "en"

[defaults]
timeout = "5s"
try_timeout = "3s"

[upstreams.up]
endpoints = ["{endpoint}"]
connect_timeout = "2s"
{ca}

[[routes]]
name = "r"
path_prefix = "/"
upstream = "up"
"#
    )
}

async fn proxied_get_over(alpn: &[&[u8]], host: &str, tag: &str) -> Vec<(String, Version)> {
    let pki = pki(alpn);
    let (backend, seen) = tls_backend(pki.server.clone()).await;
    let ca = temp_file(&format!("{tag}-ca.pem"), &pki.ca_pem);
    let endpoint = format!("https://{host}:{}", backend.port());
    let gw = Gateway::start(&https_config(&endpoint, Some(&ca))).await;
    // A plain GET: errgate's own server reads it (its fields stay bytes) and hyper's client,
    // which speaks TLS, gets them as a map.
    let req = http::Request::get(gw.url("/over/tls?x=1"))
        .header("x-custom", "kept")
        .header("connection", "x-hop")
        .header("x-hop", "dropped")
        .header("x-forwarded-for", "1.1.1.1")
        .header("x-request-id", "tls-1")
        .body(full(""))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(&body[..], "hello over tls \u{2713}".as_bytes());
    assert_eq!(parts.headers["content-type"], "text/plain");
    gw.stop().await;
    let _ = std::fs::remove_file(ca);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        1,
        "the upstream saw exactly one request: {seen:?}"
    );
    assert_eq!(seen[0].0, "/over/tls");
    let fields = &seen[0].2;
    assert_eq!(fields["x-custom"], "kept");
    assert!(
        fields.get("x-hop").is_none(),
        "a field Connection names went upstream"
    );
    assert_eq!(fields["x-forwarded-for"], "1.1.1.1, 127.0.0.1");
    assert_eq!(fields["x-request-id"], "tls-1");
    assert!(fields.get("x-forwarded-host").is_some());
    seen.into_iter()
        .map(|(path, version, _)| (path, version))
        .collect()
}

#[tokio::test]
async fn https_upstream_trusted_through_ca_file_is_proxied_over_http1() {
    let seen = proxied_get_over(&[b"http/1.1"], "localhost", "h1").await;
    assert_eq!(seen[0].1, Version::HTTP_11);
}

#[tokio::test]
async fn https_upstream_by_ip_address_matches_the_ip_san() {
    proxied_get_over(&[b"http/1.1"], "127.0.0.1", "ip").await;
}

#[tokio::test]
async fn https_upstream_offering_h2_is_spoken_to_in_h2() {
    let seen = proxied_get_over(&[b"h2", b"http/1.1"], "localhost", "h2").await;
    assert_eq!(
        seen[0].1,
        Version::HTTP_2,
        "ALPN h2 was offered by both ends"
    );
}

#[tokio::test]
async fn without_ca_file_the_private_ca_is_refused_with_502_tls_error() {
    let pki = pki(&[b"http/1.1"]);
    let (backend, seen) = tls_backend(pki.server.clone()).await;
    let endpoint = format!("https://localhost:{}", backend.port());
    let gw = Gateway::start(&https_config(&endpoint, None)).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 502);
    assert_eq!(
        parts.headers["content-type"],
        "application/json; charset=utf-8"
    );
    let (error, message) = envelope(&body);
    assert_eq!(error, "UPSTREAM_UNAVAILABLE");
    let status = parts.headers["proxy-status"].to_str().unwrap();
    assert!(
        status.starts_with("errgate; error=tls_"),
        "Proxy-Status names a TLS error: {status}"
    );
    let lower = message.to_lowercase();
    for leak in [
        "certificate",
        "cert",
        "issuer",
        "errgate-secret-test-ca",
        "localhost",
        "rustls",
        "webpki",
        &backend.port().to_string(),
    ] {
        assert!(!lower.contains(leak), "leaks {leak:?}: {lower}");
    }
    assert!(seen.lock().unwrap().is_empty(), "no request got through");
    gw.stop().await;
}

/// Runs `errgate check --config F` on an upstream whose `ca_file` holds `contents`.
fn check_with_ca_contents(tag: &str, contents: &str) -> (Option<i32>, String) {
    let ca = temp_file(&format!("{tag}-bad.pem"), contents);
    let config = temp_file(
        &format!("{tag}-gateway.toml"),
        &https_config("https://localhost:1", Some(&ca)),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_errgate"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("errgate runs");
    let _ = std::fs::remove_file(ca);
    let _ = std::fs::remove_file(config);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn check_accepts_a_real_ca_file() {
    let (code, text) = check_with_ca_contents("good", &pki(&[]).ca_pem);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok"), "{text}");
}

#[test]
fn check_rejects_a_ca_file_that_is_not_a_certificate_with_78() {
    let key_only = KeyPair::generate().unwrap().serialize_pem();
    let cases = [
        ("text", "this is not a certificate\n".to_string()),
        ("empty", String::new()),
        ("keyonly", key_only),
        (
            "badder",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
        ),
        (
            "badb64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_string(),
        ),
    ];
    for (tag, contents) in cases {
        let (code, text) = check_with_ca_contents(tag, &contents);
        assert_eq!(code, Some(78), "{tag}: {text}");
        assert!(text.contains("ca_file"), "{tag}: names the key: {text}");
        assert!(!text.contains("ok\n"), "{tag}: {text}");
    }
}
