//! The public listener: accepts connections (HTTP/1.1 and h2c prior knowledge), bounds how many
//! are open and how long a request head may take, and drains in-flight requests on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::Listener;
use crate::gateway::Gateway;
use crate::proxy;

/// Concurrent HTTP/2 streams per client connection.
const H2_MAX_STREAMS: u32 = 256;
/// HTTP/2 PING interval that detects dead clients.
const H2_KEEPALIVE: Duration = Duration::from_secs(20);

/// The sockets errgate serves, bound by the caller (so tests can bind port 0).
pub struct Listeners {
    pub public: TcpListener,
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
/// within `listener.drain_timeout`.
pub async fn run(
    gateway: Arc<Gateway>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let cfg = gateway.config.listener.clone();
    let builder = http_builder(&cfg);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    // Cancelled when the drain times out, so no connection outlives `run`.
    let cut_off = CancellationToken::new();
    let listener = listeners.public;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let gw = gateway.clone();
        let svc = service_fn(move |req| {
            let gw = gw.clone();
            async move { Ok::<_, Infallible>(proxy::handle(gw, req, peer).await) }
        });
        let conn = serve_one(&builder, stream, svc);
        let watched = graceful.watch(conn);
        let cut_off = cut_off.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = watched => if let Err(err) = result {
                    tracing::debug!(client = %peer, error = %err, "client connection ended with an error");
                },
                () = cut_off.cancelled() => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(drain_timeout = ?cfg.drain_timeout, "stopped accepting; draining");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(cfg.drain_timeout) => {
            tracing::warn!("drain timeout passed; closing remaining connections");
            cut_off.cancel();
        }
    }
    Ok(())
}

type Builder = auto::Builder<TokioExecutor>;

fn serve_one<S>(
    builder: &Builder,
    stream: TcpStream,
    svc: S,
) -> auto::UpgradeableConnection<'static, TokioIo<TcpStream>, S, TokioExecutor>
where
    S: hyper::service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<crate::body::ResponseBody>,
            Error = Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    // Small responses must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    builder
        .serve_connection_with_upgrades(TokioIo::new(stream), svc)
        .into_owned()
}

fn http_builder(cfg: &Listener) -> Builder {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // In hyper this timer also bounds the idle time between keep-alive requests.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS)
        .keep_alive_interval(H2_KEEPALIVE)
        .keep_alive_timeout(H2_KEEPALIVE);
    builder
}

/// Out of file descriptors or similar: back off instead of spinning on the error.
async fn accept_failed(err: io::Error) {
    tracing::warn!(error = %err, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}
