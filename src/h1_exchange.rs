//! One exchange on an upstream connection of [`super`]: the request written, the response
//! head read.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Method;

use tokio::io::AsyncWriteExt;

use super::{Conn, EndpointPool, SendError};
use crate::error::ProxyError;
use crate::h1_body::H1Body;
use crate::h1_wire::{self, Parsed, RequestHead, WireError};

/// Bodies up to this size are copied behind the head and written with it in one syscall.
const COALESCE_BODY: usize = 16 * 1024;

/// The upstream closed before a complete response head.
#[derive(Debug, thiserror::Error)]
#[error("the upstream closed the connection before a complete response head")]
struct ClosedEarly;

/// Writes the request and reads the response head.
pub(super) async fn exchange(
    conn: &mut Conn,
    head: &RequestHead<'_>,
    body: &[u8],
    reused: bool,
) -> Result<Parsed, SendError> {
    write_request(conn, head, body)
        .await
        .map_err(|e| SendError {
            error: ProxyError::Reset(Box::new(e)),
            reused,
        })?;
    conn.answer_due = true;
    let head = read_head!(&mut *conn);
    conn.answer_due = false;
    head.map_err(|e| SendError {
        reused: reused && e.before_any_byte,
        error: e.error,
    })
}

/// The response to a request whose caller left ([`crate::h1_reclaim`]): its head read, and
/// its body to be drained; `None` (the connection closed) if the exchange failed.
pub async fn read_abandoned_head(
    mut conn: Box<Conn>,
    pool: Arc<EndpointPool>,
    method: &Method,
) -> Option<H1Body> {
    let Parsed { resp, facts, .. } = read_head!(&mut conn).ok()?;
    conn.answer_due = false;
    let framing = facts.framing(method, resp.status()).ok()?;
    Some(H1Body::new(conn, framing, &facts, pool).without_reclaim())
}

async fn write_request(conn: &mut Conn, head: &RequestHead<'_>, body: &[u8]) -> io::Result<()> {
    conn.out.clear();
    h1_wire::encode_request(&mut conn.out, head);
    if body.len() <= COALESCE_BODY {
        conn.out.extend_from_slice(body);
        return conn.stream.write_all(&conn.out).await;
    }
    conn.stream.write_all(&conn.out).await?;
    conn.stream.write_all(body).await
}

struct HeadError {
    error: ProxyError,
    before_any_byte: bool,
}

pub(super) fn protocol(e: WireError) -> ProxyError {
    ProxyError::Protocol(Box::new(e))
}

/// Reads until a final (non-1xx) response head; `101` is refused (upgrades use hyper).
///
/// Each caller polls [`poll_head`] from a closure of its own: a shared `async fn` would be
/// called from two places and inlined into neither, which costs the common exchange.
macro_rules! read_head {
    ($conn:expr) => {{
        let conn: &mut Conn = $conn;
        let mut read = HeadRead {
            any_byte: false,
            unparsed: !conn.buf.is_empty(),
        };
        std::future::poll_fn(|cx| poll_head(conn, &mut read, cx)).await
    }};
}
use read_head;

/// Where [`poll_head`] is.
struct HeadRead {
    any_byte: bool,
    /// The buffer holds bytes not parsed yet (a fresh exchange starts with an empty buffer:
    /// nothing to parse before the first read).
    unparsed: bool,
}

#[inline(always)]
fn poll_head(
    conn: &mut Conn,
    st: &mut HeadRead,
    cx: &mut Context<'_>,
) -> Poll<Result<Parsed, HeadError>> {
    loop {
        if st.unparsed {
            match h1_wire::parse_response(&mut conn.buf, &mut conn.fields) {
                Ok(Some(p)) if p.resp.status() == http::StatusCode::SWITCHING_PROTOCOLS => {
                    return Poll::Ready(Err(invalid(WireError::UnexpectedUpgrade)));
                }
                // The final head may have come with it.
                Ok(Some(p)) if p.resp.status().is_informational() => continue,
                Ok(Some(p)) => return Poll::Ready(Ok(p)),
                Ok(None) => st.unparsed = false,
                Err(e) => return Poll::Ready(Err(invalid(e))),
            }
        }
        let error = match ready!(conn.poll_fill(cx, 0)) {
            Ok(n) if n > 0 => {
                st.any_byte = true;
                st.unparsed = true;
                continue;
            }
            Ok(_) => HeadError {
                error: ProxyError::Reset(Box::new(ClosedEarly)),
                before_any_byte: !st.any_byte && conn.buf.is_empty(),
            },
            Err(e) => HeadError {
                error: ProxyError::Reset(Box::new(e)),
                before_any_byte: !st.any_byte,
            },
        };
        return Poll::Ready(Err(error));
    }
}

fn invalid(e: WireError) -> HeadError {
    HeadError {
        error: protocol(e),
        before_any_byte: false,
    }
}
