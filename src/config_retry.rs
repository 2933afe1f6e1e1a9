//! Retry policies: `[defaults.retry]` over the built-in policy, then `[routes.retry]` over that,
//! field by field, so a route that only changes `attempts` keeps everything else it inherits.

use crate::config::*;
use crate::config_raw::{RawRetry, RawRetryOn};
use crate::config_validate::Problems;

const MAX_ATTEMPTS: i64 = 10;

/// The built-in retry policy of DESIGN §4, before `[defaults.retry]` applies.
pub(crate) fn builtin_retry() -> Retry {
    let statuses = [500, 502, 503, 504].map(RetryOn::Status);
    Retry {
        attempts: DEFAULT_RETRY_ATTEMPTS,
        on: [RetryOn::ConnectFailure, RetryOn::Reset, RetryOn::Timeout]
            .into_iter()
            .chain(statuses)
            .collect(),
        backoff_base: DEFAULT_BACKOFF_BASE,
        backoff_max: DEFAULT_BACKOFF_MAX,
        retry_after_max: DEFAULT_RETRY_AFTER_MAX,
        max_body_bytes: DEFAULT_RETRY_MAX_BODY,
        budget_percent: DEFAULT_BUDGET_PERCENT,
        budget_min_per_second: DEFAULT_BUDGET_MIN_PER_SECOND,
        idempotency_header: DEFAULT_IDEMPOTENCY_HEADER.to_owned(),
    }
}

/// Applies the fields present in `raw` (at `key`, e.g. `routes[2].retry`) over `inherited`; a
/// bad field is reported and the inherited value kept.
pub(crate) fn resolve_retry(
    raw: &RawRetry,
    inherited: &Retry,
    key: &str,
    p: &mut Problems,
) -> Retry {
    let field = |name: &str| format!("{key}.{name}");
    let attempts = raw
        .attempts
        .and_then(|n| p.ok(&field("attempts"), check_attempts(n)));
    let on = match raw.on.as_deref() {
        None => inherited.on.clone(),
        Some(list) => retry_on(list, &field("on"), p),
    };
    let budget_percent = raw.budget_percent;
    let budget_percent =
        budget_percent.and_then(|v| p.ok(&field("budget_percent"), check_percent(v)));
    let retry = Retry {
        attempts: attempts.unwrap_or(inherited.attempts),
        on,
        backoff_base: p.duration(
            raw.backoff_base.as_deref(),
            &field("backoff_base"),
            inherited.backoff_base,
        ),
        backoff_max: p.duration(
            raw.backoff_max.as_deref(),
            &field("backoff_max"),
            inherited.backoff_max,
        ),
        retry_after_max: p.duration(
            raw.retry_after_max.as_deref(),
            &field("retry_after_max"),
            inherited.retry_after_max,
        ),
        max_body_bytes: raw.max_body_bytes.unwrap_or(inherited.max_body_bytes),
        budget_percent: budget_percent.unwrap_or(inherited.budget_percent),
        budget_min_per_second: raw
            .budget_min_per_second
            .unwrap_or(inherited.budget_min_per_second),
        idempotency_header: idempotency_header(raw, inherited, &field("idempotency_header"), p),
    };
    // Checked only where one of the two is set, so a bad pair in [defaults] is reported once.
    if raw.backoff_base.is_some() || raw.backoff_max.is_some() {
        p.ok(&field("backoff_base"), check_backoff(&retry));
    }
    retry
}

fn check_attempts(n: i64) -> Result<u32, String> {
    match u32::try_from(n) {
        Ok(n) if (1..=MAX_ATTEMPTS).contains(&i64::from(n)) => Ok(n),
        _ => Err(format!(
            "must be between 1 and {MAX_ATTEMPTS} (1 disables retries), got {n}"
        )),
    }
}

fn check_percent(v: f64) -> Result<f64, String> {
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between 0 and 100, got {v}"))
    }
}

fn check_backoff(retry: &Retry) -> Result<(), String> {
    if retry.backoff_base <= retry.backoff_max {
        return Ok(());
    }
    Err(format!(
        "backoff_base ({:?}) must not exceed backoff_max ({:?})",
        retry.backoff_base, retry.backoff_max
    ))
}

fn retry_on(list: &[RawRetryOn], key: &str, p: &mut Problems) -> Vec<RetryOn> {
    let mut on = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        match parse_retry_on(item) {
            Ok(value) if !on.contains(&value) => on.push(value),
            Ok(_) => {}
            Err(reason) => p.push(&format!("{key}[{i}]"), reason),
        }
    }
    on
}

fn parse_retry_on(item: &RawRetryOn) -> Result<RetryOn, String> {
    let status = match item {
        RawRetryOn::Text(text) => match text.as_str() {
            "connect-failure" => return Ok(RetryOn::ConnectFailure),
            "reset" => return Ok(RetryOn::Reset),
            "timeout" => return Ok(RetryOn::Timeout),
            other => other.parse::<i64>().ok(),
        },
        RawRetryOn::Status(n) => Some(*n),
    };
    match status.map(u16::try_from) {
        Some(Ok(code)) if (500..=599).contains(&code) => Ok(RetryOn::Status(code)),
        // 4xx is the client's own fault; retrying it only multiplies the load.
        _ => Err(format!(
            "unknown retry condition {}: use \"connect-failure\", \"reset\", \"timeout\" or a status 500..599",
            describe(item)
        )),
    }
}

fn describe(item: &RawRetryOn) -> String {
    match item {
        RawRetryOn::Text(text) => format!("{text:?}"),
        RawRetryOn::Status(n) => n.to_string(),
    }
}

fn idempotency_header(raw: &RawRetry, inherited: &Retry, key: &str, p: &mut Problems) -> String {
    let Some(name) = raw.idempotency_header.as_deref() else {
        return inherited.idempotency_header.clone();
    };
    match http::HeaderName::from_bytes(name.as_bytes()) {
        // HeaderName lower-cases, which is what the request path compares against.
        Ok(header) => header.as_str().to_owned(),
        Err(_) => {
            p.push(key, format!("{name:?} is not a valid header name"));
            inherited.idempotency_header.clone()
        }
    }
}
