use super::*;

use bytes::BytesMut;
use http::header::{self, HeaderValue};

use crate::h1_wire::{Parsed, parse_response};

fn parse(text: &[u8]) -> Parsed {
    let mut buf = BytesMut::from(text);
    parse_response(&mut buf, &mut Vec::new()).unwrap().unwrap()
}

fn fields(raw: &RawHead) -> Vec<(String, String)> {
    raw.fields()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

#[test]
fn a_clean_success_head_is_kept_as_bytes_without_its_hop_by_hop_fields() {
    let p = parse(
        b"HTTP/1.1 200 OK\r\nServer: o\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\
          Set-Cookie: a=1\r\nX-Odd: \xe9t\xe9\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(p.resp.headers().is_empty());
    let raw = p.raw.unwrap();
    let want = [
        ("server", "o"),
        ("set-cookie", "a=1"),
        ("x-odd", "\u{fffd}t\u{fffd}"),
        ("set-cookie", "b=2"),
        ("content-length", "0"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(fields(&raw), want);
    let map = raw.into_map(HeaderMap::new());
    let cookies: Vec<_> = map.get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(map[header::SERVER], "o");
    assert_eq!(map.get("x-odd").unwrap().as_bytes(), b"\xe9t\xe9");
    assert_eq!(map.len(), 5);
}

#[test]
fn errors_and_heads_that_need_more_work_get_a_map() {
    let heads: [&[u8]; 4] = [
        b"HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
        // `Connection` nominates a field: removed later, from the map.
        b"HTTP/1.1 200 OK\r\nConnection: x-hop\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n",
        // A length next to chunked is removed from the map.
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nVary: a\r\n\r\n",
    ];
    for head in heads {
        let p = parse(head);
        assert!(p.raw.is_none(), "{}", String::from_utf8_lossy(head));
        assert!(!p.resp.headers().is_empty());
    }
}

#[test]
fn other_error_heads_are_kept_as_bytes_too() {
    for status in [
        "400 Bad Request",
        "404 Not Found",
        "500 Oops",
        "502 Bad Gateway",
    ] {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nETag: \"1\"\r\n\
             Connection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        );
        let p = parse(head.as_bytes());
        assert!(p.resp.headers().is_empty(), "{status}");
        let mut raw = p.raw.expect(status);
        assert_eq!(raw.get(&header::CONTENT_TYPE), Some(&b"text/html"[..]));
        assert_eq!(raw.get(&header::CONNECTION), None, "hop-by-hop left out");
        raw.retain(|name| *name != header::ETAG);
        let names: Vec<_> = fields(&raw).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["content-type", "content-length"]);
    }
}

#[test]
fn errgates_own_fields_replace_the_upstreams_of_the_same_name() {
    let p = parse(b"HTTP/1.1 204 No Content\r\nX-Request-Id: up\r\nVary: a\r\n\r\n");
    let mut added = HeaderMap::new();
    added.insert("x-request-id", HeaderValue::from_static("own"));
    let map = p.raw.unwrap().into_map(added);
    let ids: Vec<_> = map.get_all("x-request-id").iter().collect();
    assert_eq!(ids, ["own"]);
    assert_eq!(map["vary"], "a");
}

#[test]
fn a_field_set_on_a_kept_head_replaces_the_upstreams_and_an_earlier_set() {
    let p = parse(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Language: fr\r\nVary: a\r\n\
          content-language: de\r\nContent-Length: 0\r\n\r\n",
    );
    let mut raw = p.raw.unwrap();
    raw.set(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
    raw.set(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    raw.set(header::CONTENT_LANGUAGE, HeaderValue::from_static("es"));
    let names: Vec<_> = fields(&raw).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["vary", "content-length"],
        "the upstream's languages are gone"
    );
    let added: Vec<_> = raw.added().map(|(n, v)| (n.as_str(), v)).collect();
    assert_eq!(
        added,
        [
            ("cache-control", &b"no-store"[..]),
            ("content-language", b"es")
        ]
    );
    // And the same through a map (hyper's server).
    let map = raw.into_map(HeaderMap::new());
    let languages: Vec<_> = map.get_all(header::CONTENT_LANGUAGE).iter().collect();
    assert_eq!(languages, ["es"]);
    assert_eq!(map[header::CACHE_CONTROL], "no-store");
    assert_eq!(map["vary"], "a");
}

/// Keeping a head as bytes never lets through a value `HeaderValue` would refuse: httparse
/// accepts a byte inside a value exactly when `HeaderValue` does.
#[test]
fn httparse_and_header_value_accept_the_same_value_bytes() {
    for b in 0..=255u8 {
        let head = [&b"HTTP/1.1 200 OK\r\nx: a"[..], &[b], b"b\r\n\r\n"].concat();
        let mut slots = [httparse::EMPTY_HEADER; 4];
        let mut resp = httparse::Response::new(&mut slots);
        let by_httparse = matches!(resp.parse(&head), Ok(httparse::Status::Complete(_)))
            && resp
                .headers
                .first()
                .is_some_and(|h| h.value == [b'a', b, b'b']);
        let by_http = HeaderValue::from_bytes(&[b'a', b, b'b']).is_ok();
        assert_eq!(by_httparse, by_http, "byte {b:#04x}");
    }
}
