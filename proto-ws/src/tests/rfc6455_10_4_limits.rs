//! RFC 6455 §10.4 (and §7.4.1, 1009): frame and message caps, checked on the
//! declared length before buffering; the tiny-fragment bound; the send cap.
//! Every cap is tested at N-1, N and N+1.

use super::util::*;
use crate::{Config, Connection, Error, Event, Limit, SendError};

const N: usize = 1000;

fn capped(frame: usize, message: usize, overhead: usize) -> Connection {
    let mut config = Config::default();
    config
        .max_frame_size(frame)
        .max_message_size(message)
        .fragment_overhead(overhead);
    server_with(config, t0())
}

#[test]
fn frame_cap_at_n_minus_1_n_n_plus_1() {
    for (len, ok) in [(N - 1, true), (N, true), (N + 1, false)] {
        let now = t0();
        let mut s = capped(N, 10 * N, 0);
        let (events, result) = feed(&mut s, now, &cf(0x82, &vec![0; len]));
        if ok {
            assert_eq!(result, Ok(()));
            assert_eq!(events.len(), 1);
        } else {
            assert_eq!(result, Err(Error::TooLarge(Limit::FrameSize)));
            assert_eq!(drain(&mut s, now).0, sf(0x88, &1009u16.to_be_bytes()));
        }
    }
}

#[test]
fn frame_cap_is_judged_on_the_declared_length_before_any_payload() {
    let now = t0();
    let mut s = server(now);
    // A header declaring 16 MiB + 1, with no payload at all.
    let mut header = vec![0x82, 0xff];
    header.extend_from_slice(&((16u64 << 20) + 1).to_be_bytes());
    header.extend_from_slice(&KEY);
    assert_eq!(
        s.handle_input(now, &header),
        Err(Error::TooLarge(Limit::FrameSize))
    );
    assert!(
        s.buffer_capacity() <= 64,
        "only the close frame was reserved"
    );
}

#[test]
fn message_cap_at_n_minus_1_n_n_plus_1_in_one_frame() {
    for (len, ok) in [(N - 1, true), (N, true), (N + 1, false)] {
        let now = t0();
        let mut s = capped(10 * N, N, 0);
        let (_, result) = feed(&mut s, now, &cf(0x81, &vec![b'a'; len]));
        assert_eq!(result.is_ok(), ok, "{len}");
        if !ok {
            assert_eq!(result, Err(Error::TooLarge(Limit::MessageSize)));
        }
    }
}

#[test]
fn message_cap_counts_payload_across_fragments() {
    for (last, ok) in [(N / 2 - 1, true), (N / 2, true), (N / 2 + 1, false)] {
        let now = t0();
        let mut s = capped(N, N, 0);
        let mut wire = cf(0x02, &vec![1; N / 2]);
        wire.extend(cf(0x80, &vec![2; last]));
        let (events, result) = feed(&mut s, now, &wire);
        assert_eq!(result.is_ok(), ok, "{last}");
        if ok {
            assert!(matches!(&events[..], [Event::Binary(b)] if b.len() == N / 2 + last));
        } else {
            assert_eq!(result, Err(Error::TooLarge(Limit::MessageSize)));
            assert!(events.is_empty());
        }
    }
}

#[test]
fn each_extra_fragment_is_charged_its_overhead() {
    // 10 fragments of 10 bytes with an overhead of 10: 100 + 9 * 10 = 190.
    for (cap, ok) in [(189, false), (190, true), (191, true)] {
        let now = t0();
        let mut s = capped(N, cap, 10);
        let mut wire = cf(0x02, &[0; 10]);
        for _ in 0..8 {
            wire.extend(cf(0x00, &[0; 10]));
        }
        wire.extend(cf(0x80, &[0; 10]));
        let (_, result) = feed(&mut s, now, &wire);
        assert_eq!(result.is_ok(), ok, "cap {cap}");
    }
}

#[test]
fn tiny_fragment_flood_is_cut_off_by_the_message_cap() {
    // Empty fragments cost nothing in payload but are still bounded.
    let now = t0();
    let mut s = server(now);
    let mut wire = cf(0x02, b"");
    let empty = cf(0x00, b"");
    let allowed = crate::DEFAULT_MAX_MESSAGE_SIZE / crate::DEFAULT_FRAGMENT_OVERHEAD;
    for _ in 0..allowed {
        wire.extend_from_slice(&empty);
    }
    assert_eq!(feed(&mut s, now, &wire).1, Ok(()));
    assert!(s.buffered_input() == 0);
    assert_eq!(
        s.handle_input(now, &empty),
        Err(Error::TooLarge(Limit::MessageSize))
    );
}

#[test]
fn autobahn_9_3_1_four_mib_in_64_byte_fragments_passes_by_default() {
    let now = t0();
    let mut s = server(now);
    let total = 4 << 20;
    let piece = vec![b'*'; 64];
    let count = total / 64;
    let mut wire = Vec::with_capacity(count * 70);
    for i in 0..count {
        let b0 = match (i, i + 1 == count) {
            (0, _) => 0x01,
            (_, true) => 0x80,
            _ => 0x00,
        };
        wire.extend(cf(b0, &piece));
    }
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!(result, Ok(()));
    assert!(matches!(&events[..], [Event::Text(t)] if t.len() == total));
}

#[test]
fn autobahn_9_1_6_sixteen_mib_in_one_frame_passes_by_default() {
    let now = t0();
    let mut s = server(now);
    let payload = vec![b'*'; 16 << 20];
    let (events, result) = feed(&mut s, now, &cf(0x81, &payload));
    assert_eq!(result, Ok(()));
    assert!(matches!(&events[..], [Event::Text(t)] if t.len() == 16 << 20));
    // One byte more is refused.
    let mut s = server(now);
    let mut header = vec![0x81, 0xff];
    header.extend_from_slice(&((16u64 << 20) + 1).to_be_bytes());
    header.extend_from_slice(&KEY);
    assert!(s.handle_input(now, &header).is_err());
}

#[test]
fn send_buffer_cap_at_n_minus_1_n_n_plus_1() {
    // A 10-byte binary frame from a server is 12 bytes on the wire.
    for (cap, ok) in [(131, false), (132, true), (133, true)] {
        let now = t0();
        let mut config = Config::default();
        config.max_send_buffer_size(cap);
        let mut s = server_with(config, now);
        s.send_binary(&[0; 110]).unwrap(); // 112 bytes queued
        let result = s.send_binary(&[0; 18]); // 20 more: 132 in all
        assert_eq!(result.is_ok(), ok, "cap {cap}");
        if !ok {
            assert_eq!(result, Err(SendError::Backpressure));
            assert_eq!(s.buffered_output(), 112, "nothing queued on failure");
            drain(&mut s, now);
            assert_eq!(s.send_binary(&[0; 18]), Ok(()));
        }
    }
}

#[test]
fn event_queue_pushes_back_on_input() {
    let now = t0();
    let mut s = server(now);
    let one = cf(0x81, b"m");
    let many: Vec<u8> = one.iter().copied().cycle().take(one.len() * 100).collect();
    let n = s.handle_input(now, &many).unwrap();
    assert_eq!(n, one.len() * 32, "stops after 32 queued events");
    assert_eq!(s.handle_input(now, &many[n..]), Ok(0));
    assert_eq!(events(&mut s).len(), 32);
    assert_eq!(s.handle_input(now, &many[n..]).unwrap(), one.len() * 32);
}

#[test]
fn sixteen_mib_in_small_reads_grows_without_quadratic_copies() {
    let now = t0();
    let mut s = server(now);
    let wire = cf(0x82, &vec![1u8; 16 << 20]);
    let mut total = 0;
    for read in wire.chunks(4096) {
        let (events, result) = feed(&mut s, now, read);
        assert_eq!(result, Ok(()));
        total += events.len();
        assert!(s.buffer_capacity() <= 2 * (16 << 20) + 64 * 1024);
    }
    assert_eq!(total, 1);
}
