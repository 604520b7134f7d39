//! RFC 6455 §5.2: base framing: RSV bits, opcodes, length encodings.

use super::util::*;
use crate::{Config, Error, Event, Violation};

#[test]
fn each_rsv_bit_fails_with_1002() {
    for rsv in [0x40, 0x20, 0x10] {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            &cf(0x81 | rsv, b"x"),
            Error::Protocol(Violation::ReservedBits),
        );
        let mut c = client(now);
        expect_failure(
            &mut c,
            now,
            &sf(0x82 | rsv, b""),
            Error::Protocol(Violation::ReservedBits),
        );
    }
}

#[test]
fn rsv_bits_on_control_frames_fail() {
    let now = t0();
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &cf(0x89 | 0x40, b""),
        Error::Protocol(Violation::ReservedBits),
    );
}

#[test]
fn reserved_opcodes_fail_with_1002() {
    for op in (0x3..=0x7).chain(0xb..=0xf) {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            &cf(0x80 | op, b""),
            Error::Protocol(Violation::ReservedOpcode(op)),
        );
        let mut c = client(now);
        expect_failure(
            &mut c,
            now,
            &sf(op, b"abc"),
            Error::Protocol(Violation::ReservedOpcode(op)),
        );
    }
}

#[test]
fn reserved_opcode_after_valid_frames_keeps_earlier_events() {
    // Autobahn 4.1.3: text, reserved opcode, ping.
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x81, b"ok");
    wire.extend(cf(0x85, b""));
    wire.extend(cf(0x89, b""));
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(events, [Event::Text("ok".into())]);
    assert_eq!(result, Err(Error::Protocol(Violation::ReservedOpcode(5))));
}

#[test]
fn sixty_four_bit_length_with_top_bit_fails_with_1002() {
    let now = t0();
    let mut s = server(now);
    let mut wire = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0];
    wire.extend_from_slice(&KEY);
    expect_failure(
        &mut s,
        now,
        &wire,
        Error::Protocol(Violation::LengthOverflow),
    );
}

#[test]
fn non_minimal_lengths_fail_by_default_and_pass_when_allowed() {
    // 16-bit length 5, and 64-bit length 200.
    let mut short16 = vec![0x82, 0xfe, 0, 5];
    short16.extend_from_slice(&KEY);
    short16.extend_from_slice(&[1 ^ 0x37, 2 ^ 0xfa, 3 ^ 0x21, 4 ^ 0x3d, 5 ^ 0x37]);
    let mut short64 = vec![0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 200];
    short64.extend_from_slice(&[0, 0, 0, 0]);
    short64.extend_from_slice(&[7; 200]);

    for wire in [&short16, &short64] {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            wire,
            Error::Protocol(Violation::NonMinimalLength),
        );

        let mut config = Config::default();
        config.allow_non_minimal_length(true);
        let mut s = server_with(config, now);
        let (events, result) = feed(&mut s, now, wire);
        assert_eq!(result, Ok(()));
        assert_eq!(events.len(), 1);
    }
}

#[test]
fn minimal_boundaries_are_accepted() {
    for len in [0usize, 125, 126, 0xffff, 0x10000] {
        let now = t0();
        let mut s = server(now);
        let payload = vec![b'a'; len];
        let (events, result) = feed(&mut s, now, &cf(0x82, &payload));
        assert_eq!(result, Ok(()));
        assert_eq!(events, [Event::Binary(payload.into())]);
    }
}

#[test]
fn header_split_at_every_byte_gives_the_same_message() {
    let wire = cf(0x82, &[9u8; 300]);
    for cut in 0..=wire.len() {
        let now = t0();
        let mut s = server(now);
        let (mut events, r1) = feed(&mut s, now, &wire[..cut]);
        let (more, r2) = feed(&mut s, now, &wire[cut..]);
        events.extend(more);
        assert_eq!((r1, r2), (Ok(()), Ok(())));
        assert_eq!(
            events,
            [Event::Binary(vec![9u8; 300].into())],
            "cut at {cut}"
        );
    }
}

#[test]
fn empty_frames_are_messages() {
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x81, b"");
    wire.extend(cf(0x82, b""));
    let (events, _) = feed(&mut s, now, &wire);
    assert_eq!(events, [Event::Text("".into()), Event::Binary("".into())]);
}
