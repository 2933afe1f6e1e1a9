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

/// hyper's side of the socket: the stream itself (tokio's own read path, which reads into
/// uninitialised memory and clears readiness after a short read), noting whether bytes arrived
/// since errgate last wrote.
pub struct ClientIo {
    stream: TcpStream,
    reading: Arc<AtomicBool>,
}

/// errgate's side: a duplicate of the socket's descriptor, so it can still write after hyper
/// has dropped the connection.
pub struct LastWord {
    socket: Option<std::net::TcpStream>,
    reading: Arc<AtomicBool>,
}

/// Splits `stream` into hyper's IO and the handle for a last 408. Duplicating the descriptor
/// costs one syscall per connection; if it fails, the connection just has no last word.
pub fn split(stream: TcpStream) -> (ClientIo, LastWord) {
    let reading = Arc::new(AtomicBool::new(false));
    let socket = socket2::SockRef::from(&stream)
        .try_clone()
        .ok()
        .map(std::net::TcpStream::from);
    let last = LastWord {
        socket,
        reading: reading.clone(),
    };
    (ClientIo { stream, reading }, last)
}

impl AsyncRead for ClientIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before && !self.reading.load(Ordering::Relaxed) {
            self.reading.store(true, Ordering::Relaxed);
        }
        Poll::Ready(Ok(()))
    }
}

impl ClientIo {
    fn wrote<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if matches!(result, Poll::Ready(Ok(_))) && self.reading.load(Ordering::Relaxed) {
            self.reading.store(false, Ordering::Relaxed);
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
        self.reading.load(Ordering::Relaxed)
    }

    /// Writes `resp` (HTTP/1.1, `Connection: close`) and closes, within a short bound. Runs
    /// after hyper dropped its side, so this descriptor is the socket's only user.
    pub async fn send(self, resp: Response<Bytes>) {
        let Some(socket) = self.socket else { return };
        let bytes = serialize(resp);
        let write = async {
            let stream = TcpStream::from_std(socket)?;
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                stream.writable().await?;
                match stream.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            socket2::SockRef::from(&stream).shutdown(std::net::Shutdown::Write)
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
