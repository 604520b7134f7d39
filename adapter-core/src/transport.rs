//! The output half of a connection, written once for the server's driver
//! and the client's pump: the machine's bytes not yet written, the write
//! stall deadline, and the shutdown of the write side.
//!
//! It keeps no protocol state beyond "bytes pending write" (STYLE 3.7): the
//! caller decides when to drain, write and shut down, and what a failure
//! means for its connection.

use std::cell::RefCell;
use std::io;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use proto_core::{Drive, Transmit};

use crate::runtime::Stream;

/// Output waiting for the socket above which no more is taken from the
/// machine, and the owner stops reading (and, on the server, stops
/// delivering queued messages).
pub(crate) const OUT_HIGH_WATER: usize = 64 * 1024;
/// Buffers larger than this are released once empty.
pub(crate) const KEEP_CAPACITY: usize = 4 * 1024;
/// Bytes asked for per `read` call. The buffer is one per thread, not per
/// connection, so an idle connection holds none; 64 KiB takes a 16 KiB
/// WebSocket message with its header, or 16 pipelined requests, in one
/// read (16 KiB took two reads per 16 KiB message).
pub(crate) const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// Runs `read` with this thread's read buffer ([`READ_CHUNK`] bytes), which
/// the server's driver and the client's pump both read into. Input the
/// machine does not take is copied out before `read` returns.
pub(crate) fn with_read_buffer<T>(read: impl FnOnce(&mut [u8]) -> T) -> T {
    READ_BUFFER.with(|buffer| read(&mut buffer.borrow_mut()))
}

/// The machine's output on its way to the socket.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Output taken from the machine; `out[out_pos..]` is unwritten.
    out: Vec<u8>,
    out_pos: usize,
    shutdown_wanted: bool,
    shut_down: bool,
    write_stall: Option<Instant>,
    /// The last drain ended because the machine had nothing more to hand
    /// out (not at the high water mark).
    took_all: bool,
}

impl Outbox {
    /// Output taken from the machine and not yet written.
    pub(crate) fn backlog(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// True when the backlog reached the high water mark.
    pub(crate) fn is_backed_up(&self) -> bool {
        self.backlog() >= OUT_HIGH_WATER
    }

    /// True once the write side is shut down (or failed to shut down).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// True when every byte taken is written and any shutdown the machine
    /// asked for is done.
    pub(crate) fn is_flushed(&self) -> bool {
        self.backlog() == 0 && (!self.shutdown_wanted || self.shut_down)
    }

    /// When the write stall fires: armed while output waits and the peer
    /// takes nothing, cleared whenever it takes a byte.
    pub(crate) fn stall_deadline(&self) -> Option<Instant> {
        self.write_stall
    }

    /// True when the last [`drain_transmit`](Self::drain_transmit) took
    /// everything the machine had to hand out.
    pub(crate) fn took_all(&self) -> bool {
        self.took_all
    }

    /// Moves the machine's output into the write buffer, up to the high
    /// water mark. True when the machine handed anything out.
    pub(crate) fn drain_transmit<M: Drive>(&mut self, now: Instant, machine: &mut M) -> bool {
        let mut progress = false;
        self.took_all = false;
        while self.backlog() < OUT_HIGH_WATER {
            if self.out_pos > 0 {
                self.out.drain(..self.out_pos);
                self.out_pos = 0;
            }
            match machine.poll_transmit(now, &mut self.out) {
                Some(Transmit::Data { .. }) => progress = true,
                Some(Transmit::ShutdownWrite) => {
                    self.shutdown_wanted = true;
                    progress = true;
                }
                None => {
                    self.took_all = true;
                    break;
                }
            }
        }
        progress
    }

    /// Writes what the socket takes, calling `on_written` with each count,
    /// and re-arms the write stall at `now + write_timeout` when the peer
    /// took nothing since the last progress (or ever). True when a byte
    /// moved.
    pub(crate) fn poll_write<S: Stream>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
        now: Instant,
        write_timeout: Duration,
        mut on_written: impl FnMut(usize),
    ) -> io::Result<bool> {
        let mut progress = false;
        while self.out_pos < self.out.len() {
            match stream.poll_write(cx, &self.out[self.out_pos..]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.out_pos += n;
                    on_written(n);
                    self.write_stall = None;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        if self.out_pos == self.out.len() {
            self.out_pos = 0;
            if self.out.capacity() > KEEP_CAPACITY {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
            self.write_stall = None;
        } else if self.write_stall.is_none() {
            self.write_stall = now.checked_add(write_timeout);
        }
        Ok(progress)
    }

    /// Shuts the write side down once everything is written and the machine
    /// asked for it or the owner is `finishing`. `None` when there is nothing
    /// to do or the socket is not ready; `Some(Err(_))` when it refused, which
    /// also counts as shut down (the peer may be gone already).
    pub(crate) fn poll_shutdown<S: Stream>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
        finishing: bool,
    ) -> Option<io::Result<()>> {
        if self.backlog() != 0 || !(finishing || self.shutdown_wanted) || self.shut_down {
            return None;
        }
        match stream.poll_shutdown_write(cx) {
            Poll::Ready(result) => {
                self.shut_down = true;
                Some(result)
            }
            Poll::Pending => None,
        }
    }
}
