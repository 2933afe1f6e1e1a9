//! The client connection as errgate's own HTTP/1.1 server holds it ([`crate::h1_server`],
//! [`crate::h1_respond`]): the socket, unread input, and the output buffer.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

use crate::client_io::ClientIo;

/// Read buffer growth step.
const READ_CHUNK: usize = 8 * 1024;
/// Past this much unread input, the client is not read (or watched) until its answer is out.
pub const MAX_UNREAD: usize = 16 * 1024;

/// The connection's parts a request borrows.
pub struct Conn<'c> {
    pub io: &'c mut ClientIo,
    /// Read and not yet parsed: the next (pipelined) request, if any.
    pub buf: &'c mut BytesMut,
    pub out: &'c mut Vec<u8>,
}

/// Reads into `buf`, making room first (so `Ok(0)` always means end of stream). A buffer
/// with no memory yet gets some only once the socket is readable: a connection that never
/// sends anything holds no read buffer.
pub fn poll_fill(
    cx: &mut Context<'_>,
    io: &mut ClientIo,
    buf: &mut BytesMut,
) -> Poll<io::Result<usize>> {
    if buf.capacity() == 0 {
        ready!(io.poll_read_ready(cx))?;
    }
    reuse_start(buf);
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(READ_CHUNK);
    }
    tokio_util::io::poll_read_buf(Pin::new(io), cx, buf)
}

/// An empty buffer whose earlier contents are all dropped reads into its start again,
/// into memory the last reads warmed, instead of walking on through its allocation (which
/// took a new part of it, cold in the caches, for every request). No allocation.
pub fn reuse_start(buf: &mut BytesMut) {
    if buf.is_empty() {
        // Asking for one byte more than is left rewinds a buffer that moved at all (and
        // does nothing to one that did not, or whose bytes are still referenced).
        let _ = buf.try_reclaim(buf.capacity() + 1);
    }
}

/// Reads what the client sends while its request is in flight; `true` when it went away.
/// A client that goes away abandons its request (and frees what it holds), as with hyper.
/// Bytes it sends meanwhile (a pipelined request) are kept; once some are buffered the end of
/// the stream is not looked for, so requests pipelined before a half-close are all answered.
pub fn client_gone(cx: &mut Context<'_>, io: &mut ClientIo, buf: &mut BytesMut) -> bool {
    while buf.is_empty() {
        match poll_fill(cx, io, buf) {
            Poll::Ready(Ok(0) | Err(_)) => return true,
            Poll::Ready(Ok(_)) => {}
            Poll::Pending => return false,
        }
    }
    false
}

/// Writes `a` then `b`, in one vectored write when the socket takes both.
pub async fn write_pair(io: &mut ClientIo, a: &[u8], b: &[u8]) -> io::Result<()> {
    let (mut a, mut b) = (a, b);
    while !a.is_empty() {
        let n = io
            .write_vectored(&[IoSlice::new(a), IoSlice::new(b)])
            .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        if n < a.len() {
            a = &a[n..];
        } else {
            b = &b[n - a.len()..];
            a = &[];
        }
    }
    io.write_all(b).await
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::reuse_start;

    #[test]
    fn an_emptied_buffer_reads_into_its_start_again_without_allocating() {
        let mut buf = BytesMut::with_capacity(8192);
        let start = buf.as_ptr();
        buf.extend_from_slice(&[b'x'; 300]);
        let head = buf.split_to(300).freeze();
        // The head is still in use: nothing moves, nothing is allocated.
        reuse_start(&mut buf);
        assert_eq!(buf.capacity(), 8192 - 300);
        assert_eq!(buf.as_ptr(), start.wrapping_add(300));
        drop(head);
        reuse_start(&mut buf);
        assert_eq!(buf.as_ptr(), start);
        assert!(buf.capacity() >= 8192);
        // Unread bytes stay where they are.
        buf.extend_from_slice(b"next");
        let _ = buf.split_to(2);
        let unread = buf.as_ptr();
        reuse_start(&mut buf);
        assert_eq!(buf.as_ptr(), unread);
        assert_eq!(&buf[..], b"xt");
        // A buffer with no memory gets none.
        let mut idle = BytesMut::new();
        reuse_start(&mut idle);
        assert_eq!(idle.capacity(), 0);
    }
}
