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
//! runtime timer costs a timer-wheel update (a lock on adapter-smol's timer
//! queue). The
//! timer then fires early, the owner finds no deadline passed, and the next
//! call arms it at the deadline of that moment: at most one extra wake-up
//! per timer period instead of one reset per request.
//!
//! A timer that is armed ahead of the owner's clock is not polled again
//! either, as long as the task's waker is the one it last registered: a
//! runtime timer never completes before its deadline (the contract of
//! [`Sleep`]), so it cannot have fired, and its registration still stands.
//! Polling tokio's `Sleep` costs about as much as parsing a small frame, and
//! a connection asks for its timer once per round.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::runtime::{Runtime, Sleep};

/// One lazily created runtime timer, pointed at the owner's earliest
/// deadline.
pub(crate) struct Alarm<S> {
    sleep: Option<S>,
    /// Where `sleep` is armed; `None` once it fired or was forgotten.
    armed_at: Option<Instant>,
    /// The waker `sleep` was last polled with, so it wakes that task.
    registered: Option<Waker>,
}

impl<S: Sleep> Alarm<S> {
    pub(crate) const fn new() -> Self {
        Self {
            sleep: None,
            armed_at: None,
            registered: None,
        }
    }

    /// Arms the timer for `at` (creating it on first use, resetting it when
    /// `at` is earlier than where it is armed) and polls it, unless it is
    /// armed after `now` and already registered with this task's waker.
    ///
    /// `Ready` means it fired: the owner then compares the current time
    /// with each of its deadlines. It may fire before `at`, having been
    /// armed earlier; the deadline is then still ahead, and the next call
    /// re-arms it.
    pub(crate) fn poll_at<R>(
        &mut self,
        rt: &R,
        at: Instant,
        now: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()>
    where
        R: Runtime<Sleep = S>,
    {
        self.poll_at_with(at, now, cx, || rt.sleep_until(at))
    }

    /// [`poll_at`](Self::poll_at) with the timer made by `create` on first
    /// use.
    fn poll_at_with(
        &mut self,
        at: Instant,
        now: Instant,
        cx: &mut Context<'_>,
        create: impl FnOnce() -> S,
    ) -> Poll<()> {
        match self.armed_at {
            Some(armed) if armed <= at => {
                if armed > now && self.registered_with(cx) {
                    return Poll::Pending;
                }
            }
            _ => {
                match &mut self.sleep {
                    Some(sleep) => sleep.reset(at),
                    None => self.sleep = Some(create()),
                }
                self.armed_at = Some(at);
            }
        }
        let fired = self
            .sleep
            .as_mut()
            .is_some_and(|sleep| Pin::new(sleep).poll(cx).is_ready());
        if fired {
            self.armed_at = None;
            Poll::Ready(())
        } else {
            if !self.registered_with(cx) {
                self.registered = Some(cx.waker().clone());
            }
            Poll::Pending
        }
    }

    /// True when the timer was last polled with a waker that wakes the task
    /// of `cx`.
    fn registered_with(&self, cx: &Context<'_>) -> bool {
        self.registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Wake, Waker};
    use std::time::Duration;

    /// How often the fake timer was moved and polled.
    #[derive(Default)]
    struct Counts {
        resets: AtomicUsize,
        polls: AtomicUsize,
    }

    /// A timer that completes once `now`, which the test sets, reaches its
    /// deadline: never early, as the `Sleep` contract requires.
    struct FakeSleep {
        counts: Arc<Counts>,
        now: Arc<Mutex<Instant>>,
        deadline: Instant,
    }

    impl Future for FakeSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.counts.polls.fetch_add(1, Ordering::Relaxed);
            if *self.now.lock().unwrap() >= self.deadline {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Sleep for FakeSleep {
        fn reset(&mut self, deadline: Instant) {
            self.deadline = deadline;
            self.counts.resets.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A task's waker that does nothing. (`Waker::noop` would not do: its
    /// `will_wake` compares vtable addresses, which codegen may duplicate.)
    struct Task;

    impl Wake for Task {
        fn wake(self: Arc<Self>) {}
    }

    struct Harness {
        alarm: Alarm<FakeSleep>,
        task: Waker,
        counts: Arc<Counts>,
        now: Arc<Mutex<Instant>>,
    }

    impl Harness {
        fn new(t0: Instant) -> Self {
            Self {
                alarm: Alarm::new(),
                task: Waker::from(Arc::new(Task)),
                counts: Arc::default(),
                now: Arc::new(Mutex::new(t0)),
            }
        }

        fn set_now(&self, at: Instant) {
            *self.now.lock().unwrap() = at;
        }

        fn poll_with(&mut self, at: Instant, waker: &Waker) -> Poll<()> {
            let now = *self.now.lock().unwrap();
            let (counts, clock) = (Arc::clone(&self.counts), Arc::clone(&self.now));
            let mut cx = Context::from_waker(waker);
            self.alarm
                .poll_at_with(at, now, &mut cx, move || FakeSleep {
                    counts,
                    now: clock,
                    deadline: at,
                })
        }

        fn poll(&mut self, at: Instant) -> Poll<()> {
            let task = self.task.clone();
            self.poll_with(at, &task)
        }

        fn resets(&self) -> usize {
            self.counts.resets.load(Ordering::Relaxed)
        }

        fn polls(&self) -> usize {
            self.counts.polls.load(Ordering::Relaxed)
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // one origin instant
    fn a_later_deadline_keeps_the_timer_and_is_armed_once_it_fires() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let mut h = Harness::new(t0);

        assert!(h.poll(t0 + secs(10)).is_pending());
        // Later deadlines (a request pushing the idle timeout back) leave
        // the timer alone.
        for later in [20, 30, 40] {
            assert!(h.poll(t0 + secs(later)).is_pending());
        }
        assert_eq!(h.resets(), 0, "no reset for a later deadline");
        // An earlier one moves it.
        let soon = t0 + secs(5);
        assert!(h.poll(soon).is_pending());
        assert_eq!(h.resets(), 1);
        // It fires at 5 s although the owner now waits for 40 s: the owner
        // finds nothing due, and the next call arms the timer at 40 s.
        h.set_now(soon);
        let at = t0 + secs(40);
        assert!(h.poll(at).is_ready());
        assert!(h.poll(at).is_pending());
        assert_eq!(h.resets(), 2, "armed again once it fired");
        h.set_now(t0 + secs(39));
        assert!(h.poll(at).is_pending());
        h.set_now(at);
        assert!(h.poll(at).is_ready());
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // one origin instant
    fn a_timer_ahead_of_now_is_polled_only_for_a_new_waker() {
        let t0 = Instant::now();
        let at = t0 + Duration::from_secs(10);
        let mut h = Harness::new(t0);
        assert!(h.poll(at).is_pending());
        assert_eq!(h.polls(), 1, "a new timer is polled to register");
        for _ in 0..3 {
            assert!(h.poll(at).is_pending());
        }
        assert_eq!(h.polls(), 1, "registered and not due: not polled again");
        // Another task's waker must be registered.
        let other = Waker::from(Arc::new(Task));
        assert!(h.poll_with(at, &other).is_pending());
        assert_eq!(h.polls(), 2);
        assert!(h.poll_with(at, &other).is_pending());
        assert_eq!(h.polls(), 2);
        assert!(h.poll(at).is_pending());
        assert_eq!(h.polls(), 3, "and the first task's again");
        // At the deadline it is polled, and fires.
        h.set_now(at);
        assert!(h.poll(at).is_ready());
        assert_eq!(h.polls(), 4);
    }
}
