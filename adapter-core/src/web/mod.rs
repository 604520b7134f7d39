//! HTTP/1.1 and WebSocket on one port: a [`WebHandler`] served by
//! [`WebService`] with the same driver, timeouts and caps as every other
//! protocol.
//!
//! - [`machine`]: the connection's [`WebMachine`], HTTP until the upgrade,
//!   then WebSocket, one [`Drive`](proto_core::Drive) for the driver.
//! - [`handler`]: the application's callbacks and the views they get.
//! - [`outbound`]: what a [`ConnHandle`](crate::ConnHandle) or
//!   [`Group`](crate::Group) carries, and deferred responses.
//! - [`service`]: the [`Protocol`](crate::Protocol) glue: upgrade with the
//!   origin check before it, handler deadline, statistics.
//!
//! Statistics recorded: HTTP request heads, WebSocket upgrades and
//! messages in and out, every protocol error by kind (handshake refusals
//! included), every expired deadline by timer, and the bytes the machines
//! buffer.
//!
//! ```no_run
//! use adapter_core::web::{HttpConn, Message, Outbound, WebHandler, WebService, WsConn, WsOpen};
//! use adapter_core::{Conn, Server};
//! use proto_http::Request;
//! use proto_ws::handshake::ClientOffer;
//!
//! struct Echo;
//! impl WebHandler for Echo {
//!     type Context = ();
//!     fn on_connect(&self, _: &mut Conn<'_, Outbound>) {}
//!     fn on_request_end(&self, _: &mut (), http: &mut HttpConn<'_, '_>) {
//!         let _ = http.respond_with(200, "text/plain", "hello\n");
//!     }
//!     fn on_ws_open(&self, _: &mut (), _: &mut Conn<'_, Outbound>, _: &Request, _: &ClientOffer) -> WsOpen {
//!         WsOpen::accept()
//!     }
//!     fn on_message(&self, _: &mut (), ws: &mut WsConn<'_, '_>, message: Message) {
//!         let _ = ws.send(&message);
//!     }
//! }
//!
//! # fn run<R: adapter_core::Runtime>() -> Result<(), Box<dyn std::error::Error>> {
//! Server::builder(WebService::new(Echo)).bind("127.0.0.1:8080".parse()?).build()?.run::<R>()?;
//! # Ok(()) }
//! ```

pub mod handler;
pub mod machine;
pub mod outbound;
pub mod service;

pub use handler::{HttpConn, Message, WebHandler, WsClosed, WsConn, WsOpen};
pub use machine::{HttpMachine, WebError, WebMachine, WsMachine};
pub use outbound::{Deferred, Outbound};
pub use proto_http::{Request, Response};
pub use proto_ws::handshake::ClientOffer;
pub use service::{WebConfigError, WebService, WebSlot};

/// The connection as the callbacks of a [`WebHandler`] see it.
pub type WebConn<'a> = crate::Conn<'a, Outbound>;
