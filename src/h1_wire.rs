//! HTTP/1.1 on the wire for errgate's own upstream client ([`crate::h1_pool`]): the request
//! head written straight from the attempt's template, the response head parsed with httparse
//! (header values are slices of the read buffer, not copies; the fields themselves are read in
//! [`crate::h1_head`]), and trailers.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Version};

use crate::envelope;
pub use crate::h1_head::Fields;
use crate::h1_head::{self, Facts};
use crate::headers::{Forwarded, X_FORWARDED_FOR};
use crate::raw_head::RawHead;
use crate::req_fields::ReqFields;

/// Header fields accepted in a response head (hyper's client limit too).
pub const MAX_HEADERS: usize = 100;
/// A response head longer than this is refused.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A response head errgate will not pass on.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("response head larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("unparsable response head: {0}")]
    Parse(#[from] httparse::Error),
    #[error("invalid header field in the response head")]
    BadHeader,
    #[error("invalid or conflicting Content-Length")]
    BadContentLength,
    #[error("status code {0} is not valid")]
    BadStatus(u16),
    #[error("unexpected 101 Switching Protocols")]
    UnexpectedUpgrade,
}

/// What goes into one request head.
#[derive(Debug)]
pub struct RequestHead<'a> {
    pub method: &'a Method,
    /// Origin-form target: path and query.
    pub target: &'a str,
    /// The client's headers, hop-by-hop already removed; `Content-Length`,
    /// `Transfer-Encoding`, `Host` and what `forwarded` replaces are written here instead.
    pub headers: &'a ReqFields,
    /// `X-Forwarded-*`, the request id and the client's host.
    pub forwarded: &'a Forwarded<'a>,
    /// Sent as `Host` instead of the client's (`host_rewrite`).
    pub host: Option<&'a HeaderValue>,
    /// Sent as `Host` when the request has none.
    pub authority: &'a str,
    pub body_len: usize,
}

/// Appends the request head to `out`.
pub fn encode_request(out: &mut Vec<u8>, head: &RequestHead<'_>) {
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let fwd = head.forwarded;
    let mut client_xff = false;
    for (name, value) in head.headers.iter() {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        if fwd.replaces(name) {
            client_xff |= name == X_FORWARDED_FOR;
            continue;
        }
        field(out, name.as_str().as_bytes(), value);
    }
    forwarded_fields(out, head, client_xff);
    if head.body_len > 0 || expects_body(head.method) {
        out.extend_from_slice(b"content-length: ");
        push_decimal(out, head.body_len as u64);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// `X-Forwarded-For` (the client's chain, then the client), `-Proto`, `-Host`, the request id
/// and `Host`.
fn forwarded_fields(out: &mut Vec<u8>, head: &RequestHead<'_>, client_xff: bool) {
    let fwd = head.forwarded;
    out.extend_from_slice(b"x-forwarded-for: ");
    if client_xff {
        for (_, value) in head.headers.iter().filter(|(n, _)| **n == X_FORWARDED_FOR) {
            out.extend_from_slice(value);
            out.extend_from_slice(b", ");
        }
    }
    out.extend_from_slice(fwd.client_ip.as_bytes());
    out.extend_from_slice(b"\r\nx-forwarded-proto: http\r\n");
    if let Some(host) = fwd.host {
        field(out, b"x-forwarded-host", host.as_bytes());
    }
    field(out, b"x-request-id", fwd.request_id.as_bytes());
    let host = match (head.host, fwd.host) {
        (Some(h), _) | (None, Some(h)) => h.as_bytes(),
        (None, None) => head.authority.as_bytes(),
    };
    field(out, b"host", host);
}

/// Methods whose empty body is still announced (`Content-Length: 0`), as hyper does.
fn expects_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// Appends one `name: value` line.
pub fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A final or informational response head, and what its fields say.
#[derive(Debug)]
pub struct Parsed {
    /// Hop-by-hop fields are left out unless `facts.clean()` is false. The map is empty when
    /// the fields were kept as bytes in `raw`.
    pub resp: Response<()>,
    pub facts: Facts,
    pub raw: Option<Box<RawHead>>,
}

/// Takes one complete response head off the front of `buf`; `None` when more bytes are needed.
/// Header values share the head's memory; hop-by-hop fields are left out of the map (see
/// [`crate::h1_head`]). A clean success head keeps its fields as bytes ([`RawHead`]).
pub fn parse_response(
    buf: &mut BytesMut,
    fields: &mut Fields,
) -> Result<Option<Parsed>, WireError> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let config = httparse::ParserConfig::default();
    let len = match config.parse_response_with_uninit_headers(&mut parsed, buf, &mut slots)? {
        httparse::Status::Complete(len) if len <= MAX_HEAD_BYTES => len,
        httparse::Status::Partial if buf.len() <= MAX_HEAD_BYTES => return Ok(None),
        _ => return Err(WireError::HeadTooLarge),
    };
    let code = parsed.code.unwrap_or(0);
    let status = StatusCode::from_u16(code).map_err(|_| WireError::BadStatus(code))?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    fields.clear();
    let base = buf.as_ptr() as usize;
    let facts = h1_head::scan(parsed.headers, base, version, fields)?;
    let head = buf.split_to(len).freeze();
    let mut resp = Response::new(());
    *resp.status_mut() = status;
    *resp.version_mut() = version;
    if let Some(raw) = RawHead::keep(&head, fields, &facts, status) {
        return Ok(Some(Parsed {
            resp,
            facts,
            raw: Some(raw),
        }));
    }
    let keep_hop = !facts.clean();
    let kept = fields.iter().filter(|f| keep_hop || !f.hop).count();
    // Room for what errgate adds without growing the map: the request id, and on an error
    // status (the heads that come this way) the envelope's fields.
    let room = 1 + if status.as_u16() >= 400 {
        envelope::MAX_FIELDS
    } else {
        0
    };
    let mut headers = HeaderMap::with_capacity(kept + room);
    let fields = fields.drain(..).filter(|f| keep_hop || !f.hop);
    crate::raw_head::append_fields(&head, fields, &mut headers)?;
    if facts.length_overridden() {
        // A length the body does not have must not reach the client (RFC 9112 §6.3: an
        // intermediary forwarding such a message removes it).
        headers.remove(header::CONTENT_LENGTH);
    }
    *resp.headers_mut() = headers;
    Ok(Some(Parsed {
        resp,
        facts,
        raw: None,
    }))
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the upstream closes: the connection cannot be reused.
    UntilClose,
}

/// Trailer fields of a chunked body (`block` ends with the empty line).
pub fn parse_trailers(block: &Bytes) -> Result<HeaderMap, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let fields = match httparse::parse_headers(block, &mut slots)? {
        httparse::Status::Complete((_, fields)) => fields,
        httparse::Status::Partial => return Err(WireError::BadHeader),
    };
    let mut map = HeaderMap::with_capacity(fields.len());
    for f in fields {
        let name = HeaderName::from_bytes(f.name.as_bytes()).map_err(|_| WireError::BadHeader)?;
        let value = HeaderValue::from_maybe_shared(block.slice_ref(f.value))
            .map_err(|_| WireError::BadHeader)?;
        map.append(name, value);
    }
    Ok(map)
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The hex size of a chunk-size line (`1a;ext=1`); `None` if it is not one.
pub fn chunk_size(line: &[u8]) -> Option<u64> {
    let end = line
        .iter()
        .position(|&b| b == b';' || b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    let digits = &line[..end];
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let v = (d as char).to_digit(16)?;
        Some(n * 16 + u64::from(v))
    })
}

#[cfg(test)]
#[path = "h1_wire_tests.rs"]
mod tests;
