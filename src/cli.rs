//! The command line and the start-up script: parse arguments, load and check the config (exit 78
//! when it is bad, before binding anything), build the runtime, bind, serve until a signal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{self, Config};
use crate::explain::{self, ExplainArgs};
use crate::gateway::Gateway;
use crate::logging::{self, LogFormat};
use crate::metrics::Metrics;
use crate::reload::{self, Reloader};
use crate::server::{self, Listeners};
use crate::{demo, shutdown};

/// sysexits.h EX_CONFIG: systemd's `RestartPreventExitStatus=78` stops restart loops on it.
pub const EXIT_CONFIG: u8 = 78;
/// The listener could not be bound or the runtime could not start.
pub const EXIT_START: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "errgate",
    version,
    about = "A reverse-proxy gateway that turns every failure into one JSON envelope"
)]
struct Cli {
    /// Configuration file [default: config/gateway.toml; config/demo.toml for `demo`].
    #[arg(long, global = true, env = "ERRGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on stdout [default: json; text for `demo`].
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// Also reload when the config file's content changes (polled every 2 s; catches the
    /// symlink swap of a Kubernetes ConfigMap). SIGHUP always reloads.
    #[arg(long)]
    watch: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the configuration: print `ok` or the errors; exit 0 or 78.
    Check,
    /// Start the gateway on the demo config with a built-in misbehaving sample backend.
    Demo,
    /// Show the envelope errgate would send for an upstream response, and why.
    Explain(ExplainArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            let path = cli
                .config
                .unwrap_or_else(|| config::DEFAULT_CONFIG_PATH.into());
            let opts = ServeOpts {
                watch: cli.watch.then_some(WATCH_INTERVAL),
            };
            serve(&path, cli.log_format.unwrap_or(LogFormat::Json), opts)
        }
        Some(Command::Check) => check(
            &cli.config
                .unwrap_or_else(|| config::DEFAULT_CONFIG_PATH.into()),
        ),
        Some(Command::Explain(args)) => {
            match load(
                &cli.config
                    .unwrap_or_else(|| config::DEFAULT_CONFIG_PATH.into()),
            ) {
                Ok(config) => explain::run(config, &args),
                Err(code) => code,
            }
        }
        Some(Command::Demo) => {
            let path = cli.config.unwrap_or_else(|| demo::DEFAULT_CONFIG.into());
            logging::init(cli.log_format.unwrap_or(LogFormat::Text));
            match load(&path) {
                Ok(config) => {
                    let threads = config.runtime.worker_threads;
                    with_runtime(threads, demo::run(config, path))
                }
                Err(code) => code,
            }
        }
    }
}

fn check(path: &Path) -> ExitCode {
    match load(path) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Loads and fully validates a config (including its CA files); prints the errors on failure.
pub fn load(path: &Path) -> Result<Config, ExitCode> {
    let config = config::load(path).map_err(|err| {
        eprintln!("{err}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    // Building the clients reads `ca_file`s: a bad certificate is a config error too.
    Gateway::new(config.clone()).map_err(|err| {
        eprintln!("{err}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    Ok(config)
}

/// How often `--watch` reads the config file.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Serving options from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOpts {
    pub watch: Option<Duration>,
}

fn serve(path: &Path, format: LogFormat, opts: ServeOpts) -> ExitCode {
    let config = match load(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    logging::init(format);
    let threads = config.runtime.worker_threads;
    with_runtime(threads, serve_config(config, path.to_path_buf(), opts))
}

async fn serve_config(config: Config, path: PathBuf, opts: ServeOpts) -> ExitCode {
    match bind(&config).await {
        Ok(listeners) => run_gateway(config, path, listeners, opts).await,
        Err(code) => code,
    }
}

/// Binds the public and admin listeners of `config`.
pub async fn bind(config: &Config) -> Result<Listeners, ExitCode> {
    let public = bind_one(config.listener.address, "listener.address").await?;
    let admin = bind_one(config.admin.address, "admin.address").await?;
    Ok(Listeners {
        public,
        admin: Some(admin),
    })
}

/// Connections the kernel may queue before errgate accepts them (tokio's default is 1024; a
/// burst of new clients beyond it is silently dropped by the kernel). Capped by
/// `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 8192;

async fn bind_one(address: std::net::SocketAddr, key: &str) -> Result<TcpListener, ExitCode> {
    let listen = || -> std::io::Result<TcpListener> {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(LISTEN_BACKLOG)
    };
    listen().map_err(|err| {
        eprintln!("errgate: cannot listen on {address} ({key}): {err}");
        ExitCode::from(EXIT_START)
    })
}

/// Builds the gateway with process-wide metrics, reloads it on SIGHUP (and `--watch`), and
/// serves until a shutdown signal.
pub async fn run_gateway(
    config: Config,
    path: PathBuf,
    listeners: Listeners,
    opts: ServeOpts,
) -> ExitCode {
    let (address, admin) = (config.listener.address, config.admin.address);
    let started_with = Arc::new(config.clone());
    let metrics = Metrics::new();
    metrics.spawn_upkeep();
    let gateway = match Gateway::with_metrics(config, metrics.clone()) {
        Ok(gw) => reload::shared(gw),
        Err(err) => {
            eprintln!("errgate: {err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let reloader = Reloader {
        path,
        started_with,
        current: gateway.clone(),
        metrics,
    };
    if let Err(err) = reloader.spawn_on_sighup() {
        eprintln!("errgate: cannot handle SIGHUP: {err}");
        return ExitCode::from(EXIT_START);
    }
    if let Some(every) = opts.watch {
        reloader.spawn_watch(every);
    }
    let version = env!("CARGO_PKG_VERSION");
    tracing::info!(%address, %admin, version, "errgate listening");
    // The last access lines are flushed by `with_runtime`, once every worker has stopped.
    let result = server::run(gateway, listeners, shutdown::signal()).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("errgate: {err}");
            ExitCode::from(EXIT_START)
        }
    }
}

/// How long stopping the runtime may wait for its threads at exit.
const RUNTIME_STOP: std::time::Duration = std::time::Duration::from_secs(2);
/// How long exiting may wait for stdout to take the last access lines.
const LOG_FLUSH: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `fut` on a runtime sized by `[runtime] worker_threads`. One thread gets tokio's
/// current-thread scheduler: the same work without cross-thread wake-ups (about 10% less CPU
/// per proxied request in bench/).
pub fn with_runtime(
    worker_threads: Option<usize>,
    fut: impl std::future::Future<Output = ExitCode>,
) -> ExitCode {
    let mut builder = if worker_threads == Some(1) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all();
    // Access lines wait in a batch per thread: an idle or stopping worker hands its batch over.
    builder
        .on_thread_park(crate::log_sink::flush_thread)
        .on_thread_stop(crate::log_sink::flush_thread);
    if let Some(n) = worker_threads.filter(|&n| n > 1) {
        builder.worker_threads(n);
    }
    match builder.build() {
        Ok(runtime) => {
            let code = runtime.block_on(fut);
            // Workers stop (and hand over their last lines) before the final flush.
            if !stop_runtime(runtime, RUNTIME_STOP) {
                tracing::warn!(
                    limit = ?RUNTIME_STOP,
                    "threads of the runtime did not stop in time; access lines they held are lost"
                );
            }
            crate::log_sink::flush(LOG_FLUSH);
            code
        }
        Err(err) => {
            eprintln!("errgate: cannot start the runtime: {err}");
            ExitCode::from(EXIT_START)
        }
    }
}

/// Stops `runtime`, waiting up to `limit` for its threads; `false` if some did not stop (a
/// task stuck in a blocking call, say), so their last lines cannot be handed over.
fn stop_runtime(runtime: tokio::runtime::Runtime, limit: std::time::Duration) -> bool {
    let started = std::time::Instant::now();
    runtime.shutdown_timeout(limit);
    started.elapsed() < limit
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::stop_runtime;

    #[test]
    fn a_thread_stuck_at_exit_is_told_apart_from_a_clean_stop() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            tokio::spawn(async {});
        });
        assert!(stop_runtime(runtime, Duration::from_secs(5)));

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (started, running) = std::sync::mpsc::channel();
        runtime.spawn_blocking(move || {
            let _ = started.send(());
            std::thread::sleep(Duration::from_millis(1500));
        });
        running.recv().unwrap();
        assert!(!stop_runtime(runtime, Duration::from_millis(100)));
    }
}
