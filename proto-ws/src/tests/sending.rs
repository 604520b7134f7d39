//! Commands: messages, auto-fragmentation, pieces, control frames.

use super::util::*;
use crate::{Config, Event, MessageKind, SendError, State};

#[test]
fn auto_fragmentation_splits_into_configured_frames() {
    let now = t0();
    let mut config = Config::default();
    config.send_fragment_size(Some(4));
    let mut s = server_with(config, now);
    s.send_text("abcdefghij").unwrap();
    s.send_binary(b"").unwrap();
    let (wire, _) = drain(&mut s, now);
    let frames = parse_frames(&wire);
    assert_eq!(
        frames,
        [
            (0x01, b"abcd".to_vec(), false),
            (0x00, b"efgh".to_vec(), false),
            (0x80, b"ij".to_vec(), false),
            (0x82, b"".to_vec(), false),
        ]
    );
}

#[test]
fn pieces_interleave_with_control_frames_and_block_new_messages() {
    let now = t0();
    let mut c = client(now);
    c.send_data(MessageKind::Text, "καλη".as_bytes(), false)
        .unwrap();
    assert_eq!(c.send_text("x"), Err(SendError::NotOpen(State::Open)));
    assert_eq!(
        c.send_data(MessageKind::Binary, b"x", true),
        Err(SendError::NotOpen(State::Open))
    );
    c.send_ping(b"p").unwrap();
    c.send_data(MessageKind::Text, "μέρα".as_bytes(), true)
        .unwrap();
    c.send_text("next").unwrap();
    let (wire, _) = drain(&mut c, now);
    let mut s = server(now);
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Ok(()));
    assert_eq!(
        events,
        [
            Event::Ping("p".into()),
            Event::Text("καλημέρα".into()),
            Event::Text("next".into())
        ]
    );
}

#[test]
fn transmit_chunks_are_bounded() {
    let now = t0();
    let mut config = Config::default();
    config.max_transmit_chunk(100);
    let mut s = server_with(config, now);
    s.send_binary(&[0; 1000]).unwrap();
    let mut out = Vec::new();
    let mut calls = 0;
    while let Some(t) = s.poll_transmit(now, &mut out) {
        assert!(matches!(t, proto_core::Transmit::Data { len } if len <= 100));
        calls += 1;
    }
    assert_eq!(out.len(), 1004);
    assert_eq!(calls, 11);
}

#[test]
fn output_is_handed_over_whole_into_an_empty_buffer() {
    let now = t0();
    let mut s = server_with(Config::default(), now);
    s.send_binary(&[7; 100]).unwrap();
    s.send_text("next").unwrap();
    // The caller's empty buffer, with room of its own: the two swap, and
    // the machine keeps the caller's room for its next frames.
    let mine = Vec::with_capacity(512);
    let room = mine.as_ptr();
    let mut out = mine;
    let handed = s.poll_transmit(now, &mut out);
    assert_eq!(handed, Some(proto_core::Transmit::Data { len: 102 + 6 }));
    assert_ne!(out.as_ptr(), room, "the machine's own buffer, not a copy");
    assert_eq!(&out[..2], b"\x82\x64");
    assert_eq!(&out[102..], b"\x81\x04next");
    assert_eq!(s.poll_transmit(now, &mut out), None);
    s.send_text("again").unwrap();
    let mut fresh = Vec::new();
    s.poll_transmit(now, &mut fresh);
    assert_eq!(fresh.as_ptr(), room, "the caller's room came back");
    assert_eq!(fresh, b"\x81\x05again");
    // A buffer that already holds bytes is appended to.
    s.send_text("tail").unwrap();
    s.poll_transmit(now, &mut fresh);
    assert_eq!(fresh, b"\x81\x05again\x81\x04tail");
}

#[test]
fn config_errors_are_returned_not_panicked() {
    use crate::{ConfigError, Connection};
    use proto_core::Side;
    let now = t0();
    let mut config = Config::default();
    config.max_message_size(0);
    assert_eq!(
        Connection::new(Side::Server, config, now).err(),
        Some(ConfigError::ZeroLimit("max_message_size"))
    );
    let mut config = Config::default();
    config.send_fragment_size(Some(0));
    assert!(Connection::new(Side::Server, config, now).is_err());
    let mut config = Config::default();
    config.max_send_buffer_size(130);
    assert_eq!(
        Connection::new(Side::Server, config, now).err(),
        Some(ConfigError::SendBufferTooSmall)
    );
}

#[test]
fn local_fail_sends_the_code_and_finishes() {
    let now = t0();
    let mut s = server(now);
    assert_eq!(s.fail(1004), Err(SendError::InvalidCloseCode(1004)));
    s.fail(1011).unwrap();
    let (out, shutdown) = drain(&mut s, now);
    assert_eq!(out, sf(0x88, &1011u16.to_be_bytes()));
    assert!(shutdown && s.is_closed());
    assert_eq!(s.fail(1011), Err(SendError::NotOpen(State::Closed)));
}

#[test]
fn connections_and_events_move_between_threads() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<crate::Connection>();
    assert_send::<Event>();
    assert_send::<Config>();
}
