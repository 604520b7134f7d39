//! Tasks woken together when the server's stop state changes.
//!
//! Every connection and accept loop must wake when the server starts to
//! stop and again when the stop is forced. A listener that is polled on
//! every wake-up (as `event_listener` works) takes a lock each time, which
//! showed in profiles of busy keep-alive connections. Here a task registers
//! its waker once, and again only when its waker changes, so a wake-up costs
//! one pointer comparison. [`WakerSet::wake_all`] wakes every registered task
//! and leaves it registered, so a later change wakes it again: nothing is
//! "consumed" that a second change could miss.
//!
//! The owner publishes its new state before calling `wake_all`, and a task
//! registers before it reads the state: either the task reads the new
//! state, or its registration was in place when `wake_all` took the lock.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

/// Registered wakers, in a slab whose free slots are reused.
#[derive(Default)]
pub(crate) struct WakerSet {
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl WakerSet {
    /// Wakes every registered task; they stay registered.
    pub(crate) fn wake_all(&self) {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        for waker in slots.wakers.iter().flatten() {
            waker.wake_by_ref();
        }
    }

    /// How many tasks are registered.
    #[cfg(test)]
    fn len(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.wakers.len() - slots.free.len()
    }

    fn set(&self, key: Option<usize>, waker: &Waker) -> usize {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        match key {
            Some(key) => {
                slots.wakers[key] = Some(waker.clone());
                key
            }
            None => match slots.free.pop() {
                Some(key) => {
                    slots.wakers[key] = Some(waker.clone());
                    key
                }
                None => {
                    slots.wakers.push(Some(waker.clone()));
                    slots.wakers.len() - 1
                }
            },
        }
    }

    fn remove(&self, key: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.wakers[key] = None;
        slots.free.push(key);
        // Shrink after a burst of connections has gone.
        if slots.free.len() == slots.wakers.len() && slots.wakers.capacity() > 1024 {
            *slots = Slots::default();
        }
    }
}

/// One task's place in a [`WakerSet`], taken at its first
/// [`register`](Self::register) and given back on drop.
pub(crate) struct Registration {
    set: Arc<WakerSet>,
    key: Option<usize>,
    /// The waker last registered, to compare against.
    waker: Option<Waker>,
}

impl Registration {
    pub(crate) const fn new(set: Arc<WakerSet>) -> Self {
        Self {
            set,
            key: None,
            waker: None,
        }
    }

    /// Registers `waker`, unless it is the one already registered.
    pub(crate) fn register(&mut self, waker: &Waker) {
        if self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        self.key = Some(self.set.set(self.key, waker));
        self.waker = Some(waker.clone());
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.set.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter(AtomicUsize::new(0)));
        (Arc::clone(&c), Waker::from(c))
    }

    #[test]
    fn every_change_wakes_every_registered_task_again() {
        let set = Arc::new(WakerSet::default());
        let (a, wa) = counter();
        let (b, wb) = counter();
        let mut ra = Registration::new(Arc::clone(&set));
        let mut rb = Registration::new(Arc::clone(&set));
        ra.register(&wa);
        rb.register(&wb);
        set.wake_all();
        // Nothing is consumed: a second change (a forced stop) wakes again.
        set.wake_all();
        assert_eq!(a.0.load(Ordering::SeqCst), 2);
        assert_eq!(b.0.load(Ordering::SeqCst), 2);
        drop(rb);
        set.wake_all();
        assert_eq!(a.0.load(Ordering::SeqCst), 3);
        assert_eq!(b.0.load(Ordering::SeqCst), 2);
        drop(ra);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn a_new_waker_replaces_the_old_one_in_its_slot() {
        let set = Arc::new(WakerSet::default());
        let (old, w_old) = counter();
        let (new, w_new) = counter();
        let mut r = Registration::new(Arc::clone(&set));
        r.register(&w_old);
        r.register(&w_old);
        r.register(&w_new);
        assert_eq!(set.len(), 1);
        set.wake_all();
        assert_eq!(old.0.load(Ordering::SeqCst), 0);
        assert_eq!(new.0.load(Ordering::SeqCst), 1);
        drop(r);
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn free_slots_are_reused() {
        let set = Arc::new(WakerSet::default());
        let (_, w) = counter();
        let mut regs: Vec<Registration> = (0..3)
            .map(|_| Registration::new(Arc::clone(&set)))
            .collect();
        for r in &mut regs {
            r.register(&w);
        }
        drop(regs.remove(1));
        let mut again = Registration::new(Arc::clone(&set));
        again.register(&w);
        assert_eq!(again.key, Some(1));
        drop(regs);
        drop(again);
        assert_eq!(set.len(), 0);
    }
}
