//! What the client sent, as the request path takes it from either server: the request with
//! its body (fields travel beside it), the host it addressed, and the length it declared.

use bytes::Bytes;
use http::Request;
use http::header::{self, HeaderValue};
use hyper::body::{Body, Incoming};

use crate::error::ProxyError;
use crate::req_fields::ReqFields;

/// A client request's body, if it has one.
#[derive(Debug)]
pub enum ClientBody {
    /// On its way from hyper's server.
    Incoming(Incoming),
    /// Read whole with the head by errgate's own HTTP/1.1 server (a small `Content-Length`
    /// body that had arrived with it).
    Read(Bytes),
}

/// A client request. Its fields travel beside it ([`ReqFields`]); its own header map is
/// empty.
pub type ClientRequest = Request<Option<ClientBody>>;

impl ClientBody {
    /// The least the body holds: its length when read, hyper's lower bound otherwise.
    pub fn len_hint(&self) -> u64 {
        match self {
            ClientBody::Incoming(b) => b.size_hint().lower(),
            ClientBody::Read(b) => b.len() as u64,
        }
    }
}

/// The host the client addressed: the URI authority (HTTP/2, absolute-form) or `Host`.
/// More than one `Host` is refused, and so is an HTTP/1.1 request that names no host at all,
/// neither in `Host` nor in an absolute-form target (RFC 9112 §3.2, as nginx and HAProxy do):
/// proxies that pick different ones can be played against each other, and routing by host
/// needs the host.
pub fn request_host(
    version: http::Version,
    uri: &http::Uri,
    fields: &ReqFields,
) -> Result<Option<HeaderValue>, ProxyError> {
    let host = fields
        .get_only(&header::HOST)
        .map_err(|_| ProxyError::BadRequest("host"))?;
    match uri.authority() {
        Some(auth) => Ok(HeaderValue::from_str(auth.as_str()).ok()),
        None if host.is_none() && version == http::Version::HTTP_11 => {
            Err(ProxyError::BadRequest("host"))
        }
        None => Ok(host),
    }
}

/// The request's `Content-Length`, when it has one that reads as a number.
pub fn declared_length(fields: &ReqFields) -> Option<u64> {
    let text = std::str::from_utf8(fields.get_bytes(&header::CONTENT_LENGTH)?).ok()?;
    text.parse().ok()
}
