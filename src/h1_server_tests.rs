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

/// Every connection carries this loop's future, idle or not (bench/README.md: 8.6 KiB per
/// idle connection). It was 6.3 KB before the request's future was polled in place and
/// dropped before the response is written; a future added inline on the request's path shows
/// up here first.
#[tokio::test]
async fn the_connection_loop_s_future_stays_small() {
    let toml = r#"
        [upstreams.app]
        endpoints = ["http://127.0.0.1:9"]
        [[routes]]
        name = "all"
        path_prefix = "/"
        upstream = "app"
    "#;
    let config = crate::config_file::from_toml_str(toml).unwrap();
    let gateway = Gateway::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut io, _last_word) = client_io::split(stream);
    let ctx = Ctx {
        shared: crate::reload::shared(gateway),
        health: Arc::new(Health::default()),
        peer: Peer::new(addr),
        header_read_timeout: Duration::from_secs(10),
    };
    let mut finish = Watch::new(crate::watch::Stop::default());
    let future = serve(&mut io, &ctx, &mut finish);
    let size = std::mem::size_of_val(&future);
    assert!(
        size <= 3 * 1024 + 256,
        "the connection loop's future is {size} bytes"
    );
}
