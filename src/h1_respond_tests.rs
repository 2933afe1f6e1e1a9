use super::*;
use http::HeaderMap;
use http::header::HeaderValue;

fn head(
    status: u16,
    headers: &[(&str, &str)],
    exact: Option<u64>,
    asked: Asked,
) -> (String, Framing, bool) {
    let mut resp = Response::new(());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    *resp.headers_mut() = map;
    let (parts, ()) = resp.into_parts();
    let mut out = Vec::new();
    let (framing, close) = encode_head(&mut out, &parts, None, exact, asked);
    (String::from_utf8(out).unwrap(), framing, close)
}

const GET: Asked = Asked {
    head: false,
    close: false,
};

#[test]
fn known_sizes_get_a_length_and_every_head_a_date() {
    let (text, framing, close) = head(200, &[("content-type", "text/plain")], Some(5), GET);
    assert!(
        text.starts_with(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\ndate: "
        ),
        "{text}"
    );
    assert!(text.ends_with(" GMT\r\n\r\n"), "{text}");
    assert_eq!((framing, close), (Framing::Length(5), false));
}

#[test]
fn the_response_s_own_length_and_date_are_kept_and_transfer_encoding_is_errgate_s() {
    let fields = [
        ("content-length", "7"),
        ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("transfer-encoding", "gzip"),
    ];
    let (text, framing, _) = head(404, &fields, None, GET);
    assert_eq!(
        text,
        "HTTP/1.1 404 Not Found\r\ncontent-length: 7\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    );
    assert_eq!(framing, Framing::Length(7));
}

#[test]
fn unknown_sizes_are_chunked() {
    let (text, framing, _) = head(200, &[("date", "d")], None, GET);
    assert_eq!(
        text,
        "HTTP/1.1 200 OK\r\ndate: d\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    assert_eq!(framing, Framing::Chunked);
}

#[test]
fn head_204_and_304_carry_no_body_framing() {
    let head_req = Asked {
        head: true,
        close: false,
    };
    assert_eq!(
        head(200, &[("date", "d")], Some(0), head_req).0,
        "HTTP/1.1 200 OK\r\ndate: d\r\n\r\n"
    );
    for status in [204, 304] {
        let (text, framing, _) = head(status, &[("date", "d")], None, GET);
        assert!(
            !text.contains("transfer-encoding") && !text.contains("content-length"),
            "{text}"
        );
        assert_eq!(framing, Framing::NoBody);
    }
}

#[test]
fn closing_is_announced_once() {
    let close = Asked {
        head: false,
        close: true,
    };
    let (text, _, closes) = head(200, &[("date", "d")], Some(0), close);
    assert_eq!(
        text,
        "HTTP/1.1 200 OK\r\ndate: d\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    assert!(closes);
    let (text, _, closes) = head(200, &[("connection", "close"), ("date", "d")], Some(0), GET);
    assert_eq!(text.matches("connection").count(), 1, "{text}");
    assert!(closes, "a response that says close closes the connection");
}

#[test]
fn chunk_sizes_are_lower_case_hex() {
    let mut out = Vec::new();
    push_hex(&mut out, 0x1a2f);
    push_hex(&mut out, 0);
    assert_eq!(out, b"1a2f0");
}

#[test]
fn a_204_carries_no_length_and_only_one_valid_length_is_passed_on() {
    let (text, framing, _) = head(204, &[("content-length", "5"), ("date", "d")], None, GET);
    assert_eq!(text, "HTTP/1.1 204 No Content\r\ndate: d\r\n\r\n");
    assert_eq!(framing, Framing::NoBody);
    let fields = [
        ("content-length", "x"),
        ("content-length", "3"),
        ("content-length", "4"),
        ("date", "d"),
    ];
    let (text, framing, _) = head(200, &fields, None, GET);
    assert_eq!(
        text,
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ndate: d\r\n\r\n"
    );
    assert_eq!(framing, Framing::Length(3));
}

/// An upstream head kept as bytes goes out field for field; what errgate put in the map (the
/// request id, `Connection: close` when draining) replaces the upstream's field of that name.
#[test]
fn a_head_kept_as_bytes_is_copied_and_errgate_s_fields_win() {
    let upstream = b"HTTP/1.1 200 OK\r\nX-Request-Id: upstream\r\nContent-Length: 3\r\n\
                     Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: keep-alive\r\n\
                     Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
    let mut buf = bytes::BytesMut::from(&upstream[..]);
    let parsed = crate::h1_wire::parse_response(&mut buf, &mut Vec::new())
        .unwrap()
        .unwrap();
    let raw = parsed.raw.unwrap();
    let mut resp = parsed.resp;
    resp.headers_mut()
        .insert("x-request-id", HeaderValue::from_static("own"));
    let (parts, ()) = resp.into_parts();
    let mut out = Vec::new();
    let raw = Raw {
        head: &raw,
        request_id: None,
    };
    let (framing, close) = encode_head(&mut out, &parts, Some(raw), Some(99), GET);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
         set-cookie: a=1\r\nset-cookie: b=2\r\nx-request-id: own\r\n\r\n"
    );
    assert_eq!((framing, close), (Framing::Length(3), false));
}

/// The pass-through's usual case: the map is empty and the request id comes with the kept
/// head; it replaces the upstream's and goes out once, after the upstream's fields.
#[test]
fn a_kept_head_s_request_id_replaces_the_upstream_s() {
    let upstream = b"HTTP/1.1 200 OK\r\nX-Request-Id: upstream\r\nContent-Length: 3\r\n\
                     Date: d\r\nX-Request-ID: again\r\nSet-Cookie: a=1\r\n\r\n";
    let mut buf = bytes::BytesMut::from(&upstream[..]);
    let parsed = crate::h1_wire::parse_response(&mut buf, &mut Vec::new())
        .unwrap()
        .unwrap();
    let raw = parsed.raw.unwrap();
    let (parts, ()) = parsed.resp.into_parts();
    assert!(parts.headers.is_empty(), "nothing was added to the map");
    let id = HeaderValue::from_static("0123abcd");
    let raw = Raw {
        head: &raw,
        request_id: Some(&id),
    };
    let mut out = Vec::new();
    let (framing, close) = encode_head(&mut out, &parts, Some(raw), Some(3), GET);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ndate: d\r\nset-cookie: a=1\r\n\
         x-request-id: 0123abcd\r\n\r\n"
    );
    assert_eq!((framing, close), (Framing::Length(3), false));
}
