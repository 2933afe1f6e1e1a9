//! The response body, which is either the upstream's stream or a small buffer errgate wrote,
//! and the error types of both bodies (the request side is [`crate::request_body`]).
//!
//! Success bodies are never buffered: [`ResponseBody::upstream`] hands frames through as they
//! arrive. An error from the upstream mid-body is returned to hyper, which then aborts the
//! client connection (HTTP/1: no final chunk; HTTP/2: stream reset), so a client can never
//! mistake a cut-off transfer for a complete one.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::access_log::AccessLog;
use crate::balance::Hold;
use crate::raw_head::RawHead;
use crate::upstream_body::UpstreamBody;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client sent more than `listener.max_request_body_bytes`.
#[derive(Debug, thiserror::Error)]
#[error("request body is larger than {limit} bytes")]
pub struct BodyTooLarge {
    pub limit: u64,
}

/// The client's request body broke (client went away, bad chunking) while we forwarded it.
#[derive(Debug, thiserror::Error)]
#[error("reading the client's request body failed")]
pub struct ClientBodyError(#[source] pub hyper::Error);

/// The upstream sent no body bytes for longer than the idle limit.
#[derive(Debug, thiserror::Error)]
#[error("upstream body stalled for {0:?}")]
pub struct BodyStalled(pub Duration);

pin_project! {
    #[project = KindProj]
    enum Kind {
        Upstream {
            #[pin]
            inner: UpstreamBody,
            idle: Duration,
            // Armed only when the upstream makes us wait, so a body that is already
            // buffered (the common small response) never touches the timer wheel.
            stall: Option<Pin<Box<Sleep>>>,
            progressed: bool,
        },
        Full {
            data: Option<Bytes>,
            // The upstream head an envelope replaced the body of, kept as bytes.
            head: Option<Box<RawHead>>,
        },
    }
}

pin_project! {
    /// What errgate sends to the client.
    pub struct ResponseBody {
        #[pin]
        kind: Kind,
        // Boxed: the record is large, and the response it rides on is moved several times.
        log: Option<Box<AccessLog>>,
        hold: Option<Hold>,
    }
}

impl ResponseBody {
    /// Streams the upstream's body; fails if it stalls for longer than `idle`.
    pub fn upstream(inner: UpstreamBody, idle: Duration) -> Self {
        let kind = Kind::Upstream {
            inner,
            idle,
            stall: None,
            progressed: false,
        };
        ResponseBody {
            kind,
            log: None,
            hold: None,
        }
    }

    pub fn full(data: Bytes) -> Self {
        Self::full_after(data, None)
    }

    /// `data`, sent with the upstream's fields in `head` (those the response's map does not
    /// replace); for errgate's own server, which copies them.
    pub fn full_after(data: Bytes, head: Option<Box<RawHead>>) -> Self {
        let data = (!data.is_empty()).then_some(data);
        ResponseBody {
            kind: Kind::Full { data, head },
            log: None,
            hold: None,
        }
    }

    pub fn empty() -> Self {
        Self::full(Bytes::new())
    }

    /// Attaches the access-log record, written when the body is finished or dropped.
    pub fn set_log(&mut self, log: Box<AccessLog>) {
        self.log = Some(log);
    }

    /// Keeps the upstream's concurrency slots taken until the body is finished or dropped.
    pub fn set_hold(&mut self, hold: Hold) {
        self.hold = Some(hold);
    }

    pub fn log(&self) -> Option<&AccessLog> {
        self.log.as_deref()
    }

    pub fn log_mut(&mut self) -> Option<&mut AccessLog> {
        self.log.as_deref_mut()
    }

    /// The upstream head's fields kept as bytes, for errgate's own server to copy (the
    /// response's map then holds only what errgate added).
    pub fn raw_head(&self) -> Option<&RawHead> {
        match &self.kind {
            Kind::Upstream { inner, .. } => inner.raw_head(),
            Kind::Full { head, .. } => head.as_deref(),
        }
    }
}

fn poll_upstream(
    proj: KindProj<'_>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    let KindProj::Upstream {
        inner,
        idle,
        stall,
        progressed,
    } = proj
    else {
        return Poll::Ready(None);
    };
    match inner.poll_frame(cx) {
        Poll::Ready(Some(Ok(frame))) => {
            *progressed = true;
            Poll::Ready(Some(Ok(frame)))
        }
        Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
        Poll::Ready(None) => Poll::Ready(None),
        Poll::Pending => {
            let deadline = Instant::now() + *idle;
            let timer = stall.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if std::mem::take(progressed) {
                timer.as_mut().reset(deadline);
            }
            ready!(timer.as_mut().poll(cx));
            Poll::Ready(Some(Err(Box::new(BodyStalled(*idle)))))
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = match this.kind.project() {
            KindProj::Full { data, .. } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            proj => poll_upstream(proj, cx),
        };
        if let (Poll::Ready(item), Some(log)) = (&polled, this.log.as_mut()) {
            match item {
                Some(Ok(frame)) => log.add_bytes_out(frame.data_ref().map_or(0, |d| d.len())),
                Some(Err(_)) => log.mark_aborted(),
                None => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Upstream { inner, .. } => inner.is_end_stream(),
            Kind::Full { data, .. } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Upstream { inner, .. } => inner.size_hint(),
            Kind::Full { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
