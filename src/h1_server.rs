//! errgate's own HTTP/1.1 server loop for the common request: HTTP/1.1 without an upgrade or
//! `Expect`, and without a body or with a small `Content-Length` body that arrived with its
//! head ([`crate::h1_request`]). Heads are parsed with httparse (field values share the read
//! buffer), the response is written by [`crate::h1_respond`], and the connection loops for
//! the next request.
//!
//! Anything else — a larger, chunked or still-arriving body, an upgrade, HTTP/1.0, HTTP/2's
//! preface, a head httparse refuses — is handed to hyper together with the bytes already read
//! ([`crate::prefixed_io`]), and hyper serves the rest of the connection exactly as it would
//! have from the start. hyper's own server costs about a third of errgate's instructions per
//! proxied request; this loop does the same work in a fraction of that.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::Method;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::admin::Health;
use crate::client_io::{self, ClientIo};
use crate::envelope::OwnFailure;
use crate::gateway::Gateway;
use crate::h1_conn::{Conn, client_gone, poll_fill};
use crate::h1_request::{Fields, Parsed, parse};
use crate::h1_respond::{self, Asked};

use crate::headers;
use crate::lazy_timer::LazyTimer;
use crate::proxy::{self, ClientRequest, Peer};
use crate::reload::SharedGateway;
use crate::req_fields::{RawFields, ReqFields};
use crate::watch::Watch;

/// A head still incomplete at this size goes to hyper, which applies its own limit.
const MAX_HEAD: usize = 16 * 1024;

/// What a connection shares with its requests.
pub struct Ctx {
    pub shared: SharedGateway,
    pub health: Arc<Health>,
    pub peer: Peer,
    pub header_read_timeout: Duration,
}

/// How the loop ended.
pub enum End {
    Closed,
    /// hyper takes the connection; these bytes were read and not consumed.
    Handover(Bytes),
}

/// Serves requests on `io` until the connection ends or needs hyper. `finish` (the drain)
/// closes the connection when it is idle or after the answer in flight; the caller enforces
/// the drain's cut-off around this whole loop.
pub async fn serve(io: &mut ClientIo, ctx: &Ctx, finish: &mut Watch) -> End {
    // Allocated at the first bytes (see `poll_fill`), so idle connections cost little.
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut fields = Fields::new();
    let mut timer = HeadTimer::new(ctx.header_read_timeout);
    loop {
        let (req, raw, asked) =
            match read_request(io, &mut buf, &mut fields, &mut timer, finish).await {
                Read::Request(req, raw, asked) => (req, raw, asked),
                Read::Handover => return End::Handover(buf.freeze()),
                Read::Closed => return End::Closed,
                // Awaited after the loop, so that no state of the match is kept across it.
                Read::TimedOut => break,
            };
        let asked = Asked {
            // Draining: answer, then close, instead of racing the client's next request.
            close: asked.close || !ctx.health.is_ready(),
            ..asked
        };
        // The request's future lives in this loop's state, and only until its response is
        // ready: a future of its own for "answer, then write" would carry the request (and
        // the request's whole future) while the response is written. It is built in place:
        // returned from a helper, it would be copied (2.6 KB) on every request.
        let keep = {
            let fields = ReqFields::Raw(raw);
            let handled = proxy::handle(ctx.shared.load_full(), req, fields, peer(ctx));
            // A temporary of this statement: gone before the response is written.
            let resp = answer(pin!(handled), io, &mut buf).await;
            let mut conn = Conn {
                io: &mut *io,
                buf: &mut buf,
                out: &mut out,
            };
            match resp {
                Some(resp) => h1_respond::write(&mut conn, resp, asked)
                    .await
                    .unwrap_or(false),
                None => false,
            }
        };
        if !keep || finish.is_cancelled() {
            let _ = io.shutdown().await;
            return End::Closed;
        }
    }
    head_timed_out(io, ctx, !buf.is_empty()).await
}

/// A head that did not arrive in time: the 408 envelope if it had started, then the end.
async fn head_timed_out(io: &mut ClientIo, ctx: &Ctx, started: bool) -> End {
    if started {
        let answer = client_io::serialize(head_timeout_response(&ctx.shared.load()));
        let _ = io.write_all(&answer).await;
    }
    let _ = io.shutdown().await;
    End::Closed
}

/// The 408 envelope for a client that started a head and did not finish it in time.
pub fn head_timeout_response(gw: &Gateway) -> http::Response<Bytes> {
    let lang = gw.config.errors.default_locale.as_str();
    let mut resp = OwnFailure::RequestHeadTimeout.response(&gw.catalog, lang, lang, false);
    resp.headers_mut()
        .insert(&headers::X_REQUEST_ID, headers::new_request_id());
    resp
}

/// The client as the request sees it; each request runs on the gateway that was current
/// when it arrived (`ctx.shared.load_full()` at the call).
fn peer(ctx: &Ctx) -> Peer {
    Peer {
        raw_heads: true,
        ..ctx.peer.clone()
    }
}

/// The gateway's response, or `None` when the client left first.
async fn answer<F>(
    mut handled: Pin<&mut F>,
    io: &mut ClientIo,
    buf: &mut BytesMut,
) -> Option<F::Output>
where
    F: Future,
{
    poll_fn(|cx| match handled.as_mut().poll(cx) {
        Poll::Ready(resp) => Poll::Ready(Some(resp)),
        Poll::Pending if client_gone(cx, io, buf) => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    })
    .await
}

// The request is moved once, on every request: boxing it would cost an allocation instead.
#[allow(clippy::large_enum_variant)]
enum Read {
    /// A request, its fields, and what it asked of the response (`HEAD`, `Connection: close`).
    Request(ClientRequest, RawFields, Asked),
    Handover,
    Closed,
    TimedOut,
}

async fn read_request(
    io: &mut ClientIo,
    buf: &mut BytesMut,
    fields: &mut Fields,
    timer: &mut HeadTimer,
    finish: &mut Watch,
) -> Read {
    timer.start();
    loop {
        // Empty lines between requests are allowed (RFC 9112 §2.2) and start no head.
        let blank = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        buf.advance(blank);
        if !buf.is_empty() {
            match parse(buf, fields) {
                Parsed::Request(req, raw, close) => {
                    let head = req.method() == Method::HEAD;
                    return Read::Request(req, raw, Asked { head, close });
                }
                Parsed::Handover => return Read::Handover,
                Parsed::Partial if buf.len() >= MAX_HEAD => return Read::Handover,
                Parsed::Partial => {}
            }
        }
        let idle = buf.is_empty();
        match poll_fn(|cx| poll_wait(cx, io, buf, timer, finish, idle)).await {
            Wait::Data => {}
            Wait::Closed => return Read::Closed,
            Wait::TimedOut => return Read::TimedOut,
        }
    }
}

enum Wait {
    Data,
    Closed,
    TimedOut,
}

fn poll_wait(
    cx: &mut Context<'_>,
    io: &mut ClientIo,
    buf: &mut BytesMut,
    timer: &mut HeadTimer,
    finish: &mut Watch,
    idle: bool,
) -> Poll<Wait> {
    match poll_fill(cx, io, buf) {
        Poll::Ready(Ok(n)) if n > 0 => return Poll::Ready(Wait::Data),
        Poll::Ready(_) => return Poll::Ready(Wait::Closed),
        Poll::Pending => {}
    }
    if idle && finish.poll(cx).is_ready() {
        return Poll::Ready(Wait::Closed);
    }
    timer.poll(cx).map(|()| Wait::TimedOut)
}

/// `header_read_timeout`, measured from when the connection starts waiting for a head
/// (lazily re-armed: a busy keep-alive connection touches the timer wheel about once per
/// timeout period, not once per request).
struct HeadTimer {
    timeout: Duration,
    timer: LazyTimer,
}

impl HeadTimer {
    fn new(timeout: Duration) -> Self {
        HeadTimer {
            timeout,
            timer: LazyTimer::new(Instant::now() + timeout),
        }
    }

    fn start(&mut self) {
        self.timer.set(Instant::now() + self.timeout);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.timer.poll(cx)
    }
}

#[cfg(test)]
#[path = "h1_server_tests.rs"]
mod tests;
