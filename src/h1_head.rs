//! The fields of a response head read by errgate's own client ([`crate::h1_wire`]) in one
//! pass: how the body is framed (RFC 9112 §6.3), whether the connection stays open, and which
//! fields are hop-by-hop (RFC 9110 §7.6.1), so that those are left out of the header map as it
//! is built instead of being found and removed again later.
//!
//! Names are compared as bytes, case-insensitively, before any `HeaderName` exists; the common
//! ones get theirs without parsing. A `Connection` header that nominates other fields (rare)
//! keeps every field in the map: [`crate::headers::strip_hop_by_hop`] removes them later, as
//! for hyper's responses.

use http::header::{self, HeaderName};
use http::{Method, StatusCode, Version};

use crate::h1_wire::{Framing, WireError};
use crate::headers::{KEEP_ALIVE, PROXY_CONNECTION};

/// A field's name and where its value is in the head.
#[derive(Debug)]
pub struct Field {
    pub name: HeaderName,
    pub start: usize,
    pub end: usize,
    /// Hop-by-hop by the fixed rules (left out unless `Connection` nominates fields).
    pub hop: bool,
}

/// Fields of a parsed head, kept between responses for capacity.
pub type Fields = Vec<Field>;

/// What the scan needs to know about a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Connection,
    TransferEncoding,
    ContentLength,
    Te,
    /// Any other hop-by-hop field.
    Hop,
}

/// What the fields of one response head say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Whether the last `Transfer-Encoding` field ends in `chunked`; `None`: no such field.
    chunked: Option<bool>,
    /// The `Content-Length`, if every one given agrees.
    length: Option<u64>,
    /// A `Content-Length` that is not a number, or two that differ.
    bad_length: bool,
    /// The connection may carry another request after this response.
    pub keep_alive: bool,
    /// `Connection` nominates fields other than its usual options: hop-by-hop fields were
    /// kept in the map and still have to be removed.
    nominates: bool,
}

impl Facts {
    /// Hop-by-hop fields are already out of the header map.
    pub fn clean(&self) -> bool {
        !self.nominates
    }

    /// `Transfer-Encoding` and `Content-Length` both given: the encoding decides the framing.
    pub fn length_overridden(&self) -> bool {
        self.chunked.is_some() && (self.length.is_some() || self.bad_length)
    }

    /// How the body of the response to a request with `method` is delimited (RFC 9112 §6.3).
    pub fn framing(&self, method: &Method, status: StatusCode) -> Result<Framing, WireError> {
        if *method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(Framing::Empty);
        }
        match (self.chunked, self.length) {
            (Some(true), _) => Ok(Framing::Chunked),
            (Some(false), _) => Ok(Framing::UntilClose),
            _ if self.bad_length => Err(WireError::BadContentLength),
            (None, Some(0)) => Ok(Framing::Empty),
            (None, Some(n)) => Ok(Framing::Length(n)),
            (None, None) => Ok(Framing::UntilClose),
        }
    }

    /// Notes a framing or hop-by-hop field; returns whether it is hop-by-hop.
    fn note(&mut self, role: Role, value: &[u8]) -> bool {
        match role {
            Role::ContentLength => {
                self.content_length(value);
                false
            }
            Role::TransferEncoding => {
                let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
                self.chunked = Some(folded_eq(last.trim_ascii(), b"chunked"));
                true
            }
            // `TE: trailers` is end-to-end in practice (gRPC needs it); any other TE is not.
            Role::Te => !crate::headers::is_te_trailers(value),
            Role::Plain => false,
            Role::Connection | Role::Hop => true,
        }
    }

    fn content_length(&mut self, value: &[u8]) {
        // The usual value is one number: no need to split it.
        if let Some(n) = parse_length(value) {
            return self.length_part(Some(n));
        }
        for part in value.split(|&b| b == b',') {
            self.length_part(parse_length(part.trim_ascii()));
        }
    }

    fn length_part(&mut self, part: Option<u64>) {
        match part {
            Some(n) if self.length.is_none_or(|l| l == n) => self.length = Some(n),
            _ => self.bad_length = true,
        }
    }
}

/// Classifies the fields of a head (`base`: where the head starts in memory) into `fields`.
pub fn scan(
    headers: &[httparse::Header<'_>],
    base: usize,
    version: Version,
    fields: &mut Fields,
) -> Result<Facts, WireError> {
    let mut facts = Facts::default();
    let mut connection = ConnectionTokens::default();
    for h in headers {
        let (name, role) = match classify(h.name.as_bytes()) {
            Some(known) => known,
            None => (
                HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| WireError::BadHeader)?,
                Role::Plain,
            ),
        };
        let value = h.value;
        let hop = match role {
            Role::Plain => false,
            Role::Connection => {
                connection.note(value);
                true
            }
            _ => facts.note(role, value),
        };
        let start = value.as_ptr() as usize - base;
        fields.push(Field {
            name,
            start,
            end: start + value.len(),
            hop,
        });
    }
    facts.keep_alive = !connection.close && (version != Version::HTTP_10 || connection.keep_alive);
    facts.nominates = connection.nominates;
    Ok(facts)
}

/// The tokens of all `Connection` fields.
#[derive(Debug, Default)]
struct ConnectionTokens {
    close: bool,
    keep_alive: bool,
    /// A token that is not an option errgate knows: the name of a field to remove.
    nominates: bool,
}

impl ConnectionTokens {
    fn note(&mut self, value: &[u8]) {
        // The usual value is one option: no need to split it.
        if folded_eq(value, b"keep-alive") {
            self.keep_alive = true;
            return;
        }
        for token in value.split(|&b| b == b',') {
            let token = token.trim_ascii();
            let is = |option: &[u8]| folded_eq(token, option);
            if is(b"close") {
                self.close = true;
            } else if is(b"keep-alive") {
                self.keep_alive = true;
            } else if !(token.is_empty() || is(b"upgrade") || is(b"te")) {
                self.nominates = true;
            }
        }
    }
}

/// A `Content-Length` value: one to 19 decimal digits.
pub fn parse_length(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Whether `input` (a field name or part of a value) is `lower` (lower-case letters and `-`)
/// in any case. OR-ing 0x20 folds an upper-case letter onto its lower-case one, and no other
/// byte a head can hold folds onto a letter or `-` (only CR would, onto `-`), so this is
/// `eq_ignore_ascii_case`, eight bytes at a time.
fn folded_eq(input: &[u8], lower: &[u8]) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let n = input.len();
    if n != lower.len() {
        return false;
    }
    if n < 8 {
        return input.iter().zip(lower).all(|(a, b)| (a | 0x20) == *b);
    }
    // Words at 0, 8, … and one ending at `n` (overlapping the one before).
    let mut at = 0;
    loop {
        let at_end = at.min(n - 8);
        if word(input, at_end) | FOLD != word(lower, at_end) {
            return false;
        }
        if at_end == n - 8 {
            return true;
        }
        at += 8;
    }
}

fn word(bytes: &[u8], at: usize) -> u64 {
    let eight = bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok());
    eight.map_or(0, u64::from_le_bytes)
}

/// The `HeaderName` and role of a common field name, without parsing it.
fn classify(name: &[u8]) -> Option<(HeaderName, Role)> {
    use Role::{ContentLength, Hop, Plain};
    let is = |known: &[u8]| folded_eq(name, known);
    Some(match name.len() {
        2 if is(b"te") => (header::TE, Role::Te),
        4 if is(b"date") => (header::DATE, Plain),
        4 if is(b"etag") => (header::ETAG, Plain),
        4 if is(b"vary") => (header::VARY, Plain),
        6 if is(b"server") => (header::SERVER, Plain),
        7 if is(b"expires") => (header::EXPIRES, Plain),
        7 if is(b"trailer") => (header::TRAILER, Hop),
        7 if is(b"upgrade") => (header::UPGRADE, Hop),
        8 if is(b"location") => (header::LOCATION, Plain),
        10 if is(b"connection") => (header::CONNECTION, Role::Connection),
        10 if is(b"keep-alive") => (KEEP_ALIVE.clone(), Hop),
        10 if is(b"set-cookie") => (header::SET_COOKIE, Plain),
        12 if is(b"content-type") => (header::CONTENT_TYPE, Plain),
        13 if is(b"accept-ranges") => (header::ACCEPT_RANGES, Plain),
        13 if is(b"cache-control") => (header::CACHE_CONTROL, Plain),
        13 if is(b"last-modified") => (header::LAST_MODIFIED, Plain),
        14 if is(b"content-length") => (header::CONTENT_LENGTH, ContentLength),
        16 if is(b"content-encoding") => (header::CONTENT_ENCODING, Plain),
        16 if is(b"proxy-connection") => (PROXY_CONNECTION.clone(), Hop),
        17 if is(b"transfer-encoding") => (header::TRANSFER_ENCODING, Role::TransferEncoding),
        18 if is(b"proxy-authenticate") => (header::PROXY_AUTHENTICATE, Hop),
        19 if is(b"proxy-authorization") => (header::PROXY_AUTHORIZATION, Hop),
        _ => return None,
    })
}

#[cfg(test)]
#[path = "h1_head_tests.rs"]
mod tests;
