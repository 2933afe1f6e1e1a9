//! A request's path through errgate, top to bottom: request id → route → limits → deadline →
//! admission → attempts (with retries) → the upstream's response, or the envelope for errgate's
//! own failure.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper::body::Body;
use tokio::time::Instant;

pub use crate::client_request::{ClientBody, ClientRequest};

use crate::access_log::AccessLog;
use crate::attempts::{self, Plan, Trace};
use crate::balance::Hold;
use crate::body::ResponseBody;
use crate::client_request::{declared_length, request_host};
use crate::cold::cold;
use crate::envelope;
use crate::error::ProxyError;
use crate::gateway::{Gateway, RouteEntry};
use crate::headers::{self, Forwarded};
use crate::normalize;
use crate::raw_head;
use crate::req_fields::ReqFields;
use crate::request_body::Source;
use crate::respond;
use crate::retry;
use crate::routing::normalize_path;
use crate::send::{Template, UpstreamSend};
use crate::upgrade;
use crate::upstream_body::UpstreamBody;

/// The client connection's address, and what is derived from it once per connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The address as an `X-Forwarded-For` element.
    pub forwarded_for: HeaderValue,
    /// The response goes out through errgate's own HTTP/1.1 server, which can copy an
    /// upstream head kept as bytes ([`crate::raw_head`]); hyper's server needs the map.
    pub raw_heads: bool,
}

impl Peer {
    pub fn new(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            forwarded_for: headers::forwarded_for_value(addr.ip()),
            raw_heads: false,
        }
    }
}

/// Serves one client request; never fails: every failure becomes an envelope.
///
/// A block rather than an `async fn`: an `async fn` copies each argument into a local of its
/// own, and the future of every request would carry the request (264 bytes) twice.
#[allow(clippy::manual_async_fn)]
pub fn handle(
    gw: Arc<Gateway>,
    mut req: ClientRequest,
    fields: ReqFields,
    peer: Peer,
) -> impl Future<Output = Response<ResponseBody>> + Send {
    async move {
        let request_id = fields
            .get(&headers::X_REQUEST_ID)
            .filter(|id| headers::sane_request_id(id.as_bytes()))
            .unwrap_or_else(headers::new_request_id);
        let mut log = Box::new(AccessLog::new(
            request_id.clone(),
            peer.addr,
            req.method().clone(),
            req.uri(),
        ));
        log.track_in_flight(&gw.metrics.in_flight);
        let head = req.method() == Method::HEAD;
        let accept_language = fields.get(&header::ACCEPT_LANGUAGE);

        let client = Client {
            peer: &peer,
            request_id: &request_id,
            accept_language: accept_language.as_ref(),
            head,
        };
        let mut resp = match forward(&gw, &mut req, fields, &client, &mut log).await {
            Ok(resp) => resp,
            Err(err) => {
                log.error = Some(err.code());
                log.error_detail = err.details();
                tracing::debug!(request_id = ?log.request_id, error = %err, "request failed");
                respond::own_failure(&gw, &err, accept_language.as_ref(), head)
            }
        };
        log.status = resp.status().as_u16();
        // Set here rather than up front (where routing would replace it at once): `forward`
        // routes before its first await, so a request dropped mid-way is always routed.
        if log.metrics.is_none() {
            log.metrics = Some(gw.unrouted.clone());
        }
        // A head kept as bytes goes out through errgate's own server, which writes the id from
        // the log: the response then needs no header map at all.
        if resp.body().raw_head().is_none() {
            resp.headers_mut()
                .insert(&headers::X_REQUEST_ID, request_id);
        }
        resp.body_mut().set_log(log);
        resp
    }
}

/// What the request path needs to know about the client's request besides the request itself.
struct Client<'a> {
    peer: &'a Peer,
    request_id: &'a HeaderValue,
    accept_language: Option<&'a HeaderValue>,
    head: bool,
}

#[allow(clippy::manual_async_fn)] // a block, for the reason given at `handle`
fn forward<'a>(
    gw: &'a Gateway,
    req: &'a mut ClientRequest,
    mut fields: ReqFields,
    client: &'a Client<'a>,
    log: &'a mut AccessLog,
) -> impl Future<Output = Result<Response<ResponseBody>, ProxyError>> + Send + 'a {
    async move {
        // errgate's own server hands upgrades to hyper (`h1_request`): its requests never are.
        let is_upgrade = match &fields {
            ReqFields::Map(map) => headers::is_upgrade_request(map),
            ReqFields::Raw(_) => false,
        };
        let client_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut *req));
        // The request stays in `handle`'s future, and this one borrows its target.
        let body = req.body_mut().take();
        let method = req.method().clone();
        let uri = req.uri();
        let path = normalize_path(uri.path()).map_err(|_| ProxyError::BadRequest("path"))?;
        let host = request_host(req.version(), uri, &fields)?;
        let host_text = host.as_ref().and_then(|h| h.to_str().ok());
        let entry = gw.route(host_text, &path).ok_or(ProxyError::NoRoute)?;
        log.route = Some(entry.name.clone());
        log.metrics = Some(entry.metrics.clone());
        log.upstream = Some(entry.client.name.clone());

        let limit = gw.config.listener.max_request_body_bytes;
        let declared = declared_length(&fields);
        let hinted = body.as_ref().map_or(0, ClientBody::len_hint);
        if declared.is_some_and(|n| n > limit) || hinted > limit {
            return Err(ProxyError::BodyTooLarge);
        }
        // The route's time counts from the request's arrival (one clock read serves both).
        let deadline = Instant::from_std(log.started) + entry.route.timeout;
        let upstream = &entry.client;
        let admission = upstream
            .endpoints
            .admit()
            .map_err(|_| ProxyError::Overloaded)?;
        upstream
            .budget
            .record_request(Instant::from_std(log.started));

        let retry = &entry.route.retry;
        let upgrade_value = is_upgrade.then(|| fields.get(&header::UPGRADE)).flatten();
        fields.strip_hop_by_hop();
        if let (Some(value), ReqFields::Map(map)) = (upgrade_value, &mut fields) {
            upgrade::restore_request_headers(map, value);
        }
        // After the strip: a key the client's `Connection` names is not sent, so it makes
        // nothing idempotent.
        let idempotent = retry::is_idempotent(&method, &fields, retry);
        // Any method's body up to `retry.max_body_bytes` is read before the first attempt, as
        // nginx does by default: a slow client does not hold an upstream connection, a connect
        // failure is retried from memory, and errgate's own client sends it with the head.
        let source = match body {
            None => Source::empty(),
            Some(ClientBody::Read(data)) => Source::read(data, retry.max_body_bytes),
            Some(ClientBody::Incoming(body)) if body.is_end_stream() => Source::empty(),
            Some(ClientBody::Incoming(body))
                if declared.is_none_or(|n| n <= retry.max_body_bytes) =>
            {
                // Cold, as the rewrite below: only requests with a body need it.
                cold(Source::buffer(body, retry.max_body_bytes, limit, deadline)).await?
            }
            Some(ClientBody::Incoming(body)) => Source::stream(body, limit),
        };
        log.bytes_in = source.bytes_in().or(declared).unwrap_or(0);
        let original = match path {
            Cow::Borrowed(_) => uri.path_and_query(),
            Cow::Owned(_) => None,
        };
        let template = Template {
            method,
            headers: fields,
            forwarded: Forwarded {
                client_ip: &client.peer.forwarded_for,
                host: host.as_ref(),
                request_id: client.request_id,
            },
            query: uri.query(),
            path,
            original,
            upgrade: is_upgrade,
        };
        let mut sender = UpstreamSend {
            entry,
            template,
            body: source,
            deadline,
        };
        let plan = Plan {
            retry,
            endpoints: &upstream.endpoints,
            budget: &upstream.budget,
            deadline,
            idempotent,
        };
        let mut trace = Trace::default();
        let result = attempts::run(&mut sender, plan, &mut trace).await;
        log.record_attempts(trace, &upstream.endpoint_labels);
        let (resp, outstanding) = result?;
        let hold = Hold {
            admission,
            outstanding,
        };
        let mut resp =
            respond_upstream(gw, entry, resp, client, client_upgrade, deadline, log).await;
        resp.body_mut().set_hold(hold);
        Ok(resp)
    }
}

/// The upstream's final response as the client gets it: relayed upgrade, rewritten error, or
/// the streamed success; never with the upstream's hop-by-hop fields.
async fn respond_upstream(
    gw: &Gateway,
    entry: &RouteEntry,
    mut resp: Response<UpstreamBody>,
    client: &Client<'_>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
    deadline: Instant,
    log: &mut AccessLog,
) -> Response<ResponseBody> {
    if let (StatusCode::SWITCHING_PROTOCOLS, Some(on_upgrade)) = (resp.status(), client_upgrade) {
        return upgrade::relay(resp, on_upgrade);
    }
    let rewrite = normalize::wants_rewrite(entry, resp.status());
    if !client.peer.raw_heads {
        // hyper's server needs the map; room for the request id `handle` adds, and for the
        // envelope's fields if this is rewritten. (For errgate's own server a kept head stays
        // bytes, rewritten or not.)
        let room = 1 + if rewrite { envelope::MAX_FIELDS } else { 0 };
        raw_head::materialize(&mut resp, room);
    }
    // errgate's own client usually left them out while it parsed the head.
    if !resp.body().hop_by_hop_removed() {
        headers::strip_hop_by_hop(resp.headers_mut());
    }
    if rewrite {
        let ctx = normalize::Ctx {
            accept_language: client.accept_language,
            head: client.head,
            deadline,
        };
        // Cold: inline, its state and code would make every request's larger, not only the
        // rewritten ones'.
        let (resp, decision) = cold(normalize::rewrite(gw, entry, resp, ctx)).await;
        entry.metrics.normalized(&decision.code, decision.format);
        log.format = Some(decision.format.as_str());
        match decision.code {
            Cow::Borrowed(code) => log.error = Some(code),
            Cow::Owned(code) => log.error_owned = Some(code),
        }
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let body = ResponseBody::upstream(rbody, entry.route.try_timeout);
    Response::from_parts(rparts, body)
}
