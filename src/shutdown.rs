//! Process signals: the first SIGTERM/SIGINT starts a graceful drain; a second one exits at once.

use tokio::signal::unix::{self, SignalKind};

/// Exit status after a second signal cut the drain short (128 + SIGINT, by convention).
const EXIT_FORCED: i32 = 130;
/// The most a forced exit waits for the access lines still queued.
const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signal() {
    let Ok(mut term) = unix::signal(SignalKind::terminate()) else {
        // Without a SIGTERM handler, Ctrl-C is the only way to ask for a drain.
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutdown signal received; draining (send it again to exit now)");
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::warn!("second shutdown signal; exiting now");
        crate::log_sink::flush_before_exit(FLUSH_LIMIT);
        std::process::exit(EXIT_FORCED);
    });
}
