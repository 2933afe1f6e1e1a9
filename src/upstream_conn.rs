//! Upstream connections that remember whether they were reused.
//!
//! The stale keep-alive race: errgate picks a pooled connection just as the backend closes it
//! for being idle, so the request is written into a dying socket and fails before any
//! response. That is not a backend failure and must not reach the client. It can only be told
//! apart from a backend that crashed on the request by asking whether the connection had
//! already carried an exchange: a write after a read means it did.
//!
//! [`Tracked`] wraps each connection and exposes that bit to the request path through
//! hyper-util's connection info, which its errors carry.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::{Context, Poll, ready};

use http::{Extensions, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

/// Set once the connection writes after having read: it carried an earlier exchange.
#[derive(Debug, Clone, Default)]
pub struct Reused(Arc<AtomicBool>);

/// Whether the failed request was sent on a connection that had served before.
pub fn failed_on_reused(err: &hyper_util::client::legacy::Error) -> bool {
    let Some(info) = err.connect_info() else {
        return false;
    };
    let mut extensions = Extensions::new();
    info.get_extras(&mut extensions);
    extensions
        .get::<Reused>()
        .is_some_and(|r| r.0.load(Relaxed))
}

/// A connector whose connections are [`Tracked`].
#[derive(Debug, Clone)]
pub struct TrackingConnector<C>(pub C);

impl<C> tower_service::Service<Uri> for TrackingConnector<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = Tracked<C::Response>;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let io = connecting.await?;
            Ok(Tracked {
                io,
                has_read: false,
                reused: Reused::default(),
            })
        })
    }
}

/// An upstream connection that notices its first write after a read.
#[derive(Debug)]
pub struct Tracked<T> {
    io: T,
    has_read: bool,
    reused: Reused,
}

impl<T> Tracked<T> {
    fn note_write(&mut self) {
        if self.has_read && !self.reused.0.load(Relaxed) {
            self.reused.0.store(true, Relaxed);
        }
    }
}

impl<T: Connection> Connection for Tracked<T> {
    fn connected(&self) -> Connected {
        self.io.connected().extra(self.reused.clone())
    }
}

impl<T: Read + Unpin> Read for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        self.has_read = true;
        Poll::Ready(Ok(()))
    }
}

impl<T: Write + Unpin> Write for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.note_write();
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.note_write();
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
