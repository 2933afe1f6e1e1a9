//! Rewrites an upstream 4xx/5xx into the envelope: reads a capped prefix of the body within the
//! request's deadline, asks [`crate::decide`] for code and message, and keeps the upstream
//! headers that still mean something to the client.

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

static CONTENT_MD5: HeaderName = HeaderName::from_static("content-md5");
static X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");
static X_ASPNET_VERSION: HeaderName = HeaderName::from_static("x-aspnet-version");
static X_ASPNETMVC_VERSION: HeaderName = HeaderName::from_static("x-aspnetmvc-version");
static X_DEBUG_TOKEN: HeaderName = HeaderName::from_static("x-debug-token");
static X_DEBUG_TOKEN_LINK: HeaderName = HeaderName::from_static("x-debug-token-link");

/// Headers that described the upstream's body, which the envelope replaces, and those that
/// name the upstream's software and versions or link to its debug profiler: an error page is
/// where scanners look for them, and the envelope hides the backend's internals.
fn body_headers() -> [&'static HeaderName; 15] {
    [
        &header::CONTENT_TYPE,
        &header::CONTENT_LENGTH,
        &header::CONTENT_ENCODING,
        &header::TRANSFER_ENCODING,
        &CONTENT_MD5,
        &header::ETAG,
        &header::CONTENT_RANGE,
        &header::CONTENT_DISPOSITION,
        &header::CONTENT_LOCATION,
        &header::SERVER,
        &X_POWERED_BY,
        &X_ASPNET_VERSION,
        &X_ASPNETMVC_VERSION,
        &X_DEBUG_TOKEN,
        &X_DEBUG_TOKEN_LINK,
    ]
}

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
    // envelope's are set in the map (parsed with room for them, see `h1_wire`). A kept head's
    // fields stay bytes: the map then holds the envelope's fields, which replace the
    // upstream's of the same names when errgate's server writes the head.
    let upstream_caches = drop_body_fields(kept.as_deref_mut(), &mut parts.headers);
    envelope::put_headers(&mut parts.headers, body.len(), &opts, !upstream_caches);
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
    head.retain(|name| !body_headers().contains(&name));
    // Room for the envelope's fields, which replace the kept ones of the same names.
    map.reserve(envelope::MAX_FIELDS);
    head.get(&header::CACHE_CONTROL).is_some()
}

/// Removes the upstream's fields that described its body.
fn remove_body_headers(upstream: &mut HeaderMap) {
    // One pass over the (few) fields finds which body headers are there, so only those are
    // looked up again to be removed (each removal hashes its name).
    let doomed = body_headers();
    let mut present = [false; 15];
    for name in upstream.keys() {
        if let Some(i) = doomed.iter().position(|d| *d == name) {
            present[i] = true;
        }
    }
    for (name, _) in doomed.iter().zip(present).filter(|(_, p)| *p) {
        upstream.remove(*name);
    }
}

/// Reads at most `cap` bytes before `deadline`; `complete` is false if the body was longer,
/// failed, or stalled.
async fn read_capped(mut body: UpstreamBody, cap: usize, deadline: Instant) -> (Bytes, bool) {
    let mut buf = BytesMut::new();
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let room = cap - buf.len();
            if data.len() > room {
                buf.extend_from_slice(&data[..room]);
                return false;
            }
            buf.extend_from_slice(&data);
        }
        true
    };
    match tokio::time::timeout_at(deadline, read).await {
        Ok(complete) => (buf.freeze(), complete),
        Err(_) => (Bytes::new(), false),
    }
}
