//! RFC 6455 §5.5: control frames; §5.5.2-§5.5.3 ping and pong.

use super::util::*;
use crate::{Config, Error, Event, Violation};

#[test]
fn control_payload_over_125_fails_with_1002() {
    for op in [0x88, 0x89, 0x8a] {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            &cf(op, &[b'a'; 126]),
            Error::Protocol(Violation::ControlTooLong),
        );
    }
    // Judged on the 7-bit field alone: two bytes are enough.
    let now = t0();
    let mut s = server(now);
    assert_eq!(
        s.handle_input(now, &[0x89, 0xfe]),
        Err(Error::Protocol(Violation::ControlTooLong))
    );
}

#[test]
fn control_payload_of_125_is_fine() {
    let now = t0();
    let mut s = server(now);
    let (events, result) = feed(&mut s, now, &cf(0x89, &[b'a'; 125]));
    assert_eq!(result, Ok(()));
    assert_eq!(events, [Event::Ping(vec![b'a'; 125].into())]);
    assert_eq!(drain(&mut s, now).0, sf(0x8a, &[b'a'; 125]));
}

#[test]
fn fragmented_control_frames_fail_with_1002() {
    for op in [0x08, 0x09, 0x0a] {
        let now = t0();
        let mut s = server(now);
        expect_failure(
            &mut s,
            now,
            &cf(op, b""),
            Error::Protocol(Violation::FragmentedControl),
        );
    }
}

#[test]
fn ping_is_answered_with_the_same_payload() {
    let now = t0();
    let mut c = client(now);
    let (events, _) = feed(&mut c, now, &sf(0x89, b"hello"));
    assert_eq!(events, [Event::Ping("hello".into())]);
    let (out, _) = drain(&mut c, now);
    let frames = parse_frames(&out);
    assert_eq!(frames, [(0x8a, b"hello".to_vec(), true)]);
}

#[test]
fn auto_pong_can_be_turned_off() {
    let now = t0();
    let mut config = Config::default();
    config.auto_pong(false);
    let mut s = server_with(config, now);
    let (events, _) = feed(&mut s, now, &cf(0x89, b"x"));
    assert_eq!(events, [Event::Ping("x".into())]);
    assert_eq!(drain(&mut s, now).0, b"");
    s.send_pong(b"x").unwrap();
    assert_eq!(drain(&mut s, now).0, sf(0x8a, b"x"));
}

#[test]
fn unsolicited_pongs_are_reported_and_ignored() {
    let now = t0();
    let mut s = server(now);
    let (events, result) = feed(&mut s, now, &cf(0x8a, b"unsolicited"));
    assert_eq!(result, Ok(()));
    assert_eq!(events, [Event::Pong("unsolicited".into())]);
    assert_eq!(drain(&mut s, now).0, b"");
}

#[test]
fn ping_flood_stays_within_the_send_cap_and_the_event_queue() {
    let now = t0();
    let mut config = Config::default();
    config.max_send_buffer_size(1000);
    let mut s = server_with(config, now);
    let one = cf(0x89, &[7u8; 125]);
    let flood: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * 10_000)
        .collect();
    // The peer never reads our pongs: feed without draining output.
    let mut rest = &flood[..];
    let mut pings = 0;
    while !rest.is_empty() {
        let n = s.handle_input(now, rest).unwrap();
        assert!(s.buffered_output() <= 1000 + 131);
        assert!(s.buffered_input() <= 64 * 1024 + 131);
        rest = &rest[n..];
        pings += events(&mut s).len();
    }
    assert_eq!(pings, 10_000);
    // What goes out is whole pongs, the last one for the latest ping.
    let (out, _) = drain(&mut s, now);
    let frames = parse_frames(&out);
    assert!(frames.len() <= 8);
    assert!(frames.iter().all(|f| f.0 == 0x8a && f.1 == [7u8; 125]));
}

#[test]
fn pong_waits_for_queued_frames_and_never_splits_them() {
    let now = t0();
    let mut config = Config::default();
    config.max_transmit_chunk(3);
    let mut s = server_with(config, now);
    s.send_binary(&[1; 10]).unwrap();
    let mut out = Vec::new();
    let _ = s.poll_transmit(now, &mut out);
    assert_eq!(feed(&mut s, now, &cf(0x89, b"p")).1, Ok(()));
    let (rest, _) = drain(&mut s, now);
    out.extend(rest);
    assert_eq!(
        parse_frames(&out),
        [(0x82, vec![1; 10], false), (0x8a, b"p".to_vec(), false)]
    );
}
