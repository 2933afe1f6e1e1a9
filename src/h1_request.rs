//! Request heads for errgate's own HTTP/1.1 server ([`crate::h1_server`]): parsed with
//! httparse, field values sharing the read buffer, and only the requests that loop serves
//! (HTTP/1.1, no upgrade, no `Expect`, and no body or a small `Content-Length` body that
//! arrived with the head); anything else goes to hyper untouched.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName};
use http::{Method, Request, Uri, Version};

use crate::h1_head::parse_length;
use crate::proxy::{ClientBody, ClientRequest};
use crate::req_fields::RawFields;

/// Names and value positions of a head's fields, kept between requests for capacity.
pub type Fields = Vec<(HeaderName, usize, usize)>;

/// Header fields accepted in a request head here; more go to hyper (which has the same limit).
const MAX_HEADERS: usize = 100;

/// The largest body served here: one that is already in the read buffer with its head (an API
/// call's JSON). A larger body, one still on its way, or a chunked one goes to hyper, which
/// streams it.
pub const MAX_BODY: u64 = 8 * 1024;

#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    /// The request (its header map empty; its body read whole), its fields, and whether the
    /// client asked to close.
    Request(ClientRequest, RawFields, bool),
    Partial,
    Handover,
}

/// One request head off the front of `buf`, if it is one this loop serves.
pub fn parse(buf: &mut BytesMut, fields: &mut Fields) -> Parsed {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let config = httparse::ParserConfig::default();
    let len = match config.parse_request_with_uninit_headers(&mut parsed, buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Handover,
    };
    let (Some(1), Some(method), Some(target)) = (parsed.version, parsed.method, parsed.path) else {
        return Parsed::Handover;
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return Parsed::Handover;
    };
    let base = buf.as_ptr() as usize;
    let target_at = target.as_ptr() as usize - base;
    let target = target_at..target_at + target.len();
    let Some((close, body_len)) = served_fields(parsed.headers, base, fields) else {
        return Parsed::Handover;
    };
    // A body still on its way is hyper's to read: it streams it, within the route's deadline.
    if method == Method::CONNECT || buf.len() - len < body_len {
        return Parsed::Handover;
    }
    let head = buf.split_to(len).freeze();
    match build(method, head.slice(target)) {
        Some(mut req) => {
            if body_len > 0 {
                *req.body_mut() = Some(ClientBody::Read(buf.split_to(body_len).freeze()));
            }
            let room = fields.capacity();
            let fields = std::mem::replace(fields, Vec::with_capacity(room));
            Parsed::Request(req, RawFields::new(head, fields), close)
        }
        None => {
            // Put the head back for hyper (rare: a target http refuses).
            let mut whole = BytesMut::from(&head[..]);
            whole.extend_from_slice(buf);
            *buf = whole;
            Parsed::Handover
        }
    }
}

/// Collects the fields; `None` if the request is not one this loop serves, else whether the
/// client asked to close and the body's length.
fn served_fields(
    list: &[httparse::Header<'_>],
    base: usize,
    fields: &mut Fields,
) -> Option<(bool, usize)> {
    fields.clear();
    let mut close = false;
    let mut body_len = None;
    for h in list {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        if name == header::CONTENT_LENGTH {
            // One field of plain digits, small: anything else (repeats included) is hyper's.
            body_len.is_none().then_some(())?;
            body_len = Some(small_length(h.value)?);
        } else if name == header::TRANSFER_ENCODING
            || name == header::EXPECT
            || name == header::UPGRADE
        {
            return None;
        } else if name == header::CONNECTION {
            close |= h
                .value
                .split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        }
        let start = h.value.as_ptr() as usize - base;
        fields.push((name, start, start + h.value.len()));
    }
    Some((close, body_len.unwrap_or(0)))
}

/// A `Content-Length` value of at most [`MAX_BODY`]: 1 to 5 ASCII digits, nothing else.
fn small_length(value: &[u8]) -> Option<usize> {
    let n = parse_length(value).filter(|&n| value.len() <= 5 && n <= MAX_BODY)?;
    usize::try_from(n).ok()
}

/// The request without its fields, which stay bytes ([`RawFields`]).
fn build(method: Method, target: Bytes) -> Option<ClientRequest> {
    let uri = Uri::from_maybe_shared(target).ok()?;
    let mut req = Request::new(None);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = Version::HTTP_11;
    Some(req)
}

#[cfg(test)]
#[path = "h1_request_tests.rs"]
mod tests;
