//! A request's path through errgate, top to bottom: request id → route → limits → deadline →
//! upstream attempt → the upstream's response, or the envelope for errgate's own failure.

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use hyper::body::{Body, Incoming};
use tokio::time::Instant;

use crate::access_log::AccessLog;
use crate::body::{RequestBody, ResponseBody};
use crate::config::HostRewrite;
use crate::error::ProxyError;
use crate::gateway::{Gateway, RouteEntry};
use crate::headers::{self, Forwarded};
use crate::normalize;
use crate::respond;
use crate::routing::{normalize_path, upstream_path};
use crate::upgrade;

/// Serves one client request; never fails: every failure becomes an envelope.
pub async fn handle(
    gw: Arc<Gateway>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<ResponseBody> {
    let request_id = headers::client_request_id(req.headers())
        .cloned()
        .unwrap_or_else(headers::new_request_id);
    let id_text = request_id.to_str().unwrap_or_default().to_string();
    let mut log = AccessLog::new(id_text, peer, req.method().clone(), req.uri().path());
    let head = req.method() == Method::HEAD;
    let accept_language = req.headers().get(header::ACCEPT_LANGUAGE).cloned();

    let client = Client {
        peer,
        request_id: &request_id,
        accept_language: accept_language.as_ref(),
        head,
    };
    let mut resp = match forward(&gw, req, &client, &mut log).await {
        Ok(resp) => resp,
        Err(err) => {
            log.error = Some(err.code());
            tracing::debug!(request_id = %log.request_id, error = %err, "request failed");
            respond::own_failure(&gw, &err, accept_language.as_ref(), head)
        }
    };
    log.status = resp.status().as_u16();
    resp.headers_mut()
        .insert(&headers::X_REQUEST_ID, request_id);
    resp.body_mut().set_log(log);
    resp
}

/// The host the client addressed: the URI authority (HTTP/2, absolute-form) or `Host`.
fn request_host(parts: &http::request::Parts) -> Option<HeaderValue> {
    if let Some(auth) = parts.uri.authority() {
        return HeaderValue::from_str(auth.as_str()).ok();
    }
    parts.headers.get(header::HOST).cloned()
}

fn declared_length(parts: &http::request::Parts) -> Option<u64> {
    parts
        .headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// What the request path needs to know about the client's request besides the request itself.
struct Client<'a> {
    peer: SocketAddr,
    request_id: &'a HeaderValue,
    accept_language: Option<&'a HeaderValue>,
    head: bool,
}

async fn forward(
    gw: &Gateway,
    mut req: Request<Incoming>,
    client: &Client<'_>,
    log: &mut AccessLog,
) -> Result<Response<ResponseBody>, ProxyError> {
    let is_upgrade = headers::is_upgrade_request(req.headers());
    let client_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let path = normalize_path(parts.uri.path()).map_err(|_| ProxyError::BadRequest("path"))?;
    let host = request_host(&parts);
    let host_text = host.as_ref().and_then(|h| h.to_str().ok());
    let entry = gw.route(host_text, &path).ok_or(ProxyError::NoRoute)?;
    log.route = Some(entry.name.clone());
    log.upstream = Some(entry.client.name.clone());

    let limit = gw.config.listener.max_request_body_bytes;
    let too_long =
        declared_length(&parts).is_some_and(|n| n > limit) || body.size_hint().lower() > limit;
    if too_long {
        return Err(ProxyError::BodyTooLarge);
    }
    let deadline = Instant::now() + entry.route.timeout;

    let endpoint = entry.client.pick();
    let pq = upstream_path(
        &entry.client.endpoint(endpoint).base_path,
        &entry.route.path_prefix,
        entry.route.strip_prefix,
        &path,
        parts.uri.query(),
    );
    parts.uri = entry
        .client
        .uri(endpoint, pq)
        .map_err(|_| ProxyError::BadRequest("uri"))?;
    let upgrade_value = parts.headers.get(header::UPGRADE).cloned();
    headers::strip_hop_by_hop(&mut parts.headers);
    let fwd = Forwarded {
        client_ip: client.peer.ip(),
        host: host.as_ref(),
        request_id: client.request_id,
        host_override: host_override(entry, endpoint),
    };
    headers::add_forwarded(&mut parts.headers, fwd);
    if let (true, Some(value)) = (is_upgrade, upgrade_value) {
        upgrade::restore_request_headers(&mut parts.headers, value);
    }
    parts.version = Version::HTTP_11;
    let up_req = Request::from_parts(parts, RequestBody::new(body, limit));

    log.endpoint = entry.client.endpoint_labels.get(endpoint).cloned();
    log.attempts = 1;
    let resp = attempt(entry, up_req, deadline).await?;

    if let (StatusCode::SWITCHING_PROTOCOLS, Some(on_upgrade)) = (resp.status(), client_upgrade) {
        return Ok(upgrade::relay(resp, on_upgrade));
    }
    if normalize::wants_rewrite(entry, resp.status()) {
        let ctx = normalize::Ctx {
            accept_language: client.accept_language,
            head: client.head,
            deadline,
        };
        let (resp, decision) = normalize::rewrite(gw, entry, resp, ctx).await;
        log.format = Some(decision.format.as_str());
        log.error_owned = Some(decision.code);
        return Ok(resp);
    }
    let (mut rparts, rbody) = resp.into_parts();
    headers::strip_hop_by_hop(&mut rparts.headers);
    let body = ResponseBody::upstream(rbody, entry.route.try_timeout);
    Ok(Response::from_parts(rparts, body))
}

fn host_override(entry: &RouteEntry, endpoint: usize) -> Option<HeaderValue> {
    match entry.route.host_rewrite.as_ref()? {
        HostRewrite::Endpoint => {
            HeaderValue::from_str(entry.client.endpoint(endpoint).authority.as_str()).ok()
        }
        HostRewrite::Literal(host) => HeaderValue::from_str(host).ok(),
    }
}

/// The upstream answered with a status HTTP does not have.
#[derive(Debug, thiserror::Error)]
#[error("upstream sent status {0}, outside 100..=599")]
struct InvalidStatus(u16);

/// One attempt, bounded by the try timeout and the route's deadline.
async fn attempt(
    entry: &RouteEntry,
    req: Request<RequestBody>,
    deadline: Instant,
) -> Result<Response<Incoming>, ProxyError> {
    let try_deadline = deadline.min(Instant::now() + entry.route.try_timeout);
    match tokio::time::timeout_at(try_deadline, entry.client.send(req)).await {
        // http accepts 100..=999; HTTP itself ends at 599 (RFC 9110 §15).
        Ok(Ok(resp)) if resp.status().as_u16() > 599 => {
            let status = resp.status().as_u16();
            Err(ProxyError::Protocol(Box::new(InvalidStatus(status))))
        }
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(err)) => Err(ProxyError::from_client(err)),
        Err(_) if try_deadline >= deadline => Err(ProxyError::Deadline),
        Err(_) => Err(ProxyError::TryTimeout),
    }
}
