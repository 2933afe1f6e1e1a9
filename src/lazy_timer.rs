//! A deadline that is cheap to move: re-armed lazily, so a connection that sets a new
//! deadline for every request touches tokio's timer wheel about once per timeout period
//! instead of registering and clearing a timer per request.
//!
//! Moving the deadline later only records it; when the armed timer fires before the
//! recorded deadline, it is moved there. Moving it earlier re-arms at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::time::{Instant, Sleep};

#[derive(Debug)]
pub struct LazyTimer {
    deadline: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl LazyTimer {
    pub fn new(deadline: Instant) -> Self {
        LazyTimer {
            deadline,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }

    pub fn set(&mut self, deadline: Instant) {
        if deadline < self.sleep.deadline() {
            self.sleep.as_mut().reset(deadline);
        }
        self.deadline = deadline;
    }

    /// Ready once the current deadline has passed.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            if self.sleep.deadline() >= self.deadline {
                return Poll::Ready(());
            }
            let deadline = self.deadline;
            self.sleep.as_mut().reset(deadline);
        }
    }

    /// Runs `work` until it finishes (`Some`) or the deadline passes (`None`, `work` dropped).
    pub async fn within<F: Future>(&mut self, work: F) -> Option<F::Output> {
        let mut work = std::pin::pin!(work);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            self.poll(cx).map(|()| None)
        })
        .await
    }
}

#[cfg(test)]
#[path = "lazy_timer_tests.rs"]
mod tests;
