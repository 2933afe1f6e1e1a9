//! The client socket, shared between hyper and errgate.
//!
//! hyper's `header_read_timeout` only closes the connection. DESIGN §2 promises a slow client
//! a 408 envelope, so errgate keeps its own handle on the socket to write that answer once hyper
//! gives up — but only when part of a request head had arrived: an idle keep-alive connection
//! reaching the same timeout is closed silently, as clients expect.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What hyper's side and errgate's side share about one connection.
#[derive(Default)]
struct State {
    /// Bytes arrived since errgate last wrote: a request head is partly received.
    reading: AtomicBool,
    /// The response to write as the socket is dropped, if errgate has a last word.
    last: OnceLock<Vec<u8>>,
}

/// hyper's side of the socket: the stream itself (tokio's own read path, which reads into
/// uninitialised memory and clears readiness after a short read).
pub struct ClientIo {
    stream: TcpStream,
    state: Arc<State>,
}

/// errgate's side: whether a head was cut off, and a last answer to leave behind.
pub struct LastWord(Arc<State>);

pub fn split(stream: TcpStream) -> (ClientIo, LastWord) {
    let state = Arc::new(State::default());
    (
        ClientIo {
            stream,
            state: state.clone(),
        },
        LastWord(state),
    )
}

/// When hyper drops the connection after giving up on it, the last word (if errgate left
/// one) is written without waiting: the send buffer of a connection that has not answered
/// anything yet has room for it. Then the write side is shut, as for any `Connection: close`.
impl Drop for ClientIo {
    fn drop(&mut self) {
        let Some(bytes) = self.state.last.get() else {
            return;
        };
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match self.stream.try_write(rest) {
                Ok(n) if n > 0 => rest = &rest[n..],
                _ => break,
            }
        }
        let _ = socket2::SockRef::from(&self.stream).shutdown(std::net::Shutdown::Write);
    }
}

impl AsyncRead for ClientIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        let reading = &self.state.reading;
        if buf.filled().len() > before && !reading.load(Ordering::Relaxed) {
            reading.store(true, Ordering::Relaxed);
        }
        Poll::Ready(Ok(()))
    }
}

impl ClientIo {
    /// Ready when the socket has something to read (or has closed).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_read_ready(cx)
    }

    fn wrote<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        let reading = &self.state.reading;
        if matches!(result, Poll::Ready(Ok(_))) && reading.load(Ordering::Relaxed) {
            reading.store(false, Ordering::Relaxed);
        }
        result
    }
}

impl AsyncWrite for ClientIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl LastWord {
    /// True when the client had started a request head that never completed.
    pub fn mid_request(&self) -> bool {
        self.0.reading.load(Ordering::Relaxed)
    }

    /// Leaves `resp` (HTTP/1.1, `Connection: close`) to be written when hyper drops the
    /// connection, which happens right after it reported the failure.
    pub fn send(self, resp: Response<Bytes>) {
        let _ = self.0.last.set(serialize(resp));
    }
}

pub fn serialize(resp: Response<Bytes>) -> Vec<u8> {
    let (parts, body) = resp.into_parts();
    let mut out = Vec::with_capacity(256 + body.len());
    let reason = parts.status.canonical_reason().unwrap_or("");
    out.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", parts.status.as_u16()).as_bytes());
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    out
}
