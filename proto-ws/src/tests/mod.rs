//! State-machine tests, one module per RFC 6455 section, plus properties.
//!
//! No sockets and no sleeps: connections are fed bytes directly and the clock
//! is whatever the test says (STYLE.md 3.8).

mod deadlines;
mod memory;
mod properties;
mod rfc6455_10_4_limits;
mod rfc6455_4_handshake;
mod rfc6455_5_1_masking;
mod rfc6455_5_2_framing;
mod rfc6455_5_4_fragmentation;
mod rfc6455_5_5_control;
mod rfc6455_7_close;
mod rfc6455_8_1_utf8;
mod sending;
mod streaming;
pub(crate) mod util;
