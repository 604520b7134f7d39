//! Strict HTTP/1.1 client and server state machines (RFC 9110, RFC 9112).
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol`.
#![forbid(unsafe_code)]

mod head;

pub use head::{Headers, Request, Response, Version, canonical_reason};
