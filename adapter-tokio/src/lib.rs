//! Rampart on tokio: hardened servers and clients for HTTP/1.1, WebSocket
//! and your own protocols.
//!
//! This crate is `adapter-core`'s [`Runtime`]
//! implemented on tokio, plus re-exports: the driver, caps, timeouts, the
//! global budget on buffered bytes, handlers, handles, stop, the [`text`]
//! protocol and the [`client`]s all live in `adapter-core`, written once
//! for every runtime.
//!
//! ```no_run
//! use adapter_tokio::text::{TextConn, TextHandler, TextService};
//! use adapter_tokio::{Conn, Server, Tokio};
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
//! server.run::<Tokio>()?; // until SIGTERM, SIGINT or SIGQUIT
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Clients
//!
//! [`client::Connector`] opens WebSocket and HTTP/1.1 client connections
//! on tokio, with a connect timeout, a handshake timeout and the server's
//! limits:
//!
//! ```no_run
//! use adapter_tokio::client::Connector;
//! use adapter_tokio::{Runtime, Tokio};
//!
//! Tokio::run(1, |rt| async move {
//!     let connector = Connector::new(rt);
//!     let mut ws = connector.websocket("ws://127.0.0.1:8080/echo").await?;
//!     ws.send_text("hello").await?;
//!     let echo = ws.recv().await;
//!     let stats = connector.http_request("GET", "http://127.0.0.1:8080/stats", "").await?;
//!     println!("{echo:?} {}", stats.status());
//!     Ok::<(), adapter_tokio::client::Error>(())
//! })??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Handle;

pub use adapter_core::{self, *};

/// The tokio [`Runtime`]: a handle to a running tokio runtime.
///
/// [`Server::run`] builds a multi-thread runtime with the configured worker
/// threads; inside an existing runtime use [`Tokio::current`] with
/// [`Server::serve`].
#[derive(Debug, Clone)]
pub struct Tokio {
    handle: Handle,
}

impl Tokio {
    /// The runtime this is called from.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    #[must_use]
    pub fn current() -> Self {
        Self {
            handle: Handle::current(),
        }
    }
}

impl Runtime for Tokio {
    type Listener = TokioListener;
    type Stream = TokioStream;
    type Sleep = TokioSleep;
    type Signals = TokioSignals;

    fn run<F, Fut>(workers: usize, main: F) -> io::Result<Fut::Output>
    where
        F: FnOnce(Self) -> Fut,
        Fut: Future,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .enable_all()
            .build()?;
        let rt = Self {
            handle: runtime.handle().clone(),
        };
        Ok(runtime.block_on(main(rt)))
    }

    fn listener(&self, listener: std::net::TcpListener) -> io::Result<TokioListener> {
        let _entered = self.handle.enter();
        tokio::net::TcpListener::from_std(listener).map(TokioListener)
    }

    fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<TokioStream>> + Send + 'static {
        let handle = self.handle.clone();
        async move {
            // Spawned so the socket registers with this runtime's reactor
            // whichever executor polls the returned future; aborted when the
            // future is dropped, so an abandoned attempt closes its socket.
            let mut task = AbortOnDrop(handle.spawn(tokio::net::TcpStream::connect(addr)));
            (&mut task.0)
                .await
                .map_err(io::Error::other)?
                .map(TokioStream)
        }
    }

    fn sleep_until(&self, deadline: Instant) -> TokioSleep {
        let _entered = self.handle.enter();
        TokioSleep(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.handle.spawn(future));
    }

    fn signals(&self) -> io::Result<TokioSignals> {
        let _entered = self.handle.enter();
        TokioSignals::new()
    }
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A tokio listening socket.
#[derive(Debug)]
pub struct TokioListener(tokio::net::TcpListener);

impl Listener for TokioListener {
    type Stream = TokioStream;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TokioStream, SocketAddr)>> {
        self.0
            .poll_accept(cx)
            .map_ok(|(stream, peer)| (TokioStream(stream), peer))
    }
}

/// A tokio TCP connection.
#[derive(Debug)]
pub struct TokioStream(tokio::net::TcpStream);

impl Stream for TokioStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        Pin::new(&mut self.0)
            .poll_read(cx, &mut buf)
            .map_ok(|()| buf.filled().len())
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_shutdown_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.0.set_nodelay(nodelay)
    }
}

/// A tokio timer.
#[derive(Debug)]
pub struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Sleep for TokioSleep {
    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }
}

/// SIGTERM, SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2 as one stream.
#[derive(Debug)]
pub struct TokioSignals {
    #[cfg(unix)]
    kinds: Vec<(tokio::signal::unix::Signal, Signal)>,
}

impl TokioSignals {
    #[cfg(unix)]
    fn new() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let wanted = [
            (SignalKind::terminate(), Signal::Terminate),
            (SignalKind::interrupt(), Signal::Interrupt),
            (SignalKind::quit(), Signal::Quit),
            (SignalKind::user_defined1(), Signal::User1),
            (SignalKind::user_defined2(), Signal::User2),
        ];
        let mut kinds = Vec::with_capacity(wanted.len());
        for (kind, signal_name) in wanted {
            kinds.push((signal(kind)?, signal_name));
        }
        Ok(Self { kinds })
    }

    #[cfg(not(unix))]
    fn new() -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "signals are Unix only",
        ))
    }
}

impl futures_core::Stream for TokioSignals {
    type Item = Signal;

    #[cfg(unix)]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        for (stream, signal) in &mut self.kinds {
            if let Poll::Ready(Some(())) = stream.poll_recv(cx) {
                return Poll::Ready(Some(*signal));
            }
        }
        Poll::Pending
    }

    #[cfg(not(unix))]
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        Poll::Ready(None)
    }
}
