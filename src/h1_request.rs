//! Request heads for errgate's own HTTP/1.1 server ([`crate::h1_server`]): parsed with
//! httparse, field values sharing the read buffer, and only the requests that loop serves
//! (HTTP/1.1, no body, no upgrade, no `Expect`); anything else goes to hyper untouched.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName};
use http::{Method, Request, Uri, Version};

use crate::proxy::ClientRequest;
use crate::req_fields::RawFields;

/// Names and value positions of a head's fields, kept between requests for capacity.
pub type Fields = Vec<(HeaderName, usize, usize)>;

/// Header fields accepted in a request head here; more go to hyper (which has the same limit).
const MAX_HEADERS: usize = 100;

#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    /// The request (its header map empty), its fields, and whether the client asked to close.
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
    let Some(close) = served_fields(parsed.headers, base, fields) else {
        return Parsed::Handover;
    };
    if method == Method::CONNECT {
        return Parsed::Handover;
    }
    let head = buf.split_to(len).freeze();
    match build(method, head.slice(target)) {
        Some(req) => {
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
/// client asked to close.
fn served_fields(list: &[httparse::Header<'_>], base: usize, fields: &mut Fields) -> Option<bool> {
    fields.clear();
    let mut close = false;
    for h in list {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        if name == header::CONTENT_LENGTH {
            (h.value == b"0").then_some(())?;
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
    Some(close)
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
