//! The client's socket pump: one socket, any [`Drive`] machine, one timer.
//!
//! The same rounds as the server's driver, minus the server's concerns (stop,
//! handles, callbacks): fire due deadlines, feed left-over input, drain
//! `poll_transmit` and write, shut the write side down when the machine says
//! so, read (only when no input is left over and output is not backed up),
//! and arm one timer at the earliest deadline. It runs inside whichever
//! client future the application is awaiting, so nothing is spawned.
//!
//! All partial state (input the machine has not taken, output the socket
//! has not taken, the armed timer) lives here, never in a future, which is
//! what makes `recv` cancel-safe.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use proto_core::{Drive, earlier};

use super::Error;
use crate::alarm::Alarm;
use crate::runtime::{Runtime, Sleep, Stream};
use crate::transport::{KEEP_CAPACITY, Outbox, with_read_buffer};

/// Rounds per poll before yielding to other tasks.
pub(super) const MAX_ROUNDS: usize = 32;

/// What stopped a round.
#[derive(Debug)]
pub(super) enum Fault<E> {
    /// The socket failed; the connection is dead.
    Io(io::Error),
    /// The peer violated the protocol; the machine queued its farewell,
    /// which later rounds still write.
    Peer(E),
    /// The peer took no byte of pending output for the write timeout; the
    /// connection is dead.
    WriteStall,
}

impl<E> Fault<E> {
    /// The error a client call reports for this fault; `peer` wraps the
    /// protocol's own error (HTTP or WebSocket).
    pub(super) fn into_error(self, peer: impl FnOnce(E) -> Error) -> Error {
        match self {
            Self::Io(e) => Error::Io(e),
            Self::Peer(e) => peer(e),
            Self::WriteStall => Error::TimedOut(proto_core::Timer::WriteStall),
        }
    }
}

/// A connected socket and the bytes in flight on it.
pub(super) struct Transport<R: Runtime> {
    rt: R,
    stream: R::Stream,
    write_timeout: Duration,
    /// Input read but not yet taken by the machine.
    pending_in: Vec<u8>,
    read_eof: bool,
    input_failed: bool,
    /// Output taken from the machine, not yet written.
    outbox: Outbox,
    alarm: Alarm<R::Sleep>,
    dead: bool,
}

impl<R: Runtime> std::fmt::Debug for Transport<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("pending_in", &self.pending_in.len())
            .field("unwritten", &self.backlog())
            .field("read_eof", &self.read_eof)
            .field("shut_down", &self.outbox.is_shut_down())
            .field("dead", &self.dead)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Transport<R> {
    pub(super) fn new(rt: R, stream: R::Stream, write_timeout: Duration) -> Self {
        Self {
            rt,
            stream,
            write_timeout,
            pending_in: Vec::new(),
            read_eof: false,
            input_failed: false,
            outbox: Outbox::default(),
            alarm: Alarm::new(),
            dead: false,
        }
    }

    /// Hands the socket to the next protocol: `first` (the bytes the old
    /// machine received after its switch point) goes before any input the
    /// old machine did not take.
    pub(super) fn switch_protocols(&mut self, first: &[u8]) {
        if !first.is_empty() {
            let mut input = Vec::with_capacity(first.len() + self.pending_in.len());
            input.extend_from_slice(first);
            input.extend_from_slice(&self.pending_in);
            self.pending_in = input;
        }
        self.input_failed = false;
        self.alarm.forget();
    }

    /// A deadline at `at` on this transport's runtime.
    pub(super) fn deadline(&self, at: Instant) -> Deadline<R::Sleep> {
        Deadline::new(&self.rt, at)
    }

    /// Output taken from the machine and not yet written.
    pub(super) fn backlog(&self) -> usize {
        self.outbox.backlog()
    }

    /// True once the socket failed or stalled: nothing more moves.
    pub(super) fn is_dead(&self) -> bool {
        self.dead
    }

    /// True when every byte the machine handed out is written and any
    /// shutdown it asked for is done.
    pub(super) fn is_flushed(&self) -> bool {
        self.outbox.is_flushed()
    }

    /// One round of I/O for `machine`. `Ok(true)` when something moved (call
    /// again); `Ok(false)` when everything waits, with the wakers of the
    /// socket and the timer registered on `cx`.
    pub(super) fn poll_round<M: Drive>(
        &mut self,
        cx: &mut Context<'_>,
        machine: &mut M,
    ) -> Result<bool, Fault<M::Error>> {
        if self.dead {
            return Ok(false);
        }
        let now = Instant::now();
        let mut progress = false;

        // Deadlines: trust none before `now` has reached it.
        if self.outbox.stall_deadline().is_some_and(|at| now >= at) {
            self.dead = true;
            return Err(Fault::WriteStall);
        }
        if machine.poll_timeout().is_some_and(|at| now >= at) {
            machine.handle_timeout(now);
            progress = true;
        }

        // Left-over input.
        if !self.pending_in.is_empty() && !self.input_failed {
            let pending = std::mem::take(&mut self.pending_in);
            let used = self.feed(now, machine, &pending)?;
            progress |= used > 0;
            self.keep_input(&pending[used..]);
        }

        // Output.
        progress |= self.outbox.drain_transmit(now, machine);
        let written = self
            .outbox
            .poll_write(cx, &mut self.stream, now, self.write_timeout, |_| {});
        match written {
            Ok(moved) => progress |= moved,
            Err(e) => {
                self.dead = true;
                return Err(Fault::Io(e));
            }
        }
        let finishing = self.input_failed || machine.is_closed();
        match self.outbox.poll_shutdown(cx, &mut self.stream, finishing) {
            Some(Ok(())) => progress = true,
            // The peer may be gone already: the socket is of no more use.
            Some(Err(_)) => {
                self.dead = true;
                return Ok(true);
            }
            None => {}
        }

        // Input.
        let may_read = !self.read_eof
            && !self.input_failed
            && !machine.is_closed()
            && self.pending_in.is_empty()
            && !self.outbox.is_backed_up();
        if may_read {
            match self.read(cx, now, machine) {
                Ok(moved) => progress |= moved,
                Err(Fault::Io(e)) => {
                    self.dead = true;
                    return Err(Fault::Io(e));
                }
                Err(fault) => return Err(fault),
            }
        }
        if progress {
            return Ok(true);
        }

        // One timer at the earliest deadline.
        let earliest = earlier(machine.poll_timeout(), self.outbox.stall_deadline());
        let Some(at) = earliest else {
            return Ok(false);
        };
        if at <= now {
            return Ok(true);
        }
        // Fired: the next round compares `now` with every deadline.
        Ok(self.alarm.poll_at(&self.rt, at, now, cx).is_ready())
    }

    fn feed<M: Drive>(
        &mut self,
        now: Instant,
        machine: &mut M,
        bytes: &[u8],
    ) -> Result<usize, Fault<M::Error>> {
        match machine.handle_input(now, bytes) {
            Ok(used) => Ok(used.min(bytes.len())),
            Err(error) => {
                self.input_failed = true;
                self.pending_in = Vec::new();
                Err(Fault::Peer(error))
            }
        }
    }

    fn keep_input(&mut self, rest: &[u8]) {
        if rest.is_empty() {
            if self.pending_in.capacity() > KEEP_CAPACITY {
                self.pending_in = Vec::new();
            }
        } else {
            self.pending_in.extend_from_slice(rest);
        }
    }

    fn read<M: Drive>(
        &mut self,
        cx: &mut Context<'_>,
        now: Instant,
        machine: &mut M,
    ) -> Result<bool, Fault<M::Error>> {
        with_read_buffer(|buf| match self.stream.poll_read(cx, buf) {
            Poll::Pending => Ok(false),
            Poll::Ready(Err(e)) => Err(Fault::Io(e)),
            Poll::Ready(Ok(0)) => {
                self.read_eof = true;
                machine.handle_eof(now);
                Ok(true)
            }
            Poll::Ready(Ok(n)) => {
                let used = self.feed(now, machine, &buf[..n])?;
                self.keep_input(&buf[used..n]);
                Ok(true)
            }
        })
    }
}

/// A timer that only completes once `Instant::now()` has reached its
/// deadline (a runtime timer that fires early is re-armed).
pub(super) struct Deadline<S> {
    at: Instant,
    sleep: S,
}

impl<S: Sleep> Deadline<S> {
    pub(super) fn new<R: Runtime<Sleep = S>>(rt: &R, at: Instant) -> Self {
        Self {
            at,
            sleep: rt.sleep_until(at),
        }
    }

    pub(super) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        for _ in 0..MAX_ROUNDS {
            if Pin::new(&mut self.sleep).poll(cx).is_pending() {
                return false;
            }
            if Instant::now() >= self.at {
                return true;
            }
            self.sleep.reset(self.at);
        }
        cx.waker().wake_by_ref();
        false
    }
}
