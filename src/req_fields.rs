//! A client request's header fields on their way upstream: hyper's `HeaderMap`, or, for a
//! request errgate's own HTTP/1.1 server read ([`crate::h1_request`]), the head's bytes and
//! where each field's value is. The own server's requests then cost no map to build, look up
//! and drop (about a tenth of a small proxied request's instructions); a map is built only
//! if hyper's client sends the request (TLS endpoints, streamed bodies).

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::headers;

/// The fields of a head read by errgate's own server, in the order they came.
#[derive(Debug)]
pub struct RawFields {
    head: Bytes,
    /// Name, and where the value is in `head`.
    fields: Vec<(HeaderName, usize, usize)>,
}

impl RawFields {
    /// `fields` locate values in `head` (as `h1_request` found them).
    pub fn new(head: Bytes, fields: Vec<(HeaderName, usize, usize)>) -> RawFields {
        RawFields { head, fields }
    }
}

/// A field that must appear at most once appeared more often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeated;

/// A request's fields, as a map or as the bytes errgate's own server read.
#[derive(Debug)]
pub enum ReqFields {
    Map(HeaderMap),
    Raw(RawFields),
}

impl ReqFields {
    /// Every field, in order, with its value's bytes.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            ReqFields::Map(map) => Iter::Map(map.iter()),
            ReqFields::Raw(raw) => Iter::Raw(&raw.head, raw.fields.iter()),
        }
    }

    /// The first value of `name`'s fields.
    pub fn get_bytes(&self, name: &HeaderName) -> Option<&[u8]> {
        match self {
            ReqFields::Map(map) => map.get(name).map(HeaderValue::as_bytes),
            ReqFields::Raw(_) => self.iter().find(|(n, _)| *n == name).map(|(_, v)| v),
        }
    }

    /// The first value of `name`'s fields, sharing the head's memory.
    pub fn get(&self, name: &HeaderName) -> Option<HeaderValue> {
        match self {
            ReqFields::Map(map) => map.get(name).cloned(),
            ReqFields::Raw(raw) => raw
                .fields
                .iter()
                .find(|(n, ..)| n == name)
                .and_then(|(_, start, end)| value(&raw.head, *start, *end)),
        }
    }

    /// The value of the only field named `name`, found in one pass; [`Repeated`] if there
    /// are several.
    pub fn get_only(&self, name: &HeaderName) -> Result<Option<HeaderValue>, Repeated> {
        match self {
            ReqFields::Map(map) => {
                let mut all = map.get_all(name).iter();
                let first = all.next().cloned();
                all.next().map_or(Ok(first), |_| Err(Repeated))
            }
            ReqFields::Raw(raw) => {
                let mut named = raw.fields.iter().filter(|(n, ..)| n == name);
                let first = named.next();
                if named.next().is_some() {
                    return Err(Repeated);
                }
                Ok(first.and_then(|(_, start, end)| value(&raw.head, *start, *end)))
            }
        }
    }

    /// Whether a field named `name` (any case) is there.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            ReqFields::Map(map) => map.contains_key(name),
            ReqFields::Raw(_) => self
                .iter()
                .any(|(n, _)| n.as_str().eq_ignore_ascii_case(name)),
        }
    }

    /// The fields as a map (for hyper's client), values sharing the head's memory.
    pub fn to_map(&self) -> HeaderMap {
        match self {
            ReqFields::Map(map) => map.clone(),
            ReqFields::Raw(raw) => {
                let mut map = HeaderMap::with_capacity(raw.fields.len());
                for (name, start, end) in &raw.fields {
                    if let Some(v) = value(&raw.head, *start, *end) {
                        map.append(name.clone(), v);
                    }
                }
                map
            }
        }
    }

    /// Removes the hop-by-hop fields, as [`headers::strip_hop_by_hop`] does from a map.
    pub fn strip_hop_by_hop(&mut self) {
        let raw = match self {
            ReqFields::Map(map) => return headers::strip_hop_by_hop(map),
            ReqFields::Raw(raw) => raw,
        };
        let head = &raw.head;
        let bytes = |start: usize, end: usize| head.get(start..end).unwrap_or_default();
        let mut nominated = Vec::new();
        for (name, start, end) in &raw.fields {
            if *name == header::CONNECTION {
                headers::nominated(bytes(*start, *end), &mut nominated);
            }
        }
        raw.fields.retain(|(name, start, end)| {
            let te = *name == header::TE && !headers::is_te_trailers(bytes(*start, *end));
            !(te || headers::is_fixed_hop_by_hop(name) || nominated.contains(name))
        });
    }
}

fn value(head: &Bytes, start: usize, end: usize) -> Option<HeaderValue> {
    // httparse accepts exactly the value bytes `HeaderValue` does (see `raw_head`'s tests).
    let bytes = head.get(start..end).map(|_| head.slice(start..end))?;
    HeaderValue::from_maybe_shared(bytes).ok()
}

/// [`ReqFields::iter`].
pub enum Iter<'a> {
    Map(header::Iter<'a, HeaderValue>),
    Raw(&'a Bytes, std::slice::Iter<'a, (HeaderName, usize, usize)>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a HeaderName, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Map(it) => it.next().map(|(n, v)| (n, v.as_bytes())),
            Iter::Raw(head, it) => it
                .next()
                .map(|(n, start, end)| (n, head.get(*start..*end).unwrap_or_default())),
        }
    }
}

#[cfg(test)]
#[path = "req_fields_tests.rs"]
mod tests;
