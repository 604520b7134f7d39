//! Strict HTTP/1.1 client and server state machines (RFC 9110, RFC 9112).
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol`. The connection state machine arrives with its issue
//! ("proto-http: strict HTTP/1.1 client and server state machines").
#![forbid(unsafe_code)]
