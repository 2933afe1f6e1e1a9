//! The client's request body on its way upstream, and what makes it replayable for a retry.
//!
//! - An empty body, and any request's body up to `retry.max_body_bytes`, are held in memory
//!   ([`Source::Replay`]) and sent again byte for byte on each attempt the retry policy allows.
//! - Anything else streams. A streamed body that the upstream client never started reading
//!   (the connection failed first) comes back through a channel when the client drops it, so
//!   a connect failure can be retried for any request without buffering it.
//!
//! Both enforce `listener.max_request_body_bytes`.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::body::{BodyTooLarge, BoxError, ClientBodyError};
use crate::error::ProxyError;

/// Where each attempt's body comes from.
#[derive(Debug)]
pub enum Source {
    Replay {
        data: Bytes,
        trailers: Option<HeaderMap>,
    },
    /// Read whole with the head by errgate's own server, but over the route's
    /// `retry.max_body_bytes`: sent again only after a connect failure, like a streamed body.
    Once(Bytes),
    Stream {
        /// Bytes already read from the client while trying to buffer.
        prefix: Bytes,
        inner: Option<Incoming>,
        /// Where an unread `inner` comes back after a failed connect.
        returned: Option<oneshot::Receiver<Incoming>>,
        limit: u64,
    },
}

impl Source {
    pub fn empty() -> Self {
        Source::Replay {
            data: Bytes::new(),
            trailers: None,
        }
    }

    /// A body errgate's own server read whole with the head: replayable within `cap`.
    pub fn read(data: Bytes, cap: u64) -> Self {
        if data.len() as u64 <= cap {
            Source::Replay {
                data,
                trailers: None,
            }
        } else {
            Source::Once(data)
        }
    }

    /// Streams `body` without buffering.
    pub fn stream(body: Incoming, limit: u64) -> Self {
        Source::Stream {
            prefix: Bytes::new(),
            inner: Some(body),
            returned: None,
            limit,
        }
    }

    /// Reads up to `cap` bytes of `body` within `deadline`; a longer body streams on.
    pub async fn buffer(
        body: Incoming,
        cap: u64,
        limit: u64,
        deadline: Instant,
    ) -> Result<Self, ProxyError> {
        match tokio::time::timeout_at(deadline, read_up_to(body, cap, limit)).await {
            Ok(result) => result,
            Err(_) => Err(ProxyError::ClientTimeout),
        }
    }

    /// The body's size when it was read in full (a buffered body).
    pub fn bytes_in(&self) -> Option<u64> {
        match self {
            Source::Replay { data, .. } | Source::Once(data) => Some(data.len() as u64),
            Source::Stream { .. } => None,
        }
    }

    /// The whole body when it is held in memory without trailers: errgate's own HTTP/1.1
    /// client sends it as is.
    pub fn plain_bytes(&self) -> Option<&Bytes> {
        match self {
            Source::Replay {
                data,
                trailers: None,
            }
            | Source::Once(data) => Some(data),
            _ => None,
        }
    }

    /// Whether the body can be sent (again) for a new attempt after `connect_failed`.
    pub fn can_replay(&mut self, connect_failed: bool) -> bool {
        match self {
            Source::Replay { .. } => true,
            Source::Once(_) => connect_failed,
            Source::Stream {
                inner, returned, ..
            } => {
                if inner.is_none() && connect_failed {
                    *inner = returned.take().and_then(|mut rx| rx.try_recv().ok());
                }
                inner.is_some()
            }
        }
    }

    /// The body for the next attempt; `None` when a streamed body was already used.
    pub fn next_body(&mut self) -> Option<RequestBody> {
        match self {
            Source::Replay { data, trailers } => Some(RequestBody::Full {
                data: (!data.is_empty()).then(|| data.clone()),
                trailers: trailers.clone(),
            }),
            Source::Once(data) => Some(RequestBody::Full {
                data: Some(data.clone()),
                trailers: None,
            }),
            Source::Stream {
                prefix,
                inner,
                returned,
                limit,
            } => {
                let body = inner.take()?;
                let (tx, rx) = oneshot::channel();
                *returned = Some(rx);
                let remaining = limit.saturating_sub(prefix.len() as u64);
                Some(RequestBody::Stream(Streamed {
                    prefix: (!prefix.is_empty()).then(|| prefix.clone()),
                    inner: Some(body),
                    remaining,
                    limit: *limit,
                    touched: false,
                    give_back: Some(tx),
                }))
            }
        }
    }
}

async fn read_up_to(mut body: Incoming, cap: u64, limit: u64) -> Result<Source, ProxyError> {
    let mut buf = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| ProxyError::ClientBody(Box::new(ClientBodyError(e))))?;
        match frame.into_data() {
            Ok(data) => {
                if (buf.len() + data.len()) as u64 > limit {
                    return Err(ProxyError::BodyTooLarge);
                }
                buf.extend_from_slice(&data);
                if buf.len() as u64 > cap {
                    return Ok(Source::Stream {
                        prefix: buf.freeze(),
                        inner: Some(body),
                        returned: None,
                        limit,
                    });
                }
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    let data = buf.freeze();
    Ok(Source::Replay { data, trailers })
}

/// A streamed body for one attempt: the buffered prefix, then the rest from the client.
#[derive(Debug)]
pub struct Streamed {
    prefix: Option<Bytes>,
    inner: Option<Incoming>,
    remaining: u64,
    limit: u64,
    /// The upstream client started reading: the body can no longer be given back.
    touched: bool,
    give_back: Option<oneshot::Sender<Incoming>>,
}

impl Drop for Streamed {
    fn drop(&mut self) {
        if self.touched {
            return;
        }
        if let (Some(tx), Some(body)) = (self.give_back.take(), self.inner.take()) {
            let _ = tx.send(body);
        }
    }
}

/// What one attempt sends upstream.
#[derive(Debug)]
pub enum RequestBody {
    Full {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    Stream(Streamed),
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            RequestBody::Full { data, trailers } => Poll::Ready(match data.take() {
                Some(d) => Some(Ok(Frame::data(d))),
                None => trailers.take().map(|t| Ok(Frame::trailers(t))),
            }),
            RequestBody::Stream(s) => poll_streamed(s, cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Full { data, trailers } => data.is_none() && trailers.is_none(),
            RequestBody::Stream(s) => {
                s.prefix.is_none() && s.inner.as_ref().is_none_or(|b| b.is_end_stream())
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Full { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            RequestBody::Stream(s) => {
                let prefix = s.prefix.as_ref().map_or(0, |p| p.len() as u64);
                let rest = s
                    .inner
                    .as_ref()
                    .map_or(SizeHint::with_exact(0), |b| b.size_hint());
                let mut hint = SizeHint::new();
                hint.set_lower(rest.lower() + prefix);
                if let Some(upper) = rest.upper() {
                    hint.set_upper(upper + prefix);
                }
                hint
            }
        }
    }
}

fn poll_streamed(
    s: &mut Streamed,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    s.touched = true;
    if let Some(prefix) = s.prefix.take() {
        return Poll::Ready(Some(Ok(Frame::data(prefix))));
    }
    let Some(inner) = s.inner.as_mut() else {
        return Poll::Ready(None);
    };
    match ready!(Pin::new(inner).poll_frame(cx)) {
        Some(Ok(frame)) => {
            if let Some(data) = frame.data_ref() {
                let len = data.len() as u64;
                if len > s.remaining {
                    let limit = s.limit;
                    return Poll::Ready(Some(Err(Box::new(BodyTooLarge { limit }))));
                }
                s.remaining -= len;
            }
            Poll::Ready(Some(Ok(frame)))
        }
        Some(Err(e)) => Poll::Ready(Some(Err(Box::new(ClientBodyError(e))))),
        None => Poll::Ready(None),
    }
}
