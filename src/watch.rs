//! A cheap wait for a [`CancellationToken`], polled alongside a connection on every wake-up.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Waits for a token's cancellation at the price of an atomic load per poll once the task's
/// waker is registered: tokio's `cancelled()` takes a lock on every poll, and a connection is
/// polled several times per request.
pub struct Watch {
    token: CancellationToken,
    wait: Pin<Box<WaitForCancellationFutureOwned>>,
    registered: Option<Waker>,
}

impl Watch {
    pub fn new(token: CancellationToken) -> Watch {
        let wait = Box::pin(token.clone().cancelled_owned());
        Watch {
            token,
            wait,
            registered: None,
        }
    }

    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.token.is_cancelled() {
            return Poll::Ready(());
        }
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        self.registered = Some(cx.waker().clone());
        self.wait.as_mut().poll(cx)
    }

    /// True once the token is cancelled (no waker registered).
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}
