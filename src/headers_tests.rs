use super::*;

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn strips_fixed_and_nominated_hop_by_hop() {
    let mut h = map(&[
        ("connection", "x-secret, keep-alive"),
        ("connection", "x-other"),
        ("x-secret", "1"),
        ("x-other", "1"),
        ("keep-alive", "timeout=5"),
        ("transfer-encoding", "chunked"),
        ("te", "gzip"),
        ("x-kept", "1"),
    ]);
    strip_hop_by_hop(&mut h);
    assert_eq!(h.len(), 1, "{h:?}");
    assert!(h.contains_key("x-kept"));
}

#[test]
fn te_trailers_is_kept() {
    let mut h = map(&[("te", "trailers")]);
    strip_hop_by_hop(&mut h);
    assert!(h.contains_key("te"));
}

#[test]
fn request_ids_are_validated_and_generated() {
    assert!(sane_request_id(b"abc-123"));
    assert!(!sane_request_id(b"a b"));
    assert!(!sane_request_id(b""));
    assert!(!sane_request_id("a".repeat(129).as_bytes()));
    assert!(sane_request_id("a".repeat(128).as_bytes()));
    let id = new_request_id();
    assert_eq!(id.len(), 32);
    assert!(
        id.as_bytes()
            .iter()
            .all(|b| b"0123456789abcdef".contains(b))
    );
    assert_ne!(id, new_request_id());
}

#[test]
fn hex_digits_agree_with_format() {
    let mut x: u32 = 0x0123_4567;
    for _ in 0..20_000 {
        assert_eq!(hex8(x), format!("{x:08x}").as_bytes(), "{x:#x}");
        x = x.wrapping_mul(2_654_435_761).wrapping_add(0x9e37);
    }
    for x in [0, 9, 10, 15, 0x9999_9999, 0xaaaa_aaaa, 0xffff_ffff] {
        assert_eq!(hex8(x), format!("{x:08x}").as_bytes(), "{x:#x}");
    }
}

#[test]
fn forwarded_for_appends() {
    let mut h = map(&[("x-forwarded-for", "1.1.1.1"), ("host", "api.example")]);
    let host = h.get("host").cloned();
    let id = HeaderValue::from_static("rid");
    let fwd = Forwarded {
        client_ip: &forwarded_for_value("10.0.0.9".parse().unwrap()),
        host: host.as_ref(),
        request_id: &id,
    };
    add_forwarded(&mut h, &fwd, None);
    assert_eq!(h["x-forwarded-for"], "1.1.1.1, 10.0.0.9");
    assert_eq!(h["x-forwarded-host"], "api.example");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-request-id"], "rid");
    assert_eq!(h["host"], "api.example");
}
