//! The command line (DESIGN §6, §7), through the built binary: `check`, exit status 78 before
//! binding, environment overrides, `--version`, and a real start, request and SIGTERM drain.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use support::{full, hyper_backend, send};

const BIN: &str = env!("CARGO_BIN_EXE_errgate");
const UPSTREAM: &str = "[upstreams.trips]\nendpoints = [\"http://127.0.0.1:3001\"]\n";
const ROUTE: &str =
    "[[routes]]\nname = \"trips\"\npath_prefix = \"/api/trips\"\nupstream = \"trips\"\n";

/// The binary, run from the package root with no `ERRGATE_*` variables inherited.
fn errgate() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ERRGATE_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("errgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write temp config");
    path
}

fn check(path: &Path) -> Output {
    errgate()
        .args(["check", "--config"])
        .arg(path)
        .output()
        .expect("run errgate check")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit 78 and that stderr names every part.
fn assert_config_error(out: &Output, parts: &[&str]) {
    assert_eq!(out.status.code(), Some(78), "stderr: {}", stderr(out));
    let err = stderr(out);
    for part in parts {
        assert!(err.contains(part), "{part:?} not in stderr: {err}");
    }
}

#[test]
fn check_prints_ok_for_the_documented_config() {
    let out = check(Path::new("config/gateway.toml"));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn check_accepts_every_shipped_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("config/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = check(&path);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                stderr(&out)
            );
            assert_eq!(stdout(&out).trim(), "ok", "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 3, "only {seen} files in config/");
}

#[test]
fn check_without_config_uses_the_default_path() {
    let out = errgate().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn check_rejects_an_unknown_key_naming_file_key_and_reason() {
    let path = write_temp(
        "unknown_key",
        &format!("[listener]\nadress = \"0.0.0.0:1\"\n{UPSTREAM}{ROUTE}"),
    );
    let out = check(&path);
    let file = path.display().to_string();
    assert_config_error(&out, &[&file, "listener", "unknown field `adress`"]);
    assert!(!stdout(&out).contains("ok"), "stdout: {}", stdout(&out));
}

#[test]
fn check_rejects_a_bad_duration_naming_file_key_and_reason() {
    let path = write_temp(
        "bad_duration",
        &format!("[defaults]\ntimeout = \"25 parsecs\"\n{UPSTREAM}{ROUTE}"),
    );
    let out = check(&path);
    let file = path.display().to_string();
    assert_config_error(&out, &[&file, "defaults.timeout", "parsecs"]);
}

#[test]
fn check_rejects_an_unknown_upstream_naming_file_key_and_reason() {
    let text =
        format!("{UPSTREAM}[[routes]]\nname = \"t\"\npath_prefix = \"/t\"\nupstream = \"nope\"\n");
    let path = write_temp("unknown_upstream", &text);
    let out = check(&path);
    let file = path.display().to_string();
    assert_config_error(
        &out,
        &[&file, "routes[0].upstream", "unknown upstream", "nope"],
    );
}

#[test]
fn running_with_a_bad_config_exits_78_before_binding() {
    // We hold the configured port: an errgate that bound before validating would fail to
    // listen (exit 1, "cannot listen") instead of reporting the config error.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap();
    let text = format!(
        "[listener]\naddress = \"{addr}\"\n{UPSTREAM}[[routes]]\nname = \"t\"\npath_prefix = \"/t\"\nupstream = \"nope\"\n"
    );
    let path = write_temp("bad_run", &text);
    let out = errgate().arg("--config").arg(&path).output().unwrap();
    let file = path.display().to_string();
    assert_config_error(&out, &[&file, "unknown upstream"]);
    assert!(!stderr(&out).contains("cannot listen"), "{}", stderr(&out));
    drop(held);
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    let out = errgate()
        .args(["check", "--config", "config/minimal.toml"])
        .env("ERRGATE_LISTENER__ADDRESS", "not-an-address")
        .output()
        .unwrap();
    assert_config_error(&out, &["ERRGATE_LISTENER__ADDRESS", "not-an-address"]);
}

#[test]
fn version_prints_name_and_version() {
    let out = errgate().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("errgate {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn errgate_config_selects_the_file() {
    let bad = write_temp(
        "env_selected",
        &format!("[listener]\nbogus = 1\n{UPSTREAM}{ROUTE}"),
    );
    let out = errgate()
        .arg("check")
        .env("ERRGATE_CONFIG", &bad)
        .output()
        .unwrap();
    assert_config_error(&out, &[&bad.display().to_string(), "bogus"]);
    let out = errgate()
        .arg("check")
        .env("ERRGATE_CONFIG", "config/minimal.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

/// Kills (by PID) and reaps the child on every path out of the test.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Collects the child's stdout lines on a thread.
fn capture_lines(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().expect("stdout piped");
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

fn access_line(lines: &Mutex<Vec<String>>, id: &str) -> Option<serde_json::Value> {
    lines.lock().unwrap().iter().find_map(|line| {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        (v["request_id"] == id).then_some(v)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_logs_and_exits_0_on_sigterm() {
    let backend = hyper_backend(|_req| async { Response::new(full("from backend")) }).await;
    let text = format!(
        "[upstreams.up]\nendpoints = [\"http://{backend}\"]\n[[routes]]\nname = \"main\"\npath_prefix = \"/\"\nupstream = \"up\"\n"
    );
    let path = write_temp("serve", &text);
    let addr = free_addr();
    let admin = free_addr();
    let child = errgate()
        .arg("--config")
        .arg(&path)
        .env("ERRGATE_LISTENER__ADDRESS", addr.to_string())
        .env("ERRGATE_ADMIN__ADDRESS", admin.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn errgate");
    let mut guard = ChildGuard(child);
    let lines = capture_lines(&mut guard.0);

    let mut up = false;
    for _ in 0..200 {
        if let Ok(Some(status)) = guard.0.try_wait() {
            panic!("errgate exited early: {status}");
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "errgate never listened on {addr}");

    let req = Request::post(format!("http://{addr}/hello?token=secret-query"))
        .header("x-request-id", "cli-serve-test-1")
        .header("authorization", "Bearer secret-token")
        .header("cookie", "session=secret-cookie")
        .body(full("secret-body"))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&body[..], b"from backend");
    assert_eq!(parts.headers["x-request-id"], "cli-serve-test-1");

    let mut line = None;
    for _ in 0..100 {
        line = access_line(&lines, "cli-serve-test-1");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no access line in {:?}", lines.lock().unwrap()));
    assert_eq!(line["route"], "main", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(line["path"], "/hello", "{line}");
    assert_eq!(line["method"], "POST", "{line}");
    assert_eq!(line["client"], "127.0.0.1", "{line}");
    assert_eq!(line["upstream"], "up", "{line}");
    assert_eq!(line["endpoint"], format!("http://{backend}"), "{line}");
    assert_eq!(line["attempts"], 1, "{line}");
    assert_eq!(line["bytes_in"], 11, "{line}");
    assert_eq!(line["bytes_out"], 12, "{line}");
    for field in ["timestamp", "error", "format", "duration_ms"] {
        assert!(line.get(field).is_some(), "no {field} in {line}");
    }
    assert!(
        !line.to_string().contains("secret"),
        "sensitive data logged: {line}"
    );

    // The binary serves its admin endpoints on admin.address.
    let (parts, metrics) = send(support::get(&format!("http://{admin}/metrics"))).await;
    assert_eq!(parts.status, 200);
    let metrics = String::from_utf8_lossy(&metrics);
    let series = r#"errgate_requests_total{route="main",method="POST",status="200"} 1"#;
    assert!(metrics.contains(series), "{metrics}");

    let pid = guard.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = guard.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("errgate still running 10 s after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status}");
}
