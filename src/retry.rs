//! The retry policy of DESIGN §4 as pure functions: which requests may be repeated, after
//! which failures, how long to wait, and why a retry was refused.

use std::time::{Duration, SystemTime};

use http::Method;
use http::header::{self, HeaderMap, HeaderValue};

use crate::config::{Retry, RetryOn};
use crate::req_fields::ReqFields;

/// How an attempt ended, in the terms `retry.on` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection: nothing of the request was sent.
    ConnectFailure,
    /// The connection closed before a response head.
    Reset,
    /// No response head within `try_timeout`.
    Timeout,
    /// A response head with this status.
    Status(u16),
    /// An invalid response head: a backend that sends garbage sends it again.
    Protocol,
    /// The route's deadline passed: nothing more can be tried.
    Deadline,
    /// The client's own request body failed or was too large: not the upstream's fault.
    Client,
}

impl Failure {
    fn condition(self) -> Option<RetryOn> {
        match self {
            Failure::ConnectFailure => Some(RetryOn::ConnectFailure),
            Failure::Reset => Some(RetryOn::Reset),
            Failure::Timeout => Some(RetryOn::Timeout),
            Failure::Status(status) => Some(RetryOn::Status(status)),
            Failure::Protocol | Failure::Deadline | Failure::Client => None,
        }
    }

    /// The retry reason for logs and metrics (bounded: statuses are only 500..=599).
    pub fn label(self) -> &'static str {
        match self {
            Failure::ConnectFailure => "connect_failure",
            Failure::Reset => "reset",
            Failure::Timeout => "timeout",
            Failure::Status(500) => "500",
            Failure::Status(502) => "502",
            Failure::Status(503) => "503",
            Failure::Status(504) => "504",
            Failure::Status(_) => "5xx",
            Failure::Protocol => "protocol_error",
            Failure::Deadline => "deadline",
            Failure::Client => "client",
        }
    }
}

/// Why a retry that `retry.on` asked for did not happen (`errgate_retries_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Budget,
    RetryAfter,
    BodyTooLarge,
    NotIdempotent,
    Deadline,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Budget => "budget",
            Refusal::RetryAfter => "retry_after",
            Refusal::BodyTooLarge => "body_too_large",
            Refusal::NotIdempotent => "not_idempotent",
            Refusal::Deadline => "deadline",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Retry {
        delay: Duration,
    },
    /// Not a retryable failure, or no attempts left: the failure goes to the client.
    Final,
    Refused(Refusal),
}

/// What the policy needs to know about the failed attempt.
#[derive(Debug, Clone, Copy)]
pub struct Attempted {
    pub failure: Failure,
    /// Attempts made so far, counting the first.
    pub attempts: u32,
    /// The request may be repeated (idempotent method, or POST/PATCH with the idempotency
    /// header).
    pub idempotent: bool,
    /// The request body can be sent again after this failure.
    pub replayable: bool,
    /// The upstream's `Retry-After` (only read on 429 and 503).
    pub retry_after: Option<Duration>,
    pub remaining: Duration,
}

/// Decides whether to retry; `budget` is asked last, and only when everything else allows it,
/// because asking takes a token.
pub fn verdict(retry: &Retry, a: Attempted, budget: impl FnOnce() -> bool) -> Verdict {
    let Some(condition) = a.failure.condition() else {
        return Verdict::Final;
    };
    if !retry.on.contains(&condition) || a.attempts >= retry.attempts {
        return Verdict::Final;
    }
    // After a connect failure nothing was sent, so any method may go again.
    if a.failure != Failure::ConnectFailure && !a.idempotent {
        return Verdict::Refused(Refusal::NotIdempotent);
    }
    if !a.replayable {
        return Verdict::Refused(Refusal::BodyTooLarge);
    }
    let delay = match a.retry_after {
        Some(wait) if wait > retry.retry_after_max || wait >= a.remaining => {
            return Verdict::Refused(Refusal::RetryAfter);
        }
        Some(wait) => wait,
        None => backoff(retry, a.attempts, fastrand::f64()),
    };
    if delay >= a.remaining {
        return Verdict::Refused(Refusal::Deadline);
    }
    if !budget() {
        return Verdict::Refused(Refusal::Budget);
    }
    Verdict::Retry { delay }
}

/// Full-jitter exponential backoff before retry number `retry_number` (1 = the first retry):
/// uniform in `[0, min(backoff_max, backoff_base * 2^(retry_number - 1))]`; `unit` is a
/// uniform sample in `[0, 1)`.
pub fn backoff(retry: &Retry, retry_number: u32, unit: f64) -> Duration {
    let doublings = retry_number.saturating_sub(1).min(31);
    let ceiling = retry
        .backoff_base
        .saturating_mul(1 << doublings)
        .min(retry.backoff_max);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// The RFC 9110 idempotent methods, plus POST and PATCH that carry the route's idempotency
/// header.
pub fn is_idempotent(method: &Method, headers: &ReqFields, retry: &Retry) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE => true,
        Method::TRACE => true,
        Method::POST | Method::PATCH => headers.contains(retry.idempotency_header.as_str()),
        _ => false,
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past is 0.
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long values saturate; they are refused by retry_after_max anyway.
        return Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The upstream's `Retry-After` for statuses where it means "try again later".
pub fn retry_after_of(status: u16, headers: &HeaderMap) -> Option<Duration> {
    if status != 429 && status != 503 {
        return None;
    }
    parse_retry_after(headers.get(header::RETRY_AFTER)?, SystemTime::now())
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
