//! The failure envelope `{"success":false,"message":…,"error":…}` and the responses that carry
//! it, including errgate's own failures (DESIGN §2) with their RFC 9209 `Proxy-Status`.
//!
//! The body is written by hand rather than through a serde struct: the contract fixes the key
//! order, and three keys do not justify a derive plus a fallible serializer on the error path.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::catalog::Catalog;
use crate::codes;
use crate::raw_head::SetField;

#[path = "envelope_json.rs"]
mod json;
use json::push_json_string;

/// Longest `message`, in characters (DESIGN §1).
pub const MAX_MESSAGE_CHARS: usize = 300;

pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

pub static PROXY_STATUS: HeaderName = HeaderName::from_static("proxy-status");

/// The `Proxy-Status` member name errgate reports itself as.
pub const PROXY_NAME: &str = "errgate";

const ELLIPSIS: char = '…';

/// A word-boundary cut that would throw away more than this share of the allowed length is
/// worse than a hard cut (one huge token after a short prefix), so below it we cut hard.
const MIN_WORD_CUT_CHARS: usize = MAX_MESSAGE_CHARS * 2 / 3;

/// What varies between envelope responses besides status, code and message.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvelopeOpts<'a> {
    /// Set when the message came from the catalog; upstream messages are not labelled.
    pub content_language: Option<&'a str>,
    /// An RFC 9209 error type, e.g. `connection_timeout`, for failures errgate generated.
    pub proxy_status: Option<&'a str>,
    /// RFC 9209 `details`: which of errgate's limits expired (`try_timeout`, ...).
    pub proxy_details: Option<&'static str>,
    /// A `HEAD` request: same headers, including the would-be `Content-Length`, no body.
    pub head: bool,
}

/// `msg` cut to [`MAX_MESSAGE_CHARS`] characters, at a word boundary when one is near, with `…`
/// appended. Cuts between `char`s, so a combining mark may lose its base character.
pub fn truncate_message(msg: &str) -> Cow<'_, str> {
    // No more bytes than the limit means no more characters either.
    if msg.len() <= MAX_MESSAGE_CHARS || msg.char_indices().nth(MAX_MESSAGE_CHARS).is_none() {
        return Cow::Borrowed(msg);
    }
    // Keep one character of room for the ellipsis.
    let keep = MAX_MESSAGE_CHARS - 1;
    let end = msg.char_indices().nth(keep).map_or(msg.len(), |(i, _)| i);
    let (head, rest) = msg.split_at(end);
    let cut = if rest.starts_with(char::is_whitespace) {
        head
    } else {
        head.rfind(char::is_whitespace)
            .map(|i| &head[..i])
            .filter(|word_cut| word_cut.chars().count() >= MIN_WORD_CUT_CHARS)
            .unwrap_or(head)
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    let mut out = String::with_capacity(cut.len() + ELLIPSIS.len_utf8());
    out.push_str(cut);
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// The envelope body; `message` is truncated here so no caller can exceed the limit.
pub fn body(code: &str, message: &str) -> Bytes {
    let message = truncate_message(message);
    // A `Vec` whose length is its capacity becomes `Bytes` without a second allocation.
    let mut out = Vec::with_capacity(unescaped_len(code, &message));
    out.extend_from_slice(OPEN);
    push_json_string(&mut out, &message);
    out.extend_from_slice(BETWEEN);
    push_json_string(&mut out, code);
    out.push(b'}');
    Bytes::from(out)
}

const OPEN: &[u8] = br#"{"success":false,"message":"#;
const BETWEEN: &[u8] = br#","error":"#;

/// The envelope's length when nothing in `code` or `message` needs escaping (the usual case).
fn unescaped_len(code: &str, message: &str) -> usize {
    let quotes = 4;
    OPEN.len() + message.len() + BETWEEN.len() + code.len() + quotes + "}".len()
}

/// The most fields [`put_headers`] sets.
pub const MAX_FIELDS: usize = 5;

/// A complete envelope response with the contract's headers.
pub fn response(
    status: StatusCode,
    code: &str,
    message: &str,
    opts: &EnvelopeOpts<'_>,
) -> Response<Bytes> {
    let body = body(code, message);
    let mut headers = HeaderMap::with_capacity(MAX_FIELDS);
    put_headers(&mut headers, Some(body.len()), opts, true);
    let mut response = Response::new(if opts.head { Bytes::new() } else { body });
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The contract's headers for an envelope, replacing fields of the same names. `len` is the
/// envelope's length, for `Content-Length`; `None` leaves the field to the server, which
/// writes the length of the body it sends. `Cache-Control: no-store` only if `cache_control`.
pub fn put_headers(
    headers: &mut impl SetField,
    len: Option<usize>,
    opts: &EnvelopeOpts<'_>,
    cache_control: bool,
) {
    headers.set_field(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
    if let Some(len) = len {
        headers.set_field(CONTENT_LENGTH, HeaderValue::from(len));
    }
    if cache_control {
        // An error is about this request only; a cached 503 would outlive the outage.
        headers.set_field(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = opts
        .content_language
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.set_field(CONTENT_LANGUAGE, lang);
    }
    let proxy_status = opts.proxy_status;
    if let Some(value) = proxy_status.and_then(|t| proxy_status_value(t, opts.proxy_details)) {
        headers.set_field(PROXY_STATUS.clone(), value);
    }
}

/// `errgate; error=<type>[; details="<details>"]`; `None` for a type or details that is not a
/// plain token, since splicing it into a structured field could forge parameters.
fn proxy_status_value(error_type: &str, details: Option<&str>) -> Option<HeaderValue> {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let is_token = token(error_type) && details.is_none_or(token);
    let value = match details {
        Some(d) => format!("{PROXY_NAME}; error={error_type}; details=\"{d}\""),
        None => format!("{PROXY_NAME}; error={error_type}"),
    };
    is_token
        .then(|| HeaderValue::try_from(value).ok())
        .flatten()
}

/// The failures errgate generates itself; DESIGN §2 fixes status and code, RFC 9209 §2.3 the
/// `Proxy-Status` error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnFailure {
    /// No route matches the request.
    RouteNotFound,
    /// Every attempt's connection was refused.
    UpstreamRefused,
    /// No route to the upstream's address.
    UpstreamUnreachable,
    /// The upstream's host name did not resolve.
    UpstreamDnsError,
    /// The TLS handshake with the upstream failed.
    UpstreamTlsError,
    /// Every attempt hit `connect_timeout`; the route deadline had not passed.
    ConnectTimeout,
    /// The upstream closed or reset the connection before a complete response head.
    UpstreamReset,
    /// The upstream's response head ended early (EOF inside the head).
    UpstreamIncompleteHead,
    /// The upstream sent an invalid response head.
    UpstreamProtocolError,
    /// The route deadline (or every attempt's `try_timeout`) passed before a response head.
    UpstreamTimeout,
    /// Every endpoint is ejected or its circuit is open.
    NoHealthyEndpoint,
    /// The concurrency limit was reached and the request was shed.
    Overloaded,
    /// The request body is over `max_request_body_bytes`.
    PayloadTooLarge,
    /// The request is malformed.
    BadRequest,
    /// The client was too slow sending its request head.
    RequestHeadTimeout,
}

impl OwnFailure {
    pub const ALL: [OwnFailure; 15] = [
        Self::RouteNotFound,
        Self::UpstreamRefused,
        Self::UpstreamUnreachable,
        Self::UpstreamDnsError,
        Self::UpstreamTlsError,
        Self::ConnectTimeout,
        Self::UpstreamReset,
        Self::UpstreamIncompleteHead,
        Self::UpstreamProtocolError,
        Self::UpstreamTimeout,
        Self::NoHealthyEndpoint,
        Self::Overloaded,
        Self::PayloadTooLarge,
        Self::BadRequest,
        Self::RequestHeadTimeout,
    ];

    pub fn status(&self) -> StatusCode {
        match self {
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::UpstreamRefused
            | Self::UpstreamUnreachable
            | Self::UpstreamDnsError
            | Self::UpstreamTlsError
            | Self::ConnectTimeout
            | Self::UpstreamReset
            | Self::UpstreamIncompleteHead
            | Self::UpstreamProtocolError => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::NoHealthyEndpoint | Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::RequestHeadTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::RouteNotFound => codes::ROUTE_NOT_FOUND,
            Self::UpstreamRefused
            | Self::UpstreamUnreachable
            | Self::UpstreamDnsError
            | Self::UpstreamTlsError
            | Self::ConnectTimeout
            | Self::NoHealthyEndpoint => codes::UPSTREAM_UNAVAILABLE,
            Self::UpstreamReset | Self::UpstreamIncompleteHead | Self::UpstreamProtocolError => {
                codes::BAD_GATEWAY
            }
            Self::UpstreamTimeout => codes::UPSTREAM_TIMEOUT,
            Self::Overloaded => codes::OVERLOADED,
            Self::PayloadTooLarge => codes::PAYLOAD_TOO_LARGE,
            Self::BadRequest => codes::BAD_REQUEST,
            Self::RequestHeadTimeout => codes::REQUEST_TIMEOUT,
        }
    }

    /// The RFC 9209 §2.3 proxy error type for `Proxy-Status`.
    pub fn proxy_status(&self) -> &'static str {
        match self {
            Self::RouteNotFound => "destination_not_found",
            Self::UpstreamRefused => "connection_refused",
            Self::UpstreamUnreachable => "destination_ip_unroutable",
            Self::UpstreamDnsError => "dns_error",
            Self::UpstreamTlsError => "tls_protocol_error",
            Self::ConnectTimeout => "connection_timeout",
            Self::UpstreamReset => "connection_terminated",
            Self::UpstreamIncompleteHead => "http_response_incomplete",
            Self::UpstreamProtocolError => "http_protocol_error",
            Self::UpstreamTimeout => "http_response_timeout",
            Self::NoHealthyEndpoint => "destination_unavailable",
            Self::Overloaded => "connection_limit_reached",
            // A 4xx generated on the origin's behalf.
            Self::PayloadTooLarge | Self::BadRequest | Self::RequestHeadTimeout => {
                "http_request_error"
            }
        }
    }

    /// The envelope for this failure with the catalog message in `lang` (see
    /// [`Catalog::message`]); `Content-Language` names the language actually used.
    pub fn response(
        &self,
        catalog: &Catalog,
        lang: &str,
        default_lang: &str,
        head: bool,
    ) -> Response<Bytes> {
        let (status, code) = (self.status(), self.code());
        let message = catalog.message(code, status.as_u16(), lang, default_lang);
        let opts = EnvelopeOpts {
            content_language: Some(message.lang),
            proxy_status: Some(self.proxy_status()),
            proxy_details: None,
            head,
        };
        response(status, code, message.text, &opts)
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
