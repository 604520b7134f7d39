//! The small trait an async runtime implements to run adapter-core.
//!
//! Everything is poll-based (`poll_read`, `poll_accept`...), the way quinn's
//! `AsyncUdpSocket` is: tokio's `TcpStream` and async-io's `Async<TcpStream>`
//! both offer these calls directly, the driver needs no `select!` and no
//! split halves, and the futures adapter-core builds are `Send` whenever the
//! runtime's types are, with no return-type bounds to name.
//!
//! Listening sockets always start life as [`std::net::TcpListener`]s owned by
//! adapter-core (bound by it, inherited from a previous process on reload, or
//! passed by systemd), and [`Runtime::listener`] only registers one with the
//! runtime's reactor. That is the whole socket hand-off surface a runtime
//! needs: descriptors, environment and readiness pipes stay in adapter-core.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

/// An async runtime: sockets, one kind of timer, spawning and signals.
///
/// Implemented by `adapter_tokio::Tokio` and `adapter_smol::Smol`; a value is
/// a cheap handle to a running executor.
///
/// ```
/// use adapter_core::Runtime;
/// fn serves_on<R: Runtime>() {}
/// ```
pub trait Runtime: Clone + Send + Sync + 'static {
    /// A listening TCP socket registered with this runtime.
    type Listener: Listener<Stream = Self::Stream>;
    /// A connected TCP socket registered with this runtime.
    type Stream: Stream;
    /// A resettable one-shot timer.
    type Sleep: Sleep;
    /// The process signals adapter-core reacts to.
    type Signals: futures_core::Stream<Item = Signal> + Send + Unpin + 'static;

    /// Starts the runtime with `workers` worker threads, runs `main` to
    /// completion on it, and shuts the runtime down.
    ///
    /// # Errors
    ///
    /// When the runtime cannot be started.
    fn run<F, Fut>(workers: usize, main: F) -> io::Result<Fut::Output>
    where
        F: FnOnce(Self) -> Fut,
        Fut: Future;

    /// Registers a bound, listening std socket with the runtime. The socket
    /// is already non-blocking.
    ///
    /// # Errors
    ///
    /// When the reactor refuses the socket.
    fn listener(&self, listener: std::net::TcpListener) -> io::Result<Self::Listener>;

    /// Connects to `addr`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket.
    fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + 'static;

    /// A timer that completes at or after `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// Runs `future` to completion in the background, on any worker.
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Starts listening for [`Signal`]s (Unix only).
    ///
    /// # Errors
    ///
    /// When the platform has no such signals or the handlers cannot be
    /// installed.
    fn signals(&self) -> io::Result<Self::Signals>;
}

/// A listening socket, shared by every worker through `&self`.
pub trait Listener: Send + Sync + 'static {
    /// The connections it yields.
    type Stream: Stream;

    /// Accepts one connection, or registers the waker.
    ///
    /// # Errors
    ///
    /// The accept error; `EMFILE`/`ENFILE` make the caller back off.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Stream, SocketAddr)>>;
}

/// A connected socket, polled by one task.
pub trait Stream: Send + 'static {
    /// Reads into `buf`; `Ok(0)` is the peer's EOF.
    ///
    /// # Errors
    ///
    /// The socket's error.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes from `buf` and returns how many bytes the kernel took.
    ///
    /// # Errors
    ///
    /// The socket's error.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Shuts down the write half (sends FIN).
    ///
    /// # Errors
    ///
    /// The socket's error.
    fn poll_shutdown_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// The socket's error.
    fn set_nodelay(&self, nodelay: bool) -> io::Result<()>;
}

/// A one-shot timer that can be moved: the driver keeps one per connection.
///
/// Once complete it stays complete (polls `Ready` again) until
/// [`reset`](Sleep::reset), as tokio's `Sleep` and adapter-smol's
/// `SmolSleep` do.
///
/// It must never complete before its deadline (tokio's timers round up;
/// adapter-smol's compare with the clock): the driver does not poll a timer armed after its
/// clock's `now` again while the task's waker is unchanged, so a timer that
/// fired early would go unnoticed until the connection's next I/O.
/// `adapter_core::testing::sleep_never_completes_before_its_deadline` checks
/// an implementation.
pub trait Sleep: Future<Output = ()> + Send + Unpin + 'static {
    /// Moves the deadline; the timer completes at or after `deadline`.
    fn reset(&mut self, deadline: Instant);
}

/// A process signal adapter-core acts on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `SIGTERM`: graceful stop.
    Terminate,
    /// `SIGINT`: graceful stop.
    Interrupt,
    /// `SIGQUIT`: graceful stop.
    Quit,
    /// `SIGUSR1`: graceful reload.
    User1,
    /// `SIGUSR2`: graceful reload.
    User2,
}

impl Signal {
    /// True for the signals that stop the server.
    #[must_use]
    pub fn is_stop(self) -> bool {
        matches!(self, Self::Terminate | Self::Interrupt | Self::Quit)
    }
}
