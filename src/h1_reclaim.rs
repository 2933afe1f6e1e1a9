//! Keeping an upstream connection whose exchange was abandoned: the client left while errgate
//! waited for the response, a retry set a response aside, or the client stopped reading a
//! small body. Closing the connection would cost the next request a new one (a TLS-less
//! handshake here, but a handshake, and on the upstream a connection torn down mid-request).
//! Instead a task of its own reads the rest of the exchange, within bounds, and returns the
//! connection to its pool; past the bounds the connection is closed as before.
//!
//! HAProxy does the same by default (without `option abortonclose`); nginx closes.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use hyper::body::Body;
use tokio::time::Instant;

use crate::h1_body::H1Body;
use crate::h1_pool::{Conn, EndpointPool};

/// At most this much of an abandoned body is read to keep its connection.
pub const MAX_DRAIN: u64 = 64 * 1024;
/// An abandoned body must end within this long of being set aside.
pub const DRAIN_WITHIN: Duration = Duration::from_secs(2);

/// The request on `conn` was written and its response not read: reads the response, until
/// `deadline` (the attempt's try timeout), in a task of its own.
pub fn after_request(conn: Box<Conn>, pool: Arc<EndpointPool>, method: Method, deadline: Instant) {
    spawn(deadline, async move {
        if let Some(body) = crate::h1_pool::read_abandoned_head(conn, pool, &method).await {
            drain(body).await;
        }
    });
}

/// The rest of a body nobody reads any more, until [`DRAIN_WITHIN`] from now.
pub fn rest_of_body(body: H1Body) {
    spawn(Instant::now() + DRAIN_WITHIN, drain(body));
}

fn spawn(deadline: Instant, work: impl Future<Output = ()> + Send + 'static) {
    // Outside a runtime (a test dropping a body, the runtime shutting down) the connection
    // is simply closed.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = tokio::time::timeout_at(deadline, work).await;
        });
    }
}

/// Reads `body` to its end (which returns its connection to the pool), or drops it once more
/// than [`MAX_DRAIN`] bytes came, the body broke, or the task's deadline passed.
async fn drain(mut body: H1Body) {
    let mut left = MAX_DRAIN;
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else { return };
        let len = frame.data_ref().map_or(0, |d| d.len() as u64);
        match left.checked_sub(len) {
            Some(rest) => left = rest,
            None => return,
        }
    }
}
