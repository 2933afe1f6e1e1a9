//! The attempt loop: pick an endpoint, send, and on failure ask [`crate::retry`] whether to
//! wait and go again — until a response is final, the attempts or the deadline run out, or a
//! retry is refused (which returns the last failure as it was).
//!
//! Sending is behind [`Attempter`] so the loop's timing (backoff, `Retry-After`, deadlines) is
//! tested with paused time and scripted outcomes, without sockets.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::balance::{Endpoints, Tried};
use crate::budget::RetryBudget;
use crate::config::{Retry, RetryOn};
use crate::error::ProxyError;
use crate::retry::{self, Attempted, Failure, Refusal, Verdict};

/// Stale-connection replays allowed per request: each uses up one dead pooled connection.
const MAX_STALE_REPLAYS: u32 = 4;

/// How one attempt ended.
#[derive(Debug)]
pub enum Outcome<R> {
    /// A response head. `retry_after` is the upstream's `Retry-After` on 429/503.
    Response {
        response: R,
        status: u16,
        retry_after: Option<Duration>,
    },
    Failed {
        error: ProxyError,
        failure: Failure,
    },
    /// Failed before any response on a connection that had served before: the stale
    /// keep-alive race, replayed without counting as an attempt when the request allows it.
    Stale(ProxyError),
}

/// Sends one attempt to an endpoint.
pub trait Attempter {
    type Response: Send;

    fn send(&mut self, endpoint: usize) -> impl Future<Output = Outcome<Self::Response>> + Send;

    /// Whether the request body can go again after `failure`.
    fn can_replay(&mut self, failure: Failure) -> bool;
}

/// The request's retry facts, fixed for the whole loop.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub retry: &'a Retry,
    pub endpoints: &'a Arc<Endpoints>,
    pub budget: &'a RetryBudget,
    pub deadline: Instant,
    pub idempotent: bool,
}

/// What happened, for the access log and metrics.
#[derive(Debug, Default)]
pub struct Trace {
    /// Attempts sent upstream, stale replays included.
    pub attempts: u32,
    /// Why each retry (or stale replay) happened, in order.
    pub retries: Vec<&'static str>,
    pub refused: Option<Refusal>,
    /// The endpoint of the last attempt.
    pub endpoint: Option<usize>,
}

/// Runs attempts until one is final; the error is the last attempt's failure.
pub async fn run<A: Attempter>(
    a: &mut A,
    plan: Plan<'_>,
    trace: &mut Trace,
) -> Result<A::Response, ProxyError> {
    let mut tried = Tried::default();
    let mut counted = 0;
    let mut stale_left = MAX_STALE_REPLAYS;
    loop {
        let Some(endpoint) = plan.endpoints.pick(tried) else {
            return Err(ProxyError::NoHealthyEndpoint);
        };
        tried.add(endpoint);
        trace.attempts += 1;
        trace.endpoint = Some(endpoint);
        let (failure, last, retry_after) = match a.send(endpoint).await {
            Outcome::Response {
                response,
                status,
                retry_after,
            } => {
                record(plan.endpoints, endpoint, is_gateway_failure(status));
                if !plan.retry.on.contains(&RetryOn::Status(status)) {
                    return Ok(response); // the common case: no clock, no budget
                }
                (Failure::Status(status), Ok(response), retry_after)
            }
            Outcome::Stale(error) => {
                if stale_left > 0 && plan.idempotent && a.can_replay(Failure::Reset) {
                    stale_left -= 1;
                    trace.retries.push("stale_connection");
                    continue;
                }
                record(plan.endpoints, endpoint, true);
                (Failure::Reset, Err(error), None)
            }
            Outcome::Failed { error, failure } => {
                record(plan.endpoints, endpoint, failure != Failure::Client);
                (failure, Err(error), None)
            }
        };
        counted += 1;
        let delay = match decide(a, &plan, failure, counted, retry_after) {
            // This failure may have ejected the last endpoint in rotation: then it goes to the
            // client as it was (its message, its Retry-After) instead of a made-up
            // "no healthy endpoint" after waiting out the delay for nothing.
            Verdict::Retry { .. } if !any_up(plan.endpoints) => return last,
            Verdict::Retry { delay } => delay,
            Verdict::Final => return last,
            Verdict::Refused(reason) => {
                trace.refused = Some(reason);
                return last;
            }
        };
        trace.retries.push(failure.label());
        drop(last);
        tokio::time::sleep(delay).await;
    }
}

fn decide<A: Attempter>(
    a: &mut A,
    plan: &Plan<'_>,
    failure: Failure,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Verdict {
    let replayable = a.can_replay(failure);
    let attempted = Attempted {
        failure,
        attempts,
        idempotent: plan.idempotent,
        replayable,
        retry_after,
        remaining: plan.deadline.saturating_duration_since(Instant::now()),
    };
    let budget = plan.budget;
    let (percent, floor) = (plan.retry.budget_percent, plan.retry.budget_min_per_second);
    retry::verdict(plan.retry, attempted, || budget.try_retry(percent, floor))
}

fn any_up(endpoints: &Endpoints) -> bool {
    (0..endpoints.len()).any(|i| endpoints.is_up(i))
}

fn record(endpoints: &Endpoints, endpoint: usize, failed: bool) {
    if failed {
        endpoints.record_failure(endpoint);
    } else {
        endpoints.record_success(endpoint);
    }
}

/// 502/503/504 say the endpoint itself is in trouble; a 500 is usually one request's bug.
fn is_gateway_failure(status: u16) -> bool {
    matches!(status, 502..=504)
}

#[cfg(test)]
#[path = "attempts_tests.rs"]
mod tests;
