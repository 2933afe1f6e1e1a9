use super::*;
use crate::req_fields::ReqFields;

fn parsed(text: &str) -> (Parsed, BytesMut) {
    let mut buf = BytesMut::from(text.as_bytes());
    let parsed = parse(&mut buf, &mut Fields::new());
    (parsed, buf)
}

fn request(text: &str) -> (ClientRequest, ReqFields, bool, BytesMut) {
    match parsed(text) {
        (Parsed::Request(req, raw, close), rest) => (req, ReqFields::Raw(raw), close, rest),
        (Parsed::Partial, _) => panic!("partial: {text:?}"),
        (Parsed::Handover, _) => panic!("handed over: {text:?}"),
    }
}

fn handed_over(text: &str) -> bool {
    let (parsed, rest) = parsed(text);
    // Nothing is consumed from a head hyper takes.
    matches!(parsed, Parsed::Handover) && rest[..] == *text.as_bytes()
}

#[test]
fn a_plain_get_becomes_a_request_and_leaves_what_follows() {
    let (req, fields, close, rest) = request(
        "GET /a/b?q=1 HTTP/1.1\r\nHost: api.example\r\nX-Two: 1\r\nx-two: 2\r\n\r\nGET /next",
    );
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "/a/b?q=1");
    assert_eq!(req.version(), Version::HTTP_11);
    assert!(req.headers().is_empty(), "the fields stay bytes");
    assert_eq!(fields.get(&header::HOST).unwrap(), "api.example");
    let twos: Vec<_> = fields.iter().filter(|(n, _)| *n == "x-two").collect();
    assert_eq!(
        twos.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [b"1", b"2"]
    );
    assert!(req.body().is_none());
    assert!(!close);
    assert_eq!(&rest[..], b"GET /next");
}

#[test]
fn connection_close_and_an_empty_declared_body_are_served() {
    let (req, _, close, _) =
        request("DELETE /x HTTP/1.1\r\nContent-Length: 0\r\nConnection: keep-alive, Close\r\n\r\n");
    assert_eq!(req.method(), Method::DELETE);
    assert!(close);
}

#[test]
fn an_incomplete_head_asks_for_more() {
    assert!(matches!(
        parsed("GET / HTTP/1.1\r\nHost: a").0,
        Parsed::Partial
    ));
}

#[test]
fn a_small_body_that_arrived_with_its_head_is_read_and_what_follows_stays() {
    let (req, fields, _, rest) =
        request("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /next");
    match req.body() {
        Some(ClientBody::Read(body)) => assert_eq!(&body[..], b"abc"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fields.get_bytes(&header::CONTENT_LENGTH), Some(&b"3"[..]));
    assert_eq!(&rest[..], b"GET /next");
    let at_the_limit = format!(
        "PUT /x HTTP/1.1\r\nContent-Length: {MAX_BODY}\r\n\r\n{}",
        "b".repeat(MAX_BODY as usize)
    );
    let (req, ..) = request(&at_the_limit);
    assert!(matches!(req.body(), Some(ClientBody::Read(b)) if b.len() as u64 == MAX_BODY));
}

#[test]
fn requests_the_loop_does_not_serve_go_to_hyper_untouched() {
    let over_the_limit = format!(
        "POST /x HTTP/1.1\r\nContent-Length: {}\r\n\r\n{}",
        MAX_BODY + 1,
        "b".repeat(MAX_BODY as usize + 1)
    );
    for text in [
        // Bodies still on their way, too large, or framed in any way but one plain length.
        "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabc",
        &over_the_limit,
        "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "POST /x HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc",
        "POST /x HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc",
        "POST /x HTTP/1.1\r\nContent-Length: \r\n\r\nabc",
        "POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
        "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "GET / HTTP/1.1\r\nbad header\r\n\r\n",
        "GET /x HTTP/1.1\r\nx-bin: a\u{1}b\r\n\r\n",
    ] {
        assert!(handed_over(text), "{text:?}");
    }
}

#[test]
fn more_fields_than_the_limit_go_to_hyper() {
    let mut text = String::from("GET / HTTP/1.1\r\n");
    for i in 0..=MAX_HEADERS {
        text.push_str(&format!("x-{i}: v\r\n"));
    }
    text.push_str("\r\n");
    assert!(handed_over(&text));
}
