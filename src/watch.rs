//! The drain's signals to connections ([`Stop`]), and a cheap wait for one ([`Watch`]),
//! polled alongside a connection on every wake-up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// A cancellation whose check is one atomic load. tokio-util's `CancellationToken` takes its
/// mutex for `is_cancelled` (and for every poll of `cancelled()`), and a connection checks
/// several times per request: that was eight locked instructions per proxied request.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<StopInner>,
}

#[derive(Debug, Default)]
struct StopInner {
    cancelled: AtomicBool,
    /// Wakes the tasks that wait.
    token: CancellationToken,
}

impl Stop {
    pub fn cancel(&self) {
        // Set before the wake-up, so a woken task sees it.
        self.inner.cancelled.store(true, Ordering::Release);
        self.inner.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }
}

/// Waits for a [`Stop`] at the price of an atomic load per poll once the task's waker is
/// registered.
pub struct Watch {
    stop: Stop,
    wait: Pin<Box<WaitForCancellationFutureOwned>>,
    registered: Option<Waker>,
}

impl Watch {
    pub fn new(stop: Stop) -> Watch {
        let wait = Box::pin(stop.inner.token.clone().cancelled_owned());
        Watch {
            stop,
            wait,
            registered: None,
        }
    }

    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.stop.is_cancelled() {
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

    /// True once the stop is cancelled (no waker registered).
    pub fn is_cancelled(&self) -> bool {
        self.stop.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_wakes_and_reads_cancelled_after_the_stop_is_cancelled() {
        let stop = Stop::default();
        let mut watch = Watch::new(stop.clone());
        assert!(!watch.is_cancelled());
        let waiting = tokio::spawn(async move {
            std::future::poll_fn(|cx| watch.poll(cx)).await;
            watch.is_cancelled()
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        stop.cancel();
        assert!(waiting.await.unwrap());
        assert!(
            Watch::new(stop).is_cancelled(),
            "a watch made after the stop"
        );
    }
}
