//! Streaming delivery: `Event::Data` pieces as they arrive.

use super::util::*;
use crate::{Config, Error, Event, MessageKind};

fn streaming_server() -> crate::Connection {
    let mut config = Config::default();
    config.streaming(true);
    server_with(config, t0())
}

#[test]
fn pieces_follow_reads_and_fin_marks_the_end() {
    let now = t0();
    let mut s = streaming_server();
    let wire = cf(0x82, &[5; 100]);
    s.handle_input(now, &wire[..50]).unwrap();
    assert_eq!(
        events(&mut s),
        [Event::Data {
            kind: MessageKind::Binary,
            bytes: vec![5; 44].into(),
            fin: false
        }]
    );
    assert!(s.buffered_input() == 0, "nothing held between reads");
    s.handle_input(now, &wire[50..]).unwrap();
    assert_eq!(
        events(&mut s),
        [Event::Data {
            kind: MessageKind::Binary,
            bytes: vec![5; 56].into(),
            fin: true
        }]
    );
}

#[test]
fn fragments_stream_with_their_kind_and_empty_end() {
    let now = t0();
    let mut s = streaming_server();
    let mut wire = cf(0x01, b"ab");
    wire.extend(cf(0x80, b""));
    let (events, _) = feed(&mut s, now, &wire);
    assert_eq!(
        events,
        [
            Event::Data {
                kind: MessageKind::Text,
                bytes: "ab".into(),
                fin: false
            },
            Event::Data {
                kind: MessageKind::Text,
                bytes: "".into(),
                fin: true
            },
        ]
    );
}

#[test]
fn streamed_text_still_fails_at_the_first_bad_byte() {
    let now = t0();
    let mut s = streaming_server();
    let wire = cf(0x81, b"ok\xffmore");
    assert_eq!(s.handle_input(now, &wire), Err(Error::InvalidUtf8));
    assert!(
        events(&mut s).is_empty(),
        "no invalid text is ever delivered"
    );
}

#[test]
fn message_cap_applies_while_streaming() {
    let now = t0();
    let mut config = Config::default();
    config
        .streaming(true)
        .max_message_size(10)
        .fragment_overhead(0);
    let mut s = server_with(config, now);
    let mut wire = cf(0x02, &[0; 6]);
    wire.extend(cf(0x80, &[0; 5]));
    let (_, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Err(Error::TooLarge(crate::Limit::MessageSize)));
}
