//! The one driver loop: a socket, a [`Drive`] machine, one timer.
//!
//! Per wake-up, in rounds until nothing moves (at most [`MAX_ROUNDS`], then
//! it yields so one busy connection cannot starve the others on its worker):
//!
//! 1. stop state: say goodbye once, then arm the grace and drain deadlines;
//! 2. adapter deadlines (write stall, drain, linger), each checked against
//!    `now` before it is trusted, then the machine's `poll_timeout`;
//! 3. messages from [`ConnHandle`](crate::ConnHandle)s, while output is not
//!    backed up;
//! 4. input the machine did not take yet (its short count is backpressure),
//!    else a read, only when output is not backed up and the server is
//!    within its budget of buffered bytes (see `budget`);
//! 5. the protocol's event dispatch to the application;
//! 6. `poll_transmit` into one reused buffer, then write, with the write
//!    stall deadline re-armed whenever the peer takes a byte;
//! 7. shutdown of the write side when the machine says so or closes, then
//!    reads that discard input while the farewell lingers;
//! 8. one timer armed at the earliest deadline.
//!
//! Reading before the dispatch lets one round take a request in, answer it
//! and write the answer. What is left then is to read again, which finds
//! the socket drained and registers for readiness: when the round leaves
//! nothing else to do (it is *settled*: input taken, output taken and
//! written, no deadline due, handles' queues polled empty, no stop or close
//! under way), the next round is only that read (and a dispatch, when the
//! protocol says it may have left events), then the timer. A round and a
//! short one per request or message, where reading last took three rounds.
//! Anything the short round skips either has a waker registered (queue,
//! stop state, budget) or makes it a full round, so no wake-up is lost.
//!
//! After each round the connection's buffered bytes go into the server's
//! gauge; a connection the budget chose to close says its farewell at the
//! start of the next round.
//!
//! `Instant::now()` is read by adapter-core only (here, in the server's stop
//! and in the accept back-off): machines and runtimes get `now` from here.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use proto_core::{Drive, PeerError, Permit, Timer, earlier};

use crate::alarm::Alarm;
use crate::budget::Member;
use crate::handle::{Polled, Queue};
use crate::protocol::{CloseReason, Conn, ConnId, Protocol};
use crate::runtime::{Runtime, Stream};
use crate::server::{LiveGuard, Shared, StopState};
use crate::transport::{KEEP_CAPACITY, Outbox, with_read_buffer};
use crate::wakers::Registration;

/// Rounds per wake-up before yielding to other connections.
pub(crate) const MAX_ROUNDS: usize = 32;
/// Queued messages delivered per round.
const MAX_MESSAGES: usize = 16;
/// After the write side is shut down, how long and how much input is read
/// and discarded so the farewell is not destroyed by a reset (closing a
/// socket with unread input sends RST).
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;
/// How long a connection closed over the budget has to write its farewell
/// before it is closed anyway, so what it holds is released promptly even
/// when its peer does not read.
const FAREWELL_TIME: Duration = Duration::from_secs(1);

/// Everything a connection task owns. Field order is drop order: the
/// context is dropped before the socket is closed and before the permit
/// and the counters are released (the guard comes last).
struct Driver<R: Runtime, P: Protocol> {
    cx: P::Context,
    machine: P::Machine,
    stream: R::Stream,
    rt: R,
    protocol: Arc<P>,
    shared: Arc<Shared>,
    id: ConnId,
    peer: SocketAddr,
    local: SocketAddr,
    queue: Queue<P::Message>,
    close_requested: bool,
    reason: Option<CloseReason>,
    /// Input read but not yet taken by the machine.
    pending_in: Vec<u8>,
    input_failed: bool,
    read_eof: bool,
    /// Output taken from the machine, not yet written.
    outbox: Outbox,
    stop_seen: bool,
    grace_at: Option<Instant>,
    grace_passed: bool,
    drain_at: Option<Instant>,
    linger_until: Option<Instant>,
    lingered: usize,
    /// This task's place among those woken when the stop state changes.
    stop_watch: Registration,
    alarm: Alarm<R::Sleep>,
    /// What this connection last added to the buffered-bytes gauge.
    accounted: usize,
    /// Its standing with the server's budget on buffered bytes.
    member: Member,
    /// Closed over the budget: the farewell's deadline.
    farewell_until: Option<Instant>,
    _guard: ConnGuard,
}

/// Releases the connection's place and counts it closed, last.
pub(crate) struct ConnGuard {
    shared: Arc<Shared>,
    _permit: Permit,
    _live: LiveGuard,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.shared.stats.record_closed();
    }
}

enum Step {
    Done(CloseReason),
    Progress,
    /// Progress, after which only a read is left to do (see the module doc).
    Settled,
    Idle,
}

/// Serves one admitted connection to its end.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_connection<R: Runtime, P: Protocol>(
    rt: R,
    stream: R::Stream,
    peer: SocketAddr,
    local: SocketAddr,
    permit: Permit,
    live: LiveGuard,
    shared: Arc<Shared>,
    protocol: Arc<P>,
) {
    let id = ConnId::next();
    let now = Instant::now();
    let mut queue = Queue::new(shared.config.queue_capacity, shared.config.queue_full);
    let mut close_requested = false;
    let (machine, cx) = protocol.open(&mut Conn {
        id,
        peer,
        local,
        now,
        stats: &shared.stats,
        queue: &mut queue,
        close: &mut close_requested,
    });
    let guard = ConnGuard {
        shared: Arc::clone(&shared),
        _permit: permit,
        _live: live,
    };
    let member = Member::new(Arc::clone(&shared.budget), id);
    let stop_watch = Registration::new(Arc::clone(&shared.stop_wakers));
    let mut d = Driver::<R, P> {
        cx,
        machine,
        stream,
        rt,
        protocol,
        shared,
        id,
        peer,
        local,
        queue,
        close_requested,
        reason: close_requested.then_some(CloseReason::Local),
        pending_in: Vec::new(),
        input_failed: false,
        read_eof: false,
        outbox: Outbox::default(),
        stop_seen: false,
        grace_at: None,
        grace_passed: false,
        drain_at: None,
        linger_until: None,
        lingered: 0,
        stop_watch,
        alarm: Alarm::new(),
        accounted: 0,
        member,
        farewell_until: None,
        _guard: guard,
    };
    let reason = poll_fn(|cx| d.poll(cx)).await;
    d.finish(&reason);
}

/// Builds the callbacks' view of the connection from disjoint fields.
macro_rules! conn {
    ($d:ident, $now:expr) => {
        &mut Conn {
            id: $d.id,
            peer: $d.peer,
            local: $d.local,
            now: $now,
            stats: &$d.shared.stats,
            queue: &mut $d.queue,
            close: &mut $d.close_requested,
        }
    };
}

impl<R: Runtime, P: Protocol> Driver<R, P> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<CloseReason> {
        // One clock reading per wake-up: its rounds follow each other at
        // once (at most MAX_ROUNDS, then a fresh wake-up), and a deadline
        // that passes meanwhile fires the timer, which brings a new one.
        let now = Instant::now();
        let mut settled = false;
        for _ in 0..MAX_ROUNDS {
            let step = if settled {
                self.read_again(cx, now)
            } else {
                self.step(cx, now)
            };
            self.account(cx);
            settled = false;
            match step {
                Step::Done(reason) => return Poll::Ready(reason),
                Step::Progress => {}
                Step::Settled => settled = true,
                Step::Idle => return Poll::Pending,
            }
        }
        // Fairness: let the other tasks of this worker run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Updates the server's buffered-bytes gauge with what this connection
    /// holds now: input not yet taken, output not yet written, and what the
    /// protocol says its machine holds.
    ///
    /// Over the budget, a connection that grew asks for the largest to
    /// close; one that shrank may wake the paused. Big connections keep
    /// their entry in the budget's registry current.
    fn account(&mut self, cx: &Context<'_>) {
        let now = self.pending_in.len()
            + self.backlog()
            + self.protocol.buffered(&self.machine, &self.cx);
        let shared = &*self.shared;
        let stats = &shared.stats;
        let budget = &shared.budget;
        if now > self.accounted {
            stats.buffer_grew((now - self.accounted) as u64);
            if stats.buffered_bytes() > budget.max() {
                budget.evict(stats);
            }
        } else if now < self.accounted {
            stats.buffer_shrank((self.accounted - now) as u64);
            budget.released(stats);
        }
        self.accounted = now;
        let threshold = || {
            let places = shared
                .admission
                .max_connections()
                .max(shared.admission.active());
            budget.threshold(places)
        };
        self.member.update(now as u64, threshold, cx);
    }

    fn finish(&mut self, reason: &CloseReason) {
        self.shared.stats.buffer_shrank(self.accounted as u64);
        self.shared.budget.released(&self.shared.stats);
        self.accounted = 0;
        self.queue.shut();
        let now = Instant::now();
        let d = self;
        d.protocol
            .closed(&mut d.machine, &mut d.cx, conn!(d, now), reason);
    }

    fn backlog(&self) -> usize {
        self.outbox.backlog()
    }

    fn finishing(&self) -> bool {
        self.close_requested || self.input_failed || self.machine.is_closed()
    }

    fn step(&mut self, cx: &mut Context<'_>, now: Instant) -> Step {
        let mut progress = false;

        // 1. Stop state.
        match self.poll_stop(cx) {
            StopState::Forced => return Step::Done(CloseReason::Stopped),
            StopState::Stopping if !self.stop_seen => {
                self.stop_seen = true;
                let config = &self.shared.config;
                let stop_at = self.shared.stop_at().unwrap_or(now);
                self.grace_at = stop_at.checked_add(config.grace);
                self.drain_at = stop_at.checked_add(config.drain_timeout);
                let d = &mut *self;
                d.protocol.goodbye(&mut d.machine, &mut d.cx, conn!(d, now));
                progress = true;
            }
            _ => {}
        }

        // Chosen to close by the budget: drop the input, say the farewell.
        if self.farewell_until.is_none() && self.member.is_evicted() {
            self.over_budget(now);
            progress = true;
        }

        // 2. Deadlines: trust none before `now` has reached it.
        if self.farewell_until.is_some_and(|at| now >= at) {
            return Step::Done(self.reason.take().unwrap_or(CloseReason::OverBudget));
        }
        if self.outbox.stall_deadline().is_some_and(|at| now >= at) {
            self.shared.stats.record_timeout(Timer::WriteStall);
            return Step::Done(CloseReason::TimedOut(Timer::WriteStall));
        }
        if self.drain_at.is_some_and(|at| now >= at) {
            self.shared.stats.record_timeout(Timer::Drain);
            return Step::Done(CloseReason::TimedOut(Timer::Drain));
        }
        if self.linger_until.is_some_and(|at| now >= at) {
            return Step::Done(self.reason.take().unwrap_or(CloseReason::Done));
        }
        if self.grace_at.is_some_and(|at| now >= at) {
            self.grace_at = None;
            self.grace_passed = true;
            progress = true;
        }
        if self.machine.poll_timeout().is_some_and(|at| now >= at) {
            self.machine.handle_timeout(now);
            progress = true;
        }

        // 3. Messages from handles.
        let mut queue_idle = false;
        if !self.outbox.is_backed_up() && !self.finishing() {
            for _ in 0..MAX_MESSAGES {
                match self.queue.poll(cx) {
                    Polled::Message(message) => {
                        let d = &mut *self;
                        d.protocol
                            .deliver(&mut d.machine, &mut d.cx, conn!(d, now), message);
                        progress = true;
                    }
                    Polled::Close { overflow: true } => return Step::Done(CloseReason::QueueFull),
                    Polled::Close { overflow: false } => {
                        self.close_requested = true;
                        progress = true;
                        break;
                    }
                    Polled::Pending => {
                        queue_idle = true;
                        break;
                    }
                }
            }
        }

        // 4. Left-over input, else new input.
        if !self.pending_in.is_empty() && !self.input_failed {
            let pending = std::mem::take(&mut self.pending_in);
            let used = self.feed(now, &pending);
            progress |= used > 0;
            self.keep_input(&pending[used..]);
        }
        // New input waits while the server is over its budget.
        let may_read = !self.read_eof
            && !self.finishing()
            && !self.input_failed
            && self.pending_in.is_empty()
            && !self.outbox.is_backed_up()
            && !self.member.should_pause(&self.shared.stats, cx);
        if may_read {
            match self.read(cx, now, false) {
                Ok(moved) => progress |= moved,
                Err(e) => {
                    return Step::Done(self.reason.take().unwrap_or(CloseReason::Io(e.kind())));
                }
            }
        }

        // 5. Events to the application.
        self.dispatch(now);
        // A handle first asked for in a callback: its queue must be polled
        // once to register this task's waker.
        let fresh = self.queue.take_fresh();
        progress |= fresh;
        if self.grace_passed
            && !self.finishing()
            && self.pending_in.is_empty()
            && self.backlog() == 0
            && self.queue.is_empty()
            && self.protocol.is_quiet(&self.machine)
        {
            self.close_requested = true;
            self.reason.get_or_insert(CloseReason::Stopped);
            progress = true;
        }

        // 6. Output.
        progress |= self.outbox.drain_transmit(now, &mut self.machine);
        let stats = &self.shared.stats;
        let written = self.outbox.poll_write(
            cx,
            &mut self.stream,
            now,
            self.shared.config.write_timeout,
            |n| stats.add_bytes_out(n as u64),
        );
        match written {
            Ok(moved) => progress |= moved,
            Err(e) => return Step::Done(CloseReason::Io(e.kind())),
        }

        // 7. Shutdown, and the end.
        let finishing = self.finishing();
        match self.outbox.poll_shutdown(cx, &mut self.stream, finishing) {
            Some(Ok(())) => progress = true,
            Some(Err(e)) => {
                return Step::Done(self.reason.take().unwrap_or(CloseReason::Io(e.kind())));
            }
            None => {}
        }
        let lingering = finishing && self.backlog() == 0 && self.outbox.is_shut_down();
        if lingering {
            if self.read_eof {
                return Step::Done(self.reason.take().unwrap_or(CloseReason::Done));
            }
            if self.linger_until.is_none() {
                self.linger_until = now.checked_add(LINGER_TIME);
                progress = true;
            }
            // Input is read and discarded while the farewell lingers.
            match self.read(cx, now, true) {
                Ok(moved) => progress |= moved,
                Err(e) => {
                    return Step::Done(self.reason.take().unwrap_or(CloseReason::Io(e.kind())));
                }
            }
            if self.read_eof || self.lingered > LINGER_BYTES {
                return Step::Done(self.reason.take().unwrap_or(CloseReason::Done));
            }
        }
        if progress {
            return if queue_idle && !fresh && self.is_settled(now) {
                Step::Settled
            } else {
                Step::Progress
            };
        }
        self.arm_timer(cx, now)
    }

    /// After a round that made progress, with the handles' queues polled
    /// empty: true when a full round would find nothing to do but read
    /// (see the module doc).
    fn is_settled(&self, now: Instant) -> bool {
        !self.stop_seen
            && self.farewell_until.is_none()
            && !self.read_eof
            && !self.finishing()
            && self.pending_in.is_empty()
            && self.outbox.is_flushed()
            && self.outbox.took_all()
            && self.machine.poll_timeout().is_none_or(|at| at > now)
    }

    /// The round after a settled one: a read, which brings input (a full
    /// round follows) or registers for readiness; then, if the protocol
    /// says its dispatch may have left events
    /// ([`Protocol::events_left`]), a dispatch. If nothing was queued, the
    /// timer is armed and the task sleeps; anything else gets a full round.
    fn read_again(&mut self, cx: &mut Context<'_>, now: Instant) -> Step {
        if self.member.is_evicted() || self.member.should_pause(&self.shared.stats, cx) {
            return Step::Progress;
        }
        match self.read(cx, now, false) {
            Ok(true) => return Step::Progress,
            Ok(false) => {}
            Err(e) => return Step::Done(self.reason.take().unwrap_or(CloseReason::Io(e.kind()))),
        }
        if self.protocol.events_left(&self.machine, &self.cx) {
            self.dispatch(now);
            let fresh = self.queue.take_fresh();
            let output = self.outbox.drain_transmit(now, &mut self.machine);
            if fresh || output || !self.is_settled(now) {
                return Step::Progress;
            }
        }
        self.arm_timer(cx, now)
    }

    /// 8. One timer at the earliest deadline; `Idle` unless it fired.
    fn arm_timer(&mut self, cx: &mut Context<'_>, now: Instant) -> Step {
        let machine_at = self.machine.poll_timeout().filter(|at| *at > now);
        let earliest = [
            self.outbox.stall_deadline(),
            self.drain_at,
            self.grace_at,
            self.linger_until,
            self.farewell_until,
        ]
        .into_iter()
        .fold(machine_at, earlier);
        let Some(at) = earliest else {
            return Step::Idle;
        };
        match self.alarm.poll_at(&self.rt, at, now, cx) {
            // Fired: the next round compares `now` with every deadline.
            Poll::Ready(()) => Step::Progress,
            Poll::Pending => Step::Idle,
        }
    }

    /// Hands the machine's events to the application; a close it asked for
    /// is recorded as the reason.
    fn dispatch(&mut self, now: Instant) {
        let d = &mut *self;
        d.protocol
            .dispatch(&mut d.machine, &mut d.cx, conn!(d, now));
        if self.close_requested && self.reason.is_none() {
            self.reason = Some(CloseReason::Local);
        }
    }

    /// The budget chose this connection: count it, release its input, let
    /// the protocol queue its "too large" farewell, and close once that is
    /// written or [`FAREWELL_TIME`] has passed.
    /// A connection already closing for another reason keeps it and is not
    /// counted; it only gets the same deadline.
    fn over_budget(&mut self, now: Instant) {
        self.pending_in = Vec::new();
        if !self.finishing() {
            self.shared.stats.record_closed_over_budget();
            self.reason = Some(CloseReason::OverBudget);
            let d = &mut *self;
            d.protocol
                .over_budget(&mut d.machine, &mut d.cx, conn!(d, now));
        }
        self.close_requested = true;
        self.farewell_until = Some(now + FAREWELL_TIME);
    }

    /// Watches the server's stop state; registered for its change before
    /// it is read, so a change after the read wakes this task.
    fn poll_stop(&mut self, cx: &Context<'_>) -> StopState {
        self.stop_watch.register(cx.waker());
        self.shared.stop_state()
    }

    /// Offers `bytes` to the machine and returns how many it took.
    fn feed(&mut self, now: Instant, bytes: &[u8]) -> usize {
        match self.machine.handle_input(now, bytes) {
            Ok(used) => used.min(bytes.len()),
            Err(error) => {
                let kind = error.kind();
                self.shared.stats.record_protocol_error(kind);
                self.input_failed = true;
                self.reason.get_or_insert(CloseReason::PeerError(kind));
                let d = &mut *self;
                d.protocol
                    .peer_error(&mut d.machine, &mut d.cx, conn!(d, now), &error);
                bytes.len()
            }
        }
    }

    /// Keeps input the machine did not take, releasing large buffers.
    fn keep_input(&mut self, rest: &[u8]) {
        if rest.is_empty() {
            if self.pending_in.capacity() > KEEP_CAPACITY {
                self.pending_in = Vec::new();
            }
        } else {
            self.pending_in.extend_from_slice(rest);
        }
    }

    fn read(&mut self, cx: &mut Context<'_>, now: Instant, discard: bool) -> io::Result<bool> {
        with_read_buffer(|buf| match self.stream.poll_read(cx, buf) {
            Poll::Pending => Ok(false),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Ready(Ok(0)) => {
                self.read_eof = true;
                if !discard {
                    self.machine.handle_eof(now);
                }
                Ok(true)
            }
            Poll::Ready(Ok(n)) => {
                self.shared.stats.add_bytes_in(n as u64);
                if discard {
                    self.lingered += n;
                } else {
                    let used = self.feed(now, &buf[..n]);
                    if !self.input_failed {
                        self.keep_input(&buf[used..n]);
                    }
                }
                Ok(true)
            }
        })
    }
}
