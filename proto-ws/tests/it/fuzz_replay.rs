//! Replays the fuzz target bodies on the committed seeds and on random
//! inputs, so `cargo test --all-features` checks the same invariants as the
//! fuzzers, on stable.

use std::path::Path;
use std::time::Instant;

use proptest::prelude::*;
use proto_ws::fuzzing;

#[allow(clippy::disallowed_methods)] // tests need one origin instant
fn t0() -> Instant {
    Instant::now()
}

fn replay(target: &str, body: fn(Instant, &[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        body(t0(), &data);
        seen += 1;
    }
    assert!(seen > 0, "no seeds in {}", dir.display());
}

#[test]
fn seeds_server_framing() {
    replay("ws_server", fuzzing::server_framing);
}

#[test]
fn seeds_client_framing() {
    replay("ws_client", fuzzing::client_framing);
}

#[test]
fn seeds_handshake() {
    replay("ws_handshake", fuzzing::handshake);
}

#[test]
fn seeds_roundtrip() {
    replay("ws_roundtrip", fuzzing::roundtrip);
}

/// A frame with any first byte (biased to valid ones), masked or not, with
/// a payload near the interesting sizes: plausible enough to get past the
/// header checks, hostile enough to hit every rule.
fn arb_frame() -> impl Strategy<Value = Vec<u8>> {
    let b0 = prop_oneof![
        4 => prop::sample::select(vec![0x81u8, 0x82, 0x01, 0x02, 0x00, 0x80, 0x89, 0x8a, 0x88]),
        1 => any::<u8>(),
    ];
    let payload = prop_oneof![
        4 => prop::collection::vec(prop_oneof![Just(b'a'), Just(0xe2), Just(0x82), Just(0xac), any::<u8>()], 0..40),
        1 => prop::collection::vec(any::<u8>(), 120..300),
    ];
    (b0, payload, prop::option::weighted(0.5, any::<[u8; 4]>())).prop_map(|(b0, payload, mask)| {
        let mut out = vec![b0];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match u16::try_from(payload.len()) {
            Ok(n) if n < 126 => out.push(m | u8::try_from(n).unwrap()),
            Ok(n) => {
                out.push(m | 126);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Err(_) => unreachable!("payloads are short"),
        }
        let start = out.len() + if mask.is_some() { 4 } else { 0 };
        if let Some(key) = mask {
            out.extend_from_slice(&key);
        }
        out.extend_from_slice(&payload);
        if let Some(key) = mask {
            proto_ws::apply_mask(&mut out[start..], key, 0);
        }
        out
    })
}

fn arb_input() -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), prop::collection::vec(arb_frame(), 0..16)).prop_map(|(selector, frames)| {
        let mut data = vec![selector];
        data.extend(frames.concat());
        data
    })
}

proptest! {
    #[test]
    fn random_server_framing(data in arb_input()) {
        fuzzing::server_framing(t0(), &data);
    }

    #[test]
    fn random_client_framing(data in arb_input()) {
        fuzzing::client_framing(t0(), &data);
    }

    #[test]
    fn random_bytes_framing(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::server_framing(t0(), &data);
        fuzzing::client_framing(t0(), &data);
    }

    #[test]
    fn random_handshake(data in prop::collection::vec(any::<u8>(), 0..256)) {
        fuzzing::handshake(t0(), &data);
    }

    #[test]
    fn random_roundtrip(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::roundtrip(t0(), &data);
    }
}
