//! The access line's exact bytes, in both formats.

use std::time::{Duration, SystemTime};

use http::{HeaderValue, Method, Uri};

use super::AccessLog;
use crate::logging::LogFormat;

/// 2026-11-23T05:10:59.446150Z
fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(1_795_410_659, 446_150_123)
}

fn line(log: &AccessLog, format: LogFormat, micros: u64) -> String {
    let mut bytes = b"earlier line\n".to_vec();
    log.write_line(
        &mut bytes,
        format,
        at(),
        Duration::from_nanos(micros * 1000 + 321),
    );
    let line = bytes
        .strip_prefix(b"earlier line\n")
        .expect("appended after what was there");
    String::from_utf8(line.to_vec()).unwrap()
}

fn plain() -> AccessLog {
    let uri: Uri = "/small/a?token=secret".parse().unwrap();
    let client = "127.0.0.1:40000".parse().unwrap();
    let id = HeaderValue::from_static("b5c3e1f0-7d4a-4c1e-9a3b-2f6d8e0a1c47");
    let mut log = AccessLog::new(id, client, Method::GET, &uri);
    log.route = Some("small".into());
    log.upstream = Some("origin".into());
    log.endpoint = Some("http://127.0.0.1:18080".into());
    log.status = 200;
    log.attempts = 1;
    log.bytes_out = 100;
    log
}

fn eventful() -> AccessLog {
    let uri: Uri = "/a%22b/caf%C3%A9/\"x\"".parse().unwrap();
    let client = "[2001:db8::1]:443".parse().unwrap();
    let id = HeaderValue::from_bytes(b"id \"q\" \\ \xff end").unwrap();
    let mut log = AccessLog::new(id, client, Method::from_bytes(b"PURGE").unwrap(), &uri);
    log.route = Some("r\u{7f}\u{e9}\u{1f600}".into());
    log.status = 502;
    log.error_owned = Some("tab\there\nline\r\u{1}\u{1f}\u{300}'".into());
    log.error_detail = Some("try_timeout");
    log.format = Some("json");
    log.attempts = 3;
    log.retries = vec!["503", "reset"];
    log.retry_refused = Some("budget");
    log.bytes_in = 12_345_678_901;
    log.bytes_out = u64::MAX;
    log.aborted = true;
    log
}

#[test]
fn json_line_is_exact() {
    let want = concat!(
        "{\"timestamp\":\"2026-11-23T05:10:59.446150Z\"",
        ",\"level\":\"INFO\"",
        ",\"target\":\"access\"",
        ",\"request_id\":\"b5c3e1f0-7d4a-4c1e-9a3b-2f6d8e0a1c47\"",
        ",\"client\":\"127.0.0.1\"",
        ",\"method\":\"GET\"",
        ",\"path\":\"/small/a\"",
        ",\"route\":\"small\"",
        ",\"upstream\":\"origin\"",
        ",\"endpoint\":\"http://127.0.0.1:18080\"",
        ",\"status\":200",
        ",\"error\":\"\"",
        ",\"error_detail\":\"\"",
        ",\"format\":\"\"",
        ",\"attempts\":1",
        ",\"retries\":\"\"",
        ",\"retry_refused\":\"\"",
        ",\"bytes_in\":0",
        ",\"bytes_out\":100",
        ",\"aborted\":false",
        ",\"duration_ms\":12.345}\n",
    );
    let out = line(&plain(), LogFormat::Json, 12_345);
    assert_eq!(out, want);
}

#[test]
fn text_line_is_exact() {
    let want = concat!(
        "2026-11-23T05:10:59.446150Z  INFO access:",
        " request_id=\"b5c3e1f0-7d4a-4c1e-9a3b-2f6d8e0a1c47\"",
        " client=\"127.0.0.1\"",
        " method=\"GET\"",
        " path=\"/small/a\"",
        " route=\"small\"",
        " upstream=\"origin\"",
        " endpoint=\"http://127.0.0.1:18080\"",
        " status=200",
        " error=\"\"",
        " error_detail=\"\"",
        " format=\"\"",
        " attempts=1",
        " retries=",
        " retry_refused=\"\"",
        " bytes_in=0",
        " bytes_out=100",
        " aborted=false",
        " duration_ms=12.345\n",
    );
    let out = line(&plain(), LogFormat::Text, 12_345);
    assert_eq!(out, want);
}

#[test]
fn eventful_json_line_is_exact() {
    let want = concat!(
        "{\"timestamp\":\"2026-11-23T05:10:59.446150Z\"",
        ",\"level\":\"INFO\"",
        ",\"target\":\"access\"",
        ",\"request_id\":\"id \\\"q\\\" \\\\ \u{fffd} end\"",
        ",\"client\":\"2001:db8::1\"",
        ",\"method\":\"PURGE\"",
        ",\"path\":\"/a%22b/caf%C3%A9/\\\"x\\\"\"",
        ",\"route\":\"r\u{7f}\u{e9}\u{1f600}\"",
        ",\"upstream\":\"\"",
        ",\"endpoint\":\"\"",
        ",\"status\":502",
        ",\"error\":\"tab\\there\\nline\\r\\u0001\\u001f\u{300}'\"",
        ",\"error_detail\":\"try_timeout\"",
        ",\"format\":\"json\"",
        ",\"attempts\":3",
        ",\"retries\":\"503,reset\"",
        ",\"retry_refused\":\"budget\"",
        ",\"bytes_in\":12345678901",
        ",\"bytes_out\":18446744073709551615",
        ",\"aborted\":true",
        ",\"duration_ms\":1}\n",
    );
    let out = line(&eventful(), LogFormat::Json, 1_000);
    assert_eq!(out, want);
}

#[test]
fn eventful_text_line_is_exact() {
    let want = concat!(
        "2026-11-23T05:10:59.446150Z  INFO access:",
        " request_id=\"id \\\"q\\\" \\\\ \u{fffd} end\"",
        " client=\"2001:db8::1\"",
        " method=\"PURGE\"",
        " path=\"/a%22b/caf%C3%A9/\\\"x\\\"\"",
        " route=\"r\\u{7f}\u{e9}\u{1f600}\"",
        " upstream=\"\"",
        " endpoint=\"\"",
        " status=502",
        " error=\"tab\\there\\nline\\r\\u{1}\\u{1f}\\u{300}'\"",
        " error_detail=\"try_timeout\"",
        " format=\"json\"",
        " attempts=3",
        " retries=503,reset",
        " retry_refused=\"budget\"",
        " bytes_in=12345678901",
        " bytes_out=18446744073709551615",
        " aborted=true",
        " duration_ms=1\n",
    );
    let out = line(&eventful(), LogFormat::Text, 1_000);
    assert_eq!(out, want);
}

#[test]
fn long_paths_are_cut_at_512_characters() {
    let path = format!("/{}", "%C3%A9".repeat(100) + &"x".repeat(600));
    let uri: Uri = path.parse().unwrap();
    let mut log = plain();
    log.uri = uri;
    let out = line(&log, LogFormat::Json, 0);
    let cut = &path[..512];
    assert!(
        out.contains(&format!(",\"path\":\"{cut}\",\"route\"")),
        "{out}"
    );
    assert!(out.ends_with(",\"duration_ms\":0}\n"), "{out}");
}
