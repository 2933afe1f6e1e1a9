//! The upstream's response body from either client: hyper-util's (TLS, streamed uploads,
//! upgrades) or errgate's own HTTP/1.1 client ([`crate::h1_pool`]).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::body::BoxError;
use crate::h1_body::H1Body;
use crate::raw_head::RawHead;

#[derive(Debug)]
pub enum UpstreamBody {
    Hyper(Incoming),
    Own(H1Body),
}

impl UpstreamBody {
    /// Whether the response's hop-by-hop fields are already gone: errgate's own client leaves
    /// them out while parsing the head (unless `Connection` nominated other fields); hyper's
    /// keeps them.
    pub fn hop_by_hop_removed(&self) -> bool {
        match self {
            UpstreamBody::Hyper(_) => false,
            UpstreamBody::Own(inner) => inner.head_clean(),
        }
    }

    /// The response head's fields, when errgate's own client kept them as bytes (then the
    /// response's header map is empty; see [`crate::raw_head`]).
    pub fn raw_head(&self) -> Option<&RawHead> {
        match self {
            UpstreamBody::Hyper(_) => None,
            UpstreamBody::Own(inner) => inner.raw_head.as_deref(),
        }
    }

    pub fn take_raw_head(&mut self) -> Option<Box<RawHead>> {
        match self {
            UpstreamBody::Hyper(_) => None,
            UpstreamBody::Own(inner) => inner.raw_head.take(),
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            UpstreamBody::Hyper(inner) => Pin::new(inner)
                .poll_frame(cx)
                .map(|item| item.map(|r| r.map_err(|e| Box::new(e) as BoxError))),
            UpstreamBody::Own(inner) => Pin::new(inner).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpstreamBody::Hyper(inner) => inner.is_end_stream(),
            UpstreamBody::Own(inner) => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            UpstreamBody::Hyper(inner) => inner.size_hint(),
            UpstreamBody::Own(inner) => inner.size_hint(),
        }
    }
}
