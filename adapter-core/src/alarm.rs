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
        self.poll_at_with(at, cx, || rt.sleep_until(at))
    }

    /// [`poll_at`](Self::poll_at) with the timer made by `create` on first
    /// use.
    fn poll_at_with(
        &mut self,
        at: Instant,
        cx: &mut Context<'_>,
        create: impl FnOnce() -> S,
    ) -> Poll<()> {
        if self.armed_at.is_none_or(|armed| armed > at) {
            match &mut self.sleep {
                Some(sleep) => sleep.reset(at),
                None => self.sleep = Some(create()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::{Arc, Mutex};
    use std::task::Waker;
    use std::time::Duration;

    /// A timer that fires when the test says "now" has reached it, and
    /// counts how often it was moved.
    #[derive(Default)]
    struct Clock {
        now: Option<Instant>,
        resets: usize,
    }

    struct FakeSleep {
        clock: Arc<Mutex<Clock>>,
        deadline: Instant,
    }

    impl Future for FakeSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            let now = self.clock.lock().unwrap().now;
            if now.is_some_and(|now| now >= self.deadline) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Sleep for FakeSleep {
        fn reset(&mut self, deadline: Instant) {
            self.deadline = deadline;
            self.clock.lock().unwrap().resets += 1;
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // one origin instant
    fn a_later_deadline_keeps_the_timer_and_is_armed_once_it_fires() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let clock = Arc::new(Mutex::new(Clock::default()));
        let mut alarm = Alarm::<FakeSleep>::new();
        let mut cx = Context::from_waker(Waker::noop());
        let make = |at| {
            let clock = Arc::clone(&clock);
            move || FakeSleep {
                clock,
                deadline: at,
            }
        };
        let resets = || clock.lock().unwrap().resets;
        let set_now = |at| clock.lock().unwrap().now = Some(at);

        assert!(
            alarm
                .poll_at_with(t0 + secs(10), &mut cx, make(t0 + secs(10)))
                .is_pending()
        );
        // Later deadlines (a request pushing the idle timeout back) leave
        // the timer alone.
        for later in [20, 30, 40] {
            let at = t0 + secs(later);
            assert!(alarm.poll_at_with(at, &mut cx, make(at)).is_pending());
        }
        assert_eq!(resets(), 0, "no reset for a later deadline");
        // An earlier one moves it.
        let soon = t0 + secs(5);
        assert!(alarm.poll_at_with(soon, &mut cx, make(soon)).is_pending());
        assert_eq!(resets(), 1);
        // It fires at 5 s although the owner now waits for 40 s: the owner
        // finds nothing due, and the next call arms the timer at 40 s.
        set_now(soon);
        let at = t0 + secs(40);
        assert!(alarm.poll_at_with(at, &mut cx, make(at)).is_ready());
        assert!(alarm.poll_at_with(at, &mut cx, make(at)).is_pending());
        assert_eq!(resets(), 2, "armed again once it fired");
        set_now(t0 + secs(39));
        assert!(alarm.poll_at_with(at, &mut cx, make(at)).is_pending());
        set_now(at);
        assert!(alarm.poll_at_with(at, &mut cx, make(at)).is_ready());
    }
}
