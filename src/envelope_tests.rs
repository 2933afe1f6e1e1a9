//! Unit tests for [`crate::envelope`], kept apart so the module itself stays short.

use super::*;
use serde_json::Value;

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("invalid JSON {e}: {body:?}"))
}

fn header<'r>(response: &'r Response<Bytes>, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn exact_bytes_and_key_order() {
    let body = body("NOT_FOUND", "Recurso no encontrado");
    let expected = r#"{"success":false,"message":"Recurso no encontrado","error":"NOT_FOUND"}"#;
    assert_eq!(body, expected.as_bytes());
}

#[test]
fn escaping_round_trips() {
    let nasty =
        "say \"hi\" \\ path\nnew\tline\r\u{0}\u{1}\u{1f}\u{7f} ñ€😀 \u{2028}\u{2029} </script>";
    let body = body("E", nasty);
    let value = parse(&body);
    assert_eq!(value["message"], nasty);
    assert_eq!(value["success"], false);
    assert_eq!(value["error"], "E");
    assert!(
        body.iter().all(|b| *b >= b' '),
        "raw control byte in {body:?}"
    );
    let text = std::str::from_utf8(&body).unwrap_or_default();
    assert!(text.contains("ñ€😀"), "non-ASCII must stay UTF-8: {text}");
    assert!(text.contains(r"\u0001") && text.contains(r"\u2028"));
}

#[test]
fn short_messages_are_borrowed() {
    assert!(matches!(truncate_message("ok"), Cow::Borrowed("ok")));
    let exact = "é".repeat(MAX_MESSAGE_CHARS);
    assert!(matches!(truncate_message(&exact), Cow::Borrowed(_)));
}

#[test]
fn cuts_at_a_word_boundary() {
    let msg = "word, ".repeat(100);
    let cut = truncate_message(&msg);
    assert!(cut.chars().count() <= MAX_MESSAGE_CHARS);
    let kept = cut
        .strip_suffix(ELLIPSIS)
        .unwrap_or_else(|| panic!("no ellipsis: {cut}"));
    assert!(kept.ends_with("word"), "{kept}");
    assert!(msg.starts_with(kept));
    assert!(kept.chars().count() >= MIN_WORD_CUT_CHARS);
}

#[test]
fn cuts_exactly_before_a_space() {
    let msg = format!(
        "{} tail that does not fit",
        "x".repeat(MAX_MESSAGE_CHARS - 1)
    );
    let cut = truncate_message(&msg);
    assert_eq!(cut, format!("{}…", "x".repeat(MAX_MESSAGE_CHARS - 1)));
}

#[test]
fn one_long_word_is_cut_hard() {
    let word = "a".repeat(400);
    let cut = truncate_message(&word);
    assert_eq!(cut, format!("{}…", "a".repeat(MAX_MESSAGE_CHARS - 1)));
    let late = format!("short {}", "b".repeat(400));
    assert_eq!(truncate_message(&late).chars().count(), MAX_MESSAGE_CHARS);
}

#[test]
fn limit_counts_characters_not_bytes() {
    let spanish = "Ñandú acción canción ".repeat(30);
    let cut = truncate_message(&spanish);
    assert!(
        cut.chars().count() <= MAX_MESSAGE_CHARS && cut.ends_with("…"),
        "{cut}"
    );
    assert!(
        cut.len() > MAX_MESSAGE_CHARS,
        "multibyte text keeps more than 300 bytes"
    );
    let emoji = "😀".repeat(500);
    let emoji = truncate_message(&emoji);
    assert_eq!(emoji.chars().count(), MAX_MESSAGE_CHARS);
}

#[test]
fn body_enforces_the_limit() {
    let value = parse(&body("E", &"palabra ".repeat(100)));
    let message = value["message"].as_str().unwrap_or_default();
    assert!(message.chars().count() <= MAX_MESSAGE_CHARS && message.ends_with('…'));
}

#[test]
fn response_headers() {
    let opts = EnvelopeOpts {
        content_language: Some("es"),
        proxy_status: Some("connection_timeout"),
        proxy_details: None,
        head: false,
    };
    let r = response(
        StatusCode::GATEWAY_TIMEOUT,
        "UPSTREAM_TIMEOUT",
        "Tiempo de espera agotado",
        &opts,
    );
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        header(&r, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        header(&r, "content-length"),
        Some(r.body().len().to_string().as_str())
    );
    assert_eq!(header(&r, "content-language"), Some("es"));
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert_eq!(
        header(&r, "proxy-status"),
        Some("errgate; error=connection_timeout")
    );
    assert_eq!(parse(r.body())["message"], "Tiempo de espera agotado");
}

#[test]
fn optional_headers_are_omitted() {
    let r = response(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "gone",
        &EnvelopeOpts::default(),
    );
    assert_eq!(header(&r, "content-language"), None);
    assert_eq!(header(&r, "proxy-status"), None);
    let forged = EnvelopeOpts {
        proxy_status: Some("x; details=\"y\""),
        proxy_details: None,
        ..EnvelopeOpts::default()
    };
    let r = response(StatusCode::BAD_GATEWAY, "BAD_GATEWAY", "x", &forged);
    assert_eq!(header(&r, "proxy-status"), None);
}

#[test]
fn head_keeps_the_full_content_length() {
    let get = response(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Recurso no encontrado",
        &EnvelopeOpts::default(),
    );
    let opts = EnvelopeOpts {
        head: true,
        ..EnvelopeOpts::default()
    };
    let head = response(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Recurso no encontrado",
        &opts,
    );
    assert!(head.body().is_empty());
    assert_eq!(
        header(&head, "content-length"),
        Some(get.body().len().to_string().as_str())
    );
    assert_eq!(head.headers(), get.headers());
}

#[test]
fn own_failures_follow_the_contract_table() {
    use OwnFailure as F;
    let table = [
        (F::RouteNotFound, 404, "ROUTE_NOT_FOUND"),
        (F::UpstreamRefused, 502, "UPSTREAM_UNAVAILABLE"),
        (F::UpstreamUnreachable, 502, "UPSTREAM_UNAVAILABLE"),
        (F::UpstreamDnsError, 502, "UPSTREAM_UNAVAILABLE"),
        (F::UpstreamTlsError, 502, "UPSTREAM_UNAVAILABLE"),
        (F::ConnectTimeout, 502, "UPSTREAM_UNAVAILABLE"),
        (F::UpstreamReset, 502, "BAD_GATEWAY"),
        (F::UpstreamIncompleteHead, 502, "BAD_GATEWAY"),
        (F::UpstreamProtocolError, 502, "BAD_GATEWAY"),
        (F::UpstreamTimeout, 504, "UPSTREAM_TIMEOUT"),
        (F::NoHealthyEndpoint, 503, "UPSTREAM_UNAVAILABLE"),
        (F::Overloaded, 503, "OVERLOADED"),
        (F::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
        (F::BadRequest, 400, "BAD_REQUEST"),
        (F::RequestHeadTimeout, 408, "REQUEST_TIMEOUT"),
    ];
    assert_eq!(table.len(), OwnFailure::ALL.len());
    for (failure, status, code) in table {
        assert_eq!(
            (failure.status().as_u16(), failure.code()),
            (status, code),
            "{failure:?}"
        );
    }
}

#[test]
fn own_failures_use_registered_proxy_status_types() {
    // RFC 9209 §2.3, the subset errgate can produce.
    let registered = [
        "dns_error",
        "destination_not_found",
        "destination_unavailable",
        "destination_ip_unroutable",
        "connection_refused",
        "connection_terminated",
        "connection_timeout",
        "connection_limit_reached",
        "tls_protocol_error",
        "http_request_error",
        "http_response_incomplete",
        "http_response_timeout",
        "http_protocol_error",
    ];
    for failure in OwnFailure::ALL {
        assert!(registered.contains(&failure.proxy_status()), "{failure:?}");
        assert!(codes::is_valid_code(failure.code()));
        assert!(codes::ALL.contains(&failure.code()));
    }
}

#[test]
fn own_failure_response_uses_the_catalog() {
    let catalog = Catalog::builtin();
    let r = OwnFailure::UpstreamTimeout.response(&catalog, "es", "en", false);
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        r.body(),
        r#"{"success":false,"message":"Tiempo de espera agotado","error":"UPSTREAM_TIMEOUT"}"#
            .as_bytes()
    );
    assert_eq!(header(&r, "content-language"), Some("es"));
    assert_eq!(
        header(&r, "proxy-status"),
        Some("errgate; error=http_response_timeout")
    );
    let fallback = OwnFailure::Overloaded.response(&catalog, "fr", "de", true);
    assert_eq!(header(&fallback, "content-language"), Some("en"));
    assert!(fallback.body().is_empty());
}

#[test]
fn proxy_status_details_name_the_expired_limit() {
    let opts = EnvelopeOpts {
        content_language: None,
        proxy_status: Some("http_response_timeout"),
        proxy_details: Some("route_timeout"),
        head: false,
    };
    let r = response(StatusCode::GATEWAY_TIMEOUT, "UPSTREAM_TIMEOUT", "m", &opts);
    assert_eq!(
        header(&r, "proxy-status"),
        Some("errgate; error=http_response_timeout; details=\"route_timeout\"")
    );
    let forged = EnvelopeOpts {
        proxy_details: Some("x\"; error=forged"),
        ..opts
    };
    let r = response(
        StatusCode::GATEWAY_TIMEOUT,
        "UPSTREAM_TIMEOUT",
        "m",
        &forged,
    );
    assert_eq!(header(&r, "proxy-status"), None);
}

#[test]
fn the_length_reserved_is_exact_when_nothing_is_escaped() {
    for (code, message) in [
        ("INTERNAL_ERROR", "Internal server error"),
        ("X", ""),
        ("A_B", "ñandú €"),
    ] {
        assert_eq!(body(code, message).len(), unescaped_len(code, message));
    }
    // An escape makes the body longer than reserved (the `Vec` grows; still correct).
    assert!(body("X", "a\"b").len() > unescaped_len("X", "a\"b"));
}
