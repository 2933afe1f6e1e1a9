//! Rewrites an upstream 4xx/5xx into the envelope: reads a capped prefix of the body within the
//! request's deadline, asks [`crate::decide`] for code and message, and keeps the upstream
//! headers that still mean something to the client.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use http::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt;
use tokio::time::Instant;

use crate::body::ResponseBody;
use crate::decide::{self, Decision, Inspected};
use crate::envelope::{self, EnvelopeOpts};
use crate::gateway::{Gateway, RouteEntry};
use crate::headers;
use crate::locale;
use crate::raw_head::RawHead;
use crate::upstream_body::UpstreamBody;

/// Declares the list of [`BODY_HEADERS`] and a matcher for it, from one list of names.
macro_rules! body_headers {
    ($($name:literal),* $(,)?) => {
        /// Headers that described the upstream's body, which the envelope replaces, and those
        /// that name the upstream's software and versions or link to its debug profiler: an
        /// error page is where scanners look for them, and the envelope hides the backend's
        /// internals.
        const BODY_HEADERS: &[&str] = &[$($name),*];

        /// Whether `name` (lowercase, as `HeaderName` keeps it) is one of [`BODY_HEADERS`]:
        /// a match on the string, which the compiler turns into a switch on its length.
        fn is_body_header(name: &str) -> bool {
            matches!(name, $($name)|*)
        }
    };
}

body_headers!(
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "content-md5",
    "etag",
    "content-range",
    "content-disposition",
    "content-location",
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-debug-token",
    "x-debug-token-link",
);

/// Whether a response with this status is rewritten.
pub fn wants_rewrite(entry: &RouteEntry, status: http::StatusCode) -> bool {
    entry.route.normalize && (status.is_client_error() || status.is_server_error())
}

/// The request facts the rewrite needs.
pub struct Ctx<'a> {
    pub accept_language: Option<&'a HeaderValue>,
    pub head: bool,
    pub deadline: Instant,
}

/// The envelope response for an upstream error, and the decision behind it.
pub async fn rewrite<'g>(
    gw: &'g Gateway,
    entry: &'g RouteEntry,
    mut resp: Response<UpstreamBody>,
    ctx: Ctx<'_>,
) -> (Response<ResponseBody>, Decision<'g>) {
    // A head kept as bytes (errgate's own client, for errgate's own server) is rewritten
    // without ever building a map of the upstream's fields.
    let mut kept = resp.body_mut().take_raw_head();
    let (mut parts, body) = resp.into_parts();
    let cap = gw.config.errors.max_inspect_bytes;
    let (raw, complete) = read_capped(body, cap, ctx.deadline).await;
    let text_header = |name: &HeaderName| match &kept {
        Some(head) => head.get(name).and_then(headers::visible_text),
        None => parts.headers.get(name).and_then(|v| v.to_str().ok()),
    };
    let insp = Inspected {
        status: parts.status.as_u16(),
        content_type: text_header(&header::CONTENT_TYPE),
        content_encoding: text_header(&header::CONTENT_ENCODING),
        body: &raw,
        complete,
    };
    let default_lang = gw.config.errors.default_locale.as_str();
    let accept = ctx.accept_language.map(HeaderValue::as_bytes);
    let lang = locale::negotiate(accept, &gw.catalog, default_lang);
    let decision = decide::decide(&insp, &entry.route, &gw.config.errors, &gw.catalog, lang);

    let opts = EnvelopeOpts {
        content_language: decision.content_language,
        proxy_status: None,
        proxy_details: None,
        head: ctx.head,
    };
    let body = envelope::body(&decision.code, &decision.message);
    // The upstream's meaningful headers stay; those that described its body go, and the
    // envelope's are set, replacing the upstream's of the same names: in the map (parsed
    // with room for them, see `h1_wire`), or in a kept head, whose fields stay bytes and
    // which then needs no map at all.
    let upstream_caches = drop_body_fields(kept.as_deref_mut(), &mut parts.headers);
    // A HEAD answer carries the length the envelope would have; for any other the server
    // writes the length of the envelope it sends (saving a field built on every error).
    let len = ctx.head.then_some(body.len());
    match kept.as_deref_mut() {
        Some(head) => envelope::put_headers(head, len, &opts, !upstream_caches),
        None => envelope::put_headers(&mut parts.headers, len, &opts, !upstream_caches),
    }
    let body = if ctx.head { Bytes::new() } else { body };
    (
        Response::from_parts(parts, ResponseBody::full_after(body, kept)),
        decision,
    )
}

/// Drops the upstream's fields that described its body, from the kept head if there is one,
/// else from the map; returns whether the upstream said how to cache the response.
fn drop_body_fields(kept: Option<&mut RawHead>, map: &mut HeaderMap) -> bool {
    let Some(head) = kept else {
        remove_body_headers(map);
        return map.contains_key(header::CACHE_CONTROL);
    };
    head.retain(|name| !is_body_header(name.as_str()));
    head.get(&header::CACHE_CONTROL).is_some()
}

/// Removes the upstream's fields that described its body.
fn remove_body_headers(upstream: &mut HeaderMap) {
    // One pass over the (few) fields finds which body headers are there, so only those are
    // looked up again to be removed (each removal hashes its name).
    let mut present = [false; BODY_HEADERS.len()];
    for name in upstream.keys() {
        if let Some(i) = BODY_HEADERS.iter().position(|d| *d == name.as_str()) {
            present[i] = true;
        }
    }
    for (name, _) in BODY_HEADERS.iter().zip(present).filter(|(_, p)| *p) {
        upstream.remove(*name);
    }
}

/// Reads at most `cap` bytes before `deadline`; `complete` is false if the body was longer,
/// failed, or stalled. A body that is already here (an error page usually comes in the same
/// read as its head) is taken as it is, without a copy, and without building a timer.
async fn read_capped(mut body: UpstreamBody, cap: usize, deadline: Instant) -> (Bytes, bool) {
    let mut got = Capped {
        cap,
        first: Bytes::new(),
        more: None,
    };
    let complete = {
        let mut read = pin!(read_into(&mut body, &mut got));
        match poll_once(read.as_mut()).await {
            Some(complete) => complete,
            None => match tokio::time::timeout_at(deadline, read).await {
                Ok(complete) => complete,
                Err(_) => return (Bytes::new(), false),
            },
        }
    };
    (got.into_bytes(), complete)
}

/// Reads `body` into `got`; false if it failed or was longer than the cap.
async fn read_into(body: &mut UpstreamBody, got: &mut Capped) -> bool {
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return false };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if !got.push(data) {
            return false;
        }
    }
    true
}

/// `fut`'s output if it is ready at its first poll.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Option<F::Output> {
    poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// A body's bytes up to a cap: the first piece as it came, later ones appended to a copy.
struct Capped {
    cap: usize,
    first: Bytes,
    more: Option<BytesMut>,
}

impl Capped {
    /// Adds `data`, cut to the room left; false if it did not fit whole.
    fn push(&mut self, mut data: Bytes) -> bool {
        if data.is_empty() {
            // Nothing to keep; it must not turn a whole first piece into a copy either.
            return true;
        }
        let room = self.cap.saturating_sub(self.len());
        let fits = data.len() <= room;
        data.truncate(room);
        match &mut self.more {
            Some(more) => more.extend_from_slice(&data),
            None if self.first.is_empty() => self.first = data,
            None => {
                let mut more = BytesMut::with_capacity(self.first.len() + data.len());
                more.extend_from_slice(&self.first);
                more.extend_from_slice(&data);
                self.more = Some(more);
            }
        }
        fits
    }

    fn len(&self) -> usize {
        self.more.as_ref().map_or(self.first.len(), BytesMut::len)
    }

    fn into_bytes(self) -> Bytes {
        self.more.map_or(self.first, BytesMut::freeze)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(cap: usize) -> Capped {
        Capped {
            cap,
            first: Bytes::new(),
            more: None,
        }
    }

    #[test]
    fn one_piece_is_kept_without_a_copy_and_later_ones_are_appended_up_to_the_cap() {
        let piece = Bytes::from_static(b"ab");
        let mut one = capped(5);
        assert!(one.push(piece.clone()));
        assert!(one.push(Bytes::new()), "an empty frame after it");
        assert_eq!(one.into_bytes().as_ptr(), piece.as_ptr());

        let mut got = capped(5);
        assert!(got.push(piece));
        assert!(got.push(Bytes::new()));
        assert!(got.push(Bytes::from_static(b"cd")));
        assert!(!got.push(Bytes::from_static(b"efg")));
        assert!(!got.push(Bytes::from_static(b"h")));
        assert_eq!(got.into_bytes(), "abcde");
    }

    #[test]
    fn a_first_piece_over_the_cap_is_cut() {
        let mut got = capped(3);
        assert!(!got.push(Bytes::from_static(b"abcdef")));
        assert_eq!(got.into_bytes(), "abc");
    }
}
