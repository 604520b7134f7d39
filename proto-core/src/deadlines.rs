//! Named timers that a state machine or an adapter arms and disarms.
//!
//! A connection has a handful of deadlines at once (the request head, the
//! write stall, the close handshake...). [`Deadlines`] keeps one slot per
//! [`Timer`] so that `poll_timeout` is the earliest armed slot and
//! `handle_timeout` reports exactly which ones expired. It holds no clock:
//! every instant comes from the caller.

use std::fmt;
use std::time::{Duration, Instant};

/// The kinds of deadline Rampart knows, one slot each in [`Deadlines`].
///
/// The same names key the timeout counters of [`Stats`](crate::Stats).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// From the first byte of an HTTP request until its head is complete
    /// (Slowloris). On expiry a server answers 408 and closes.
    RequestHead,
    /// A WebSocket or HTTP client waiting for the head of the response that
    /// completes its handshake. On expiry the connection is abandoned.
    Handshake,
    /// A keep-alive connection waiting for the first byte of its next request.
    /// On expiry it closes silently: a 408 would be read by the client as the
    /// answer to the request it may be sending.
    KeepAlive,
    /// An open WebSocket connection that has received nothing for too long.
    Idle,
    /// A ping was sent and no pong (or other frame) came back in time.
    Ping,
    /// The peer has not accepted a byte of pending output for too long (slow
    /// reader). Armed by the adapter, which owns the socket.
    WriteStall,
    /// A close frame was sent and the peer has not completed the close
    /// handshake in time.
    CloseHandshake,
    /// An outbound TCP connect has not completed in time.
    Connect,
    /// The application's handler has not answered a request in time; the
    /// request is answered 503.
    Handler,
    /// A graceful stop is draining and this connection has not finished in
    /// time; it is closed by force.
    Drain,
}

impl Timer {
    /// How many kinds there are; the length of [`Timer::ALL`].
    pub const COUNT: usize = 10;

    /// Every kind, in declaration order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::RequestHead,
        Self::Handshake,
        Self::KeepAlive,
        Self::Idle,
        Self::Ping,
        Self::WriteStall,
        Self::CloseHandshake,
        Self::Connect,
        Self::Handler,
        Self::Drain,
    ];

    /// A stable `snake_case` name, used as the key in statistics output.
    ///
    /// ```
    /// assert_eq!(proto_core::Timer::WriteStall.name(), "write_stall");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::RequestHead => "request_head",
            Self::Handshake => "handshake",
            Self::KeepAlive => "keep_alive",
            Self::Idle => "idle",
            Self::Ping => "ping",
            Self::WriteStall => "write_stall",
            Self::CloseHandshake => "close_handshake",
            Self::Connect => "connect",
            Self::Handler => "handler",
            Self::Drain => "drain",
        }
    }

    /// The position of this kind in [`Timer::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The earlier of two optional deadlines, where `None` means "never".
///
/// Drivers combine the deadlines of several owners into one timer with it.
///
/// ```
/// use proto_core::earlier;
/// use std::time::Duration;
/// # let t0 = std::time::Instant::now();
/// let soon = Some(t0 + Duration::from_secs(1));
/// let late = Some(t0 + Duration::from_secs(9));
/// assert_eq!(earlier(late, soon), soon);
/// assert_eq!(earlier(None, late), late);
/// assert_eq!(earlier(None, None), None);
/// ```
#[inline]
#[must_use]
pub fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// One optional deadline per [`Timer`].
///
/// Arming a timer that is already armed moves its deadline. A deadline that
/// would overflow [`Instant`] (say, `Duration::MAX` meaning "never") leaves
/// the timer disarmed rather than panicking.
///
/// ```
/// use proto_core::{Deadlines, Timer};
/// use std::time::Duration;
/// # let t0 = std::time::Instant::now();
/// let mut deadlines = Deadlines::new();
/// deadlines.arm_after(Timer::RequestHead, t0, Duration::from_secs(10));
/// deadlines.arm_after(Timer::WriteStall, t0, Duration::from_secs(30));
/// assert_eq!(deadlines.poll_timeout(), Some(t0 + Duration::from_secs(10)));
///
/// // Nothing is due before the deadline...
/// assert!(deadlines.handle_timeout(t0 + Duration::from_secs(9)).is_empty());
/// // ...and at it, exactly the head timer fires and is disarmed.
/// let fired = deadlines.handle_timeout(t0 + Duration::from_secs(10));
/// assert_eq!(fired.iter().collect::<Vec<_>>(), [Timer::RequestHead]);
/// assert_eq!(deadlines.poll_timeout(), Some(t0 + Duration::from_secs(30)));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Deadlines {
    slots: [Option<Instant>; Timer::COUNT],
    /// The earliest of `slots`, kept current by every change: drivers ask
    /// for it several times per wake-up, far more often than timers move.
    earliest: Option<Instant>,
}

impl Deadlines {
    /// No timer armed.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `timer` to expire at `at`, replacing any earlier deadline.
    pub fn arm(&mut self, timer: Timer, at: Instant) {
        self.set(timer, Some(at));
    }

    /// Arms `timer` to expire `after` from `now`.
    ///
    /// If `now + after` cannot be represented the timer is left disarmed: a
    /// duration that large means "never".
    pub fn arm_after(&mut self, timer: Timer, now: Instant, after: Duration) {
        self.set(timer, now.checked_add(after));
    }

    /// Disarms `timer`; does nothing if it was not armed.
    pub fn disarm(&mut self, timer: Timer) {
        self.set(timer, None);
    }

    /// Disarms every timer.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Sets one slot and keeps `earliest` current, scanning the slots only
    /// when the earliest deadline itself moved later or went away.
    fn set(&mut self, timer: Timer, value: Option<Instant>) {
        let old = std::mem::replace(&mut self.slots[timer.index()], value);
        match value {
            Some(at) if self.earliest.is_none_or(|earliest| at <= earliest) => {
                self.earliest = Some(at);
            }
            _ if old.is_some() && old == self.earliest => self.rescan(),
            _ => {}
        }
    }

    fn rescan(&mut self) {
        self.earliest = self.slots.iter().flatten().min().copied();
    }

    /// When `timer` expires, if it is armed.
    #[must_use]
    pub fn deadline(&self, timer: Timer) -> Option<Instant> {
        self.slots[timer.index()]
    }

    /// True when `timer` is armed.
    #[must_use]
    pub fn is_armed(&self, timer: Timer) -> bool {
        self.slots[timer.index()].is_some()
    }

    /// The earliest armed deadline, or `None` when nothing is armed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.earliest
    }

    /// Disarms and returns every timer whose deadline is at or before `now`.
    ///
    /// Calling it early, or twice, returns an empty set.
    pub fn handle_timeout(&mut self, now: Instant) -> Expired {
        let mut expired = Expired::default();
        for timer in Timer::ALL {
            let slot = &mut self.slots[timer.index()];
            if slot.is_some_and(|at| at <= now) {
                *slot = None;
                expired.insert(timer);
            }
        }
        if !expired.is_empty() {
            self.rescan();
        }
        expired
    }
}

impl fmt::Debug for Deadlines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for timer in Timer::ALL {
            if let Some(at) = self.slots[timer.index()] {
                map.entry(&timer, &at);
            }
        }
        map.finish()
    }
}

/// The set of timers that [`Deadlines::handle_timeout`] found expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    bits: u16,
}

impl Expired {
    fn insert(&mut self, timer: Timer) {
        self.bits |= 1 << timer.index();
    }

    /// True when nothing expired.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// True when `timer` expired.
    #[must_use]
    pub fn contains(self, timer: Timer) -> bool {
        self.bits & (1 << timer.index()) != 0
    }

    /// The expired timers in [`Timer::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Timer> {
        Timer::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[allow(clippy::disallowed_methods)] // tests need one origin instant
    fn t0() -> Instant {
        Instant::now()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn all_lists_every_timer_at_its_index() {
        for (i, timer) in Timer::ALL.into_iter().enumerate() {
            assert_eq!(timer.index(), i);
        }
        let mut names: Vec<_> = Timer::ALL.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Timer::COUNT, "names are unique");
    }

    #[test]
    fn nothing_armed_means_no_timeout() {
        let mut d = Deadlines::new();
        assert_eq!(d.poll_timeout(), None);
        assert!(d.handle_timeout(t0() + secs(1_000_000)).is_empty());
    }

    #[test]
    fn earliest_deadline_wins_and_only_it_fires() {
        let t = t0();
        let mut d = Deadlines::new();
        d.arm_after(Timer::Idle, t, secs(60));
        d.arm_after(Timer::RequestHead, t, secs(10));
        d.arm_after(Timer::WriteStall, t, secs(30));
        assert_eq!(d.poll_timeout(), Some(t + secs(10)));

        let fired = d.handle_timeout(t + secs(30));
        assert!(fired.contains(Timer::RequestHead));
        assert!(fired.contains(Timer::WriteStall));
        assert!(!fired.contains(Timer::Idle));
        assert_eq!(d.poll_timeout(), Some(t + secs(60)));
        assert!(!d.is_armed(Timer::RequestHead));
    }

    #[test]
    fn early_and_repeated_calls_do_nothing() {
        let t = t0();
        let mut d = Deadlines::new();
        d.arm_after(Timer::CloseHandshake, t, secs(5));
        assert!(d.handle_timeout(t).is_empty());
        assert!(d.handle_timeout(t + secs(4)).is_empty());
        assert_eq!(
            d.handle_timeout(t + secs(5)).iter().collect::<Vec<_>>(),
            [Timer::CloseHandshake]
        );
        assert!(d.handle_timeout(t + secs(5)).is_empty());
        assert!(d.handle_timeout(t + secs(500)).is_empty());
    }

    #[test]
    fn rearming_moves_and_disarming_removes() {
        let t = t0();
        let mut d = Deadlines::new();
        d.arm_after(Timer::KeepAlive, t, secs(5));
        d.arm_after(Timer::KeepAlive, t, secs(50));
        assert!(d.handle_timeout(t + secs(10)).is_empty());
        d.disarm(Timer::KeepAlive);
        assert_eq!(d.poll_timeout(), None);
        d.arm(Timer::Connect, t + secs(1));
        d.clear();
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn an_unrepresentable_deadline_means_never() {
        let t = t0();
        let mut d = Deadlines::new();
        d.arm_after(Timer::Idle, t, Duration::MAX);
        assert!(!d.is_armed(Timer::Idle));
        assert_eq!(d.poll_timeout(), None);
    }

    proptest! {
        /// Whatever is armed, disarmed and fired in any order, a timer is
        /// reported only if it was armed at a deadline at or before `now`,
        /// and each arming is reported at most once.
        #[test]
        fn only_armed_due_timers_fire(ops in proptest::collection::vec((0usize..3, 0usize..Timer::COUNT, 0u64..100), 0..200)) {
            let t = t0();
            let mut d = Deadlines::new();
            let mut model: [Option<u64>; Timer::COUNT] = [None; Timer::COUNT];
            let mut now = 0u64;
            for (op, which, n) in ops {
                let timer = Timer::ALL[which];
                match op {
                    0 => { d.arm_after(timer, t, secs(n)); model[which] = Some(n); }
                    1 => { d.disarm(timer); model[which] = None; }
                    _ => {
                        now += n % 10;
                        let fired = d.handle_timeout(t + secs(now));
                        for timer in Timer::ALL {
                            let due = model[timer.index()].is_some_and(|at| at <= now);
                            prop_assert_eq!(fired.contains(timer), due);
                            if due { model[timer.index()] = None; }
                        }
                    }
                }
                let earliest = model.iter().flatten().min().map(|n| t + secs(*n));
                prop_assert_eq!(d.poll_timeout(), earliest);
            }
        }
    }
}
