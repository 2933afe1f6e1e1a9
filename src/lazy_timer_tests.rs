use std::future::poll_fn;
use std::time::Duration;

use super::*;

/// One poll of the timer, as a connection does when its work is pending.
async fn fired(timer: &mut LazyTimer) -> bool {
    poll_fn(|cx| Poll::Ready(timer.poll(cx).is_ready())).await
}

fn after(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

#[tokio::test(start_paused = true)]
async fn a_later_deadline_is_honoured_after_the_armed_one_passes() {
    let mut timer = LazyTimer::new(after(100));
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_millis(60)).await;
    timer.set(after(100)); // now due at 160 ms
    tokio::time::advance(Duration::from_millis(50)).await;
    assert!(
        !fired(&mut timer).await,
        "110 ms: the first deadline passed, not the current"
    );
    tokio::time::advance(Duration::from_millis(49)).await;
    assert!(!fired(&mut timer).await, "159 ms");
    tokio::time::advance(Duration::from_millis(2)).await;
    assert!(fired(&mut timer).await, "161 ms");
}

#[tokio::test(start_paused = true)]
async fn an_earlier_deadline_fires_at_once_when_due() {
    let mut timer = LazyTimer::new(after(10_000));
    assert!(!fired(&mut timer).await);
    timer.set(after(50));
    tokio::time::advance(Duration::from_millis(49)).await;
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_millis(2)).await;
    assert!(
        fired(&mut timer).await,
        "the earlier deadline, not the armed 10 s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timer_that_fired_while_unused_waits_for_the_next_deadline() {
    let mut timer = LazyTimer::new(after(10));
    tokio::time::advance(Duration::from_millis(500)).await;
    // Fired long ago (an idle pooled connection); a new exchange sets a new deadline.
    timer.set(after(100));
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_millis(101)).await;
    assert!(fired(&mut timer).await);
}

#[tokio::test(start_paused = true)]
async fn within_returns_the_work_or_none_at_the_deadline() {
    let mut timer = LazyTimer::new(after(100));
    assert_eq!(timer.within(async { 7 }).await, Some(7));
    let start = Instant::now();
    timer.set(after(100));
    let slow = tokio::time::sleep(Duration::from_secs(1));
    assert_eq!(timer.within(slow).await, None);
    // Paused time jumps to the next timer: the deadline's, not the work's.
    assert_eq!(Instant::now() - start, Duration::from_millis(100));
}
