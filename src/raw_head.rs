//! An upstream response head kept as the bytes errgate's own client read, for a response that
//! goes out unchanged: errgate's own HTTP/1.1 server copies the fields from these bytes into
//! the client's head, and no `HeaderMap` is built and torn down again on the way (about a
//! tenth of a small proxied request's instructions).
//!
//! Only a clean head is kept this way: hop-by-hop fields already left out by
//! [`crate::h1_head::scan`], no length overridden by the encoding, and not a 429 or 503 (their
//! `Retry-After` is read from the map while retrying). An error head kept this way is rewritten
//! into the envelope without a map too ([`crate::normalize`]). Whatever needs the fields as a
//! map (hyper's server) builds it with [`materialize`] first; [`crate::proxy`] does that for
//! every response of a client that hyper serves.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};

use crate::h1_head::{Facts, Field, Fields};
use crate::h1_wire::WireError;
use crate::upstream_body::UpstreamBody;

/// The head's bytes and its end-to-end fields (name and where the value is).
#[derive(Debug)]
pub struct RawHead {
    head: Bytes,
    fields: Fields,
    /// Fields errgate set ([`RawHead::set`]), written after the upstream's.
    added: Vec<(HeaderName, HeaderValue)>,
}

impl RawHead {
    /// Keeps `head` as bytes when it may go out unchanged; `fields` (hop-by-hop ones marked)
    /// are taken, and `fields` is left empty with room for the next head.
    /// Boxed: the response it rides on is moved several times, and a box moves in 8 bytes.
    pub fn keep(
        head: &Bytes,
        fields: &mut Fields,
        facts: &Facts,
        status: StatusCode,
    ) -> Option<Box<Self>> {
        let retry_after = matches!(status.as_u16(), 429 | 503);
        if retry_after || !facts.clean() || facts.length_overridden() {
            return None;
        }
        let room = fields.capacity();
        let mut fields = std::mem::replace(fields, Vec::with_capacity(room));
        fields.retain(|f| !f.hop);
        Some(Box::new(RawHead {
            head: head.clone(),
            fields,
            added: Vec::new(),
        }))
    }

    /// The fields in the order they came, with their values' bytes.
    pub fn fields(&self) -> impl Iterator<Item = (&HeaderName, &[u8])> {
        self.fields
            .iter()
            .map(|f| (&f.name, self.head.get(f.start..f.end).unwrap_or_default()))
    }

    /// The value of the first field named `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&[u8]> {
        self.fields().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Keeps only the upstream's fields whose name passes `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&HeaderName) -> bool) {
        self.fields.retain(|f| keep(&f.name));
    }

    /// Sets a field of errgate's, replacing the upstream's fields of that name (and one set
    /// before): cheaper than a header map for the few fields an error rewrite sets.
    pub fn set(&mut self, name: HeaderName, value: HeaderValue) {
        self.fields.retain(|f| f.name != name);
        self.added.retain(|(n, _)| *n != name);
        self.added.push((name, value));
    }

    /// The fields errgate set, in the order they were set.
    pub fn added(&self) -> impl Iterator<Item = (&HeaderName, &[u8])> {
        self.added.iter().map(|(n, v)| (n, v.as_bytes()))
    }

    /// The fields as a map, values sharing the head's memory. errgate's own fields (those
    /// [`RawHead::set`] and those in `own`) replace the upstream's fields of the same name.
    pub fn into_map(self, own: HeaderMap) -> HeaderMap {
        self.into_map_with_room(own, 0)
    }

    /// [`RawHead::into_map`], with room for `room` more fields without growing the map.
    pub fn into_map_with_room(self, own: HeaderMap, room: usize) -> HeaderMap {
        let ours = self.added.len() + own.len();
        let mut map = HeaderMap::with_capacity(self.fields.len() + ours + room);
        // httparse accepts exactly the value bytes `HeaderValue` does (a test checks all 256)
        // and the positions are the scan's, so this cannot fail in practice.
        let _ = append_fields(&self.head, self.fields, &mut map);
        for (name, value) in self.added {
            map.insert(name, value);
        }
        map.extend(own);
        map
    }
}

/// Where [`crate::envelope::put_headers`] sets the envelope's fields: a response's header map,
/// or an upstream head kept as bytes, which spares an error rewrite the map.
pub trait SetField {
    /// Sets `name` to `value`, replacing any field of that name.
    fn set_field(&mut self, name: HeaderName, value: HeaderValue);
}

impl SetField for HeaderMap {
    fn set_field(&mut self, name: HeaderName, value: HeaderValue) {
        self.insert(name, value);
    }
}

impl SetField for RawHead {
    fn set_field(&mut self, name: HeaderName, value: HeaderValue) {
        self.set(name, value);
    }
}

/// Builds the header map of a response whose head was kept as bytes, with room for `room`
/// more fields; a no-op otherwise.
pub fn materialize(resp: &mut Response<UpstreamBody>, room: usize) {
    if let Some(raw) = resp.body_mut().take_raw_head() {
        let added = std::mem::take(resp.headers_mut());
        *resp.headers_mut() = raw.into_map_with_room(added, room);
    }
}

/// Appends `fields` to `map`, their values slices of `head` (no copies).
pub fn append_fields(
    head: &Bytes,
    fields: impl IntoIterator<Item = Field>,
    map: &mut HeaderMap,
) -> Result<(), WireError> {
    let mut length: Option<&[u8]> = None;
    for f in fields {
        let Some(bytes) = head.get(f.start..f.end) else {
            return Err(WireError::BadHeader);
        };
        let mut end = f.end;
        if f.name == header::CONTENT_LENGTH {
            // Agreeing repeats (`2, 2`, or a second field saying 2) go on as one number:
            // hyper's server answers nothing at all to a length it cannot take. Lengths that
            // disagree are left for the framing to refuse.
            if let Some(number) = agreed_length(bytes) {
                match length {
                    Some(seen) if seen == number => continue,
                    Some(_) => {}
                    None => {
                        length = Some(number);
                        end = f.start + number.len();
                    }
                }
            }
        }
        let value = HeaderValue::from_maybe_shared(head.slice(f.start..end))
            .map_err(|_| WireError::BadHeader)?;
        map.append(f.name, value);
    }
    Ok(())
}

/// The one number a `Content-Length` value says, if its list elements all agree (`7, 7`).
pub fn agreed_length(value: &[u8]) -> Option<&[u8]> {
    let mut parts = value.split(|&b| b == b',').map(<[u8]>::trim_ascii);
    let first = parts.next()?;
    parts.all(|p| p == first).then_some(first)
}

#[cfg(test)]
#[path = "raw_head_tests.rs"]
mod tests;
