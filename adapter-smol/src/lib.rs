//! Rampart on smol: hardened servers and clients for HTTP/1.1, WebSocket
//! and your own protocols, for smol and async-std users.
//!
//! This crate is `adapter-core`'s [`Runtime`] implemented on smol's reactor
//! (async-io) and executor, plus re-exports: the driver, caps, timeouts,
//! the global budget on buffered bytes, handlers, handles, stop, the
//! [`text`] protocol and the [`client`]s (WebSocket and HTTP/1.1, through
//! [`client::Connector`]) all live in `adapter-core`, written once for
//! every runtime.
//!
//! ```no_run
//! use adapter_smol::text::{TextConn, TextHandler, TextService};
//! use adapter_smol::{Conn, Server, Smol};
//! use bytes::Bytes;
//!
//! struct Echo;
//! impl TextHandler for Echo {
//!     type Context = ();
//!     fn on_connect(&self, _: &mut Conn<'_, Bytes>) {}
//!     fn on_line(&self, _: &mut (), conn: &mut TextConn<'_, '_>, line: &[u8]) {
//!         let _ = conn.send_line(line);
//!     }
//! }
//!
//! let server = Server::builder(TextService::new(Echo))
//!     .bind("127.0.0.1:0".parse()?)
//!     .build()?;
//! server.run::<Smol>()?; // until SIGTERM, SIGINT or SIGQUIT
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Server::run`] starts an executor on the configured worker threads.
//! Inside a program that already runs one, [`Server::serve`] on a [`Smol`]
//! made by [`Smol::global`], [`Smol::with_executor`] or
//! [`Smol::with_spawner`] serves on it instead.
//!
//! # async-std
//!
//! async-std is discontinued upstream, and its sockets and timers run on
//! the same async-io reactor as smol's, so this crate serves its users
//! too: inside `async_std::task::block_on`, serve on async-std's executor
//! with [`Smol::with_spawner`], and open clients with a
//! [`client::Connector`] on the same [`Smol`] (or use [`Runtime::connect`]
//! for a protocol of your own). adapter-smol's tests run adapter-core's
//! whole loopback suite that way, and serve the reference server (HTTP
//! and WebSocket) to a `WsClient` and an `HttpClient` all inside
//! `async_std::task::block_on`.
//!
//! ```no_run
//! # use adapter_smol::text::{TextConn, TextHandler, TextService};
//! # use adapter_smol::{Conn, Runtime, Server, Smol};
//! # struct Echo;
//! # impl TextHandler for Echo {
//! #     type Context = ();
//! #     fn on_connect(&self, _: &mut Conn<'_, bytes::Bytes>) {}
//! #     fn on_line(&self, _: &mut (), c: &mut TextConn<'_, '_>, l: &[u8]) { let _ = c.send_line(l); }
//! # }
//! let server = Server::builder(TextService::new(Echo))
//!     .bind("127.0.0.1:0".parse()?)
//!     .build()?;
//! let (handle, addr) = (server.handle(), server.local_addrs()[0]);
//! async_std::task::block_on(async {
//!     let rt = Smol::with_spawner(|task| {
//!         async_std::task::spawn(task);
//!     });
//!     let serving = async_std::task::spawn(server.serve(rt.clone()));
//!     let client = rt.connect(addr).await?; // an `adapter_smol::Stream`
//!     # drop(client);
//!     // WebSocket and HTTP clients, e.g. to a WebService:
//!     let connector = adapter_smol::client::Connector::new(rt.clone());
//!     # let _ = &connector;
//!     // let mut ws = connector.websocket("ws://127.0.0.1:8080/echo").await?;
//!     handle.stop();
//!     serving.await
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cancel safety
//!
//! [`Server::serve`] and [`ServerHandle::finished`] only wait: dropping
//! them stops nothing (call [`ServerHandle::stop`]). Dropping the future of
//! [`Runtime::connect`] abandons the attempt and closes the socket. A
//! connection's partial state (input not yet taken, output not yet written)
//! lives in adapter-core's driver, never in a pending future, so a
//! [`SmolStream`] may be polled from any task and its task dropped at any
//! point without losing track of a byte.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, ready};
use std::thread::JoinHandle;
use std::time::Instant;

use smol::io::AsyncWrite;
use smol::{Async, Executor};

pub use adapter_core::{self, *};

mod timers;
pub use timers::SmolSleep;

/// A future [`Smol::with_spawner`] hands to its executor.
pub type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The smol [`Runtime`]: where spawned tasks go. Sockets always use
/// async-io's process-wide reactor, and timers this crate's process-wide
/// timer thread ([`SmolSleep`]), whichever executor polls them.
///
/// [`Server::run`] starts an executor on the configured worker threads;
/// inside a running program use [`Smol::global`], [`Smol::with_executor`]
/// or [`Smol::with_spawner`] with [`Server::serve`].
#[derive(Clone)]
pub struct Smol {
    spawner: Spawner,
}

#[derive(Clone)]
enum Spawner {
    Global,
    /// Weak, so tasks holding a `Smol` do not keep their executor alive.
    Executor(Weak<Executor<'static>>),
    Custom(Arc<dyn Fn(BoxedTask) + Send + Sync>),
}

impl fmt::Debug for Smol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spawner = match self.spawner {
            Spawner::Global => "global",
            Spawner::Executor(_) => "executor",
            Spawner::Custom(_) => "custom",
        };
        f.debug_struct("Smol").field("spawner", &spawner).finish()
    }
}

impl Smol {
    /// Spawns on smol's global executor (`smol::spawn`; its threads are
    /// set by `SMOL_THREADS`, default 1).
    #[must_use]
    pub fn global() -> Self {
        Self {
            spawner: Spawner::Global,
        }
    }

    /// Spawns on `executor`, which the caller runs. Tasks spawned once it
    /// is dropped are dropped.
    #[must_use]
    pub fn with_executor(executor: &Arc<Executor<'static>>) -> Self {
        Self {
            spawner: Spawner::Executor(Arc::downgrade(executor)),
        }
    }

    /// Spawns by calling `spawn`, e.g. async-std's `task::spawn`:
    /// `Smol::with_spawner(|task| { async_std::task::spawn(task); })`.
    #[must_use]
    pub fn with_spawner(spawn: impl Fn(BoxedTask) + Send + Sync + 'static) -> Self {
        Self {
            spawner: Spawner::Custom(Arc::new(spawn)),
        }
    }
}

/// The worker threads of [`Smol::run`]; dropping it stops and joins them.
struct Workers {
    stop: Option<smol::channel::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the channel ends every `run`; tasks left are dropped with
        // the executor.
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Runtime for Smol {
    type Listener = SmolListener;
    type Stream = SmolStream;
    type Sleep = SmolSleep;
    type Signals = SmolSignals;

    fn run<F, Fut>(workers: usize, main: F) -> io::Result<Fut::Output>
    where
        F: FnOnce(Self) -> Fut,
        Fut: Future,
    {
        timers::start()?;
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let mut pool = Workers {
            stop: Some(stop),
            threads: Vec::with_capacity(workers.max(1)),
        };
        for i in 0..workers.max(1) {
            let (executor, stopped) = (Arc::clone(&executor), stopped.clone());
            pool.threads.push(
                std::thread::Builder::new()
                    .name(format!("rampart-smol-{i}"))
                    .spawn(move || {
                        let _closed = smol::block_on(executor.run(stopped.recv()));
                    })?,
            );
        }
        let output = smol::block_on(main(Self::with_executor(&executor)));
        drop(pool);
        Ok(output)
    }

    fn listener(&self, listener: TcpListener) -> io::Result<SmolListener> {
        timers::start()?;
        Async::new(listener).map(SmolListener)
    }

    fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<SmolStream>> + Send + 'static {
        // The reactor is process-wide: any executor may poll this.
        let started = timers::start();
        let connecting = Async::<TcpStream>::connect(addr);
        async move {
            started?;
            connecting.await.map(SmolStream::new)
        }
    }

    fn sleep_until(&self, deadline: Instant) -> SmolSleep {
        SmolSleep::new(deadline)
    }

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match &self.spawner {
            Spawner::Global => smol::spawn(future).detach(),
            Spawner::Executor(executor) => {
                if let Some(executor) = executor.upgrade() {
                    executor.spawn(future).detach();
                }
            }
            Spawner::Custom(spawn) => spawn(Box::pin(future)),
        }
    }

    fn signals(&self) -> io::Result<SmolSignals> {
        SmolSignals::new()
    }
}

/// A smol listening socket.
#[derive(Debug)]
pub struct SmolListener(Async<TcpListener>);

impl Listener for SmolListener {
    type Stream = SmolStream;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(SmolStream, SocketAddr)>> {
        loop {
            match self.0.get_ref().accept() {
                Ok((stream, peer)) => {
                    return Poll::Ready(Async::new(stream).map(|s| (SmolStream::new(s), peer)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.0.poll_readable(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// A smol TCP connection.
#[derive(Debug)]
pub struct SmolStream {
    io: Async<TcpStream>,
    /// Whether a read may find data without waiting for the reactor first.
    ///
    /// async-io's own `poll_read` always tries the `recv` syscall first,
    /// while the driver polls the read side once per round: a connection
    /// paid two to four `recv` calls per request, all but one answered
    /// `EWOULDBLOCK`. Like tokio, we take a short read (or `EWOULDBLOCK`)
    /// to mean the socket is drained and ask the reactor before the next
    /// `recv`. That is safe because async-io registers interest in
    /// level-triggered one-shot mode: data that arrived in between is
    /// reported at once.
    readable: bool,
}

impl SmolStream {
    fn new(io: Async<TcpStream>) -> Self {
        Self { io, readable: true }
    }
}

impl Stream for SmolStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // Bounded: each pass either returns or waits on the reactor, which
        // answers `Ready` only for an event newer than the last wait.
        loop {
            if !self.readable {
                ready!(self.io.poll_readable(cx))?;
                self.readable = true;
            }
            match (&mut self.io.get_ref()).read(buf) {
                Ok(n) => {
                    self.readable = n == buf.len();
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_shutdown_write(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // async-io's `poll_close` only flushes; a shutdown never blocks.
        Poll::Ready(self.io.get_ref().shutdown(Shutdown::Write))
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }
}

/// SIGTERM, SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2 as one stream, from
/// `async-signal`.
#[derive(Debug)]
pub struct SmolSignals {
    #[cfg(unix)]
    signals: async_signal::Signals,
}

impl SmolSignals {
    #[cfg(unix)]
    fn new() -> io::Result<Self> {
        use async_signal::Signal as S;
        Ok(Self {
            signals: async_signal::Signals::new([S::Term, S::Int, S::Quit, S::Usr1, S::Usr2])?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> io::Result<Self> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

impl futures_core::Stream for SmolSignals {
    type Item = Signal;

    #[cfg(unix)]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        use async_signal::Signal as S;
        loop {
            // An error reading the signal pipe ends the stream.
            let Some(Ok(signal)) = ready!(Pin::new(&mut self.signals).poll_next(cx)) else {
                return Poll::Ready(None);
            };
            return Poll::Ready(Some(match signal {
                S::Term => Signal::Terminate,
                S::Int => Signal::Interrupt,
                S::Quit => Signal::Quit,
                S::Usr1 => Signal::User1,
                S::Usr2 => Signal::User2,
                _ => continue,
            }));
        }
    }

    #[cfg(not(unix))]
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        Poll::Ready(None)
    }
}
