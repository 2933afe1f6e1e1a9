//! SIGHUP reloads of a real errgate process under a stream of requests (DESIGN §8).

mod support;

use std::path::Path;
use std::time::Duration;

use support::load::{Load, Seen};
use support::process::{Errgate, temp_dir};
use support::*;

async fn backend(name: &'static str) -> std::net::SocketAddr {
    hyper_backend(move |req| async move {
        if req.uri().path() == "/slow" {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        json_response(200, name)
    })
    .await
}

fn config_text(backend: std::net::SocketAddr) -> String {
    format!(
        "[upstreams.up]\nendpoints = [\"http://{backend}\"]\n\
         [[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"up\"\n"
    )
}

fn write(path: &Path, text: &str) {
    // Write then rename, as editors and config management do, so errgate never reads half.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn body_of(url: &str) -> String {
    let (parts, body) = send(get(url)).await;
    assert_eq!(parts.status, 200);
    String::from_utf8_lossy(&body).into()
}

async fn metric(e: &Errgate, series: &str) -> f64 {
    let (_, body) = send(get(&e.admin_url("/metrics"))).await;
    let text = String::from_utf8_lossy(&body).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

/// Polls until the gateway answers `want` (bounded).
async fn until_body(url: &str, want: &str) {
    for _ in 0..200 {
        if body_of(url).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{url} never answered {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_reloads_in_a_second_under_load_fail_nothing() {
    let (a, b) = (backend("a").await, backend("b").await);
    let dir = temp_dir("reload-storm");
    let path = dir.join("gateway.toml");
    write(&path, &config_text(a));
    let mut e = Errgate::start(&path, &[]).await;
    let load = Load::start(e.url("/x"), 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (fds_before, rss_before) = (e.fd_count(), e.rss_kib());
    for i in 0..100 {
        write(&path, &config_text(if i % 2 == 0 { b } else { a }));
        e.signal("HUP");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = load.stop().await;
    assert!(e.alive(), "errgate died");
    let bad: Vec<_> = seen
        .iter()
        .filter(|s| !matches!(s, Seen::Answer(200, _)))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} failed: {:?}",
        bad.len(),
        seen.len(),
        &bad[..bad.len().min(5)]
    );
    let from_b = seen
        .iter()
        .filter(|s| **s == Seen::Answer(200, "b".into()))
        .count();
    assert!(
        from_b > 0 && from_b < seen.len(),
        "both configs served: {from_b} of {}",
        seen.len()
    );
    let ok = metric(&e, "errgate_config_reloads_total{result=\"success\"}").await;
    assert!(ok >= 1.0, "reloads counted: {ok}");
    assert_eq!(
        metric(&e, "errgate_config_reloads_total{result=\"failure\"}").await,
        0.0
    );
    // No leak: descriptors and memory stay where they were (generous margins).
    assert!(
        e.fd_count() <= fds_before + 16,
        "fds {fds_before} -> {}",
        e.fd_count()
    );
    assert!(
        e.rss_kib() <= rss_before + 32 * 1024,
        "rss {rss_before} -> {} KiB",
        e.rss_kib()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_keeps_the_old_config_serving() {
    let (a, b) = (backend("a").await, backend("b").await);
    let dir = temp_dir("reload-broken");
    let path = dir.join("gateway.toml");
    write(&path, &config_text(a));
    let e = Errgate::start(&path, &[]).await;
    assert_eq!(body_of(&e.url("/x")).await, "a");

    write(&path, &config_text(b).replace("path_prefix", "path_prefx"));
    e.signal("HUP");
    let failures = "errgate_config_reloads_total{result=\"failure\"}";
    for _ in 0..200 {
        if metric(&e, failures).await == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(metric(&e, failures).await, 1.0);
    assert_eq!(body_of(&e.url("/x")).await, "a", "old config still serves");
    assert!(
        e.wait_logged("reload failed", 1).await >= 1,
        "{:?}",
        e.lines.lock().unwrap()
    );
    assert!(
        e.wait_logged("path_prefx", 1).await >= 1,
        "the log names the bad key"
    );

    write(&path, &config_text(b));
    e.signal("HUP");
    until_body(&e.url("/x"), "b").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_finish_on_the_config_they_started_with() {
    let (a, b) = (backend("a").await, backend("b").await);
    let dir = temp_dir("reload-inflight");
    let path = dir.join("gateway.toml");
    write(&path, &config_text(a));
    let e = Errgate::start(&path, &[]).await;
    let slow_url = e.url("/slow");
    let slow = tokio::spawn(async move { body_of(&slow_url).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    write(&path, &config_text(b));
    e.signal("HUP");
    until_body(&e.url("/x"), "b").await;
    assert_eq!(slow.await.unwrap(), "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_change_is_reported_as_needing_a_restart() {
    let (a, b) = (backend("a").await, backend("b").await);
    let dir = temp_dir("reload-address");
    let path = dir.join("gateway.toml");
    let admin = support::process::free_addr();
    let with_admin = |admin: std::net::SocketAddr, backend| {
        format!("[admin]\naddress = \"{admin}\"\n{}", config_text(backend))
    };
    write(&path, &with_admin(admin, a));
    let e = Errgate::start_with(&path, &[], Some(admin)).await;
    let elsewhere = support::process::free_addr();
    write(&path, &with_admin(elsewhere, b));
    e.signal("HUP");
    until_body(&e.url("/x"), "b").await; // the rest of the file took effect
    assert!(
        e.wait_logged("only after a restart", 1).await >= 1,
        "{:?}",
        e.lines.lock().unwrap()
    );
    assert!(e.wait_logged("admin.address", 1).await >= 1);
    // The admin listener stays where it was bound.
    let (parts, _) = send(get(&e.admin_url("/healthz"))).await;
    assert_eq!(parts.status, 200);
    assert!(tokio::net::TcpStream::connect(elsewhere).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_configmap_style_symlink_swap() {
    let (a, b) = (backend("a").await, backend("b").await);
    let dir = temp_dir("reload-watch");
    // Kubernetes: gateway.toml -> ..data/gateway.toml, ..data -> ..2024_01 (swapped).
    for (name, addr) in [("v1", a), ("v2", b)] {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("gateway.toml"), config_text(addr)).unwrap();
    }
    std::os::unix::fs::symlink("v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/gateway.toml", dir.join("gateway.toml")).unwrap();
    let e = Errgate::start(&dir.join("gateway.toml"), &["--watch"]).await;
    assert_eq!(body_of(&e.url("/x")).await, "a");
    std::os::unix::fs::symlink("v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    until_body(&e.url("/x"), "b").await; // polled every 2 s; until_body waits up to ~5 s
}
