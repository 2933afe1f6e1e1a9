//! The client socket, shared between hyper and errgate.
//!
//! hyper's `header_read_timeout` only closes the connection. DESIGN §2 promises a slow client
//! a 408 envelope, so errgate keeps its own handle on the socket to write that answer once hyper
//! gives up — but only when part of a request head had arrived: an idle keep-alive connection
//! reaching the same timeout is closed silently, as clients expect.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How long errgate tries to deliver the 408 before dropping the connection anyway.
const LAST_WORD_TIMEOUT: Duration = Duration::from_secs(1);

struct Shared {
    stream: TcpStream,
    /// Bytes arrived since errgate last wrote: a request head is partly received.
    reading: AtomicBool,
}

/// hyper's side of the socket.
pub struct ClientIo(Arc<Shared>);

/// errgate's side: can still write after hyper has finished with the connection.
pub struct LastWord(Arc<Shared>);

pub fn split(stream: TcpStream) -> (ClientIo, LastWord) {
    let shared = Arc::new(Shared {
        stream,
        reading: AtomicBool::new(false),
    });
    (ClientIo(shared.clone()), LastWord(shared))
}

impl AsyncRead for ClientIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let shared = &self.0;
        loop {
            ready!(shared.stream.poll_read_ready(cx))?;
            match shared.stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    if n > 0 {
                        shared.reading.store(true, Ordering::Relaxed);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl ClientIo {
    fn poll_with<T>(
        &self,
        cx: &mut Context<'_>,
        op: impl Fn(&TcpStream) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            ready!(self.0.stream.poll_write_ready(cx))?;
            match op(&self.0.stream) {
                Ok(n) => {
                    self.0.reading.store(false, Ordering::Relaxed);
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for ClientIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(cx, |s| s.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(cx, |s| s.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&self.0.stream).shutdown(std::net::Shutdown::Write))
    }
}

impl LastWord {
    /// True when the client had started a request head that never completed.
    pub fn mid_request(&self) -> bool {
        self.0.reading.load(Ordering::Relaxed)
    }

    /// Writes `resp` (HTTP/1.1, `Connection: close`) and closes, within a short bound.
    pub async fn send(self, resp: Response<Bytes>) {
        let bytes = serialize(resp);
        let write = async {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                self.0.stream.writable().await?;
                match self.0.stream.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            socket2::SockRef::from(&self.0.stream).shutdown(std::net::Shutdown::Write)
        };
        let _ = tokio::time::timeout(LAST_WORD_TIMEOUT, write).await;
    }
}

fn serialize(resp: Response<Bytes>) -> Vec<u8> {
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
