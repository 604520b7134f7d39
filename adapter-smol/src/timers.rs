//! Connection timers kept off async-io's reactor.
//!
//! async-io keeps its timers in a `BTreeMap` that every reactor turn splits
//! at the current instant (`Reactor::process_timers`), which allocates and
//! frees a node even when no timer is due. A server always has a timer
//! pending per connection (its idle deadline), so that cost fell on every
//! turn: about 690 instructions and an allocation per echoed WebSocket
//! message (callgrind, one connection, `bench/instructions.sh`).
//!
//! Here the deadlines live in one heap served by one thread, which sleeps
//! until the earliest and wakes the tasks whose deadline has passed; a turn
//! of the reactor never sees them. A connection's timer is re-armed rarely
//! (adapter-core's `Alarm` leaves it armed early rather than moving it
//! later, and does not poll it while it is armed ahead), so the shared lock
//! is taken about once per timer period, not per message.
//!
//! The heap holds weak references: a timer dropped or moved earlier leaves
//! a stale entry behind, skipped when it comes up and swept out whenever
//! stale entries outnumber live timers, so connection churn cannot grow it
//! beyond twice the live timers (plus a small floor).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use adapter_core::Sleep;

/// Below this many entries the heap is never swept.
const SWEEP_FLOOR: usize = 64;

/// The process's timer queue; its thread is started by [`start`].
static TIMERS: Timers = Timers {
    queue: Mutex::new(Queue {
        heap: BinaryHeap::new(),
        live: 0,
        thread: false,
    }),
    changed: Condvar::new(),
};

struct Timers {
    queue: Mutex<Queue>,
    /// Signalled when an entry earlier than every other is queued.
    changed: Condvar,
}

struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// Timers in existence (queued or not).
    live: usize,
    /// The thread is running.
    thread: bool,
}

/// A timer's place in the heap, valid while the timer's `queued_at` is
/// still `at`.
struct Entry {
    at: Instant,
    timer: Weak<Shared>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

/// What a timer and the thread share.
struct Shared {
    state: Mutex<State>,
}

struct State {
    deadline: Instant,
    /// The task to wake at the deadline.
    waker: Option<Waker>,
    /// The instant of the heap entry that stands for this timer, if any;
    /// never after `deadline` while a waker waits.
    queued_at: Option<Instant>,
}

/// Lock order: the queue, then a timer's state. Nothing takes the queue
/// while holding a state.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent, so a panic in
    // another thread (which would poison) cannot have left it half-done.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the timer thread unless it runs. Called where an error can be
/// returned (running a server, making a listener, connecting); a timer
/// made before that queues its deadline all the same and fires once the
/// thread runs.
///
/// # Errors
///
/// When the thread cannot be spawned.
pub(crate) fn start() -> io::Result<()> {
    start_with(&mut lock(&TIMERS.queue))
}

fn start_with(queue: &mut Queue) -> io::Result<()> {
    if !queue.thread {
        std::thread::Builder::new()
            .name("rampart-smol-timers".into())
            .spawn(|| run(&TIMERS))?;
        queue.thread = true;
    }
    Ok(())
}

/// The thread: wakes every timer whose deadline has passed, re-queues
/// those moved later, then sleeps until the earliest entry.
fn run(timers: &'static Timers) {
    let mut due = Vec::new();
    let mut queue = lock(&timers.queue);
    loop {
        let now = Instant::now();
        while let Some(Reverse(entry)) = queue.heap.peek() {
            if entry.at > now {
                break;
            }
            let Some(Reverse(entry)) = queue.heap.pop() else {
                break;
            };
            let Some(timer) = entry.timer.upgrade() else {
                continue;
            };
            let mut state = lock(&timer.state);
            if state.queued_at != Some(entry.at) {
                // Superseded by an earlier entry, or already fired.
                continue;
            }
            if state.deadline <= now {
                state.queued_at = None;
                due.extend(state.waker.take());
            } else {
                // Moved later since it was queued: wait for the new one.
                state.queued_at = Some(state.deadline);
                let at = state.deadline;
                drop(state);
                queue.heap.push(Reverse(Entry {
                    at,
                    timer: entry.timer,
                }));
            }
        }
        if !due.is_empty() {
            // Wake outside the lock: a woken task may arm its timer at once.
            drop(queue);
            due.drain(..).for_each(Waker::wake);
            queue = lock(&timers.queue);
            continue;
        }
        queue = match queue.heap.peek() {
            Some(Reverse(entry)) => {
                let wait = entry.at.saturating_duration_since(now);
                timers
                    .changed
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => timers
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

/// Queues `timer` for `at` (its state already says so), waking the thread
/// if that is now the earliest entry, and sweeps stale entries when they
/// outnumber live timers.
fn enqueue(at: Instant, timer: Weak<Shared>) {
    let mut queue = lock(&TIMERS.queue);
    let earliest = queue.heap.peek().is_none_or(|Reverse(e)| at < e.at);
    queue.heap.push(Reverse(Entry { at, timer }));
    if queue.heap.len() > SWEEP_FLOOR.max(2 * queue.live) {
        queue.heap.retain(|Reverse(entry)| {
            entry
                .timer
                .upgrade()
                .is_some_and(|t| lock(&t.state).queued_at == Some(entry.at))
        });
    }
    drop(queue);
    if earliest {
        TIMERS.changed.notify_one();
    }
}

/// A timer on the process's timer thread: completes at or after its
/// deadline, and stays complete until reset.
pub struct SmolSleep {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SmolSleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let deadline = lock(&self.shared.state).deadline;
        f.debug_struct("SmolSleep")
            .field("deadline", &deadline)
            .finish()
    }
}

impl SmolSleep {
    /// A timer for `deadline`; it is queued when first polled.
    pub(crate) fn new(deadline: Instant) -> Self {
        let mut queue = lock(&TIMERS.queue);
        queue.live += 1;
        // Normally running already (see `start`); if it cannot be spawned
        // now, the next timer tries again.
        let _ = start_with(&mut queue);
        drop(queue);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    deadline,
                    waker: None,
                    queued_at: None,
                }),
            }),
        }
    }

    /// Makes sure an entry no later than the deadline stands for this
    /// timer while a waker waits. Called with the state unlocked after.
    fn queue_if_needed(&self, mut state: MutexGuard<'_, State>) {
        let at = state.deadline;
        if state.waker.is_none() || state.queued_at.is_some_and(|q| q <= at) {
            return;
        }
        state.queued_at = Some(at);
        drop(state);
        enqueue(at, Arc::downgrade(&self.shared));
    }
}

impl Drop for SmolSleep {
    fn drop(&mut self) {
        let mut queue = lock(&TIMERS.queue);
        queue.live = queue.live.saturating_sub(1);
    }
}

impl Future for SmolSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.shared.state);
        if state.deadline <= Instant::now() {
            return Poll::Ready(());
        }
        if !state
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.waker = Some(cx.waker().clone());
        }
        self.queue_if_needed(state);
        Poll::Pending
    }
}

impl Sleep for SmolSleep {
    fn reset(&mut self, deadline: Instant) {
        let mut state = lock(&self.shared.state);
        state.deadline = deadline;
        // A waiting task hears of an earlier deadline without polling
        // again; a later one is caught when the current entry comes up.
        self.queue_if_needed(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
    use std::task::Wake;
    use std::time::Duration;

    /// Counts its wakes and the instant of the first.
    #[derive(Default)]
    struct Flag {
        wakes: AtomicUsize,
        first: Mutex<Option<Instant>>,
    }

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            lock(&self.first).get_or_insert_with(Instant::now);
            self.wakes.fetch_add(1, AtomicOrdering::SeqCst);
        }
    }

    fn poll(sleep: &mut SmolSleep, flag: &Arc<Flag>) -> Poll<()> {
        let waker = Waker::from(Arc::clone(flag));
        Pin::new(sleep).poll(&mut Context::from_waker(&waker))
    }

    /// Waits (bounded) until `flag` was woken.
    fn wait_for_wake(flag: &Flag) -> Instant {
        let bound = Instant::now() + Duration::from_secs(10);
        while flag.wakes.load(AtomicOrdering::SeqCst) == 0 {
            assert!(Instant::now() < bound, "the timer never woke its task");
            std::thread::sleep(Duration::from_millis(1));
        }
        lock(&flag.first).expect("woken")
    }

    #[test]
    fn wakes_at_or_after_the_deadline_and_stays_complete() {
        start().expect("timer thread");
        let flag = Arc::new(Flag::default());
        let deadline = Instant::now() + Duration::from_millis(30);
        let mut sleep = SmolSleep::new(deadline);
        assert!(poll(&mut sleep, &flag).is_pending());
        assert!(wait_for_wake(&flag) >= deadline);
        assert!(poll(&mut sleep, &flag).is_ready());
        assert!(poll(&mut sleep, &flag).is_ready(), "stays complete");
        sleep.reset(Instant::now() + Duration::from_secs(3600));
        assert!(poll(&mut sleep, &flag).is_pending(), "reset re-arms");
    }

    #[test]
    fn an_earlier_reset_wakes_the_waiting_task_without_a_poll() {
        start().expect("timer thread");
        let flag = Arc::new(Flag::default());
        let mut sleep = SmolSleep::new(Instant::now() + Duration::from_secs(3600));
        assert!(poll(&mut sleep, &flag).is_pending());
        let deadline = Instant::now() + Duration::from_millis(20);
        sleep.reset(deadline);
        assert!(wait_for_wake(&flag) >= deadline);
        assert!(poll(&mut sleep, &flag).is_ready());
    }

    #[test]
    fn a_later_reset_is_not_woken_at_the_old_deadline() {
        start().expect("timer thread");
        let flag = Arc::new(Flag::default());
        let mut sleep = SmolSleep::new(Instant::now() + Duration::from_millis(10));
        assert!(poll(&mut sleep, &flag).is_pending());
        let deadline = Instant::now() + Duration::from_millis(80);
        sleep.reset(deadline);
        assert!(
            wait_for_wake(&flag) >= deadline,
            "woken before the deadline"
        );
        assert_eq!(flag.wakes.load(AtomicOrdering::SeqCst), 1);
        assert!(poll(&mut sleep, &flag).is_ready());
    }

    #[test]
    fn dropped_and_moved_timers_do_not_pile_up_in_the_heap() {
        start().expect("timer thread");
        let flag = Arc::new(Flag::default());
        let far = Instant::now() + Duration::from_secs(3600);
        // Connection churn: timers queued far ahead, then dropped.
        for _ in 0..10_000 {
            let mut sleep = SmolSleep::new(far);
            assert!(poll(&mut sleep, &flag).is_pending());
        }
        // And one timer moved earlier many times, leaving entries behind.
        let mut kept = SmolSleep::new(far);
        assert!(poll(&mut kept, &flag).is_pending());
        for i in 0..10_000u32 {
            kept.reset(far - Duration::from_millis(u64::from(i) + 1));
        }
        let queue = lock(&TIMERS.queue);
        assert!(
            queue.heap.len() <= SWEEP_FLOOR.max(2 * queue.live) + 1,
            "{} entries for {} live timers",
            queue.heap.len(),
            queue.live
        );
    }
}
