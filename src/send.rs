//! One attempt against one endpoint: the upstream request built from the client's (already
//! cleaned) head and the replayable body, sent within the try timeout and the route deadline,
//! and its result classified for the retry policy.

use std::borrow::Cow;
use std::future::Future;

use bytes::Bytes;
use http::header::HeaderValue;
use http::uri::PathAndQuery;
use http::{Method, Request, Response, Uri, Version};
use std::sync::Arc;
use tokio::time::Instant;

use crate::attempts::{Attempter, Outcome};
use crate::balance::Outstanding;
use crate::cold::cold;
use crate::config::HostRewrite;
use crate::error::ProxyError;
use crate::gateway::RouteEntry;
use crate::h1_pool::{self, EndpointPool, SendError};
use crate::h1_wire::RequestHead;
use crate::headers::{self, Forwarded};
use crate::metrics_handles::AttemptOutcome;
use crate::req_fields::ReqFields;
use crate::request_body::{RequestBody, Source};
use crate::retry::{self, Failure};
use crate::routing::upstream_path;
use crate::upstream_body::UpstreamBody;
use crate::upstream_conn;

/// The parts of the upstream request that are the same for every attempt.
#[derive(Debug)]
pub struct Template<'r> {
    pub method: Method,
    /// The client's headers, hop-by-hop removed.
    pub headers: ReqFields,
    /// What errgate adds: written to the wire by its own client, inserted into hyper's copy.
    pub forwarded: Forwarded<'r>,
    /// The normalized client path and its query.
    pub path: Cow<'r, str>,
    pub query: Option<&'r str>,
    /// The client's own path and query, when normalization left the path as it was: sent
    /// as is (a reference-count bump) unless the endpoint's base path or `strip_prefix`
    /// changes it.
    pub original: Option<&'r PathAndQuery>,
    /// A protocol upgrade (WebSocket): only hyper's client relays those.
    pub upgrade: bool,
}

/// The upstream's response head, and the endpoint's outstanding count it still holds.
pub type Answer = (Response<UpstreamBody>, Option<Outstanding>);

/// Sends the attempts of one request.
pub struct UpstreamSend<'a, 'r> {
    pub entry: &'a RouteEntry,
    pub template: Template<'r>,
    pub body: Source,
    pub deadline: Instant,
}

/// The upstream answered with a status HTTP does not have.
#[derive(Debug, thiserror::Error)]
#[error("upstream sent status {0}, outside 100..=599")]
struct InvalidStatus(u16);

/// The streamed body was already sent on an earlier attempt (a bug if ever seen).
#[derive(Debug, thiserror::Error)]
#[error("the request body was already sent")]
struct BodyGone;

impl<'a, 'r> UpstreamSend<'a, 'r> {
    /// The request target (path and query) for `endpoint`.
    fn target(&self, endpoint: usize) -> Result<Cow<'r, PathAndQuery>, ProxyError> {
        let t = &self.template;
        let ep = self.entry.client.endpoint(endpoint);
        let route = &self.entry.route;
        match &t.original {
            Some(pq) if ep.base_path.is_empty() && !route.strip_prefix => Ok(Cow::Borrowed(pq)),
            _ => {
                let text = upstream_path(
                    &ep.base_path,
                    &route.path_prefix,
                    route.strip_prefix,
                    &t.path,
                    t.query,
                );
                let pq = PathAndQuery::try_from(text).map_err(|_| ProxyError::BadRequest("uri"))?;
                Ok(Cow::Owned(pq))
            }
        }
    }

    /// errgate's own client takes the attempt when the endpoint is plain HTTP and the body
    /// is in memory; otherwise hyper-util's does.
    fn own_route(&self, endpoint: usize) -> Option<(&'a Arc<EndpointPool>, Bytes)> {
        if self.template.upgrade {
            return None;
        }
        let entry: &'a RouteEntry = self.entry;
        let pool = entry.client.own_pool(endpoint)?;
        Some((pool, self.body.plain_bytes()?.clone()))
    }
    fn request(
        &mut self,
        endpoint: usize,
        host: Option<HeaderValue>,
    ) -> Result<Request<RequestBody>, ProxyError> {
        let client = &self.entry.client;
        let body = self
            .body
            .next_body()
            .ok_or_else(|| ProxyError::Reset(Box::new(BodyGone)))?;
        let t = &self.template;
        let ep = client.endpoint(endpoint);
        let pq = self.target(endpoint)?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(ep.scheme.clone());
        parts.authority = Some(ep.authority.clone());
        parts.path_and_query = Some(pq.into_owned());
        let uri = Uri::from_parts(parts).map_err(|_| ProxyError::BadRequest("uri"))?;
        let mut req = Request::new(body);
        *req.method_mut() = t.method.clone();
        *req.uri_mut() = uri;
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = t.headers.to_map();
        headers::add_forwarded(req.headers_mut(), &t.forwarded, host);
        Ok(req)
    }
}

fn host_override(entry: &RouteEntry, endpoint: usize) -> Option<HeaderValue> {
    match entry.route.host_rewrite.as_ref()? {
        HostRewrite::Endpoint => {
            HeaderValue::from_str(entry.client.endpoint(endpoint).authority.as_str()).ok()
        }
        HostRewrite::Literal(host) => HeaderValue::from_str(host).ok(),
    }
}

impl Attempter for UpstreamSend<'_, '_> {
    type Response = Answer;

    fn send(&mut self, endpoint: usize) -> impl Future<Output = Outcome<Answer>> + Send {
        let host = host_override(self.entry, endpoint);
        let attempt = match self.own_route(endpoint) {
            Some((pool, body)) => {
                self.target(endpoint)
                    .map(|target| Attempt::Own { pool, body, target })
            }
            None => self
                .request(endpoint, host.clone())
                .map(|req| Attempt::Hyper(Box::new(req))),
        };
        let entry = self.entry;
        let client = &entry.client;
        let outstanding = client.endpoints.start(endpoint);
        let deadline = self.deadline;
        let started = Instant::now();
        let try_deadline = deadline.min(started + entry.route.try_timeout);
        let template = &self.template;
        async move {
            let attempt = match attempt {
                Ok(attempt) => attempt,
                Err(error) => {
                    let failure = Failure::Client;
                    return Outcome::Failed { error, failure };
                }
            };
            let timed_out = || Outcome::Failed {
                error: ProxyError::TryTimeout,
                failure: Failure::Timeout,
            };
            let outcome = match attempt {
                Attempt::Own { pool, body, target } => {
                    let head = RequestHead {
                        method: &template.method,
                        target: target.as_str(),
                        headers: &template.headers,
                        forwarded: &template.forwarded,
                        host: host.as_ref(),
                        authority: &pool.authority,
                        body_len: body.len(),
                    };
                    // The own client keeps its connection's timer armed between exchanges.
                    match h1_pool::send(pool, &head, &body, (started, try_deadline)).await {
                        Ok(resp) => answered(resp.map(UpstreamBody::Own), outstanding),
                        Err(SendError {
                            error: ProxyError::TryTimeout,
                            ..
                        }) => timed_out(),
                        Err(err) => failed_own(err),
                    }
                }
                // Cold: hyper-util's future is several KiB, and inline its state and code
                // would be carried by every request's, own client or not.
                Attempt::Hyper(req) => {
                    let sent = cold(client.send(*req));
                    match tokio::time::timeout_at(try_deadline, sent).await {
                        Ok(Ok(resp)) => answered(resp.map(UpstreamBody::Hyper), outstanding),
                        Ok(Err(err)) => failed(err),
                        Err(_) => timed_out(),
                    }
                }
            };
            // The route's deadline, when it came before the try timeout.
            let outcome = match outcome {
                Outcome::Failed {
                    error: ProxyError::TryTimeout,
                    ..
                } if try_deadline >= deadline => Outcome::Failed {
                    error: ProxyError::Deadline,
                    failure: Failure::Deadline,
                },
                outcome => outcome,
            };
            if let Some(label) = metric_outcome(&outcome) {
                client.metrics.attempt(label, started.elapsed());
            }
            outcome
        }
    }

    fn can_replay(&mut self, failure: Failure) -> bool {
        self.body.can_replay(failure == Failure::ConnectFailure)
    }
}

/// One attempt, ready to go: on errgate's own client or hyper-util's.
enum Attempt<'p, 'r> {
    Own {
        pool: &'p Arc<EndpointPool>,
        body: Bytes,
        /// Borrowed from the template when sent as the client wrote it.
        target: Cow<'r, PathAndQuery>,
    },
    /// Boxed: the request is far larger than the other variant.
    Hyper(Box<Request<RequestBody>>),
}

fn answered(resp: Response<UpstreamBody>, outstanding: Option<Outstanding>) -> Outcome<Answer> {
    let status = resp.status().as_u16();
    // http accepts 100..=999; HTTP itself ends at 599 (RFC 9110 §15).
    if status > 599 {
        // A peer that breaks the protocol does not get its connection reused.
        if let UpstreamBody::Own(body) = resp.into_body() {
            drop(body.without_reclaim());
        }
        return Outcome::Failed {
            error: ProxyError::Protocol(Box::new(InvalidStatus(status))),
            failure: Failure::Protocol,
        };
    }
    let retry_after = retry::retry_after_of(status, resp.headers());
    Outcome::Response {
        response: (resp, outstanding),
        status,
        retry_after,
    }
}

fn failed_own(err: SendError) -> Outcome<Answer> {
    let failure = match &err.error {
        ProxyError::Connect { .. } => Failure::ConnectFailure,
        ProxyError::Reset(_) if err.reused => return Outcome::Stale(err.error),
        ProxyError::Reset(_) => Failure::Reset,
        ProxyError::Protocol(_) => Failure::Protocol,
        _ => Failure::Client,
    };
    Outcome::Failed {
        error: err.error,
        failure,
    }
}

fn failed(err: hyper_util::client::legacy::Error) -> Outcome<Answer> {
    let reused = upstream_conn::failed_on_reused(&err);
    let error = ProxyError::from_client(err);
    let failure = match &error {
        ProxyError::Connect { .. } => Failure::ConnectFailure,
        ProxyError::Reset(_) if reused => return Outcome::Stale(error),
        ProxyError::Reset(_) => Failure::Reset,
        ProxyError::Protocol(_) => Failure::Protocol,
        _ => Failure::Client,
    };
    Outcome::Failed { error, failure }
}

/// The `outcome` label of an attempt; `None` when the client's own body ended it.
fn metric_outcome<R>(outcome: &Outcome<R>) -> Option<AttemptOutcome> {
    Some(match outcome {
        Outcome::Response { .. } => AttemptOutcome::Response,
        Outcome::Stale(_) => AttemptOutcome::Reset,
        Outcome::Failed { failure, .. } => match failure {
            Failure::ConnectFailure => AttemptOutcome::ConnectError,
            Failure::Timeout | Failure::Deadline => AttemptOutcome::Timeout,
            Failure::Reset => AttemptOutcome::Reset,
            Failure::Protocol => AttemptOutcome::ProtocolError,
            Failure::Status(_) | Failure::Client => return None,
        },
    })
}
