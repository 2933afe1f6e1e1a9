//! SIGTERM under steady load on a real errgate process (DESIGN §8): `/readyz` turns 503 at
//! once, in-flight requests complete, nothing fails except refused new connections, exit 0.

mod support;

use std::time::Duration;

use support::load::{Load, Seen};
use support::process::{Errgate, temp_dir};
use support::*;

fn config_text(backend: std::net::SocketAddr) -> String {
    format!(
        "[listener]\ndrain_timeout = \"5s\"\n[upstreams.up]\nendpoints = [\"http://{backend}\"]\n\
         [[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"up\"\n"
    )
}

async fn readyz(e: &Errgate) -> Option<u16> {
    let resp = client().request(get(&e.admin_url("/readyz"))).await.ok()?;
    Some(resp.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_fails_nothing_but_new_connections() {
    let backend = hyper_backend(|_req| async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        json_response(200, "ok")
    })
    .await;
    let dir = temp_dir("drain");
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config_text(backend)).unwrap();
    let mut e = Errgate::start(&path, &[]).await;
    assert_eq!(readyz(&e).await, Some(200));
    let load = Load::start(e.url("/x"), 8);
    while load.count() < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    e.signal("TERM");
    let mut ready = Some(200);
    for _ in 0..100 {
        ready = readyz(&e).await;
        if ready != Some(200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ready, Some(503), "readyz while draining");
    let status = e.wait_exit(Duration::from_secs(10)).await;
    let seen = load.stop().await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "exit status");
    let answered = seen
        .iter()
        .filter(|s| matches!(s, Seen::Answer(200, _)))
        .count();
    let broken: Vec<_> = seen
        .iter()
        .filter(|s| !matches!(s, Seen::Answer(200, _) | Seen::Refused))
        .collect();
    assert!(answered >= 50, "{answered} answered");
    assert!(
        broken.is_empty(),
        "{} of {} broken: {:?}",
        broken.len(),
        seen.len(),
        &broken[..broken.len().min(5)]
    );
}

/// A forced exit still leaves the access lines of the requests answered before it on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let backend = hyper_backend(|req| async move {
        if req.uri().path() == "/fast" {
            return json_response(200, "fast");
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        json_response(200, "late")
    })
    .await;
    let dir = temp_dir("drain-twice");
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config_text(backend).replace("5s", "60s")).unwrap();
    let mut e = Errgate::start(&path, &[]).await;
    for _ in 0..3 {
        let resp = client().request(get(&e.url("/fast"))).await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    let url = e.url("/hang");
    let _pending = tokio::spawn(async move { client().request(get(&url)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    e.signal("TERM");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(e.alive(), "draining the hung request");
    e.signal("TERM");
    let status = e.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(130));
    // stdout is read by another thread: give it the last bytes.
    let logged = e.wait_logged("\"path\":\"/fast\"", 3).await;
    assert_eq!(logged, 3, "access lines at the forced exit");
}

/// A stdout pipe that nobody reads (a log collector that died) fills up and blocks the access
/// log's writer; errgate still exits after a SIGTERM instead of waiting on the pipe forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_stdout_does_not_keep_errgate_from_exiting() {
    let backend = hyper_backend(|_req| async { json_response(200, "ok") }).await;
    let dir = temp_dir("stalled-stdout");
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config_text(backend)).unwrap();
    let mut e = Errgate::start_stdout_unread(&path).await;
    // About 400 bytes a line: a 64 KiB pipe is full after ~170 of them.
    let load = Load::start(e.url("/x"), 4);
    while load.count() < 2_000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    load.stop().await;
    e.signal("TERM");
    let status = e.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "exit status");
}
