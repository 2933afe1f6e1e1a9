use super::*;
use crate::headers::Forwarded;

fn parse(text: &str) -> Result<Option<Parsed>, WireError> {
    let mut buf = BytesMut::from(text.as_bytes());
    parse_response(&mut buf, &mut Vec::new())
}

/// The parsed head with its fields in the map, also when they were kept as bytes.
fn parsed(text: &str) -> Parsed {
    let mut p = parse(text).unwrap().unwrap();
    if let Some(raw) = p.raw.take() {
        let added = std::mem::take(p.resp.headers_mut());
        *p.resp.headers_mut() = raw.into_map(added);
    }
    p
}

fn resp(text: &str) -> Response<()> {
    parsed(text).resp
}

fn framing(method: &Method, text: &str) -> Result<Framing, WireError> {
    let Parsed { resp, facts, .. } = parsed(text);
    facts.framing(method, resp.status())
}

fn keep_alive(text: &str) -> bool {
    parsed(text).facts.keep_alive
}

fn names(resp: &Response<()>) -> Vec<&str> {
    resp.headers().keys().map(HeaderName::as_str).collect()
}

#[test]
fn a_head_is_taken_off_the_buffer_and_values_keep_their_bytes() {
    let mut buf =
        // A 503 gets a map (its `Retry-After` is read while retrying; see `RawHead::keep`).
        BytesMut::from(&b"HTTP/1.1 503 Busy\r\nA: 1\r\na: two \r\nB:\r\n\r\nbody"[..]);
    let r = parse_response(&mut buf, &mut Vec::new())
        .unwrap()
        .unwrap()
        .resp;
    assert_eq!(r.status(), 503);
    assert_eq!(r.version(), Version::HTTP_11);
    let a: Vec<_> = r.headers().get_all("a").iter().collect();
    assert_eq!(a, ["1", "two"]);
    assert_eq!(r.headers()["b"], "");
    assert_eq!(&buf[..], b"body");
}

#[test]
fn partial_heads_wait_and_huge_or_broken_ones_fail() {
    assert!(parse("HTTP/1.1 200 OK\r\ncontent-le").unwrap().is_none());
    let huge = format!("HTTP/1.1 200 OK\r\nx: {}", "a".repeat(MAX_HEAD_BYTES));
    assert!(matches!(parse(&huge), Err(WireError::HeadTooLarge)));
    assert!(matches!(
        parse("<html>oops</html>\r\n\r\n"),
        Err(WireError::Parse(_))
    ));
    assert!(matches!(
        parse("HTTP/1.1 042 Odd\r\n\r\n"),
        Err(WireError::BadStatus(42))
    ));
    let many: String = (0..=MAX_HEADERS).map(|i| format!("h{i}: v\r\n")).collect();
    assert!(parse(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")).is_err());
}

#[test]
fn framing_follows_rfc_9112() {
    let f = |text: &str| framing(&Method::GET, text);
    assert_eq!(
        f("HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n").unwrap(),
        Framing::Length(12)
    );
    assert_eq!(
        f("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap(),
        Framing::Empty
    );
    assert_eq!(
        f("HTTP/1.1 200 OK\r\ncontent-length: 7, 7\r\n\r\n").unwrap(),
        Framing::Length(7)
    );
    assert!(f("HTTP/1.1 200 OK\r\ncontent-length: 7, 8\r\n\r\n").is_err());
    assert!(f("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n").is_err());
    assert!(f("HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n").is_err());
    let chunked =
        "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\ncontent-length: 3\r\n\r\n";
    assert_eq!(f(chunked).unwrap(), Framing::Chunked);
    assert_eq!(
        f("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n").unwrap(),
        Framing::UntilClose
    );
    assert_eq!(f("HTTP/1.1 200 OK\r\n\r\n").unwrap(), Framing::UntilClose);
    assert_eq!(
        f("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n").unwrap(),
        Framing::Empty
    );
    assert_eq!(
        f("HTTP/1.1 304 Not Modified\r\n\r\n").unwrap(),
        Framing::Empty
    );
    let head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
    assert_eq!(framing(&Method::HEAD, head).unwrap(), Framing::Empty);
}

#[test]
fn keep_alive_depends_on_version_and_connection_tokens() {
    assert!(keep_alive("HTTP/1.1 200 OK\r\n\r\n"));
    assert!(!keep_alive(
        "HTTP/1.1 200 OK\r\nconnection: foo, Close\r\n\r\n"
    ));
    assert!(!keep_alive("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"));
    assert!(!keep_alive(
        "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nconnection: close\r\n\r\n"
    ));
    assert!(!keep_alive("HTTP/1.0 200 OK\r\n\r\n"));
    assert!(!keep_alive("HTTP/1.0 200 OK\r\nconnection: x-a\r\n\r\n"));
    assert!(keep_alive(
        "HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\n\r\n"
    ));
}

#[test]
fn hop_by_hop_fields_are_left_out_of_the_map_but_still_frame_the_body() {
    let p = parsed(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\
         Proxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nProxy-Authorization: x\r\n\
         Trailer: x-sum\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nTE: gzip\r\n\
         Content-Length: 3\r\nX-Kept: 1\r\n\r\n",
    );
    assert!(p.facts.clean());
    // The length next to chunked encoding is not the body's: it is not passed on.
    assert_eq!(names(&p.resp), ["server", "x-kept"]);
    assert_eq!(
        p.facts.framing(&Method::GET, p.resp.status()).unwrap(),
        Framing::Chunked
    );
    assert!(p.facts.keep_alive);
}

#[test]
fn te_trailers_is_kept_and_any_other_te_is_not() {
    let kept = resp("HTTP/1.1 200 OK\r\nte: Trailers\r\nte: gzip\r\n\r\n");
    let te: Vec<_> = kept.headers().get_all("te").iter().collect();
    assert_eq!(
        te,
        ["Trailers"],
        "only `trailers` goes on, as in strip_hop_by_hop"
    );
    let kept = resp("HTTP/1.1 200 OK\r\nte: gzip\r\nte: trailers\r\nx: 1\r\n\r\n");
    assert_eq!(names(&kept), ["te", "x"]);
}

/// `Connection` naming other fields keeps every field; `strip_hop_by_hop` removes them later.
#[test]
fn connection_nominated_fields_are_left_to_strip_hop_by_hop() {
    let text = "HTTP/1.1 200 OK\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\n\
                Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nx-kept: 1\r\n\r\n";
    let Parsed {
        mut resp, facts, ..
    } = parsed(text);
    assert!(!facts.clean());
    assert!(!facts.keep_alive);
    assert_eq!(resp.headers().len(), 5);
    crate::headers::strip_hop_by_hop(resp.headers_mut());
    assert_eq!(names(&resp), ["x-kept"]);
    let options = parsed("HTTP/1.1 200 OK\r\nconnection: Keep-Alive, upgrade, TE, close\r\n\r\n");
    assert!(options.facts.clean(), "options are not field names");
    assert!(options.resp.headers().is_empty());
}

fn encoded(
    method: Method,
    headers: &HeaderMap,
    host: Option<&HeaderValue>,
    body_len: usize,
) -> String {
    let client_ip = HeaderValue::from_static("10.0.0.9");
    let request_id = HeaderValue::from_static("rid");
    let forwarded = Forwarded {
        client_ip: &client_ip,
        host: headers.get(header::HOST),
        request_id: &request_id,
    };
    let headers = ReqFields::Map(headers.clone());
    let head = RequestHead {
        method: &method,
        target: "/p?q=1",
        headers: &headers,
        forwarded: &forwarded,
        host,
        authority: "backend:8080",
        body_len,
    };
    let mut out = Vec::new();
    encode_request(&mut out, &head);
    String::from_utf8(out).unwrap()
}

const ADDED: &str = "x-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\n";

#[test]
fn request_heads_carry_errgate_s_own_framing_and_one_host() {
    let mut h = HeaderMap::new();
    h.insert(header::HOST, HeaderValue::from_static("client.example"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
    h.insert(
        header::TRANSFER_ENCODING,
        HeaderValue::from_static("chunked"),
    );
    h.append("x-a", HeaderValue::from_static("1"));
    h.append("x-a", HeaderValue::from_static("2"));
    let client_host = "x-forwarded-host: client.example\r\nx-request-id: rid\r\n";
    assert_eq!(
        encoded(Method::POST, &h, None, 3),
        format!(
            "POST /p?q=1 HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\n{ADDED}{client_host}host: client.example\r\ncontent-length: 3\r\n\r\n"
        )
    );
    let rewritten = HeaderValue::from_static("rewritten");
    assert_eq!(
        encoded(Method::GET, &h, Some(&rewritten), 0),
        format!(
            "GET /p?q=1 HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\n{ADDED}{client_host}host: rewritten\r\n\r\n"
        )
    );
    let empty = HeaderMap::new();
    assert_eq!(
        encoded(Method::PUT, &empty, None, 0),
        format!(
            "PUT /p?q=1 HTTP/1.1\r\n{ADDED}x-request-id: rid\r\nhost: backend:8080\r\ncontent-length: 0\r\n\r\n"
        )
    );
}

#[test]
fn forwarding_fields_replace_the_client_s_and_extend_its_chain() {
    let mut h = HeaderMap::new();
    h.append("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
    h.append(
        "x-forwarded-for",
        HeaderValue::from_static("2.2.2.2, 3.3.3.3"),
    );
    h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    h.insert("x-forwarded-host", HeaderValue::from_static("spoofed"));
    h.insert("x-request-id", HeaderValue::from_static("client-id"));
    h.insert("x-b", HeaderValue::from_static("kept"));
    assert_eq!(
        encoded(Method::GET, &h, None, 0),
        "GET /p?q=1 HTTP/1.1\r\nx-b: kept\r\n\
         x-forwarded-for: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\nx-forwarded-proto: http\r\n\
         x-request-id: rid\r\nhost: backend:8080\r\n\r\n",
        "without a client host, the client's X-Forwarded-Host is dropped, not passed on"
    );
}

#[test]
fn trailers_are_parsed_into_fields() {
    let block = Bytes::from_static(b"x-sum: 1\r\ngrpc-status: 0\r\n\r\n");
    let map = parse_trailers(&block).unwrap();
    assert_eq!(map["x-sum"], "1");
    assert_eq!(map["grpc-status"], "0");
    assert!(parse_trailers(&Bytes::from_static(b"bad header\r\n\r\n")).is_err());
}

#[test]
fn an_error_head_s_map_has_room_for_the_request_id_and_the_envelope() {
    let head = "HTTP/1.1 503 Oops\r\nServer: x\r\nDate: y\r\nContent-Type: text/html\r\n\
                Content-Length: 0\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n";
    let mut map = resp(head).headers().clone();
    let capacity = map.capacity();
    assert!(
        capacity >= map.len() + 1 + crate::envelope::MAX_FIELDS,
        "{capacity} for {} fields",
        map.len()
    );
    // Filling that room does not grow the map (growing would rehash every field).
    for i in 0..=crate::envelope::MAX_FIELDS {
        map.insert(
            HeaderName::from_bytes(format!("x-added-{i}").as_bytes()).unwrap(),
            "v".parse().unwrap(),
        );
    }
    assert_eq!(map.capacity(), capacity);
}
