//! Strict RFC 6455 WebSocket handshake and framing for both roles.
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol`. The handshake and framing state machine arrive with
//! their issue ("proto-ws: RFC 6455 handshake and framing").
#![deny(unsafe_code)]
