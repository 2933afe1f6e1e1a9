//! `errgate demo`: the gateway on `config/demo.toml` in front of a built-in sample backend that
//! fails the way real backends do, plus `curl` lines to see each failure become an envelope.

use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::config::Config;

pub const DEFAULT_CONFIG: &str = "config/demo.toml";
/// The upstream in the demo config that the sample backend serves.
const DEMO_UPSTREAM: &str = "demo";

/// (path, what the backend does, what the client gets) — printed as the demo's menu.
const CASES: &[(&str, &str)] = &[
    ("/api/trips/1", "a normal 200, streamed through"),
    (
        "/api/trips/nodrivers",
        "a 200 whose body says success:false: passed through untouched",
    ),
    ("/api/trips/999", "Spring Boot JSON 404"),
    ("/api/login", "OAuth 2 invalid_grant 401"),
    ("/api/trips/validation", "FastAPI 422 validation list"),
    ("/api/trips/crash", "500 HTML page with a stack trace"),
    (
        "/api/trips/slow",
        "never answers: 504 UPSTREAM_TIMEOUT after the 3 s deadline",
    ),
    ("/api/trips/reset", "closes the connection: 502 BAD_GATEWAY"),
    ("/api/trips/garbage", "answers garbage: 502 BAD_GATEWAY"),
    (
        "/api/trips/cut",
        "dies mid-body: the client sees a truncated transfer",
    ),
    (
        "/api/payments/1",
        "nothing listens there: 502 UPSTREAM_UNAVAILABLE",
    ),
    ("/nowhere", "no route: 404 ROUTE_NOT_FOUND"),
];

pub async fn run(config: Config, path: std::path::PathBuf) -> ExitCode {
    let Some(backend_addr) = backend_address(&config) else {
        eprintln!("errgate demo: the config has no upstream named {DEMO_UPSTREAM:?}");
        return ExitCode::from(crate::cli::EXIT_CONFIG);
    };
    let backend = match TcpListener::bind(&backend_addr).await {
        Ok(l) => l,
        Err(err) => {
            eprintln!("errgate demo: cannot start the sample backend on {backend_addr}: {err}");
            return ExitCode::from(crate::cli::EXIT_START);
        }
    };
    tokio::spawn(serve_backend(backend));
    let listeners = match crate::cli::bind(&config).await {
        Ok(listeners) => listeners,
        Err(code) => return code,
    };
    print_menu(&listeners.public, config.admin.address);
    crate::cli::run_gateway(config, path, listeners, Default::default()).await
}

fn backend_address(config: &Config) -> Option<String> {
    let upstream = config.upstreams.get(DEMO_UPSTREAM)?;
    Some(upstream.endpoints.first()?.authority.to_string())
}

fn print_menu(public: &TcpListener, admin: std::net::SocketAddr) {
    let addr = public
        .local_addr()
        .map_or_else(|_| "127.0.0.1:8080".to_string(), |a| a.to_string());
    println!("errgate demo: gateway on http://{addr}, sample backend behind it. Try:\n");
    for (path, what) in CASES {
        println!("  # {what}");
        println!("  curl -si -H 'Accept-Language: es' http://{addr}{path}\n");
    }
    println!("  # Prometheus metrics, liveness and readiness (admin listener)");
    println!("  curl -s http://{admin}/metrics | grep '^errgate_requests_total'");
    println!("  curl -si http://{admin}/readyz\n");
    println!("Ctrl-C stops the demo.");
}

async fn serve_backend(listener: TcpListener) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(backend_connection(stream));
        }
    }
}

/// Reads request heads on one keep-alive connection and answers each by its path.
async fn backend_connection(mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let Some(path) = read_request_path(&mut stream, &mut buf).await else {
            return;
        };
        if !answer(&mut stream, &path).await {
            return;
        }
    }
}

async fn read_request_path(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            return head.split(' ').nth(1).map(str::to_string);
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Writes the scripted answer; false when the connection must end.
async fn answer(stream: &mut TcpStream, path: &str) -> bool {
    let (status, ctype, body): (&str, &str, String) = match path.trim_start_matches("/api") {
        "/trips/1" => ("200 OK", "application/json", r#"{"id":1,"driver":"Ana","status":"on_the_way"}"#.into()),
        "/trips/nodrivers" => ("200 OK", "application/json", r#"{"success":false,"message":"No hay conductores disponibles","error":"NO_DRIVERS"}"#.into()),
        "/trips/999" => ("404 Not Found", "application/json", r#"{"timestamp":"2026-11-23T10:00:00.000+00:00","status":404,"error":"Not Found","message":"Trip 999 does not exist","path":"/api/trips/999"}"#.into()),
        "/login" => ("401 Unauthorized", "application/json", r#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#.into()),
        "/trips/validation" => ("422 Unprocessable Entity", "application/json", r#"{"detail":[{"loc":["body","email"],"msg":"field required","type":"value_error.missing"}]}"#.into()),
        "/trips/crash" => ("500 Internal Server Error", "text/html", "<html><body><h1>Server Error</h1><pre>Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in trip\n    raise KeyError('driver')\nKeyError: 'driver'</pre></body></html>".into()),
        "/trips/slow" => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            return false;
        }
        "/trips/reset" => return false,
        "/trips/garbage" => {
            let _ = stream.write_all(b"THIS IS NOT HTTP\r\n\r\n").await;
            return false;
        }
        "/trips/cut" => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&[b'x'; 1000]).await;
            return false;
        }
        _ => ("404 Not Found", "text/html", "<html><body><h1>Not Found</h1></body></html>".into()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.is_ok()
        && stream.write_all(body.as_bytes()).await.is_ok()
}
