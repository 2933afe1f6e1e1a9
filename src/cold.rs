//! Futures for the paths most requests never take: a request body to buffer, an error body
//! to rewrite, hyper-util's client.

use std::future::Future;
use std::pin::Pin;

/// A boxed future, polled through a pointer: its state does not grow the future that awaits
/// it, and its code is not inlined into the caller's. Inlined, the rare paths made the common
/// request's functions several times larger (`proxy::forward`'s was 56 KB), spreading the
/// instructions every request runs over more of the instruction cache.
pub type Cold<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `f` as a [`Cold`] future.
pub fn cold<'a, F>(f: F) -> Cold<'a, F::Output>
where
    F: Future + Send + 'a,
{
    Box::pin(f)
}
