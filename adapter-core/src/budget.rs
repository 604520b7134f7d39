//! The global budget on bytes buffered across all connections.
//!
//! Per-connection caps bound one connection; times the connection cap they
//! do not bound the process (16 MiB messages × 10,000 connections). The
//! budget does: every driver keeps the server's buffered-bytes gauge
//! ([`Stats::buffered_bytes`]) current, and while the gauge is over
//! [`Builder::max_buffered_bytes`](crate::Builder::max_buffered_bytes):
//!
//! - **reads pause**: no connection reads new input (a connection's own
//!   left-over input, output and queued messages still move, so memory can
//!   only drain); paused connections wait on one [`Event`] that is notified
//!   when the gauge drops back under the budget;
//! - **the largest go**: the connections holding the largest buffers are
//!   told to close, largest first, until the bytes they hold cover the
//!   excess; each says the protocol's "too large" farewell
//!   ([`Protocol::over_budget`](crate::Protocol::over_budget): WebSocket
//!   1009, HTTP 413) and is counted in `closed_over_budget`.
//!
//! Finding the largest without a lock on the hot path: a connection enters
//! a shared registry only while it holds at least
//! `budget / max_connections` bytes (at least 4 KiB), and updates its entry
//! only when its size moves by a quarter or more. Small and idle
//! connections never take the lock; the registry holds only the few big
//! ones. Since the connections outside it hold less than
//! `max_connections × budget / max_connections = budget` between them, the
//! registered ones always hold more than the excess when the gauge is over
//! the budget (for budgets of at least 4 KiB per connection), so closing
//! them is enough. The selection itself takes the registry's lock, and only
//! while over budget. A periodic sweep of every connection was the
//! alternative; it costs work per connection per period even when nothing
//! is wrong, and reacts a period late.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use event_listener::{Event, EventListener};
use proto_core::Stats;

use crate::protocol::ConnId;

/// Default [`Builder::max_buffered_bytes`](crate::Builder::max_buffered_bytes):
/// 256 MiB.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;

/// Registration floor: an idle connection's allowance (DESIGN.md, "memory").
const MIN_THRESHOLD: u64 = 4 * 1024;

/// The budget shared by every connection of a server.
#[derive(Debug)]
pub(crate) struct Budget {
    max: AtomicU64,
    /// Connections waiting for the gauge to drop.
    paused: AtomicUsize,
    /// Notified when the gauge drops to the budget or below while some
    /// connection is paused, and when the budget changes.
    resume: Event,
    registry: Mutex<HashMap<ConnId, Entry>>,
}

#[derive(Debug)]
struct Entry {
    size: u64,
    evicting: bool,
    flag: Arc<AtomicBool>,
    waker: Waker,
}

impl Budget {
    pub(crate) fn new(max: u64) -> Self {
        Self {
            max: AtomicU64::new(max),
            paused: AtomicUsize::new(0),
            resume: Event::new(),
            registry: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    pub(crate) fn set_max(&self, max: u64) {
        self.max.store(max, Ordering::Relaxed);
        self.resume.notify(usize::MAX);
    }

    /// The size from which a connection registers: its fair share of the
    /// budget when every place is taken.
    pub(crate) fn threshold(&self, max_connections: usize) -> u64 {
        (self.max() / (max_connections.max(1) as u64)).max(MIN_THRESHOLD)
    }

    /// Call after the gauge shrank: wakes the paused connections once it is
    /// back within the budget.
    pub(crate) fn released(&self, stats: &Stats) {
        if stats.buffered_bytes() <= self.max() {
            // Pairs with the fence of `listen` in `Member::should_pause`:
            // either that connection sees the lower gauge, or this sees it
            // counted as paused.
            fence(Ordering::SeqCst);
            if self.paused.load(Ordering::Relaxed) > 0 {
                self.resume.notify(usize::MAX);
            }
        }
    }

    /// While the gauge is over the budget, tells the largest registered
    /// connections to close until what they hold covers the excess (what
    /// connections already told still hold counts as covered).
    pub(crate) fn evict(&self, stats: &Stats) {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let gauge = stats.buffered_bytes();
        let Some(excess) = gauge.checked_sub(self.max()).filter(|e| *e > 0) else {
            return;
        };
        let leaving: u64 = registry
            .values()
            .filter(|e| e.evicting)
            .map(|e| e.size)
            .sum();
        let Some(mut excess) = excess.checked_sub(leaving).filter(|e| *e > 0) else {
            return;
        };
        let mut candidates: Vec<&mut Entry> =
            registry.values_mut().filter(|e| !e.evicting).collect();
        candidates.sort_unstable_by_key(|e| std::cmp::Reverse(e.size));
        for entry in candidates {
            entry.evicting = true;
            entry.flag.store(true, Ordering::Release);
            entry.waker.wake_by_ref();
            excess = excess.saturating_sub(entry.size);
            if excess == 0 {
                break;
            }
        }
    }
}

/// One connection's standing with the [`Budget`], owned by its driver.
#[derive(Debug)]
pub(crate) struct Member {
    budget: Arc<Budget>,
    id: ConnId,
    registered: Option<Registered>,
    /// Set while counted in `Budget::paused`.
    paused: Option<EventListener>,
}

#[derive(Debug)]
struct Registered {
    size: u64,
    flag: Arc<AtomicBool>,
    waker: Waker,
}

impl Member {
    pub(crate) fn new(budget: Arc<Budget>, id: ConnId) -> Self {
        Self {
            budget,
            id,
            registered: None,
            paused: None,
        }
    }

    /// True once the budget chose this connection to close.
    pub(crate) fn is_evicted(&self) -> bool {
        self.registered
            .as_ref()
            .is_some_and(|r| r.flag.load(Ordering::Acquire))
    }

    /// Keeps the registry entry in line with `size`: enters at
    /// `threshold`, leaves under half of it (unless chosen to close), and
    /// updates on a change of a quarter or a new waker.
    ///
    /// `threshold` is asked for only when the answer matters: computing it
    /// reads the connection count under the admission lock, and most
    /// wake-ups are of small connections that cannot register.
    pub(crate) fn update(&mut self, size: u64, threshold: impl FnOnce() -> u64, cx: &Context<'_>) {
        if self.registered.is_none() && size < MIN_THRESHOLD {
            return;
        }
        let threshold = threshold();
        match &mut self.registered {
            None if size >= threshold => {
                let flag = Arc::new(AtomicBool::new(false));
                let waker = cx.waker().clone();
                lock(&self.budget).insert(
                    self.id,
                    Entry {
                        size,
                        evicting: false,
                        flag: Arc::clone(&flag),
                        waker: waker.clone(),
                    },
                );
                self.registered = Some(Registered { size, flag, waker });
            }
            None => {}
            Some(r) if size < threshold / 2 && !r.flag.load(Ordering::Acquire) => {
                self.registered = None;
                lock(&self.budget).remove(&self.id);
            }
            Some(r) => {
                let moved = size.abs_diff(r.size) > r.size / 4;
                let new_waker = !r.waker.will_wake(cx.waker());
                if moved || new_waker {
                    r.size = size;
                    if new_waker {
                        r.waker = cx.waker().clone();
                    }
                    let (size, waker) = (r.size, r.waker.clone());
                    if let Some(entry) = lock(&self.budget).get_mut(&self.id) {
                        entry.size = size;
                        entry.waker = waker;
                    }
                }
            }
        }
    }

    /// True while reads must pause: the gauge is over the budget. Registers
    /// for the wake-up when it drops, and asks for the largest to close.
    pub(crate) fn should_pause(&mut self, stats: &Stats, cx: &mut Context<'_>) -> bool {
        for _ in 0..3 {
            if stats.buffered_bytes() <= self.budget.max() {
                self.resume();
                return false;
            }
            match &mut self.paused {
                None => {
                    self.budget.paused.fetch_add(1, Ordering::SeqCst);
                    // `listen` fences: the gauge is read again after it.
                    self.paused = Some(self.budget.resume.listen());
                    self.budget.evict(stats);
                }
                Some(listener) => match Pin::new(listener).poll(cx) {
                    Poll::Pending => return true,
                    Poll::Ready(()) => self.paused = Some(self.budget.resume.listen()),
                },
            }
        }
        // Notified over and over: look again on the next turn.
        cx.waker().wake_by_ref();
        true
    }

    fn resume(&mut self) {
        if self.paused.take().is_some() {
            self.budget.paused.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn lock(budget: &Budget) -> std::sync::MutexGuard<'_, HashMap<ConnId, Entry>> {
    budget
        .registry
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Member {
    fn drop(&mut self) {
        self.resume();
        if self.registered.take().is_some() {
            lock(&self.budget).remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(budget: &Arc<Budget>, stats: &Stats, size: u64) -> Member {
        let mut m = Member::new(Arc::clone(budget), ConnId::next());
        stats.buffer_grew(size);
        m.update(
            size,
            || budget.threshold(10),
            &Context::from_waker(Waker::noop()),
        );
        m
    }

    #[test]
    fn the_largest_go_first_until_the_excess_is_covered() {
        let stats = Stats::new();
        let budget = Arc::new(Budget::new(100_000));
        let small = member(&budget, &stats, 1_000); // under the threshold
        let a = member(&budget, &stats, 50_000);
        let b = member(&budget, &stats, 30_000);
        let c = member(&budget, &stats, 25_000);
        assert!(small.registered.is_none());
        budget.evict(&stats); // 106,000: 6,000 over
        assert_eq!(
            [&a, &b, &c, &small].map(Member::is_evicted),
            [true, false, false, false]
        );
        // What `a` still holds counts as leaving: nothing more is chosen.
        stats.buffer_grew(20_000);
        budget.evict(&stats);
        assert!(!b.is_evicted());
        // Beyond it, the next largest.
        stats.buffer_grew(40_000);
        budget.evict(&stats);
        assert_eq!([&b, &c].map(Member::is_evicted), [true, false]);
        drop((a, b, c));
        assert!(lock(&budget).is_empty());
    }

    #[test]
    fn reads_pause_over_the_budget_and_resume_under_it() {
        let stats = Stats::new();
        let budget = Arc::new(Budget::new(10_000));
        let mut m = Member::new(Arc::clone(&budget), ConnId::next());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(!m.should_pause(&stats, &mut cx));
        stats.buffer_grew(10_001);
        assert!(m.should_pause(&stats, &mut cx));
        assert_eq!(budget.paused.load(Ordering::SeqCst), 1);
        stats.buffer_shrank(1);
        budget.released(&stats);
        assert!(!m.should_pause(&stats, &mut cx));
        assert_eq!(budget.paused.load(Ordering::SeqCst), 0);
        stats.buffer_grew(1);
        assert!(m.should_pause(&stats, &mut cx));
        drop(m);
        assert_eq!(budget.paused.load(Ordering::SeqCst), 0);
    }
}
