use super::*;

/// One poll of the timer, as the loop does when a read finds nothing.
async fn fired(timer: &mut HeadTimer) -> bool {
    poll_fn(|cx| Poll::Ready(timer.poll(cx).is_ready())).await
}

#[tokio::test(start_paused = true)]
async fn the_head_timer_counts_from_the_latest_wait_and_rearms_lazily() {
    let mut timer = HeadTimer::new(Duration::from_secs(10));
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_secs(6)).await;
    // A request was answered; the next wait starts now and may last 10 s more.
    timer.start();
    tokio::time::advance(Duration::from_secs(5)).await;
    // The first deadline has passed: the timer is moved on, not fired.
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_secs(4)).await;
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(fired(&mut timer).await, "16 s after the wait began");
}

#[tokio::test(start_paused = true)]
async fn an_untouched_head_timer_fires_at_its_timeout() {
    let mut timer = HeadTimer::new(Duration::from_millis(300));
    tokio::time::advance(Duration::from_millis(299)).await;
    assert!(!fired(&mut timer).await);
    tokio::time::advance(Duration::from_millis(2)).await;
    assert!(fired(&mut timer).await);
}
