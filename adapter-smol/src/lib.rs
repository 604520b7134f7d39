//! Rampart on smol: hardened HTTP/1.1 and WebSocket servers and clients.
//!
//! This crate is `adapter-core`'s `Runtime` implemented on smol's reactor,
//! which async-std shares, so async-std users are served too. The runtime
//! glue arrives with its issue ("adapter-smol").
#![forbid(unsafe_code)]

pub use adapter_core;
