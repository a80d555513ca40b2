//! Bounds on the control requests the daemon serves at once: unary RPCs (Create, Update,
//! Destroy, Get, List; `serve --max-concurrent-rpcs`) and open `WatchEvents` streams
//! (`--max-event-watchers`). A request beyond a bound is refused at once with
//! RESOURCE_EXHAUSTED naming the bound and its flag, rather than queued: a controller
//! that floods the daemon learns it immediately, and the requests in progress (and the
//! running mixers) are unaffected.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// Default of `--max-concurrent-rpcs`.
pub const DEFAULT_MAX_CONCURRENT_RPCS: usize = 64;
/// Default of `--max-event-watchers`.
pub const DEFAULT_MAX_EVENT_WATCHERS: usize = 256;

/// The two bounds and what is taken of them. Cheap to clone; clones share the counts.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    unary: Arc<Semaphore>,
    max_unary: usize,
    watchers: Arc<Semaphore>,
    max_watchers: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CONCURRENT_RPCS, DEFAULT_MAX_EVENT_WATCHERS)
    }
}

impl RequestLimits {
    /// At most `max_unary` unary RPCs in progress and `max_watchers` open event streams.
    pub fn new(max_unary: usize, max_watchers: usize) -> Self {
        Self {
            unary: Arc::new(Semaphore::new(max_unary)),
            max_unary,
            watchers: Arc::new(Semaphore::new(max_watchers)),
            max_watchers,
        }
    }

    /// A slot for one unary RPC, held until the returned permit is dropped.
    /// Errors: RESOURCE_EXHAUSTED when `max_unary` are in progress.
    pub fn unary(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.unary.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{} control requests are in progress, the most the daemon serves at once \
                 (--max-concurrent-rpcs); retry with backoff",
                self.max_unary
            ))
        })
    }

    /// A slot for one event stream, held until the returned permit is dropped (the
    /// stream ends). Errors: RESOURCE_EXHAUSTED when `max_watchers` streams are open.
    pub fn watcher(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.watchers.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{} event streams are open, the most the daemon serves \
                 (--max-event-watchers); close one or watch all mixers on one stream",
                self.max_watchers
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_refuses_then_frees_with_the_permit() {
        let l = RequestLimits::new(1, 2);
        let a = l.unary().unwrap();
        let e = l.unary().unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        assert!(
            e.message().contains("--max-concurrent-rpcs"),
            "{}",
            e.message()
        );
        drop(a);
        let _b = l.unary().unwrap();
        let (_w1, _w2) = (l.watcher().unwrap(), l.watcher().unwrap());
        let e = l.watcher().unwrap_err();
        assert!(
            e.message().starts_with("2 event streams"),
            "{}",
            e.message()
        );
        // The bounds are separate: watchers do not take unary slots.
        assert!(l.clone().unary().is_err());
    }
}
