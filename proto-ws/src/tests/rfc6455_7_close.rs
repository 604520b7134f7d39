//! RFC 6455 §5.5.1, §7: close frames, codes and the close handshake.

use std::time::Duration;

use proto_core::Timer;

use super::util::*;
use crate::{Error, Event, SendError, State, Violation};

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

#[test]
fn one_byte_close_payload_fails_with_1002() {
    let now = t0();
    let mut s = server(now);
    expect_failure(
        &mut s,
        now,
        &cf(0x88, &[0x03]),
        Error::Protocol(Violation::CloseTooShort),
    );
}

#[test]
fn codes_that_may_not_be_sent_fail_with_1002() {
    // Autobahn 7.9.x, plus the range ends.
    for code in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            &cf(0x88, &close_payload(code, b"")),
            Error::Protocol(Violation::InvalidCloseCode(code)),
        );
    }
}

#[test]
fn valid_codes_are_echoed() {
    // Autobahn 7.7.x, plus the IANA-registered 1012-1014.
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
        4999,
    ] {
        let now = t0();
        let mut s = server(now);
        let (events, result) = feed(&mut s, now, &cf(0x88, &close_payload(code, b"why")));
        assert_eq!(result, Ok(()));
        assert_eq!(
            events,
            [Event::Closed {
                code,
                reason: "why".into()
            }]
        );
        let (out, shutdown) = drain(&mut s, now);
        assert_eq!(out, sf(0x88, &code.to_be_bytes()));
        assert!(shutdown, "the server closes TCP after the handshake");
        assert!(s.is_closed());
    }
}

#[test]
fn close_reason_not_utf8_fails_with_1007() {
    let now = t0();
    let mut s = server(now);
    let payload = close_payload(
        1000,
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
    );
    expect_failure(&mut s, now, &cf(0x88, &payload), Error::InvalidUtf8);
}

#[test]
fn empty_close_is_answered_with_an_empty_close_and_reported_as_1005() {
    let now = t0();
    let mut s = server(now);
    let (events, _) = feed(&mut s, now, &cf(0x88, b""));
    assert_eq!(
        events,
        [Event::Closed {
            code: 1005,
            reason: String::new()
        }]
    );
    assert_eq!(drain(&mut s, now).0, sf(0x88, b""));
}

#[test]
fn echo_of_a_125_byte_close_is_never_over_125_bytes() {
    let now = t0();
    let mut s = server(now);
    let payload = close_payload(1000, &[b'*'; 123]);
    let (_, result) = feed(&mut s, now, &cf(0x88, &payload));
    assert_eq!(result, Ok(()));
    let (out, _) = drain(&mut s, now);
    assert_eq!(out, sf(0x88, &[0x03, 0xe8]));
}

#[test]
fn nothing_is_sent_or_accepted_after_the_close() {
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x88, &close_payload(1000, b""));
    wire.extend(cf(0x81, b"late"));
    wire.extend(cf(0x89, b"late ping"));
    let (seen, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Ok(()));
    assert_eq!(seen.len(), 1);
    assert_eq!(drain(&mut s, now).0, sf(0x88, &[0x03, 0xe8]));
    assert_eq!(s.send_text("late"), Err(SendError::NotOpen(State::Closed)));
    assert_eq!(s.send_ping(b""), Err(SendError::NotOpen(State::Closed)));
    assert_eq!(s.handle_input(now, &cf(0x81, b"x")), Ok(7));
    assert!(events(&mut s).is_empty());
}

#[test]
fn client_waits_for_the_server_to_close_tcp() {
    let now = t0();
    let mut c = client(now);
    let (seen, _) = feed(&mut c, now, &sf(0x88, &close_payload(1001, b"")));
    assert_eq!(
        seen,
        [Event::Closed {
            code: 1001,
            reason: String::new()
        }]
    );
    let (out, shutdown) = drain(&mut c, now);
    assert_eq!(parse_frames(&out), [(0x88, vec![0x03, 0xe9], true)]);
    assert!(!shutdown, "the client does not close TCP first");
    assert!(!c.is_closed());
    assert_eq!(c.state(), State::Closed);
    c.handle_eof(now);
    assert!(c.is_closed());
    assert!(events(&mut c).is_empty());
}

#[test]
fn client_gives_up_waiting_for_tcp_close_after_the_close_timeout() {
    let now = t0();
    let mut c = client(now);
    assert_eq!(
        feed(&mut c, now, &sf(0x88, &close_payload(1000, b""))).1,
        Ok(())
    );
    drain(&mut c, now);
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, now + Duration::from_secs(5));
    c.handle_timeout(at);
    assert_eq!(events(&mut c), [Event::TimedOut(Timer::CloseHandshake)]);
    assert!(c.is_closed());
    assert!(drain(&mut c, at).1);
}

#[test]
fn local_close_completes_when_the_peer_answers() {
    let now = t0();
    let mut s = server(now);
    s.close(now, 1000, "bye").unwrap();
    assert_eq!(s.state(), State::LocalClosing);
    assert_eq!(
        drain(&mut s, now),
        (sf(0x88, &close_payload(1000, b"bye")), false)
    );
    assert_eq!(
        s.send_text("x"),
        Err(SendError::NotOpen(State::LocalClosing))
    );
    // Messages still arrive until the peer's close.
    let mut wire = cf(0x81, b"last");
    wire.extend(cf(0x88, &close_payload(1000, b"")));
    let (events, _) = feed(&mut s, now, &wire);
    assert_eq!(
        events,
        [
            Event::Text("last".into()),
            Event::Closed {
                code: 1000,
                reason: String::new()
            }
        ]
    );
    let (out, shutdown) = drain(&mut s, now);
    assert_eq!(out, b"", "no second close frame");
    assert!(shutdown);
    assert!(s.is_closed());
}

#[test]
fn local_close_times_out_if_the_peer_never_answers() {
    let now = t0();
    let mut s = server(now);
    s.close(now, 1001, "").unwrap();
    drain(&mut s, now);
    let at = s.poll_timeout().unwrap();
    assert_eq!(at, now + Duration::from_secs(5));
    s.handle_timeout(at - Duration::from_millis(1));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(at);
    assert_eq!(events(&mut s), [Event::TimedOut(Timer::CloseHandshake)]);
    assert!(s.is_closed());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn close_validates_what_we_send() {
    let now = t0();
    let mut s = server(now);
    assert_eq!(
        s.close(now, 1005, ""),
        Err(SendError::InvalidCloseCode(1005))
    );
    assert_eq!(s.close(now, 999, ""), Err(SendError::InvalidCloseCode(999)));
    assert_eq!(
        s.close(now, 1000, &"x".repeat(124)),
        Err(SendError::ReasonTooLong)
    );
    assert_eq!(s.close(now, 1000, &"x".repeat(123)), Ok(()));
    assert_eq!(
        s.close(now, 1000, ""),
        Err(SendError::NotOpen(State::LocalClosing))
    );
}

#[test]
fn eof_without_close_is_an_abnormal_closure() {
    let now = t0();
    let mut s = server(now);
    s.handle_eof(now);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            code: 1006,
            reason: String::new()
        }]
    );
    assert!(s.is_closed());
    assert_eq!(drain(&mut s, now), (Vec::new(), true));
}

#[test]
fn close_in_the_middle_of_a_fragmented_message_is_fine() {
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x01, b"half");
    wire.extend(cf(0x88, &close_payload(1000, b"")));
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Ok(()));
    assert_eq!(
        events,
        [Event::Closed {
            code: 1000,
            reason: String::new()
        }]
    );
}
