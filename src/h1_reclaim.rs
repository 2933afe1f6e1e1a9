//! Keeping an upstream connection whose exchange was abandoned: the client left while errgate
//! waited for the response, a retry set a response aside, or the client left with a small
//! body unread. Closing the connection would cost the next request a new one, and the
//! upstream a connection torn down mid-request. Instead a task of its own reads the rest of
//! the exchange, within bounds, and returns the connection to its pool; past the bounds, or
//! when the pool would not keep it, the connection is closed as before.
//!
//! HAProxy does the same by default (without `option abortonclose`); nginx closes.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http::Method;
use hyper::body::Body;
use tokio::time::Instant;

use crate::error::ProxyError;
use crate::h1_body::H1Body;
use crate::h1_pool::{Conn, EndpointPool, SendError};

/// At most this much of an abandoned body is read to keep its connection...
pub const MAX_DRAIN: u64 = 64 * 1024;
/// ...in at most this many frames (tiny chunks carry far more framing than data).
pub const MAX_DRAIN_FRAMES: usize = 1024;
/// An abandoned body must end within this long of being set aside.
pub const DRAIN_WITHIN: Duration = Duration::from_secs(2);
/// Abandoned exchanges read on at once per endpoint, at most: they are work the upstream
/// does for nobody, outside the endpoint's admission limit.
pub const MAX_RECLAIMING: usize = 32;

/// An exchange in progress. Dropped after its request went out (its caller left), it hands
/// the connection to [`after_request`] instead of closing it.
pub struct InFlight<'a> {
    /// Taken out by the exchange's owner once the exchange is over (or timed out).
    pub conn: Option<Box<Conn>>,
    pool: &'a Arc<EndpointPool>,
    method: &'a Method,
    deadline: Instant,
}

impl<'a> InFlight<'a> {
    pub fn new(
        conn: Box<Conn>,
        pool: &'a Arc<EndpointPool>,
        method: &'a Method,
        deadline: Instant,
    ) -> Self {
        InFlight {
            conn: Some(conn),
            pool,
            method,
            deadline,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        // A panic mid-exchange leaves the connection in no known state.
        if std::thread::panicking() {
            return;
        }
        if let Some(conn) = self.conn.take().filter(|c| c.answer_due()) {
            after_request(conn, self.pool, self.method.clone(), self.deadline);
        }
    }
}

/// The connection of an exchange is gone (cannot happen: [`InFlight`] gives it up only when
/// dropped).
pub fn lost(reused: bool) -> SendError {
    SendError {
        error: ProxyError::Reset(Box::new(io::Error::other("connection lost"))),
        reused,
    }
}

/// The request on `conn` was written and its response not read: reads the head until
/// `deadline` (the attempt's try timeout), then a small body within [`DRAIN_WITHIN`].
fn after_request(conn: Box<Conn>, pool: &Arc<EndpointPool>, method: Method, deadline: Instant) {
    let Some(slot) = Slot::take(pool) else { return };
    let pool = pool.clone();
    spawn(async move {
        let _slot = slot;
        let head = tokio::time::timeout_at(
            deadline,
            crate::h1_pool::read_abandoned_head(conn, pool, &method),
        );
        if let Ok(Some(body)) = head.await
            && body.worth_draining()
        {
            let _ = tokio::time::timeout(DRAIN_WITHIN, drain(body)).await;
        }
    });
}

/// The rest of a body nobody reads any more (see [`H1Body::worth_draining`]).
pub fn rest_of_body(body: H1Body) {
    let Some(slot) = Slot::take(body.pool()) else {
        return;
    };
    spawn(async move {
        let _slot = slot;
        let _ = tokio::time::timeout(DRAIN_WITHIN, drain(body)).await;
    });
}

fn spawn(work: impl Future<Output = ()> + Send + 'static) {
    // Outside a runtime (a test dropping a body, the runtime shutting down) the connection
    // is simply closed.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(work);
    }
}

/// One abandoned exchange of a pool being read on; taken only while the pool would keep the
/// connection and fewer than [`MAX_RECLAIMING`] are.
struct Slot(Arc<EndpointPool>);

impl Slot {
    fn take(pool: &Arc<EndpointPool>) -> Option<Slot> {
        let busy = pool.reclaiming.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(pool.clone());
        (busy < MAX_RECLAIMING && pool.has_room(busy + 1)).then_some(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.reclaiming.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads `body` to its end (which returns its connection to the pool), or drops it (closing
/// the connection) once more than [`MAX_DRAIN`] bytes or [`MAX_DRAIN_FRAMES`] frames came, or
/// the body broke.
async fn drain(mut body: H1Body) {
    let mut left = MAX_DRAIN;
    let mut frames = 0;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        frames += 1;
        let (Ok(frame), true) = (frame, frames <= MAX_DRAIN_FRAMES) else {
            return;
        };
        let len = frame.data_ref().map_or(0, |d| d.len() as u64);
        match left.checked_sub(len) {
            Some(rest) => left = rest,
            None => return,
        }
    }
}
