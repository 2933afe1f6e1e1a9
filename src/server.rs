//! The public listener: accepts connections (HTTP/1.1 and h2c prior knowledge), bounds how many
//! are open and how long a request head may take, and drains in-flight requests on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use http::header::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, Health};
use crate::client_io::{self, LastWord};
use crate::config::Listener;
use crate::error::find;
use crate::gateway::Gateway;
use crate::h1_server::{self, End};
use crate::prefixed_io::Prefixed;
use crate::proxy;
use crate::reload::SharedGateway;
use crate::req_fields::ReqFields;
use crate::watch::{Stop, Watch};

/// Concurrent HTTP/2 streams per client connection.
const H2_MAX_STREAMS: u32 = 256;
/// How long a drain lets keep-alive clients finish an exchange before closing idle ones.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// HTTP/2 PING interval that detects dead clients.
const H2_KEEPALIVE: Duration = Duration::from_secs(20);

/// The sockets errgate serves, bound by the caller (so tests can bind port 0).
pub struct Listeners {
    pub public: TcpListener,
    /// `/metrics`, `/healthz`, `/readyz`; `None` serves no admin endpoints (tests).
    pub admin: Option<TcpListener>,
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
/// within `listener.drain_timeout`.
pub async fn run(
    shared: SharedGateway,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // Bound at start: a reload cannot change these (it warns instead).
    let cfg = shared.load().config.listener.clone();
    let builder = Arc::new(http_builder(&cfg));
    let slots = Arc::new(Semaphore::new(cfg.max_connections));
    // Cancelled when the drain asks connections to finish (after the close grace).
    let finish = Stop::default();
    // Cancelled when the drain times out, so no connection outlives `run`.
    let cut_off = Stop::default();
    let listener = listeners.public;
    let health = Arc::new(Health::default());
    let admin_stop = CancellationToken::new();
    if let Some(admin_listener) = listeners.admin {
        let admin = admin::serve(
            admin_listener,
            shared.clone(),
            health.clone(),
            admin_stop.clone(),
        );
        tokio::spawn(admin);
    }
    // Stops the admin listener however `run` ends.
    let _admin_guard = admin_stop.drop_guard();
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
        let conn = Shared {
            gateway: shared.clone(),
            health: health.clone(),
            builder: builder.clone(),
            finish: finish.clone(),
            cut_off: cut_off.clone(),
            header_read_timeout: cfg.header_read_timeout,
        };
        tokio::spawn(async move {
            connection(stream, peer, conn).await;
            drop(permit);
        });
    }
    health.start_draining();
    drop(listener);
    let drain_timeout = shared.load().config.listener.drain_timeout;
    let open = || cfg.max_connections - slots.available_permits();
    drain(open, drain_timeout, &finish, &cut_off).await;
    Ok(())
}

/// The drain tokens: asked to finish (graceful), and cut.
struct Stops {
    finish: Watch,
    cut_off: Watch,
}

/// What every connection task gets.
struct Shared {
    gateway: SharedGateway,
    health: Arc<Health>,
    builder: Arc<Builder>,
    finish: Stop,
    cut_off: Stop,
    header_read_timeout: Duration,
}

/// One client connection: errgate's own HTTP/1.1 loop first, hyper for whatever that loop
/// hands over (request bodies, upgrades, HTTP/2, HTTP/1.0, heads it does not take).
async fn connection(stream: TcpStream, peer: SocketAddr, shared: Shared) {
    // Small responses must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let (mut io, last_word) = client_io::split(stream);
    let ctx = h1_server::Ctx {
        shared: shared.gateway.clone(),
        health: shared.health.clone(),
        peer: proxy::Peer::new(peer),
        header_read_timeout: shared.header_read_timeout,
    };
    let mut finish = Watch::new(shared.finish.clone());
    let mut cut_off = Watch::new(shared.cut_off.clone());
    let end = {
        // The drain's cut-off ends the connection whatever it waits on (a read, a write).
        let mut fast = pin!(h1_server::serve(&mut io, &ctx, &mut finish));
        poll_fn(|cx| match cut_off.poll(cx) {
            Poll::Ready(()) => Poll::Ready(End::Closed),
            Poll::Pending => fast.as_mut().poll(cx),
        })
        .await
    };
    let End::Handover(prefix) = end else { return };
    let mut stops = Stops { finish, cut_off };
    let current = ctx.shared.clone();
    let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
        // Each request runs on the gateway that was current when it arrived.
        let gw = ctx.shared.load_full();
        let closing = !ctx.health.is_ready() && req.version() < http::Version::HTTP_2;
        let client = ctx.peer.clone();
        async move {
            let (req, fields) = fields_apart(req);
            let mut resp = proxy::handle(gw, req, fields, client).await;
            if closing {
                // Draining: answer, then close, instead of racing the client's next request.
                resp.headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(resp)
        }
    });
    let io = TokioIo::new(Prefixed::new(prefix, io));
    let conn = shared.builder.serve_connection_with_upgrades(io, svc);
    tokio::pin!(conn);
    // The connection stays alive (and with it the socket) until its failure has been looked
    // at, so a last word can still be written when it is dropped.
    if let Some(Err(err)) = serve(conn.as_mut(), &mut stops).await {
        connection_failed(&current.load(), &*err, last_word);
    }
}

/// hyper's request as [`proxy::handle`] takes it: the fields beside the request.
fn fields_apart(req: http::Request<hyper::body::Incoming>) -> (proxy::ClientRequest, ReqFields) {
    let (mut parts, body) = req.into_parts();
    let fields = ReqFields::Map(std::mem::take(&mut parts.headers));
    let body = Some(proxy::ClientBody::Incoming(body));
    (http::Request::from_parts(parts, body), fields)
}

/// Runs a connection to its end: asked to finish by the first token (graceful: in-flight
/// requests complete, HTTP/2 gets GOAWAY), cut by the second. `None` when cut.
async fn serve<C: GracefulConnection>(
    mut conn: Pin<&mut C>,
    stops: &mut Stops,
) -> Option<Result<(), C::Error>> {
    let mut finishing = false;
    poll_fn(|cx| {
        if stops.cut_off.poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        if !finishing && (stops.finish.is_cancelled() || stops.finish.poll(cx).is_ready()) {
            finishing = true;
            conn.as_mut().graceful_shutdown();
        }
        conn.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Lets in-flight requests finish within `drain_timeout`, then cuts what is left.
///
/// HTTP/1 keep-alive connections are not closed at once: closing one just as its client sends
/// the next request fails that request. For a short grace period every response says
/// `Connection: close` instead (see `run`), so busy connections end cleanly after their next
/// exchange; then the rest are shut down (idle HTTP/1 closed, HTTP/2 sent GOAWAY).
async fn drain(open: impl Fn() -> usize, drain_timeout: Duration, finish: &Stop, cut_off: &Stop) {
    tracing::info!(?drain_timeout, "stopped accepting; draining");
    let now = tokio::time::Instant::now();
    let (deadline, grace_end) = (
        now + drain_timeout,
        now + CLOSE_GRACE.min(drain_timeout / 2),
    );
    let wait_until = |until: tokio::time::Instant| {
        let open = &open;
        async move {
            while open() > 0 && tokio::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_until(grace_end).await;
    finish.cancel();
    wait_until(deadline).await;
    if open() == 0 {
        tracing::info!("drained");
    } else {
        tracing::warn!("drain timeout passed; closing remaining connections");
        cut_off.cancel();
        // Let the cut connections' tasks run their drops before `run` returns.
        wait_until(tokio::time::Instant::now() + Duration::from_millis(100)).await;
    }
}

type Builder = auto::Builder<TokioExecutor>;

/// A connection that hyper gave up on: a client that stalled mid-head gets its 408 envelope.
fn connection_failed(
    gw: &Gateway,
    err: &(dyn std::error::Error + Send + Sync + 'static),
    last_word: LastWord,
) {
    let timed_out = find::<hyper::Error>(err).is_some_and(hyper::Error::is_timeout);
    if timed_out && last_word.mid_request() {
        last_word.send(h1_server::head_timeout_response(gw));
        return;
    }
    tracing::debug!(error = %err, "client connection ended with an error");
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
