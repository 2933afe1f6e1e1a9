use bytes::BytesMut;
use http::Method;

use super::*;
use crate::h1_request::{Fields, Parsed, parse};
use crate::h1_wire::{RequestHead, encode_request};
use crate::headers::Forwarded;

/// Heads the own server serves, with every kind of hop-by-hop field and repeated names.
const HEADS: [&[u8]; 8] = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Gone\r\nX-Gone: 1\r\nX-Kept: 2\r\n\
     Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n\r\n",
    b"GET /x HTTP/1.1\r\nTE: trailers\r\nTrailer: x-sum\r\nProxy-Authorization: Basic x\r\n\r\n",
    b"GET /x HTTP/1.1\r\nTE: gzip\r\nTE: trailers\r\nX-A: 1\r\n\r\n",
    b"GET /x HTTP/1.1\r\nte: trailers\r\nTE: gzip\r\nConnection: te, close\r\n\r\n",
    b"GET /x HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nX-A: 1\r\nx-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\
     X-Request-Id: abc\r\nX-A: 2\r\nHost: b\r\n\r\n",
    b"DELETE /x HTTP/1.1\r\nContent-Length: 0\r\nConnection: X-One,, x-two ,\r\nConnection: x-three\r\n\
     X-One: 1\r\nX-Two: 2\r\nX-Three: 3\r\nX-Four: 4\r\nIdempotency-Key: k\r\n\r\n",
    b"GET /x HTTP/1.1\r\nConnection: \xe9, x-a\r\nX-A: 1\r\nX-Opaque: caf\xe9\r\n\r\n",
];

fn raw(head: &[u8]) -> ReqFields {
    let mut buf = BytesMut::from(head);
    match parse(&mut buf, &mut Fields::new()) {
        Parsed::Request(_, raw, _) => ReqFields::Raw(raw),
        _ => panic!("not served: {:?}", String::from_utf8_lossy(head)),
    }
}

/// (name, value) pairs sorted by name, each name's values in their order: a map's removals
/// reorder its names, so this is what the two kinds agree on.
fn by_name(fields: &ReqFields) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fields
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn encoded(fields: &ReqFields) -> Vec<String> {
    let (ip, id) = (
        HeaderValue::from_static("10.0.0.1"),
        HeaderValue::from_static("r"),
    );
    let host = fields.get(&header::HOST);
    let fwd = Forwarded {
        client_ip: &ip,
        host: host.as_ref(),
        request_id: &id,
    };
    let head = RequestHead {
        method: &Method::GET,
        target: "/x",
        headers: fields,
        forwarded: &fwd,
        host: None,
        authority: "up:80",
        body_len: 0,
    };
    let mut out = Vec::new();
    encode_request(&mut out, &head);
    let text = String::from_utf8_lossy(&out).into_owned();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn kept_bytes_and_a_map_give_the_same_answers() {
    for head in HEADS {
        let mut raw = raw(head);
        let mut map = ReqFields::Map(raw.to_map());
        for name in [
            "host",
            "x-a",
            "te",
            "x-request-id",
            "x-forwarded-for",
            "x-none",
        ] {
            let name = HeaderName::from_static(name);
            assert_eq!(
                raw.get(&name),
                map.get(&name),
                "{name} in {}",
                String::from_utf8_lossy(head)
            );
            assert_eq!(
                raw.get_bytes(&name),
                map.get_bytes(&name),
                "{name} in {}",
                String::from_utf8_lossy(head)
            );
        }
        for name in ["Idempotency-Key", "idempotency-key", "x-none"] {
            assert_eq!(
                raw.contains(name),
                map.contains(name),
                "{name} in {}",
                String::from_utf8_lossy(head)
            );
        }
        raw.strip_hop_by_hop();
        map.strip_hop_by_hop();
        let text = String::from_utf8_lossy(head);
        assert_eq!(by_name(&raw), by_name(&map), "{text}");
        assert_eq!(encoded(&raw), encoded(&map), "{text}");
    }
}

#[test]
fn hop_by_hop_fields_go_and_the_rest_stay_in_order() {
    let mut fields = raw(HEADS[6]);
    fields.strip_hop_by_hop();
    let names: Vec<_> = fields.iter().map(|(n, _)| n.as_str()).collect();
    // `Content-Length` is left to the writer, which frames the body itself.
    assert_eq!(names, ["content-length", "x-four", "idempotency-key"]);
    let mut fields = raw(HEADS[2]);
    fields.strip_hop_by_hop();
    let kept: Vec<_> = fields.iter().map(|(n, v)| (n.as_str(), v)).collect();
    assert_eq!(kept, [("te", &b"trailers"[..])]);
    let mut fields = raw(HEADS[3]);
    fields.strip_hop_by_hop();
    let kept: Vec<_> = fields.iter().map(|(n, v)| (n.as_str(), v)).collect();
    assert_eq!(
        kept,
        [("te", &b"trailers"[..]), ("x-a", b"1")],
        "only `TE: trailers` goes on"
    );
}

#[test]
fn the_map_shares_values_with_the_head() {
    let fields = raw(HEADS[5]);
    let map = fields.to_map();
    let xff: Vec<_> = map.get_all("x-forwarded-for").iter().collect();
    assert_eq!(xff, ["1.1.1.1", "2.2.2.2, 3.3.3.3"]);
    let xa: Vec<_> = map.get_all("x-a").iter().collect();
    assert_eq!(xa, ["1", "2"]);
    assert_eq!(map.len(), 6);
}
