//! The failures of a proxied request, and the one place that says what each one looks like to a
//! client: status, error code and RFC 9209 `Proxy-Status` error type.
//!
//! Upstream errors are classified by walking their `source()` chain and asking hyper's own
//! predicates, never by reading `Display` text.

use std::error::Error as StdError;
use std::io;

use http::StatusCode;

use crate::body::{BodyTooLarge, BoxError, ClientBodyError};
use crate::codes;

/// How a connection attempt failed; each is a different `Proxy-Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectKind {
    Refused,
    Timeout,
    Tls,
    TlsCertificate,
    Other,
}

/// Everything that can end a proxied request without an upstream response to pass on.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no route matches the request")]
    NoRoute,
    #[error("malformed request: {0}")]
    BadRequest(&'static str),
    #[error("request body is over the limit")]
    BodyTooLarge,
    #[error("the client's request body failed")]
    ClientBody(#[source] BoxError),
    #[error("could not connect to the upstream ({kind:?})")]
    Connect {
        kind: ConnectKind,
        #[source]
        source: BoxError,
    },
    #[error("the upstream closed or reset the connection before a response head")]
    Reset(#[source] BoxError),
    #[error("the upstream sent an invalid response head")]
    Protocol(#[source] BoxError),
    #[error("no response head within the attempt's timeout")]
    TryTimeout,
    #[error("the route's deadline passed before a response head")]
    Deadline,
    #[error("the client did not send its request body in time")]
    ClientTimeout,
    #[error("every endpoint of the upstream is ejected")]
    NoHealthyEndpoint,
    #[error("the upstream is at max_concurrent_requests")]
    Overloaded,
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoRoute => StatusCode::NOT_FOUND,
            ProxyError::BadRequest(_) | ProxyError::ClientBody(_) => StatusCode::BAD_REQUEST,
            ProxyError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::Connect { .. } | ProxyError::Reset(_) | ProxyError::Protocol(_) => {
                StatusCode::BAD_GATEWAY
            }
            ProxyError::TryTimeout | ProxyError::Deadline => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
            ProxyError::NoHealthyEndpoint | ProxyError::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::NoRoute => codes::ROUTE_NOT_FOUND,
            ProxyError::BadRequest(_) | ProxyError::ClientBody(_) => codes::BAD_REQUEST,
            ProxyError::BodyTooLarge => codes::PAYLOAD_TOO_LARGE,
            ProxyError::Connect { .. } => codes::UPSTREAM_UNAVAILABLE,
            ProxyError::Reset(_) | ProxyError::Protocol(_) => codes::BAD_GATEWAY,
            ProxyError::TryTimeout | ProxyError::Deadline => codes::UPSTREAM_TIMEOUT,
            ProxyError::ClientTimeout => codes::REQUEST_TIMEOUT,
            ProxyError::NoHealthyEndpoint => codes::UPSTREAM_UNAVAILABLE,
            ProxyError::Overloaded => codes::OVERLOADED,
        }
    }

    /// The RFC 9209 §2.3 error type.
    pub fn proxy_status(&self) -> &'static str {
        match self {
            ProxyError::NoRoute => "destination_not_found",
            ProxyError::BadRequest(_) | ProxyError::ClientBody(_) => "http_request_error",
            ProxyError::BodyTooLarge => "http_request_error",
            ProxyError::Connect { kind, .. } => match kind {
                ConnectKind::Refused => "connection_refused",
                ConnectKind::Timeout => "connection_timeout",
                ConnectKind::Tls => "tls_protocol_error",
                ConnectKind::TlsCertificate => "tls_certificate_error",
                ConnectKind::Other => "destination_unavailable",
            },
            ProxyError::Reset(_) => "connection_terminated",
            ProxyError::Protocol(_) => "http_protocol_error",
            ProxyError::TryTimeout | ProxyError::Deadline => "http_response_timeout",
            ProxyError::ClientTimeout => "http_request_error",
            ProxyError::NoHealthyEndpoint => "destination_unavailable",
            // RFC 9209 has no "request limit"; its connection limit to the next hop is closest.
            ProxyError::Overloaded => "connection_limit_reached",
        }
    }

    /// Which limit expired, for timeouts (Proxy-Status `details`, the access log).
    pub fn details(&self) -> Option<&'static str> {
        match self {
            ProxyError::Connect {
                kind: ConnectKind::Timeout,
                ..
            } => Some("connect_timeout"),
            ProxyError::TryTimeout => Some("try_timeout"),
            ProxyError::Deadline => Some("route_timeout"),
            ProxyError::ClientTimeout => Some("request_body_timeout"),
            _ => None,
        }
    }

    /// Classifies an error from the pooled client.
    pub fn from_client(err: hyper_util::client::legacy::Error) -> ProxyError {
        if find::<BodyTooLarge>(&err).is_some() {
            return ProxyError::BodyTooLarge;
        }
        if err.is_connect() {
            let kind = connect_kind(&err);
            return ProxyError::Connect {
                kind,
                source: Box::new(err),
            };
        }
        if find::<hyper::Error>(&err).is_some_and(|h| h.is_parse() || h.is_parse_status()) {
            return ProxyError::Protocol(Box::new(err));
        }
        if find::<ClientBodyError>(&err).is_some() {
            return ProxyError::ClientBody(Box::new(err));
        }
        ProxyError::Reset(Box::new(err))
    }
}

/// The first error of type `T` in `err`'s source chain (including `err` itself).
pub fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

fn connect_kind(err: &(dyn StdError + 'static)) -> ConnectKind {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return tls_kind(tls);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return ConnectKind::Refused,
                io::ErrorKind::TimedOut => return ConnectKind::Timeout,
                _ => {}
            }
            // io::Error::source() skips the error it wraps (TLS errors arrive wrapped twice),
            // so descend into it explicitly.
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
            if io.kind() == io::ErrorKind::InvalidData {
                return ConnectKind::Tls;
            }
        }
        cur = e.source();
    }
    ConnectKind::Other
}

fn tls_kind(err: &rustls::Error) -> ConnectKind {
    match err {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
            ConnectKind::TlsCertificate
        }
        _ => ConnectKind::Tls,
    }
}
