//! errgate's own HTTP/1.1 client for plain `http://` endpoints: a pool of idle connections per
//! endpoint and one exchange written and read in the calling task.
//!
//! hyper-util's client runs every connection in a task of its own and hands requests and
//! bodies across channels, behind a pool that boxes futures per request; for a proxy that
//! forwards small responses that was most of the CPU per request. Here the request task
//! writes the head, parses the response head, and the client's body reads the upstream's body
//! straight off the socket ([`crate::h1_body`]). TLS endpoints, streamed request bodies and
//! protocol upgrades still go through hyper-util.
//!
//! The idle list is a `Vec` behind a mutex that is held for one push or pop (never across an
//! await, never contended on one worker thread). A connection the upstream closed while idle
//! is noticed without a syscall: tokio already knows the socket turned readable.

use std::io;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::BytesMut;
use http::Response;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::config::{Endpoint, Upstream};
use crate::error::ProxyError;
use crate::h1_body::H1Body;
use crate::h1_reclaim::{InFlight, lost};
use crate::h1_wire::{self, Parsed, RequestHead};
use crate::lazy_timer::LazyTimer;

/// Read buffer reserved per read of a response.
const READ_CHUNK: usize = 16 * 1024;

/// One upstream connection and its buffers.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    /// Bytes read but not consumed yet.
    pub buf: BytesMut,
    /// The request being written (kept for its capacity).
    out: Vec<u8>,
    /// Scratch for parsing response heads (kept for its capacity).
    fields: h1_wire::Fields,
    /// The try timeout of the exchange in progress, kept armed between exchanges.
    timer: Option<LazyTimer>,
    /// The request is written and its response head not read yet.
    answer_due: bool,
}

impl Conn {
    /// Reads more into `buf`; `Ok(0)` is end of stream. `want` sizes the read (0: default).
    pub fn poll_fill(&mut self, cx: &mut Context<'_>, want: u64) -> Poll<io::Result<usize>> {
        crate::h1_conn::reuse_start(&mut self.buf);
        if self.buf.capacity() - self.buf.len() < 1024 {
            let want = usize::try_from(want).unwrap_or(usize::MAX);
            self.buf.reserve(want.clamp(READ_CHUNK, 4 * READ_CHUNK));
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buf)
    }

    /// The connection's own try timer, set to `deadline`: one per connection, not one per
    /// exchange.
    fn timer_for(&mut self, deadline: Instant) -> LazyTimer {
        match self.timer.take() {
            Some(mut timer) => {
                timer.set(deadline);
                timer
            }
            None => LazyTimer::new(deadline),
        }
    }

    /// The request is written and its response head not read yet.
    pub(crate) fn answer_due(&self) -> bool {
        self.answer_due
    }

    /// Whether the upstream closed (or wrote to) this connection while it was idle.
    fn went_bad(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        if self.stream.poll_read_ready(&mut cx).is_pending() {
            return false;
        }
        let mut probe = [0u8; 1];
        !matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

#[derive(Debug)]
struct Idle {
    conn: Box<Conn>,
    since: Instant,
}

/// Where an endpoint is: an address, or a name resolved on each new connection.
#[derive(Debug)]
enum Target {
    Addr(std::net::SocketAddr),
    Name(String),
}

/// The idle connections of one endpoint.
#[derive(Debug)]
pub struct EndpointPool {
    target: Target,
    pub authority: String,
    idle: Mutex<Vec<Idle>>,
    max_idle: usize,
    /// Abandoned exchanges being read to their end ([`crate::h1_reclaim`]).
    pub(crate) reclaiming: AtomicUsize,
    idle_timeout: Duration,
    connect_timeout: Duration,
}

/// An exchange that failed before a response head, and whether its connection had served
/// before (the stale keep-alive race, see [`crate::upstream_conn`]).
#[derive(Debug)]
pub struct SendError {
    pub error: ProxyError,
    pub reused: bool,
}

impl EndpointPool {
    /// A pool for `endpoint` if errgate's own client serves it (plain `http`).
    pub fn for_endpoint(endpoint: &Endpoint, config: &Upstream) -> Option<Arc<Self>> {
        if endpoint.scheme != http::uri::Scheme::HTTP {
            return None;
        }
        let authority = endpoint.authority.as_str();
        let with_port = match endpoint.authority.port_u16() {
            Some(_) => authority.to_string(),
            None => format!("{authority}:80"),
        };
        let target = match with_port.parse() {
            Ok(addr) => Target::Addr(addr),
            Err(_) => Target::Name(with_port),
        };
        Some(Arc::new(EndpointPool {
            target,
            authority: authority.to_string(),
            idle: Mutex::new(Vec::new()),
            max_idle: config.pool_max_idle_per_host,
            reclaiming: AtomicUsize::new(0),
            idle_timeout: config.pool_idle_timeout,
            connect_timeout: config.connect_timeout,
        }))
    }

    /// The most recently returned connection still fresh at `now` and not closed by the upstream.
    fn take_idle(&self, now: Instant) -> Option<Box<Conn>> {
        loop {
            let idle = self.idle.lock().ok()?.pop()?;
            let mut conn = idle.conn;
            if now.saturating_duration_since(idle.since) < self.idle_timeout && !conn.went_bad() {
                return Some(conn);
            }
        }
    }

    /// Room for `more` connections besides the idle ones.
    pub(crate) fn has_room(&self, more: usize) -> bool {
        self.idle
            .lock()
            .is_ok_and(|idle| idle.len() + more <= self.max_idle)
    }

    /// Returns a connection whose exchange ended cleanly.
    pub fn put(&self, conn: Box<Conn>) {
        if self.max_idle == 0 {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            let since = Instant::now();
            idle.push(Idle { conn, since });
        }
    }

    /// Closes connections idle for longer than the idle timeout or closed by the upstream.
    fn sweep(&self) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let timeout = self.idle_timeout;
        idle.retain_mut(|i| i.since.elapsed() < timeout && !i.conn.went_bad());
    }
}

/// Sends one request on a pooled (or new) connection of `pool` and reads the response head,
/// for an attempt that `started` (the caller's clock reading, which also judges the pooled
/// connections' idle time) by `deadline` (the try timeout: [`ProxyError::TryTimeout`] when it
/// passes).
pub async fn send(
    pool: &Arc<EndpointPool>,
    head: &RequestHead<'_>,
    body: &[u8],
    (started, deadline): (Instant, Instant),
) -> Result<Response<H1Body>, SendError> {
    let (mut conn, reused) = checkout(pool, started, deadline).await?;
    let mut timer = conn.timer_for(deadline);
    let mut flight = InFlight::new(conn, pool, head.method, deadline);
    let exchanged = match flight.conn.as_mut() {
        Some(conn) => timer.within(exchange(conn, head, body, reused)).await,
        None => Some(Err(lost(reused))),
    };
    // Taken out before a timeout is handled below: a timed-out exchange is closed.
    let Some(mut conn) = flight.conn.take() else {
        return Err(lost(reused));
    };
    conn.timer = Some(timer);
    let Parsed { resp, facts, raw } = exchanged.unwrap_or(Err(SendError {
        error: ProxyError::TryTimeout,
        reused,
    }))?;
    let framing = facts
        .framing(head.method, resp.status())
        .map_err(|e| SendError {
            error: protocol(e),
            reused,
        })?;
    let mut body = H1Body::new(conn, framing, &facts, pool.clone());
    body.raw_head = raw;
    Ok(resp.map(|()| body))
}

/// Closes the idle connections of `pools` as they expire, until the pools are dropped.
pub fn spawn_sweeper(pools: &[Arc<EndpointPool>], period: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Vec<Weak<EndpointPool>> = pools.iter().map(Arc::downgrade).collect();
    if weak.is_empty() {
        return;
    }
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let mut alive = false;
            for pool in weak.iter().filter_map(Weak::upgrade) {
                pool.sweep();
                alive = true;
            }
            if !alive {
                return;
            }
        }
    });
}

#[path = "h1_connect.rs"]
mod connect;
use connect::checkout;

#[path = "h1_exchange.rs"]
mod exchange;
pub(crate) use exchange::read_abandoned_head;
use exchange::{exchange, protocol};
