//! Rampart on tokio: hardened HTTP/1.1 and WebSocket servers and clients.
//!
//! This crate is `adapter-core`'s `Runtime` implemented on tokio, plus
//! re-exports and the reference server example. The runtime glue arrives with
//! its issue ("adapter-core and adapter-tokio").
#![forbid(unsafe_code)]

pub use adapter_core;
