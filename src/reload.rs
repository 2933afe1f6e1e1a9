//! Configuration reloads (DESIGN §8): on SIGHUP, or when `--watch` sees the file's content
//! change. The new file is parsed, validated and built into a complete [`Gateway`] first, then
//! swapped in atomically; requests already running keep the gateway they started with. A
//! broken file keeps the old one serving, logs why and counts a failed reload.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::signal::unix::{self, SignalKind};

use crate::config::{self, Config};
use crate::gateway::Gateway;
use crate::metrics::Metrics;

/// The gateway that new requests use; swapped whole on reload.
pub type SharedGateway = Arc<ArcSwap<Gateway>>;

pub fn shared(gateway: Gateway) -> SharedGateway {
    Arc::new(ArcSwap::from_pointee(gateway))
}

/// Reloads `path` into `current`.
#[derive(Clone)]
pub struct Reloader {
    pub path: PathBuf,
    /// The config the listeners were bound with.
    pub started_with: Arc<Config>,
    pub current: SharedGateway,
    pub metrics: Arc<Metrics>,
}

impl Reloader {
    /// Registers the SIGHUP handler now (before it, SIGHUP would terminate the process) and
    /// reloads on every signal.
    pub fn spawn_on_sighup(&self) -> std::io::Result<()> {
        let mut hup = unix::signal(SignalKind::hangup())?;
        let this = self.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                this.reload().await;
            }
        });
        Ok(())
    }

    /// Polls the file's content every `every` and reloads when it changed. Kubernetes updates
    /// a ConfigMap by swapping a symlink, which file-event watchers miss; content hashes don't.
    pub fn spawn_watch(&self, every: Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut seen = content_hash(&this.path).await;
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let now = content_hash(&this.path).await;
                if now.is_some() && now != seen {
                    seen = now;
                    this.reload().await;
                }
            }
        });
    }

    /// Loads, validates and swaps in the file; returns whether the new config is serving.
    pub async fn reload(&self) -> bool {
        let this = self.clone();
        // File reads and certificate parsing stay off the request workers.
        let built = tokio::task::spawn_blocking(move || this.build()).await;
        match built {
            Ok(Ok(gateway)) => {
                self.current.store(Arc::new(gateway));
                self.metrics.reloads_ok.increment(1);
                tracing::info!(path = %self.path.display(), "configuration reloaded");
                true
            }
            Ok(Err(reason)) => {
                self.metrics.reloads_failed.increment(1);
                tracing::error!(path = %self.path.display(), error = %reason, "reload failed; the previous configuration keeps serving");
                false
            }
            Err(_) => {
                self.metrics.reloads_failed.increment(1);
                tracing::error!("reload task failed; the previous configuration keeps serving");
                false
            }
        }
    }

    fn build(&self) -> Result<Gateway, String> {
        let config = config::load(&self.path).map_err(|e| e.to_string())?;
        warn_restart_needed(&self.started_with, &config);
        let old = self.current.load();
        Gateway::replacing(config, self.metrics.clone(), Some(&old)).map_err(|e| e.to_string())
    }
}

/// Settings bound at start-up: a reload cannot change them, so say so.
fn warn_restart_needed(old: &Config, new: &Config) {
    let changed = [
        (
            "listener.address",
            old.listener.address != new.listener.address,
        ),
        ("admin.address", old.admin.address != new.admin.address),
        (
            "listener.header_read_timeout",
            old.listener.header_read_timeout != new.listener.header_read_timeout,
        ),
        (
            "listener.max_connections",
            old.listener.max_connections != new.listener.max_connections,
        ),
        (
            "runtime.worker_threads",
            old.runtime.worker_threads != new.runtime.worker_threads,
        ),
    ];
    for (key, _) in changed.iter().filter(|(_, differs)| *differs) {
        tracing::warn!(
            key,
            "changed in the file, but takes effect only after a restart"
        );
    }
}

async fn content_hash(path: &std::path::Path) -> Option<u64> {
    let bytes = tokio::fs::read(path).await.ok()?;
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    Some(h.finish())
}
