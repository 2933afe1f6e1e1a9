use super::*;
use crate::config_retry::builtin_retry;

fn attempted(failure: Failure) -> Attempted {
    Attempted {
        failure,
        attempts: 1,
        idempotent: true,
        replayable: true,
        retry_after: None,
        remaining: Duration::from_secs(20),
    }
}

fn yes() -> bool {
    true
}

#[test]
fn default_conditions_retry_and_others_do_not() {
    let r = builtin_retry();
    for f in [
        Failure::ConnectFailure,
        Failure::Reset,
        Failure::Timeout,
        Failure::Status(500),
        Failure::Status(502),
        Failure::Status(503),
        Failure::Status(504),
    ] {
        assert!(
            matches!(verdict(&r, attempted(f), yes), Verdict::Retry { .. }),
            "{f:?}"
        );
    }
    for f in [
        Failure::Status(501),
        Failure::Status(404),
        Failure::Status(429),
        Failure::Protocol,
        Failure::Deadline,
        Failure::Client,
    ] {
        assert_eq!(verdict(&r, attempted(f), yes), Verdict::Final, "{f:?}");
    }
}

#[test]
fn attempts_count_the_first_try() {
    let r = builtin_retry(); // 3 attempts
    let mut a = attempted(Failure::Reset);
    a.attempts = 2;
    assert!(matches!(verdict(&r, a, yes), Verdict::Retry { .. }));
    a.attempts = 3;
    assert_eq!(verdict(&r, a, yes), Verdict::Final);
}

#[test]
fn non_idempotent_requests_retry_only_after_connect_failures() {
    let r = builtin_retry();
    let mut a = attempted(Failure::Reset);
    a.idempotent = false;
    assert_eq!(
        verdict(&r, a, yes),
        Verdict::Refused(Refusal::NotIdempotent)
    );
    a.failure = Failure::ConnectFailure;
    assert!(matches!(verdict(&r, a, yes), Verdict::Retry { .. }));
}

#[test]
fn a_body_that_cannot_be_replayed_is_refused() {
    let r = builtin_retry();
    let mut a = attempted(Failure::Status(503));
    a.replayable = false;
    assert_eq!(verdict(&r, a, yes), Verdict::Refused(Refusal::BodyTooLarge));
}

#[test]
fn retry_after_sets_the_delay_or_refuses() {
    let r = builtin_retry(); // retry_after_max 5 s
    let mut a = attempted(Failure::Status(503));
    a.retry_after = Some(Duration::from_secs(2));
    assert_eq!(
        verdict(&r, a, yes),
        Verdict::Retry {
            delay: Duration::from_secs(2)
        }
    );
    a.retry_after = Some(Duration::from_secs(6));
    assert_eq!(verdict(&r, a, yes), Verdict::Refused(Refusal::RetryAfter));
    a.retry_after = Some(Duration::from_secs(2));
    a.remaining = Duration::from_secs(1);
    assert_eq!(verdict(&r, a, yes), Verdict::Refused(Refusal::RetryAfter));
}

#[test]
fn a_backoff_past_the_deadline_is_refused() {
    let r = builtin_retry();
    let mut a = attempted(Failure::Reset);
    a.remaining = Duration::ZERO;
    assert_eq!(verdict(&r, a, yes), Verdict::Refused(Refusal::Deadline));
}

#[test]
fn the_budget_is_asked_last_and_only_when_needed() {
    let r = builtin_retry();
    let mut asked = false;
    let v = verdict(&r, attempted(Failure::Status(404)), || {
        asked = true;
        true
    });
    assert_eq!(v, Verdict::Final);
    assert!(!asked);
    let v = verdict(&r, attempted(Failure::Reset), || false);
    assert_eq!(v, Verdict::Refused(Refusal::Budget));
}

#[test]
fn backoff_is_full_jitter_under_a_doubling_ceiling() {
    let r = builtin_retry(); // 100 ms doubling to 2 s
    let ceilings = [100, 200, 400, 800, 1600, 2000, 2000];
    for (i, ceiling) in ceilings.iter().enumerate() {
        let n = i as u32 + 1;
        let ceiling = Duration::from_millis(*ceiling);
        assert_eq!(backoff(&r, n, 0.0), Duration::ZERO);
        assert_eq!(backoff(&r, n, 1.0), ceiling, "retry {n}");
        for _ in 0..1000 {
            let d = backoff(&r, n, fastrand::f64());
            assert!(d <= ceiling, "retry {n}: {d:?} over {ceiling:?}");
        }
    }
    assert_eq!(backoff(&r, u32::MAX, 1.0), Duration::from_secs(2));
}

#[test]
fn backoff_samples_spread_over_the_range() {
    let r = builtin_retry();
    let samples: Vec<_> = (0..2000).map(|_| backoff(&r, 3, fastrand::f64())).collect();
    let low = samples.iter().filter(|d| d.as_millis() < 100).count();
    let high = samples.iter().filter(|d| d.as_millis() >= 300).count();
    // Uniform over [0, 400 ms]: a quarter each; both far from zero.
    assert!(low > 300 && high > 300, "low {low}, high {high}");
}

#[test]
fn idempotency_by_method_and_header() {
    let r = builtin_retry();
    let none = ReqFields::Map(HeaderMap::new());
    let mut keyed = HeaderMap::new();
    keyed.insert("idempotency-key", HeaderValue::from_static("k1"));
    let keyed = ReqFields::Map(keyed);
    for m in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"] {
        assert!(is_idempotent(&m.parse().unwrap(), &none, &r), "{m}");
    }
    for m in ["POST", "PATCH"] {
        let m: Method = m.parse().unwrap();
        assert!(!is_idempotent(&m, &none, &r));
        assert!(is_idempotent(&m, &keyed, &r));
    }
    assert!(!is_idempotent(&Method::CONNECT, &keyed, &r));
    assert!(!is_idempotent(&"PURGE".parse().unwrap(), &keyed, &r));
}

#[test]
fn retry_after_seconds_and_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let v = |s: &'static str| parse_retry_after(&HeaderValue::from_static(s), now);
    assert_eq!(v("3"), Some(Duration::from_secs(3)));
    assert_eq!(v(" 0 "), Some(Duration::ZERO));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
    assert_eq!(
        parse_retry_after(&HeaderValue::from_str(&later).unwrap(), now),
        Some(Duration::from_secs(7))
    );
    let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
    assert_eq!(
        parse_retry_after(&HeaderValue::from_str(&past).unwrap(), now),
        Some(Duration::ZERO)
    );
    assert_eq!(v("-1"), None);
    assert_eq!(v("soon"), None);
    assert_eq!(v(""), None);
    assert_eq!(
        v("99999999999999999999999"),
        Some(Duration::from_secs(u64::MAX))
    );
}

#[test]
fn retry_after_is_read_only_on_429_and_503() {
    let mut h = HeaderMap::new();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    assert_eq!(retry_after_of(503, &h), Some(Duration::from_secs(1)));
    assert_eq!(retry_after_of(429, &h), Some(Duration::from_secs(1)));
    assert_eq!(retry_after_of(500, &h), None);
}
