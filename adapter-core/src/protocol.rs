//! How a protocol (HTTP, WebSocket, Text, yours) plugs into the driver.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use proto_core::{Drive, ErrorKind, PeerError, Stats, Timer};

use crate::handle::{ConnHandle, Queue};

/// A protocol served by the driver: it creates the state machine and the
/// typed per-connection context of each new connection, and turns the
/// machine's events into calls of the application's callbacks.
///
/// The driver owns the socket, the clock and the transport timers; it calls
/// these methods and nothing else. All of them run on the connection's task,
/// with the connection's machine and context borrowed mutably, so no lock is
/// ever needed for per-connection state.
///
/// The order per wake-up: [`deliver`](Protocol::deliver) queued messages,
/// feed input, [`dispatch`](Protocol::dispatch), drain output. When the
/// connection ends, [`closed`](Protocol::closed) is called exactly once and
/// the context is dropped right after it.
///
/// See [`text::TextService`](crate::text::TextService) for a complete
/// protocol in a few dozen lines.
pub trait Protocol: Send + Sync + 'static {
    /// The sans-IO state machine of one connection.
    type Machine: Drive<Error: PeerError> + Send + 'static;
    /// The application's per-connection state, created at accept.
    type Context: Send + 'static;
    /// What [`ConnHandle`]s may queue to a connection from anywhere.
    type Message: Send + 'static;

    /// A connection was admitted: build its machine and its context.
    ///
    /// Call [`Conn::close`] to refuse it after all.
    fn open(&self, conn: &mut Conn<'_, Self::Message>) -> (Self::Machine, Self::Context);

    /// Drains the machine's events and calls the application for each.
    ///
    /// Called after every input, timeout and delivered message.
    fn dispatch(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
    );

    /// Hands a message queued through a [`ConnHandle`] to the machine.
    fn deliver(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
        message: Self::Message,
    );

    /// The peer violated the protocol; the machine has queued its farewell.
    fn peer_error(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
        error: &<Self::Machine as Drive>::Error,
    ) {
        let _ = (machine, cx, conn, error);
    }

    /// The server is stopping: say goodbye (a WebSocket sends 1001, HTTP
    /// stops keeping alive). In-flight work goes on until the drain deadline.
    fn goodbye(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
    ) {
        let _ = (machine, cx, conn);
    }

    /// True when nothing is in flight: the connection is idle or has not
    /// spoken yet, so a stopping server may close it after the grace.
    fn is_quiet(&self, machine: &Self::Machine) -> bool;

    /// True when the last [`dispatch`](Self::dispatch) may have left events
    /// in the machine: it paused while output was queued, or fed the
    /// machine bytes of its own after its last poll. The driver then
    /// dispatches once more after the output is written, before it waits
    /// for input.
    ///
    /// The default, `true`, is always correct. A protocol that knows its
    /// dispatch drained every event answers `false` and saves that call on
    /// every request or message.
    fn events_left(&self, machine: &Self::Machine, cx: &Self::Context) -> bool {
        let _ = (machine, cx);
        true
    }

    /// Bytes the connection holds in the machine's buffers (received but
    /// not yet handed out, queued but not yet transmitted) and in its
    /// context (e.g. a request body being collected), for the server's
    /// buffered-bytes gauge ([`Snapshot::buffered_bytes`](proto_core::Snapshot))
    /// and its global budget
    /// ([`Builder::max_buffered_bytes`](crate::Builder::max_buffered_bytes)).
    /// Called after every wake-up, so keep it cheap. Default: 0 (not
    /// reported; the driver still counts its own input and output buffers).
    fn buffered(&self, machine: &Self::Machine, cx: &Self::Context) -> usize {
        let _ = (machine, cx);
        0
    }

    /// The bytes buffered across all connections went over the server's
    /// budget and this connection holds one of the largest buffers: queue
    /// the protocol's "too large" farewell (WebSocket 1009, HTTP 413 when
    /// no response is under way) and release what the machine holds. The
    /// driver has already dropped the input it held, closes the connection
    /// once the farewell is written (within about a second, whether or not
    /// the peer reads it), and records it in
    /// [`Snapshot::closed_over_budget`](proto_core::Snapshot) with
    /// [`CloseReason::OverBudget`]. Default: a plain close.
    fn over_budget(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
    ) {
        let _ = (machine, cx);
        conn.close();
    }

    /// The connection is closed; the context is dropped right after.
    fn closed(
        &self,
        machine: &mut Self::Machine,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Self::Message>,
        reason: &CloseReason,
    ) {
        let _ = (machine, cx, conn, reason);
    }
}

/// A process-unique connection number, in every callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

impl ConnId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why a connection ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The machine finished (a normal close, its own timeout, a farewell
    /// after the peer's EOF).
    Done,
    /// The peer violated the protocol; the farewell was sent if possible.
    PeerError(ErrorKind),
    /// An adapter-owned deadline expired: [`Timer::WriteStall`] or
    /// [`Timer::Drain`].
    TimedOut(Timer),
    /// The application closed it ([`Conn::close`], [`ConnHandle::close`]).
    Local,
    /// Its outbound queue was full under [`QueueFull::Close`](crate::QueueFull::Close).
    QueueFull,
    /// A stopping server closed it: quiet after the grace, or forced.
    Stopped,
    /// The bytes buffered across all connections went over the server's
    /// budget and this connection held one of the largest buffers
    /// ([`Protocol::over_budget`]).
    OverBudget,
    /// The socket failed.
    Io(io::ErrorKind),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done => f.write_str("closed"),
            Self::PeerError(kind) => write!(f, "peer error: {kind}"),
            Self::TimedOut(timer) => write!(f, "timed out: {timer}"),
            Self::Local => f.write_str("closed locally"),
            Self::QueueFull => f.write_str("outbound queue full"),
            Self::Stopped => f.write_str("server stopping"),
            Self::OverBudget => f.write_str("over the buffered-bytes budget"),
            Self::Io(kind) => write!(f, "i/o error: {kind}"),
        }
    }
}

/// The connection as a callback sees it: its id, addresses, the current
/// time, statistics, and ways to get a handle or to close it.
pub struct Conn<'a, M> {
    pub(crate) id: ConnId,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) now: Instant,
    pub(crate) stats: &'a Stats,
    pub(crate) queue: &'a mut Queue<M>,
    pub(crate) close: &'a mut bool,
}

impl<M> fmt::Debug for Conn<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl<M: Send + 'static> Conn<'_, M> {
    /// The connection's id.
    #[must_use]
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The peer's address.
    #[must_use]
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The listening address the connection arrived on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The time of this wake-up, to pass to the machine's commands.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The server's counters.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        self.stats
    }

    /// A handle to send to this connection from anywhere.
    ///
    /// The bounded queue behind it is created on first use, so connections
    /// nobody sends to cost nothing for it.
    pub fn handle(&mut self) -> ConnHandle<M> {
        self.queue.handle(self.id)
    }

    /// Closes the connection once its pending output is written.
    pub fn close(&mut self) {
        *self.close = true;
    }
}
