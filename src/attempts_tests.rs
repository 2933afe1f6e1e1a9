//! The attempt loop against scripted outcomes, in paused time: every delay is exact.

use std::collections::VecDeque;

use super::*;
use crate::config_file::from_toml_str;
use crate::upstream::UpstreamClient;

/// What a scripted attempt does.
#[derive(Debug, Clone, Copy)]
enum Step {
    Status(u16),
    StatusRetryAfter(u16, u64),
    Fail(Failure),
    Stale,
    /// Takes this long, then answers 200.
    Slow(u64),
}

struct Script {
    steps: VecDeque<Step>,
    /// (time since start, endpoint) of every attempt.
    seen: Vec<(Duration, usize)>,
    start: Instant,
    replayable: bool,
}

impl Script {
    fn new(steps: &[Step]) -> Self {
        Script {
            steps: steps.iter().copied().collect(),
            seen: Vec::new(),
            start: Instant::now(),
            replayable: true,
        }
    }

    fn gaps(&self) -> Vec<Duration> {
        self.seen.windows(2).map(|w| w[1].0 - w[0].0).collect()
    }
}

impl Attempter for Script {
    type Response = u16;

    fn send(&mut self, endpoint: usize) -> impl Future<Output = Outcome<u16>> + Send {
        self.seen.push((self.start.elapsed(), endpoint));
        let step = self.steps.pop_front().unwrap_or(Step::Status(200));
        async move {
            match step {
                Step::Status(status) => Outcome::Response {
                    response: status,
                    status,
                    retry_after: None,
                },
                Step::StatusRetryAfter(status, secs) => Outcome::Response {
                    response: status,
                    status,
                    retry_after: Some(Duration::from_secs(secs)),
                },
                Step::Fail(failure) => Outcome::Failed {
                    error: error_for(failure),
                    failure,
                },
                Step::Stale => Outcome::Stale(ProxyError::Reset("stale".into())),
                Step::Slow(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Outcome::Response {
                        response: 200,
                        status: 200,
                        retry_after: None,
                    }
                }
            }
        }
    }

    fn can_replay(&mut self, failure: Failure) -> bool {
        self.replayable || failure == Failure::ConnectFailure
    }
}

fn error_for(failure: Failure) -> ProxyError {
    match failure {
        Failure::Timeout => ProxyError::TryTimeout,
        Failure::Deadline => ProxyError::Deadline,
        Failure::ConnectFailure => ProxyError::Connect {
            kind: crate::error::ConnectKind::Refused,
            source: "refused".into(),
        },
        _ => ProxyError::Reset("reset".into()),
    }
}

fn upstream(extra: &str, retry: &str) -> (UpstreamClient, Retry) {
    let toml = format!(
        "[upstreams.u]\nendpoints = [\"http://127.0.0.1:1\", \"http://127.0.0.1:2\"]\n{extra}\n\
         [[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"u\"\n[routes.retry]\n{retry}\n"
    );
    let config = from_toml_str(&toml).expect("valid test config");
    let client = UpstreamClient::new(
        config.upstreams["u"].clone(),
        &crate::metrics::Metrics::new(),
    )
    .expect("client");
    (client, config.routes[0].retry.clone())
}

async fn run_script(
    steps: &[Step],
    retry: &str,
    idempotent: bool,
    timeout: Duration,
) -> (Result<u16, String>, Script, Trace) {
    let (client, retry) = upstream("", retry);
    let mut script = Script::new(steps);
    let mut trace = Trace::default();
    let plan = Plan {
        retry: &retry,
        endpoints: &client.endpoints,
        budget: &client.budget,
        deadline: Instant::now() + timeout,
        idempotent,
    };
    let result = run(&mut script, plan, &mut trace).await;
    (result.map_err(|e| e.code().to_string()), script, trace)
}

/// An idempotent request's plan on `client`.
fn plan<'a>(client: &'a UpstreamClient, retry: &'a Retry, deadline: Instant) -> Plan<'a> {
    Plan {
        retry,
        endpoints: &client.endpoints,
        budget: &client.budget,
        deadline,
        idempotent: true,
    }
}

const LONG: Duration = Duration::from_secs(25);

#[tokio::test(start_paused = true)]
async fn success_on_the_third_try_with_backoff_within_bounds() {
    let steps = [Step::Status(503), Step::Fail(Failure::Reset)];
    let (result, script, trace) = run_script(&steps, "", true, LONG).await;
    assert_eq!(result, Ok(200));
    assert_eq!(trace.attempts, 3);
    assert_eq!(trace.retries, ["503", "reset"]);
    let gaps = script.gaps();
    // Full jitter: the first retry waits at most 100 ms, the second at most 200 ms.
    assert!(gaps[0] <= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] <= Duration::from_millis(200), "{gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn attempts_never_exceed_the_limit_and_the_last_failure_is_returned() {
    let steps = [Step::Status(502); 10];
    let (result, script, trace) = run_script(&steps, "attempts = 4", true, LONG).await;
    assert_eq!(result, Ok(502));
    assert_eq!(script.seen.len(), 4);
    assert_eq!(trace.attempts, 4);
    assert_eq!(trace.refused, None);
}

#[tokio::test(start_paused = true)]
async fn a_retry_goes_to_the_other_endpoint() {
    let steps = [Step::Fail(Failure::ConnectFailure)];
    let (_, script, _) = run_script(&steps, "", true, LONG).await;
    assert_ne!(script.seen[0].1, script.seen[1].1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_sets_the_delay_exactly() {
    let steps = [Step::StatusRetryAfter(503, 2)];
    let (result, script, _) = run_script(&steps, "retry_after_max = \"3s\"", true, LONG).await;
    assert_eq!(result, Ok(200));
    assert_eq!(script.gaps(), [Duration::from_secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_long_retry_after_goes_to_the_client_at_once() {
    let steps = [Step::StatusRetryAfter(503, 10)];
    let (result, script, trace) = run_script(&steps, "", true, LONG).await;
    assert_eq!(result, Ok(503));
    assert_eq!(script.seen.len(), 1);
    assert_eq!(trace.refused, Some(Refusal::RetryAfter));
    // Nothing waited.
    assert_eq!(script.start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_wins_over_remaining_attempts() {
    // Each try takes 4 s; the route allows 10 s, attempts 10.
    let steps = [Step::Fail(Failure::Timeout); 10];
    let retry = "attempts = 10\nbackoff_base = \"1s\"\nbackoff_max = \"1s\"";
    let (client, retry) = upstream("", retry);
    let mut script = Script::new(&steps);
    let mut trace = Trace::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let plan = plan(&client, &retry, deadline);
    struct Timed<'a>(&'a mut Script, Instant);
    impl Attempter for Timed<'_> {
        type Response = u16;
        fn send(&mut self, ep: usize) -> impl Future<Output = Outcome<u16>> + Send {
            let outcome = self.0.send(ep);
            let end = (Instant::now() + Duration::from_secs(4)).min(self.1);
            let deadline = self.1;
            async move {
                tokio::time::sleep_until(end).await;
                let out = outcome.await;
                if end >= deadline {
                    return Outcome::Failed {
                        error: ProxyError::Deadline,
                        failure: Failure::Deadline,
                    };
                }
                out
            }
        }
        fn can_replay(&mut self, f: Failure) -> bool {
            self.0.can_replay(f)
        }
    }
    let result = run(&mut Timed(&mut script, deadline), plan, &mut trace).await;
    assert_eq!(result.map_err(|e| e.code()), Err("UPSTREAM_TIMEOUT"));
    assert!(script.seen.len() < 10, "{} attempts", script.seen.len());
    assert!(Instant::now() <= deadline);
}

#[tokio::test(start_paused = true)]
async fn a_backoff_that_would_pass_the_deadline_is_refused() {
    let retry = "backoff_base = \"5s\"\nbackoff_max = \"5s\"";
    // With 5 s of jittered backoff and 1 ms left, almost every draw is past the deadline.
    let mut refused = 0;
    for _ in 0..20 {
        let steps = [Step::Status(503)];
        let (result, _, trace) = run_script(&steps, retry, true, Duration::from_millis(1)).await;
        if trace.refused == Some(Refusal::Deadline) {
            assert_eq!(result, Ok(503));
            refused += 1;
        }
    }
    assert!(refused >= 15, "refused {refused} of 20");
}

#[tokio::test(start_paused = true)]
async fn a_post_without_key_is_not_retried_after_its_bytes_went_out() {
    let steps = [Step::Fail(Failure::Reset), Step::Status(503), Step::Stale];
    for step in steps {
        let (_, script, trace) = run_script(&[step], "", false, LONG).await;
        assert_eq!(script.seen.len(), 1, "{step:?}");
        if !matches!(step, Step::Stale) {
            assert_eq!(trace.refused, Some(Refusal::NotIdempotent), "{step:?}");
        }
    }
    // After a connect failure nothing was sent: any method goes again.
    let steps = [Step::Fail(Failure::ConnectFailure)];
    let (result, script, _) = run_script(&steps, "", false, LONG).await;
    assert_eq!(result, Ok(200));
    assert_eq!(script.seen.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn stale_connections_are_replayed_without_using_attempts() {
    let steps = [Step::Stale, Step::Stale, Step::Status(200)];
    let (result, script, trace) = run_script(&steps, "attempts = 1", true, LONG).await;
    assert_eq!(result, Ok(200));
    assert_eq!(script.seen.len(), 3);
    assert_eq!(trace.retries, ["stale_connection", "stale_connection"]);
    assert_eq!(script.start.elapsed(), Duration::ZERO, "no backoff");
    // Bounded: a pool full of dead connections ends in the failure.
    let steps = [Step::Stale; 10];
    let (result, script, _) = run_script(&steps, "attempts = 1", true, LONG).await;
    assert_eq!(result, Err("BAD_GATEWAY".into()));
    assert_eq!(script.seen.len(), MAX_STALE_REPLAYS as usize + 1);
}

#[tokio::test(start_paused = true)]
async fn an_unreplayable_body_is_refused() {
    let (client, retry) = upstream("", "");
    let mut script = Script::new(&[Step::Fail(Failure::Reset)]);
    script.replayable = false;
    let mut trace = Trace::default();
    let plan = plan(&client, &retry, Instant::now() + LONG);
    let result = run(&mut script, plan, &mut trace).await;
    assert!(result.is_err());
    assert_eq!(script.seen.len(), 1);
    assert_eq!(trace.refused, Some(Refusal::BodyTooLarge));
}

#[tokio::test(start_paused = true)]
async fn the_budget_refuses_retries_under_sustained_failure() {
    let (client, retry) = upstream(
        "eject_after = 0",
        "budget_percent = 20\nbudget_min_per_second = 0",
    );
    let mut sent = 0;
    let mut refused = 0;
    for _ in 0..200 {
        client.budget.record_request(Instant::now());
        let mut script = Script::new(&[Step::Status(503); 3]);
        let mut trace = Trace::default();
        let plan = plan(&client, &retry, Instant::now() + LONG);
        let _ = run(&mut script, plan, &mut trace).await;
        sent += script.seen.len();
        refused += usize::from(trace.refused == Some(Refusal::Budget));
    }
    // Without a budget: 600 attempts. With 20 %: 200 first tries and about 40 retries.
    assert!((230..=250).contains(&sent), "sent {sent}");
    assert!(refused >= 150, "refused {refused}");
}

#[tokio::test(start_paused = true)]
async fn all_endpoints_ejected_is_503_unavailable() {
    let (client, retry) = upstream("eject_after = 1", "attempts = 1");
    client.endpoints.record_failure(0);
    client.endpoints.record_failure(1);
    let mut script = Script::new(&[]);
    let plan = plan(&client, &retry, Instant::now() + LONG);
    let result = run(&mut script, plan, &mut Trace::default()).await;
    let err = result.unwrap_err();
    assert_eq!(
        (err.status().as_u16(), err.code()),
        (503, "UPSTREAM_UNAVAILABLE")
    );
    assert!(script.seen.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_ejects_the_last_endpoint_is_returned_at_once() {
    let (client, retry) = upstream("eject_after = 1", "attempts = 3");
    client.endpoints.record_failure(1);
    let mut script = Script::new(&[Step::StatusRetryAfter(503, 2)]);
    let plan = plan(&client, &retry, Instant::now() + LONG);
    let mut trace = Trace::default();
    let result = run(&mut script, plan, &mut trace).await;
    // The upstream's own 503, not UPSTREAM_UNAVAILABLE, and without waiting its Retry-After.
    assert_eq!(result.ok(), Some(503));
    assert_eq!(script.seen, [(Duration::ZERO, 0)]);
    assert_eq!(script.start.elapsed(), Duration::ZERO);
    assert!(trace.retries.is_empty());
}

#[tokio::test(start_paused = true)]
async fn slow_success_is_returned_as_is() {
    let (result, _, trace) = run_script(&[Step::Slow(300)], "", true, LONG).await;
    assert_eq!(result, Ok(200));
    assert_eq!(trace.attempts, 1);
}
