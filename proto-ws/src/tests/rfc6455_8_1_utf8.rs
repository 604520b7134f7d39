//! RFC 6455 §8.1 (and §5.6): text is UTF-8, checked incrementally, failing
//! at the first invalid byte even mid-frame (Autobahn 6.4.x strict).

use super::util::*;
use crate::{Error, Event};

/// "κόσμε" followed by a surrogate: invalid at byte 12 (0xA0).
const BAD: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";

#[test]
fn invalid_text_fails_with_1007() {
    let now = t0();
    let mut s = server(now);
    expect_failure(&mut s, now, &cf(0x81, BAD), Error::InvalidUtf8);
}

#[test]
fn fails_at_the_first_invalid_byte_before_the_frame_is_complete() {
    // Autobahn 6.4.3: the frame's bytes up to and including the bad one
    // arrive; the rest never does. The connection must fail now.
    let now = t0();
    let mut s = server(now);
    let wire = cf(0x81, BAD);
    let header = 6;
    assert_eq!(s.handle_input(now, &wire[..header + 12]), Ok(header + 12));
    assert_eq!(
        s.handle_input(now, &wire[header + 12..header + 13]),
        Err(Error::InvalidUtf8)
    );
}

#[test]
fn fails_at_the_first_invalid_byte_of_a_later_fragment() {
    // Autobahn 6.4.1/6.4.2: the bad byte sits in a fragment of its own.
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x01, &BAD[..12]);
    wire.extend(cf(0x00, &BAD[12..13]));
    let (events, result) = feed(&mut s, now, &wire);
    assert!(events.is_empty());
    assert_eq!(result, Err(Error::InvalidUtf8));
}

#[test]
fn code_points_may_span_fragments_and_reads() {
    let text = "κόσμε €𝄞";
    let bytes = text.as_bytes();
    for cut in 1..bytes.len() {
        let now = t0();
        let mut s = server(now);
        let mut wire = cf(0x01, &bytes[..cut]);
        wire.extend(cf(0x80, &bytes[cut..]));
        let (events, result) = feed(&mut s, now, &wire);
        assert_eq!(result, Ok(()));
        assert_eq!(events, [Event::Text(text.into())]);
    }
}

#[test]
fn a_message_ending_inside_a_code_point_fails_with_1007() {
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x01, b"ab");
    wire.extend(cf(0x80, b"\xe2\x82"));
    expect_failure(&mut s, now, &wire, Error::InvalidUtf8);
}

#[test]
fn binary_is_not_validated() {
    let now = t0();
    let mut s = server(now);
    let (events, result) = feed(&mut s, now, &cf(0x82, BAD));
    assert_eq!(result, Ok(()));
    assert_eq!(events, [Event::Binary(BAD.to_vec().into())]);
}
