//! The runtime-free server and client lifecycle of Rampart, written once.
//!
//! adapter-core owns what the sans-IO state machines cannot do themselves:
//! the socket, the clock, the transport timeouts, the connection caps, the
//! application's callbacks and the server's life. It depends on no async
//! runtime: `adapter-tokio` and `adapter-smol` implement its small
//! [`Runtime`] trait (listen, accept, connect, read, write, sleep, spawn,
//! signals) and re-export the rest.
//!
//! - **One driver** for every protocol: a [`Protocol`] names a
//!   [`proto_core::Drive`] machine, creates it with a typed per-connection
//!   context, and dispatches its events to the application. HTTP, WebSocket
//!   and [`text`] (Workerman's line protocol, the model for your own) all
//!   plug in the same way.
//! - **Timeouts**: the machines own their protocol deadlines; the driver
//!   owns the write-stall timeout and, on stop, the grace and the drain
//!   deadline. One timer per connection, armed at the earliest deadline.
//! - **Caps**: global and per-IP caps through [`proto_core::Admission`]; a
//!   connection over a cap is closed at once, unread and unanswered, and
//!   counted in [`proto_core::Stats`]. At start the soft `RLIMIT_NOFILE` is
//!   raised to the hard limit and a cap it cannot hold is refused; an
//!   accept that fails for lack of descriptors backs off.
//! - **Memory**: a global budget on the bytes buffered across all
//!   connections ([`Builder::max_buffered_bytes`], default 256 MiB): over
//!   it, reads pause everywhere and the connections holding the largest
//!   buffers are closed with the protocol's "too large" farewell
//!   (WebSocket 1009, HTTP 413), so the per-connection caps times the
//!   connection cap cannot exhaust memory.
//! - **Handles**: [`ConnHandle`] sends to a connection from anywhere through
//!   a bounded queue; [`Group`] broadcasts.
//! - **Workers**: [`Server::run`] starts the runtime with N worker threads;
//!   one accept task per listener hands connections to the runtime's
//!   work-stealing scheduler, so the workers share the listeners (no
//!   `SO_REUSEPORT`: not measured to win yet, and it would split the accept
//!   queues across processes during a reload).
//! - **Stop**: [`ServerHandle::stop`] or SIGTERM/SIGINT/SIGQUIT close the
//!   listeners at once, let protocols say goodbye, let in-flight work
//!   finish, close quiet connections after the grace and the rest at the
//!   drain deadline; a second signal forces.
//!
//! - **Reload** (Unix): SIGUSR1 or SIGUSR2 start a new process of the same
//!   executable with the same arguments, hand it every listening socket
//!   (inherited descriptors announced in `RAMPART_LISTEN_FDS`; they take
//!   precedence over configured addresses), wait until it reports ready
//!   through an inherited pipe, then drain like a graceful stop. Both
//!   processes accept from the same sockets meanwhile, so none is refused.
//!   Listeners are always `std::net::TcpListener`s owned here before
//!   [`Runtime::listener`] registers them, so no runtime takes part.
//!   [`Builder::pid_file`] stays current across reloads.
//!
//! # Under systemd
//!
//! Sockets passed by socket activation (`LISTEN_FDS`, `LISTEN_PID`) are
//! adopted at start. Each process that starts serving sends
//! `READY=1` and `MAINPID=<its pid>` to `NOTIFY_SOCKET`, so with this unit
//! systemd follows the new process after a reload:
//!
//! ```ini
//! [Service]
//! Type=notify
//! NotifyAccess=all
//! ExecStart=/usr/local/bin/my-server --addr 0.0.0.0:8080
//! ExecReload=/bin/kill -USR1 $MAINPID
//! KillSignal=SIGTERM
//! LimitNOFILE=65536
//! ```
//!
//! # Example
//!
//! ```no_run
//! use adapter_core::text::{TextConn, TextHandler, TextService};
//! use adapter_core::{Conn, Server};
//! use bytes::Bytes;
//!
//! struct Echo;
//! impl TextHandler for Echo {
//!     type Context = ();
//!     fn on_connect(&self, conn: &mut Conn<'_, Bytes>) {
//!         println!("{} from {}", conn.id(), conn.peer_addr());
//!     }
//!     fn on_line(&self, _: &mut (), conn: &mut TextConn<'_, '_>, line: &[u8]) {
//!         let _ = conn.send_line(line);
//!     }
//! }
//!
//! # fn run<R: adapter_core::Runtime>() -> std::io::Result<()> {
//! let server = Server::builder(TextService::new(Echo))
//!     .bind("127.0.0.1:0".parse().unwrap())
//!     .build()?;
//! server.run::<R>() // R = adapter_tokio::Tokio, adapter_smol::Smol
//! # }
//! ```
#![deny(unsafe_code)]

mod alarm;
mod budget;
mod driver;
#[cfg(feature = "example")]
pub mod example;
mod handle;
mod protocol;
#[cfg(unix)]
mod reload;
mod runtime;
mod server;
mod sys;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod transport;
mod wakers;
pub mod web;

pub use budget::DEFAULT_MAX_BUFFERED_BYTES;
pub use handle::{ConnHandle, Group, QueueFull, SendError};
pub use protocol::{CloseReason, Conn, ConnId, Protocol};
pub use runtime::{Listener, Runtime, Signal, Sleep, Stream};
pub use server::{Builder, Server, ServerHandle};

pub use proto_core;

pub mod client;
#[cfg(feature = "testing")]
pub mod client_testing;
