//! RFC 6455 §5.1, §5.3: a client masks every frame, a server none.

use super::util::*;
use crate::{Error, Event, Violation};

#[test]
fn server_fails_on_unmasked_frame_with_1002() {
    let now = t0();
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &sf(0x81, b"hi"),
        Error::Protocol(Violation::UnmaskedFrame),
    );
}

#[test]
fn client_fails_on_masked_frame_with_1002() {
    let now = t0();
    let mut c = client(now);
    expect_failure(
        &mut c,
        now,
        &cf(0x82, b"hi"),
        Error::Protocol(Violation::MaskedFrame),
    );
}

#[test]
fn unmasked_control_frames_fail_too() {
    let now = t0();
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &sf(0x89, b""),
        Error::Protocol(Violation::UnmaskedFrame),
    );
}

#[test]
fn masking_is_judged_on_the_second_byte_alone() {
    let now = t0();
    let mut s = server(now);
    // Only two bytes of a 64 KiB frame: the error comes at once.
    assert_eq!(
        s.handle_input(now, &[0x82, 0x7f]),
        Err(Error::Protocol(Violation::UnmaskedFrame))
    );
}

#[test]
fn server_unmasks_rfc_example() {
    let now = t0();
    let mut s = server(now);
    // RFC 6455 §5.7 "A single-frame masked text message".
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(s.handle_input(now, &wire), Ok(wire.len()));
    assert_eq!(events(&mut s), [Event::Text("Hello".into())]);
}

#[test]
fn client_masks_with_fresh_keys_from_its_source_and_server_does_not_mask() {
    let now = t0();
    let mut c = client(now);
    c.send_text("Hello").unwrap();
    c.send_text("Hello").unwrap();
    let (wire, _) = drain(&mut c, now);
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 2);
    assert!(frames.iter().all(|(_, p, masked)| *masked && p == b"Hello"));
    assert_ne!(wire[2..6], wire[13..17], "a fresh key per frame");

    let mut s = server(now);
    s.send_text("Hello").unwrap();
    let (wire, _) = drain(&mut s, now);
    assert_eq!(wire, sf(0x81, b"Hello"));
}
