//! A response body read straight off a pooled upstream connection, in the task that sends it
//! to the client (no connection task, no channel). Content-Length, chunked and until-close
//! framing; the connection goes back to its pool the moment the body is complete. A body
//! dropped early is read on within bounds ([`crate::h1_reclaim`]); a connection whose
//! upstream sent more than it announced is closed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::body::BoxError;
use crate::h1_head::Facts;
use crate::h1_pool::{Conn, EndpointPool};
use crate::h1_reclaim;
use crate::h1_wire::{self, Framing};
use crate::raw_head::RawHead;

/// A chunk-size line or a trailer section longer than this is refused.
const MAX_LINE: usize = 4096;
const MAX_TRAILERS: usize = 16 * 1024;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy)]
enum State {
    Length(u64),
    UntilClose,
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    Done,
}

/// The upstream's body broke mid-way (cut short, bad chunking, read error).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("upstream closed the connection before the body was complete")]
    Incomplete,
    #[error("invalid chunked encoding from the upstream")]
    BadChunk,
    #[error("reading the upstream body failed")]
    Io(#[from] io::Error),
    #[error("invalid trailers from the upstream")]
    Trailers(#[from] h1_wire::WireError),
}

/// The body of one response, owning its connection until the end.
#[derive(Debug)]
pub struct H1Body {
    conn: Option<Box<Conn>>,
    state: State,
    keep_alive: bool,
    pool: Arc<EndpointPool>,
    /// A failure held back for one scheduler turn, so that what was already passed on (the
    /// response head, earlier data) is flushed to the client before the abort.
    failed: Option<BodyError>,
    /// The response head's hop-by-hop fields were left out when it was parsed.
    head_clean: bool,
    /// The head's fields, when they were kept as bytes instead of a map.
    pub raw_head: Option<Box<RawHead>>,
    /// Dropped before its end, the body is read on by [`h1_reclaim`] to keep the connection
    /// (false for the body that does that reading).
    reclaim: bool,
}

impl H1Body {
    // Always inlined: [`crate::h1_reclaim`] builds bodies too, and two callers would leave
    // it inlined into neither (so would `poll_frame` below).
    #[inline(always)]
    pub fn new(conn: Box<Conn>, framing: Framing, facts: &Facts, pool: Arc<EndpointPool>) -> Self {
        let keep_alive = facts.keep_alive;
        let (state, keep_alive) = match framing {
            Framing::Empty => (State::Done, keep_alive),
            Framing::Length(n) => (State::Length(n), keep_alive),
            Framing::Chunked => (State::ChunkSize, keep_alive),
            Framing::UntilClose => (State::UntilClose, false),
        };
        let mut body = H1Body {
            conn: Some(conn),
            state,
            keep_alive,
            pool,
            failed: None,
            head_clean: facts.clean(),
            raw_head: None,
            reclaim: true,
        };
        if matches!(body.state, State::Done) {
            body.finish();
        }
        body
    }

    /// The same body, closing its connection if dropped early (the body [`h1_reclaim`]
    /// reads, one from an upstream that broke the protocol).
    pub fn without_reclaim(mut self) -> Self {
        self.reclaim = false;
        self
    }

    /// Whether the rest of the body is worth reading to keep the connection: it is small
    /// (or chunked, read within bounds) and the connection can be kept afterwards.
    pub fn worth_draining(&self) -> bool {
        self.keep_alive
            && self.conn.is_some()
            && match self.state {
                State::Length(n) => n <= h1_reclaim::MAX_DRAIN,
                State::ChunkSize | State::ChunkData(_) | State::ChunkEnd | State::Trailers => true,
                State::UntilClose | State::Done => false,
            }
    }

    /// The pool the connection goes back to.
    pub fn pool(&self) -> &Arc<EndpointPool> {
        &self.pool
    }

    /// Being dropped early: the rest to read on in a task, if worth it. A rest that already
    /// arrived is consumed here, with no task.
    fn rest_to_drain(&mut self) -> Option<H1Body> {
        if !self.worth_draining() {
            return None;
        }
        let mut conn = self.conn.take()?;
        if let State::Length(n) = self.state
            && conn.buf.len() as u64 == n
        {
            conn.buf.clear();
            self.pool.put(conn);
            return None;
        }
        let rest = H1Body {
            conn: Some(conn),
            state: self.state,
            keep_alive: true,
            pool: self.pool.clone(),
            failed: None,
            head_clean: self.head_clean,
            raw_head: None,
            reclaim: false,
        };
        Some(rest)
    }

    /// Whether the response head's hop-by-hop fields were already left out.
    pub fn head_clean(&self) -> bool {
        self.head_clean
    }

    /// The body is complete: the connection goes back to the pool if it is clean.
    fn finish(&mut self) {
        self.state = State::Done;
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && conn.buf.is_empty()
        {
            self.pool.put(conn);
        }
    }

    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, BodyError>> {
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Ok(Step::End));
        };
        match self.state {
            State::Done => Poll::Ready(Ok(Step::End)),
            State::Length(n) | State::ChunkData(n) => {
                if conn.buf.is_empty() && ready!(conn.poll_fill(cx, n))? == 0 {
                    return Poll::Ready(Err(BodyError::Incomplete));
                }
                let take = n.min(conn.buf.len() as u64);
                let data = conn.buf.split_to(take as usize).freeze();
                self.state = match self.state {
                    State::Length(_) if n == take => {
                        self.finish();
                        State::Done
                    }
                    State::Length(_) => State::Length(n - take),
                    _ if n == take => State::ChunkEnd,
                    _ => State::ChunkData(n - take),
                };
                Poll::Ready(Ok(Step::Frame(Frame::data(data))))
            }
            State::UntilClose => {
                if conn.buf.is_empty() && ready!(conn.poll_fill(cx, 0))? == 0 {
                    self.finish();
                    return Poll::Ready(Ok(Step::End));
                }
                let data = conn.buf.split().freeze();
                Poll::Ready(Ok(Step::Frame(Frame::data(data))))
            }
            State::ChunkSize | State::ChunkEnd | State::Trailers => self.chunk_framing(cx),
        }
    }

    /// The parts of chunked encoding that are not data: size lines, CRLFs, trailers.
    fn chunk_framing(&mut self, cx: &mut Context<'_>) -> Poll<Result<Step, BodyError>> {
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Ok(Step::End));
        };
        let (found, limit) = match self.state {
            State::ChunkSize => (h1_wire::find(&conn.buf, b"\r\n"), MAX_LINE),
            State::ChunkEnd => ((conn.buf.len() >= 2).then_some(0), 2),
            _ if conn.buf.starts_with(b"\r\n") => (Some(0), 2),
            _ => (
                h1_wire::find(&conn.buf, b"\r\n\r\n").map(|at| at + 2),
                MAX_TRAILERS,
            ),
        };
        let Some(at) = found else {
            if conn.buf.len() >= limit {
                return Poll::Ready(Err(BodyError::BadChunk));
            }
            if ready!(conn.poll_fill(cx, 0))? == 0 {
                return Poll::Ready(Err(BodyError::Incomplete));
            }
            return Poll::Ready(Ok(Step::Continue));
        };
        match self.state {
            State::ChunkSize => {
                let size = h1_wire::chunk_size(&conn.buf[..at]).ok_or(BodyError::BadChunk)?;
                conn.buf.advance(at + 2);
                self.state = if size == 0 {
                    State::Trailers
                } else {
                    State::ChunkData(size)
                };
            }
            State::ChunkEnd => {
                if !conn.buf.starts_with(b"\r\n") {
                    return Poll::Ready(Err(BodyError::BadChunk));
                }
                conn.buf.advance(2);
                self.state = State::ChunkSize;
            }
            _ => {
                let block = conn.buf.split_to(at + 2).freeze();
                self.finish();
                if block.len() > 2 {
                    let trailers = h1_wire::parse_trailers(&block)?;
                    return Poll::Ready(Ok(Step::Frame(Frame::trailers(trailers))));
                }
                return Poll::Ready(Ok(Step::End));
            }
        }
        Poll::Ready(Ok(Step::Continue))
    }
}

impl Drop for H1Body {
    /// A body set aside before its end (a retried response, a client that left) is read on
    /// if what is left is small, so that its connection is kept ([`h1_reclaim`]).
    fn drop(&mut self) {
        if self.reclaim
            && !std::thread::panicking()
            && let Some(rest) = self.rest_to_drain()
        {
            h1_reclaim::rest_of_body(rest);
        }
    }
}

/// One move of the decoder.
enum Step {
    Frame(Frame<Bytes>),
    /// Framing was consumed; decode on.
    Continue,
    End,
}

impl Body for H1Body {
    type Data = Bytes;
    type Error = BoxError;

    #[inline(always)]
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(err) = self.failed.take() {
            return Poll::Ready(Some(Err(Box::new(err))));
        }
        loop {
            match ready!(self.step(cx)) {
                Ok(Step::Frame(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(Step::Continue) => {}
                Ok(Step::End) => return Poll::Ready(None),
                Err(err) => {
                    self.conn = None;
                    self.state = State::Done;
                    self.failed = Some(err);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done) && self.failed.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Done => SizeHint::with_exact(0),
            State::Length(n) => SizeHint::with_exact(n),
            _ => SizeHint::default(),
        }
    }
}
