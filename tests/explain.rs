//! `errgate explain` prints the envelope, the recognised format, the reasons, and the retry answer.

use std::process::Command;

fn explain(args: &[&str], body: &[u8]) -> (i32, String, String) {
    let path = std::env::temp_dir().join(format!(
        "errgate-explain-{}-{}.body",
        std::process::id(),
        args.len()
    ));
    std::fs::write(&path, body).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_errgate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["explain", "--config", "config/gateway.toml", "--body-file"])
        .arg(&path)
        .args(args)
        .env_remove("ERRGATE_CONFIG")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn explains_an_upstream_json_error() {
    let body = br#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#;
    let args = [
        "--route",
        "trips",
        "--status",
        "401",
        "--header",
        "Content-Type: application/json",
    ];
    let (code, out, err) = explain(&args, body);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("format:   oauth2"), "{out}");
    assert!(
        out.contains("code:     INVALID_GRANT (the upstream's own code)"),
        "{out}"
    );
    assert!(out.contains(r#"envelope: {"success":false,"message":"Invalid user credentials","error":"INVALID_GRANT"}"#), "{out}");
    assert!(out.contains("retry:    no"), "{out}");
}

#[test]
fn explains_a_catalog_message_and_the_retry_policy() {
    let args = [
        "--route",
        "trips",
        "--status",
        "503",
        "--header",
        "content-type: text/html",
        "--accept-language",
        "es",
    ];
    let (code, out, _) = explain(&args, b"<h1>Service Unavailable</h1>");
    assert_eq!(code, 0);
    assert!(out.contains("format:   html"), "{out}");
    assert!(out.contains("errgate's catalog"), "{out}");
    assert!(out.contains("language: es"), "{out}");
    assert!(out.contains("retry:    yes: GET is idempotent"), "{out}");
}

#[test]
fn an_unknown_route_exits_78() {
    let (code, _, err) = explain(&["--route", "nope", "--status", "404"], b"");
    assert_eq!(code, 78);
    assert!(err.contains("no route \"nope\""), "{err}");
}
