//! Test helpers: connections, frame builders, drains, a virtual clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use proto_core::{Side, Transmit};

use crate::{Config, Connection, Error, Event, SeededMasks};

/// The masking key of RFC 6455 §5.7's examples.
pub(crate) const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One origin instant per test.
#[allow(clippy::disallowed_methods)] // tests need one origin instant
pub(crate) fn t0() -> Instant {
    Instant::now()
}

/// `n` seconds.
pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) fn client_config() -> Config {
    let mut config = Config::default();
    config.mask_source(Arc::new(SeededMasks::new(0x5eed)));
    config
}

pub(crate) fn server_with(config: Config, now: Instant) -> Connection {
    Connection::new(Side::Server, config, now).unwrap()
}

pub(crate) fn client_with(config: Config, now: Instant) -> Connection {
    Connection::new(Side::Client, config, now).unwrap()
}

pub(crate) fn server(now: Instant) -> Connection {
    server_with(Config::default(), now)
}

pub(crate) fn client(now: Instant) -> Connection {
    client_with(client_config(), now)
}

/// A frame with first byte `b0` (FIN/RSV/opcode), the minimal length
/// encoding, and an optional mask.
pub(crate) fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![b0];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(m | u8::try_from(len).unwrap());
    } else if len <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let start = out.len();
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    let body = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        for (i, b) in out[body..].iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    debug_assert!(start <= body);
    out
}

/// A frame as a client sends it (masked with [`KEY`]).
pub(crate) fn cf(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, Some(KEY))
}

/// A frame as a server sends it (unmasked).
pub(crate) fn sf(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, payload, None)
}

/// Everything the connection wants to send, and whether it asked to shut
/// down the write side.
pub(crate) fn drain(conn: &mut Connection, now: Instant) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut shutdown = false;
    while let Some(t) = conn.poll_transmit(now, &mut out) {
        if t == Transmit::ShutdownWrite {
            assert!(!shutdown, "shutdown reported twice");
            shutdown = true;
        }
    }
    (out, shutdown)
}

pub(crate) fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Feeds all of `input`, draining events whenever the machine pushes back.
pub(crate) fn feed(
    conn: &mut Connection,
    now: Instant,
    input: &[u8],
) -> (Vec<Event>, Result<(), Error>) {
    let mut seen = Vec::new();
    let mut rest = input;
    loop {
        match conn.handle_input(now, rest) {
            Ok(n) => {
                assert!(n <= rest.len());
                rest = &rest[n..];
                let before = seen.len();
                seen.extend(events(conn));
                if rest.is_empty() {
                    return (seen, Ok(()));
                }
                assert!(n > 0 || seen.len() > before, "no progress");
            }
            Err(e) => {
                seen.extend(events(conn));
                return (seen, Err(e));
            }
        }
    }
}

/// Feeds `input` and expects the connection to fail with `error`, sending a
/// close frame with its code and shutting down.
pub(crate) fn expect_failure(conn: &mut Connection, now: Instant, input: &[u8], error: Error) {
    let (_, result) = feed(conn, now, input);
    assert_eq!(result, Err(error));
    let (out, shutdown) = drain(conn, now);
    let code = error.close_code().to_be_bytes();
    assert!(shutdown);
    if conn.side().is_server() {
        assert_eq!(out, [0x88, 0x02, code[0], code[1]]);
    } else {
        assert_eq!(out.len(), 8, "masked close frame");
        let mut payload = [out[6], out[7]];
        payload[0] ^= out[2];
        payload[1] ^= out[3];
        assert_eq!(payload, code);
    }
    assert_eq!(conn.state(), crate::State::Failed);
    assert!(conn.is_closed());
    // Sticky, and nothing more is sent.
    assert_eq!(conn.handle_input(now, b"\x81\x80"), Err(error));
    assert_eq!(drain(conn, now), (Vec::new(), false));
}

/// Decodes unmasked or masked frames produced by a connection: returns
/// `(b0, payload, masked)` triples.
pub(crate) fn parse_frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>, bool)> {
    let mut frames = Vec::new();
    while !wire.is_empty() {
        let b0 = wire[0];
        let masked = wire[1] & 0x80 != 0;
        let (len, mut at) = match wire[1] & 0x7f {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => (
                usize::try_from(u64::from_be_bytes(wire[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            n => (n as usize, 2),
        };
        let key = if masked {
            let k = [wire[at], wire[at + 1], wire[at + 2], wire[at + 3]];
            at += 4;
            Some(k)
        } else {
            None
        };
        let mut payload = wire[at..at + len].to_vec();
        if let Some(k) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= k[i % 4];
            }
        }
        frames.push((b0, payload, masked));
        wire = &wire[at + len..];
    }
    frames
}
