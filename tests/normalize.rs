//! Upstream 4xx/5xx become the envelope through a real listener (DESIGN §1): encodings,
//! chunking, size caps, stalls, HEAD, kept headers, per-route mappings and opt-out.

mod support;

use std::io::Write;
use std::time::Duration;

use http::{Request, Response};
use support::*;
use tokio::io::AsyncWriteExt;

fn with_status(status: u16, ctype: &str, body: impl Into<bytes::Bytes>) -> Response<BoxBody> {
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(full(body))
        .unwrap()
}

async fn gateway_for(
    status: u16,
    ctype: &'static str,
    body: &'static [u8],
    route: &str,
) -> Gateway {
    let backend = hyper_backend(move |_req| async move { with_status(status, ctype, body) }).await;
    Gateway::start(&config_for(&backend.to_string(), route)).await
}

#[tokio::test]
async fn a_json_error_keeps_status_message_and_code() {
    let body = br#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#;
    let gw = gateway_for(401, "application/json", body, "").await;
    let (parts, body) = send(get(&gw.url("/login"))).await;
    assert_eq!(parts.status, 401);
    assert_eq!(
        parts.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        parts.headers["content-length"],
        body.len().to_string().as_str()
    );
    assert!(
        parts.headers.get("content-language").is_none(),
        "upstream text is not ours to label"
    );
    assert_eq!(
        envelope(&body),
        ("INVALID_GRANT".into(), "Invalid user credentials".into())
    );
}

#[tokio::test]
async fn success_bodies_pass_through_untouched_even_when_they_say_failure() {
    let body = br#"{"success":false,"message":"No drivers","error":"NO_DRIVERS"}"#;
    let gw = gateway_for(200, "application/json", body, "").await;
    let (parts, got) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 200);
    assert_eq!(&got[..], &body[..]);
    assert_eq!(parts.headers["content-type"], "application/json");
}

#[tokio::test]
async fn html_5xx_gets_the_catalog_message_in_the_clients_language() {
    let page = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx/1.22.1</body></html>";
    let gw = gateway_for(502, "text/html", page, "").await;
    let req = Request::get(gw.url("/x"))
        .header("accept-language", "es-MX,es;q=0.9")
        .body(full(""))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 502);
    assert_eq!(parts.headers["content-language"], "es");
    let (code, message) = envelope(&body);
    assert_eq!(code, "BAD_GATEWAY");
    assert!(!message.contains("nginx"));
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(br#"{"detail":"Trip already started"}"#)
        .unwrap();
    let gz = enc.finish().unwrap();
    let backend = hyper_backend(move |_req| {
        let gz = gz.clone();
        async move {
            let mut r = with_status(409, "application/json", gz);
            r.headers_mut()
                .insert("content-encoding", "gzip".parse().unwrap());
            r
        }
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert!(parts.headers.get("content-encoding").is_none());
    assert_eq!(
        envelope(&body),
        ("CONFLICT".into(), "Trip already started".into())
    );
}

#[tokio::test]
async fn a_chunk_boundary_inside_a_utf8_character_is_harmless() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let body = r#"{"message":"El correo ya está registrado"}"#.as_bytes();
        let split = body.iter().position(|&b| b == 0xc3).unwrap() + 1; // between the bytes of 'á'
        let head = "HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        for part in [&body[..split], &body[split..]] {
            let _ = s.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await;
            let _ = s.write_all(part).await;
            let _ = s.write_all(b"\r\n").await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (_, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(envelope(&body).1, "El correo ya está registrado");
}

#[tokio::test]
async fn a_huge_error_body_is_capped_and_gets_the_catalog_message() {
    let dump: &'static [u8] = Box::leak(vec![b'x'; 5 * 1024 * 1024].into_boxed_slice());
    let gw = gateway_for(400, "text/plain", dump, "").await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 400);
    assert!(body.len() < 400);
    assert_eq!(envelope(&body).0, "BAD_REQUEST");
}

#[tokio::test]
async fn empty_and_broken_bodies_get_the_catalog_message() {
    for (body, code) in [
        (&b""[..], "NOT_FOUND"),
        (&b"{\"message\": \"unterminated"[..], "NOT_FOUND"),
    ] {
        let gw = gateway_for(404, "application/json", body, "").await;
        let (parts, got) = send(get(&gw.url("/x"))).await;
        assert_eq!(parts.status, 404);
        assert_eq!(envelope(&got).0, code);
    }
}

#[tokio::test]
async fn a_stalled_error_body_keeps_the_status_with_the_catalog_message() {
    let (backend, _) = raw_backend(|mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nMaintenance";
        let _ = s.write_all(head.as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "timeout = \"500ms\"")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 503);
    assert_eq!(envelope(&body).0, "SERVICE_UNAVAILABLE");
}

#[tokio::test]
async fn head_gets_envelope_headers_only() {
    let gw = gateway_for(404, "application/json", b"", "").await;
    let req = Request::head(gw.url("/x")).body(full("")).unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.status, 404);
    assert!(body.is_empty());
    assert_eq!(
        parts.headers["content-type"],
        "application/json; charset=utf-8"
    );
    // The length the GET's envelope has, not 0 and not the upstream's.
    let (_, envelope_body) = send(get(&gw.url("/x"))).await;
    assert!(!envelope_body.is_empty());
    let length = envelope_body.len().to_string();
    assert_eq!(parts.headers["content-length"], length.as_str());
}

#[tokio::test]
async fn meaningful_upstream_headers_are_kept_and_body_headers_dropped() {
    let backend = hyper_backend(|_req| async {
        Response::builder()
            .status(429)
            .header("content-type", "text/html")
            .header("retry-after", "7")
            .header("www-authenticate", "Bearer")
            .header("set-cookie", "a=b")
            .header("access-control-allow-origin", "*")
            .header("etag", "\"v1\"")
            .header("content-md5", "abc")
            .body(full("<p>slow down</p>"))
            .unwrap()
    })
    .await;
    let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    for kept in [
        "retry-after",
        "www-authenticate",
        "set-cookie",
        "access-control-allow-origin",
    ] {
        assert!(parts.headers.contains_key(kept), "{kept} dropped");
    }
    assert!(parts.headers.get("etag").is_none());
    assert!(parts.headers.get("content-md5").is_none());
    assert_eq!(envelope(&body).0, "TOO_MANY_REQUESTS");
}

#[tokio::test]
async fn route_mappings_override_code_and_message() {
    let route = "[[routes.errors]]\nstatus = 404\nerror = \"TRIP_NOT_FOUND\"\nmessage = { es = \"Viaje no encontrado\", en = \"Trip not found\" }";
    let gw = gateway_for(404, "text/html", b"<h1>Not Found</h1>", route).await;
    let req = Request::get(gw.url("/x"))
        .header("accept-language", "es")
        .body(full(""))
        .unwrap();
    let (parts, body) = send(req).await;
    assert_eq!(parts.headers["content-language"], "es");
    assert_eq!(
        envelope(&body),
        ("TRIP_NOT_FOUND".into(), "Viaje no encontrado".into())
    );
}

#[tokio::test]
async fn normalize_false_passes_errors_through() {
    let gw = gateway_for(500, "text/html", b"<h1>oops</h1>", "normalize = false").await;
    let (parts, body) = send(get(&gw.url("/x"))).await;
    assert_eq!(parts.status, 500);
    assert_eq!(&body[..], b"<h1>oops</h1>");
}

#[tokio::test]
async fn a_leaking_4xx_message_is_replaced() {
    let body = br#"{"message":"java.lang.NullPointerException at com.acme.TripService.find(TripService.java:42)"}"#;
    let gw = gateway_for(400, "application/json", body, "").await;
    let (_, got) = send(get(&gw.url("/x"))).await;
    let (code, message) = envelope(&got);
    assert_eq!(code, "BAD_REQUEST");
    assert!(!message.contains("java"), "{message}");
}
