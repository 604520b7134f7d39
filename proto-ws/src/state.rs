//! The connection states (RFC 6455 §4, §7) and what each allows.
//!
//! Rules of this file: the state names follow the RFC; every question "may I
//! send / receive / close now?" is answered here, from the state alone, the
//! same way for both roles. The transitions themselves happen in
//! `connection.rs`, in the four places that can cause them: a received close,
//! a local `close`, a failure, and EOF or a deadline.
//!
//! ```text
//!            close()                 peer's close
//!   Open ─────────────▶ LocalClosing ─────────────▶ Closed
//!    │ peer's close (echo queued)                      ▲
//!    ├─────────────────────────────────────────────────┘
//!    │ EOF, ping timeout                               ▲
//!    ├─────────────────────────────────────────────────┘
//!    │ peer violation
//!    └──────────────────▶ Failed
//! ```
//!
//! The opening handshake happens before a [`Connection`](crate::Connection)
//! exists (see [`handshake`](crate::handshake)), so there is no `Connecting`
//! state.

use std::fmt;

/// Where a connection is in its life (RFC 6455 §7).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// The handshake is done: messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's (RFC 6455 §7.1.2).
    /// Received messages are still delivered; nothing more can be sent.
    LocalClosing,
    /// The close handshake is complete, or the peer vanished; nothing more is
    /// sent or accepted. A client may still wait for the server to close TCP
    /// (RFC 6455 §7.1.1); see [`Connection::is_closed`](crate::Connection::is_closed).
    Closed,
    /// The peer broke the protocol; the close frame with the error's code is
    /// queued and every input returns the same error (RFC 6455 §7.1.7).
    Failed,
}

impl State {
    /// Frames from the peer are still read.
    pub(crate) fn receives(self) -> bool {
        matches!(self, Self::Open | Self::LocalClosing)
    }

    /// Data, ping and pong frames may be sent.
    pub(crate) fn sends(self) -> bool {
        self == Self::Open
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "open",
            Self::LocalClosing => "local closing",
            Self::Closed => "closed",
            Self::Failed => "failed",
        })
    }
}
