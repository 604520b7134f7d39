//! RFC 6455 §5.4: fragmentation order; control frames between fragments.

use super::util::*;
use crate::{Error, Event, Violation};

#[test]
fn continuation_with_no_message_open_fails_with_1002() {
    let now = t0();
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &cf(0x80, b"x"),
        Error::Protocol(Violation::UnexpectedContinuation),
    );
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &cf(0x00, b"x"),
        Error::Protocol(Violation::UnexpectedContinuation),
    );
}

#[test]
fn new_message_while_one_is_open_fails_with_1002() {
    for second in [0x81, 0x82, 0x01, 0x02] {
        let now = t0();
        let mut s = server(now);
        let mut wire = cf(0x01, b"a");
        wire.extend(cf(second, b"b"));
        expect_failure(
            &mut s,
            now,
            &wire,
            Error::Protocol(Violation::ExpectedContinuation),
        );
    }
}

#[test]
fn continuation_after_a_finished_message_fails() {
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x81, b"done");
    wire.extend(cf(0x80, b"more"));
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(events, [Event::Text("done".into())]);
    assert_eq!(
        result,
        Err(Error::Protocol(Violation::UnexpectedContinuation))
    );
}

#[test]
fn fragments_assemble_and_control_frames_interleave() {
    // Autobahn 5.6/5.7: text in fragments with a ping in between.
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x01, b"frag");
    wire.extend(cf(0x89, b"p"));
    wire.extend(cf(0x00, b"men"));
    wire.extend(cf(0x8a, b"q"));
    wire.extend(cf(0x80, b"ted"));
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Ok(()));
    assert_eq!(
        events,
        [
            Event::Ping("p".into()),
            Event::Pong("q".into()),
            Event::Text("fragmented".into())
        ]
    );
    let (out, _) = drain(&mut s, now);
    assert_eq!(out, sf(0x8a, b"p"), "the ping is answered mid-message");
}

#[test]
fn binary_fragments_keep_their_kind() {
    let now = t0();
    let mut c = client(now);
    let mut wire = sf(0x02, &[1]);
    wire.extend(sf(0x00, &[]));
    wire.extend(sf(0x80, &[2, 3]));
    let (events, result) = feed(&mut c, now, &wire);
    assert_eq!(result, Ok(()));
    assert_eq!(events, [Event::Binary(vec![1, 2, 3].into())]);
}
