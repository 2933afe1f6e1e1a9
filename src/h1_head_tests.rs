use super::*;

use bytes::BytesMut;
use http::HeaderMap;
use http::header::HeaderValue;

use crate::h1_wire::{Parsed, parse_response};
use crate::headers::strip_hop_by_hop;
use crate::raw_head::agreed_length;

/// The parsed head with its fields in the map, also when they were kept as bytes.
fn parsed(text: &str) -> Parsed {
    let mut buf = BytesMut::from(text.as_bytes());
    let mut p = parse_response(&mut buf, &mut Vec::new()).unwrap().unwrap();
    if let Some(raw) = p.raw.take() {
        let added = std::mem::take(p.resp.headers_mut());
        *p.resp.headers_mut() = raw.into_map(added);
    }
    p
}

#[test]
fn common_names_get_the_header_name_parsing_would_give() {
    let names = [
        "te",
        "date",
        "etag",
        "vary",
        "server",
        "expires",
        "trailer",
        "upgrade",
        "location",
        "connection",
        "keep-alive",
        "set-cookie",
        "content-type",
        "accept-ranges",
        "cache-control",
        "last-modified",
        "content-length",
        "content-encoding",
        "proxy-connection",
        "transfer-encoding",
        "proxy-authenticate",
        "proxy-authorization",
    ];
    for name in names {
        for spelling in [
            name.to_string(),
            name.to_ascii_uppercase(),
            title_case(name),
        ] {
            let (known, _) = classify(spelling.as_bytes()).expect(name);
            assert_eq!(known, HeaderName::from_bytes(name.as_bytes()).unwrap());
            assert_eq!(known.as_str(), name);
        }
    }
    for other in [
        "x-date",
        "dat",
        "content-lengths",
        "x",
        "proxy-authorizatio",
    ] {
        assert!(classify(other.as_bytes()).is_none(), "{other}");
    }
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| part[..1].to_ascii_uppercase() + &part[1..])
        .collect::<Vec<_>>()
        .join("-")
}

/// The head as a map with every field, as it was built before the one-pass scan.
fn full_map(text: &str) -> (StatusCode, Version, HeaderMap) {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut slots);
    r.parse(text.as_bytes()).unwrap();
    let mut map = HeaderMap::new();
    for h in r.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).unwrap();
        map.append(name, HeaderValue::from_bytes(h.value).unwrap());
    }
    let status = StatusCode::from_u16(r.code.unwrap()).unwrap();
    let version = match r.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    (status, version, map)
}

/// RFC 9112 §6.3 on the full map: the map lookups the scan replaced.
fn map_framing(method: &Method, status: StatusCode, headers: &HeaderMap) -> Option<Framing> {
    if *method == Method::HEAD || status == StatusCode::NO_CONTENT || status.as_u16() == 304 {
        return Some(Framing::Empty);
    }
    if let Some(last) = headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .next_back()
    {
        let token = last.as_bytes().rsplit(|&b| b == b',').next()?;
        let chunked = token.trim_ascii().eq_ignore_ascii_case(b"chunked");
        return Some(if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let n = parse_length(part.trim_ascii())?;
            if length.is_some_and(|l| l != n) {
                return None;
            }
            length = Some(n);
        }
    }
    Some(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    })
}

fn map_keep_alive(version: Version, headers: &HeaderMap) -> bool {
    let mut close = version == Version::HTTP_10;
    for value in headers.get_all(header::CONNECTION) {
        for token in value.as_bytes().split(|&b| b == b',') {
            let token = token.trim_ascii();
            if token.eq_ignore_ascii_case(b"close") {
                return false;
            }
            if token.eq_ignore_ascii_case(b"keep-alive") {
                close = false;
            }
        }
    }
    !close
}

/// Agreeing `Content-Length`s (`7, 7`, or two fields saying 7) as one field with the number;
/// lengths that disagree stay as they are.
fn one_agreed_length(map: &mut HeaderMap) {
    let numbers: Option<Vec<Vec<u8>>> = map
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .map(|v| agreed_length(v.as_bytes()).map(<[u8]>::to_vec))
        .collect();
    let Some(numbers) = numbers else { return };
    let Some(first) = numbers.first() else { return };
    if numbers.iter().all(|n| n == first) {
        let one = HeaderValue::from_bytes(first).unwrap();
        map.insert(header::CONTENT_LENGTH, one);
    }
}

/// Sorted by name (each name's values in their order): removing fields from a map moves
/// others, and the order of different names means nothing.
fn pairs(map: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let pairs = map
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()));
    let mut pairs: Vec<_> = pairs.collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

/// Field blocks that exercise framing, keep-alive and every hop-by-hop rule.
const FIELDS: &[&str] = &[
    "",
    "Server: nginx\r\nDate: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nConnection: keep-alive\r\n",
    "Transfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n",
    "transfer-encoding: chunked\r\ntransfer-encoding: gzip\r\n",
    "transfer-encoding: chunked, \r\n",
    "content-length: x\r\ntransfer-encoding: chunked\r\n",
    "content-length: 5\r\ncontent-length: 6\r\n",
    "content-length: 7, 7\r\ncontent-length: 7\r\n",
    "content-length: 7,8\r\n",
    "content-length: -1\r\n",
    "content-length: 99999999999999999999\r\n",
    "content-length: 0\r\n",
    "connection: close\r\ncontent-length: 2\r\n",
    "Connection: Keep-Alive\r\n",
    "connection: foo, Close\r\n",
    "connection: keep-alive\r\nconnection: close\r\n",
    "connection: ,, close ,\r\n",
    "connection: close, X-Secret\r\nx-secret: 1\r\nkeep-alive: timeout=5\r\nproxy-authenticate: Basic\r\n",
    "connection: Trailer\r\ntrailer: x-sum\r\nx-sum: 1\r\n",
    "connection: caf\u{e9}\r\nkeep-alive: 1\r\n",
    "connection: upgrade, te\r\nupgrade: websocket\r\nte: trailers\r\n",
    "TE: trailers\r\nte: gzip\r\nx-kept: 1\r\n",
    "te: gzip\r\nte: trailers\r\nx-kept: 1\r\n",
    "te: TRAILERS\r\n",
    "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\n\
     Proxy-Authorization: x\r\nTrailer: x-sum\r\nUpgrade: h2c\r\nX-Kept: 1\r\n",
    "CONTENT-LENGTH: 4\r\nETag: \"a\"\r\nVary: accept\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\
     Location: /x\r\nCache-Control: no-store\r\nExpires: 0\r\nLast-Modified: x\r\n\
     Accept-Ranges: bytes\r\nContent-Encoding: gzip\r\nX-Custom: 1\r\n",
];

/// The scan gives what the map lookups and `strip_hop_by_hop` gave on the full map, for
/// every field block, version, status and method.
#[test]
fn the_scan_agrees_with_the_map_based_rules() {
    for fields in FIELDS {
        for version in ["HTTP/1.1", "HTTP/1.0"] {
            for status in ["200 OK", "204 No Content", "304 Not Modified", "502 Bad"] {
                let text = format!("{version} {status}\r\n{fields}\r\n");
                let (code, v, mut expected) = full_map(&text);
                let Parsed {
                    mut resp, facts, ..
                } = parsed(&text);
                assert_eq!(facts.keep_alive, map_keep_alive(v, &expected), "{text}");
                for method in [Method::GET, Method::HEAD] {
                    let framing = facts.framing(&method, resp.status()).ok();
                    assert_eq!(framing, map_framing(&method, code, &expected), "{text}");
                }
                // A length next to Transfer-Encoding is not passed on (RFC 9112 §6.3).
                if expected.contains_key(http::header::TRANSFER_ENCODING) {
                    expected.remove(http::header::CONTENT_LENGTH);
                }
                strip_hop_by_hop(&mut expected);
                one_agreed_length(&mut expected);
                if !facts.clean() {
                    strip_hop_by_hop(resp.headers_mut());
                }
                assert_eq!(pairs(resp.headers()), pairs(&expected), "{text}");
            }
        }
    }
}

#[test]
fn folded_comparison_is_ascii_case_insensitive_equality() {
    let known: [&[u8]; 7] = [
        b"te",
        b"close",
        b"chunked",
        b"keep-alive",
        b"content-length",
        b"proxy-authorization",
        b"abcdefgh-abcdefgh-abcdefgh",
    ];
    for lower in known {
        let upper = lower.to_ascii_uppercase();
        assert!(folded_eq(lower, lower) && folded_eq(&upper, lower));
        for i in 0..lower.len() {
            for byte in (0..=255u8).filter(|&b| b != b'\r' && !b.eq_ignore_ascii_case(&lower[i])) {
                let mut other = lower.to_vec();
                other[i] = byte;
                assert!(
                    !folded_eq(&other, lower),
                    "{:?}",
                    String::from_utf8_lossy(&other)
                );
            }
        }
        assert!(!folded_eq(&lower[1..], lower));
    }
}
