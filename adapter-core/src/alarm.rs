//! The one runtime timer a connection keeps, written once for the server's
//! driver and the client's pump.
//!
//! A connection has several deadlines (the machine's, the write stall,
//! shutdown grace and drain, ...), but arming one runtime timer per deadline
//! would cost a timer-wheel entry each. Instead the owner computes the
//! earliest deadline every round and points this single timer at it.
//!
//! A deadline that moves later does not move the timer: a keep-alive
//! connection pushes its idle deadline on every request, and resetting a
//! runtime timer costs a timer-wheel update (a lock on async-io's). The
//! timer then fires early, the owner finds no deadline passed, and the next
//! call arms it at the deadline of that moment: at most one extra wake-up
//! per timer period instead of one reset per request.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::runtime::{Runtime, Sleep};

/// One lazily created runtime timer, pointed at the owner's earliest
/// deadline.
pub(crate) struct Alarm<S> {
    sleep: Option<S>,
    /// Where `sleep` is armed; `None` once it fired or was forgotten.
    armed_at: Option<Instant>,
}

impl<S: Sleep> Alarm<S> {
    pub(crate) const fn new() -> Self {
        Self {
            sleep: None,
            armed_at: None,
        }
    }

    /// Arms the timer for `at` (creating it on first use, resetting it when
    /// `at` is earlier than where it is armed) and polls it.
    ///
    /// `Ready` means it fired: the owner then compares the current time
    /// with each of its deadlines. It may fire before `at` (it was armed
    /// earlier, or a runtime timer fires slightly early); the deadline is
    /// then still ahead, and the next call re-arms it.
    pub(crate) fn poll_at<R>(&mut self, rt: &R, at: Instant, cx: &mut Context<'_>) -> Poll<()>
    where
        R: Runtime<Sleep = S>,
    {
        if self.armed_at.is_none_or(|armed| armed > at) {
            match &mut self.sleep {
                Some(sleep) => sleep.reset(at),
                None => self.sleep = Some(rt.sleep_until(at)),
            }
            self.armed_at = Some(at);
        }
        let fired = self
            .sleep
            .as_mut()
            .is_some_and(|sleep| Pin::new(sleep).poll(cx).is_ready());
        if fired {
            self.armed_at = None;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Forgets where the timer points, so the next [`poll_at`](Self::poll_at)
    /// re-arms it even for the same instant (after the connection changed
    /// hands to another protocol).
    pub(crate) fn forget(&mut self) {
        self.armed_at = None;
    }
}
