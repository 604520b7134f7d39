//! The runtime-free server and client lifecycle of Rampart, written once.
//!
//! The driver loop over `proto_core::Drive`, timeouts, connection caps,
//! handlers with typed per-connection context, statistics, graceful stop and
//! graceful reload, generic over a small `Runtime` trait that `adapter-tokio`
//! and `adapter-smol` implement. It depends on no async runtime. The lifecycle
//! arrives with its issue ("adapter-core and adapter-tokio").
#![deny(unsafe_code)]
