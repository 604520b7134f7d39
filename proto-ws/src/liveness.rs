//! The idle timeout and the keep-alive ping: the two deadlines measured
//! from the peer's last input.
//!
//! Every frame received pushes both back. Re-arming two [`Deadlines`] slots
//! per frame (two additions and a rescan of every slot) cost more than
//! parsing a small frame, so [`Liveness`] keeps the instant of the last input
//! and the earlier of the two deadlines it implies (one addition), and works
//! out which one is due only when that instant comes. What `poll_timeout`
//! reports and what fires when are exactly what the two slots gave.
//!
//! [`Deadlines`]: proto_core::Deadlines

use std::time::Instant;

use proto_core::earlier;

use crate::limits::Config;

/// Which of the two deadlines [`Liveness::due`] found passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Due {
    /// The keep-alive interval passed (send a ping), or, while a ping
    /// waits, its timeout did (the peer is gone).
    pub(crate) ping: bool,
    /// Nothing came for the idle timeout.
    pub(crate) idle: bool,
}

/// The idle and keep-alive deadlines of an open connection, for the
/// timeouts of its [`Config`] (passed in, not copied: this is per
/// connection, 48 bytes).
#[derive(Debug, Clone)]
pub(crate) struct Liveness {
    /// When the peer last sent anything; `None` once nothing is watched.
    last_input: Option<Instant>,
    /// `Some` while a keep-alive ping waits for any answer: until when
    /// (`Some(None)`: for ever, the ping timeout being too large to add).
    pong_due: Option<Option<Instant>>,
    /// The earliest deadline, kept current by every change.
    next: Option<Instant>,
}

impl Liveness {
    /// Watches from `now`. A timeout too large to add to an instant (say
    /// `Duration::MAX`) never fires.
    pub(crate) fn new(now: Instant, config: &Config) -> Self {
        let mut liveness = Self {
            last_input: Some(now),
            pong_due: None,
            next: None,
        };
        liveness.heard(now, config);
        liveness
    }

    /// The peer sent something at `now`: both deadlines move back and any
    /// ping counts as answered.
    #[inline]
    pub(crate) fn heard(&mut self, now: Instant, config: &Config) {
        if self.last_input.is_some() {
            self.last_input = Some(now);
            self.pong_due = None;
            self.next = now.checked_add(config.idle_timeout.min(config.ping_interval));
        }
    }

    /// Stops watching: the connection is closing or closed.
    pub(crate) fn stop(&mut self) {
        self.last_input = None;
        self.pong_due = None;
        self.next = None;
    }

    /// The earliest deadline, or `None` when none is armed.
    #[inline]
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// Which deadlines are at or before `now`.
    pub(crate) fn due(&self, now: Instant, config: &Config) -> Due {
        let Some(last) = self.last_input else {
            return Due::default();
        };
        if self.next.is_none_or(|next| next > now) {
            return Due::default();
        }
        let passed = |at: Option<Instant>| at.is_some_and(|at| at <= now);
        let ping_at = match self.pong_due {
            Some(due) => due,
            None => last.checked_add(config.ping_interval),
        };
        Due {
            ping: passed(ping_at),
            idle: passed(last.checked_add(config.idle_timeout)),
        }
    }

    /// True while a keep-alive ping waits for an answer.
    pub(crate) fn awaiting_pong(&self) -> bool {
        self.pong_due.is_some()
    }

    /// A keep-alive ping was sent at `now`: the peer has the ping timeout
    /// to send anything.
    pub(crate) fn ping_sent(&mut self, now: Instant, config: &Config) {
        if let Some(last) = self.last_input {
            self.pong_due = Some(now.checked_add(config.ping_timeout));
            self.next = earlier(
                last.checked_add(config.idle_timeout),
                self.pong_due.flatten(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::util::{secs, t0};
    use std::time::Duration;

    fn config(idle: Duration, ping: Duration, pong: Duration) -> Config {
        let mut config = Config::default();
        config
            .idle_timeout(idle)
            .ping_interval(ping)
            .ping_timeout(pong);
        config
    }

    const NOTHING: Due = Due {
        ping: false,
        idle: false,
    };
    const PING: Due = Due {
        ping: true,
        idle: false,
    };
    const IDLE: Due = Due {
        ping: false,
        idle: true,
    };
    const BOTH: Due = Due {
        ping: true,
        idle: true,
    };

    #[test]
    fn the_earlier_timeout_counts_from_the_last_input() {
        let t = t0();
        let c = config(secs(60), secs(30), secs(20));
        let mut l = Liveness::new(t, &c);
        assert_eq!(l.poll_timeout(), Some(t + secs(30)));
        l.heard(t + secs(5), &c);
        assert_eq!(l.poll_timeout(), Some(t + secs(35)));
        assert_eq!(l.due(t + secs(34), &c), NOTHING);
        assert_eq!(l.due(t + secs(35), &c), PING);
        assert!(!l.awaiting_pong());
        l.ping_sent(t + secs(35), &c);
        assert!(l.awaiting_pong());
        // Then the pong deadline, before the idle timeout.
        assert_eq!(l.due(t + secs(35), &c), NOTHING);
        assert_eq!(l.poll_timeout(), Some(t + secs(55)));
        assert_eq!(l.due(t + secs(55), &c), PING);
    }

    #[test]
    fn idle_comes_first_when_it_is_shorter() {
        let t = t0();
        let c = config(secs(10), secs(30), secs(20));
        let mut l = Liveness::new(t, &c);
        assert_eq!(l.poll_timeout(), Some(t + secs(10)));
        assert_eq!(l.due(t + secs(10), &c), IDLE);
        assert_eq!(l.due(t + secs(30), &c), BOTH, "both, once both passed");
        l.stop();
        assert_eq!(l.poll_timeout(), None);
        assert_eq!(l.due(t + secs(100), &c), NOTHING);
        l.heard(t + secs(100), &c);
        assert_eq!(l.poll_timeout(), None, "a stopped watch stays stopped");
        l.ping_sent(t + secs(100), &c);
        assert_eq!(l.poll_timeout(), None);
    }

    #[test]
    fn an_answer_to_the_ping_restarts_the_interval() {
        let t = t0();
        let c = config(secs(60), secs(30), secs(20));
        let mut l = Liveness::new(t, &c);
        l.ping_sent(t + secs(30), &c);
        l.heard(t + secs(40), &c);
        assert!(!l.awaiting_pong());
        assert_eq!(l.poll_timeout(), Some(t + secs(70)));
        assert_eq!(l.due(t + secs(60), &c), NOTHING);
    }

    #[test]
    fn the_idle_timeout_still_fires_while_a_ping_waits() {
        let t = t0();
        let c = config(secs(40), secs(30), secs(20));
        let mut l = Liveness::new(t, &c);
        l.ping_sent(t + secs(30), &c);
        assert_eq!(l.poll_timeout(), Some(t + secs(40)));
        assert_eq!(l.due(t + secs(40), &c), IDLE);
    }

    #[test]
    fn timeouts_too_large_to_add_never_fire() {
        let t = t0();
        let c = config(Duration::MAX, Duration::MAX, secs(1));
        let l = Liveness::new(t, &c);
        assert_eq!(l.poll_timeout(), None);
        assert_eq!(l.due(t + secs(1_000_000), &c), NOTHING);
        // A ping that may wait for ever leaves only the idle timeout.
        let c = config(secs(60), secs(30), Duration::MAX);
        let mut l = Liveness::new(t, &c);
        l.ping_sent(t + secs(30), &c);
        assert_eq!(l.poll_timeout(), Some(t + secs(60)));
        assert_eq!(l.due(t + secs(59), &c), NOTHING);
        assert_eq!(l.due(t + secs(60), &c), IDLE);
    }
}
