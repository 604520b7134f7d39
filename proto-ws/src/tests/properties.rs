//! Property tests (STYLE.md 3.8): chunking invariance and round trip.

use proptest::prelude::*;
use proto_core::Side;

use super::util::*;
use crate::{Config, Connection, Error, Event, MessageKind};

/// What feeding a connection produced: events, the first error, output.
type Outcome = (Vec<Event>, Result<(), Error>, Vec<u8>, bool);

fn run(mut conn: Connection, input: &[u8], cuts: &[usize]) -> Outcome {
    let now = t0();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.push(0);
    cuts.push(input.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut all_events = Vec::new();
    let mut output = Vec::new();
    let mut result = Ok(());
    let mut shutdown = false;
    for w in cuts.windows(2) {
        let (events, r) = feed(&mut conn, now, &input[w[0]..w[1]]);
        all_events.extend(events);
        let (out, shut) = drain(&mut conn, now);
        output.extend(out);
        shutdown |= shut;
        assert!(conn.buffered_input() <= 16 << 20 | 64 << 10);
        if r.is_err() {
            result = r;
            break;
        }
    }
    (all_events, result, output, shutdown)
}

/// Merges consecutive streaming pieces of one message, so pieces cut by
/// reads compare equal.
fn normalize(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for event in events {
        if let Event::Data { kind, bytes, fin } = &event {
            if let Some(Event::Data {
                bytes: prev,
                fin: false,
                ..
            }) = out.last_mut()
            {
                let mut joined = prev.to_vec();
                joined.extend_from_slice(bytes);
                *out.last_mut().unwrap() = Event::Data {
                    kind: *kind,
                    bytes: joined.into(),
                    fin: *fin,
                };
                continue;
            }
            if bytes.is_empty() && !fin {
                continue;
            }
        }
        out.push(event);
    }
    out
}

fn conn(side: Side, streaming: bool) -> Connection {
    let mut config = if side.is_client() {
        client_config()
    } else {
        Config::default()
    };
    config
        .streaming(streaming)
        .max_message_size(4096)
        .max_frame_size(2048);
    Connection::new(side, config, t0()).unwrap()
}

/// A plausible or hostile frame: any first byte (biased toward valid
/// opcodes), the role's masking most of the time, lengths near the
/// encoding boundaries, sometimes non-minimal, text sometimes invalid.
fn arb_frame(server_receives: bool) -> impl Strategy<Value = Vec<u8>> {
    let b0 = prop_oneof![
        4 => prop::sample::select(vec![0x81u8, 0x82, 0x01, 0x02, 0x00, 0x80, 0x89, 0x8a, 0x88]),
        1 => any::<u8>(),
    ];
    let payload = prop_oneof![
        4 => prop::collection::vec(prop_oneof![Just(b'a'), Just(0xce), Just(0xba), Just(0xff), any::<u8>()], 0..40),
        1 => prop::collection::vec(any::<u8>(), 120..130),
        1 => Just(vec![b'x'; 300]),
    ];
    let masked = prop_oneof![9 => Just(server_receives), 1 => Just(!server_receives)];
    (b0, payload, masked, any::<[u8; 4]>(), any::<bool>()).prop_map(
        |(b0, payload, masked, key, close_code)| {
            let payload = if b0 & 0x0f == 0x8 && close_code && payload.len() >= 2 {
                let mut p = 1000u16.to_be_bytes().to_vec();
                p.extend_from_slice(&payload[2..]);
                p
            } else {
                payload
            };
            frame(b0, &payload, masked.then_some(key))
        },
    )
}

fn arb_stream(server_receives: bool) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(arb_frame(server_receives), 0..12).prop_map(|f| f.concat())
}

/// Valid messages a sender may queue.
#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pieces(MessageKind, Vec<Vec<u8>>),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        ".{0,50}".prop_map(Op::Text),
        prop::collection::vec(any::<u8>(), 0..600).prop_map(Op::Binary),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..5)
            .prop_map(|p| Op::Pieces(MessageKind::Binary, p)),
    ]
}

fn send(sender: &mut Connection, op: &Op) {
    match op {
        Op::Text(t) => sender.send_text(t).unwrap(),
        Op::Binary(b) => sender.send_binary(b).unwrap(),
        Op::Ping(p) => sender.send_ping(p).unwrap(),
        Op::Pieces(kind, pieces) => {
            for (i, p) in pieces.iter().enumerate() {
                sender.send_data(*kind, p, i + 1 == pieces.len()).unwrap();
            }
        }
    }
}

fn expected(op: &Op) -> Event {
    match op {
        Op::Text(t) => Event::Text(t.clone().into()),
        Op::Binary(b) => Event::Binary(b.clone().into()),
        Op::Ping(p) => Event::Ping(p.clone().into()),
        Op::Pieces(_, pieces) => Event::Binary(pieces.concat().into()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any input, cut into any reads, gives the same events, the same
    /// error and the same output, for both roles.
    #[test]
    fn server_split_invariance(input in arb_stream(true), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = run(conn(Side::Server, false), &input, &[]);
        let split = run(conn(Side::Server, false), &input, &cuts);
        prop_assert_eq!(&whole, &split);
        let bytewise: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&whole, &run(conn(Side::Server, false), &input, &bytewise));
    }

    #[test]
    fn client_split_invariance(input in arb_stream(false), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = run(conn(Side::Client, false), &input, &[]);
        let split = run(conn(Side::Client, false), &input, &cuts);
        prop_assert_eq!(whole, split);
    }

    /// In streaming mode pieces follow the reads, but their concatenation,
    /// the other events, the error and the output do not (except that valid
    /// pieces of a message that then fails may be delivered first).
    #[test]
    fn streaming_split_invariance(input in arb_stream(true), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let (e1, r1, o1, s1) = run(conn(Side::Server, true), &input, &[]);
        let (e2, r2, o2, s2) = run(conn(Side::Server, true), &input, &cuts);
        let (mut e1, mut e2) = (normalize(e1), normalize(e2));
        if r1.is_err() {
            // Pieces of the failing message that arrived in earlier reads
            // were valid and delivered; in one read they never are.
            for e in [&mut e1, &mut e2] {
                while matches!(e.last(), Some(Event::Data { fin: false, .. })) {
                    e.pop();
                }
            }
        }
        prop_assert_eq!(e1, e2);
        prop_assert_eq!((r1, o1, s1), (r2, o2, s2));
    }

    /// What a client sends, a server receives identically, and back, with
    /// any fragmentation and any reads.
    #[test]
    fn round_trip(
        ops in prop::collection::vec(arb_op(), 0..10),
        fragment in prop::option::of(1usize..64),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        for sender_side in [Side::Client, Side::Server] {
            let mut config = if sender_side.is_client() { client_config() } else { Config::default() };
            config.send_fragment_size(fragment);
            let mut sender = Connection::new(sender_side, config, t0()).unwrap();
            for op in &ops {
                send(&mut sender, op);
            }
            let (wire, _) = drain(&mut sender, t0());
            // Default caps: 600 bytes in 1-byte fragments is charged
            // 600 + 599 * 64 bytes, well within 16 MiB.
            let receiver_config = if sender_side.is_client() { Config::default() } else { client_config() };
            let receiver = Connection::new(sender_side.peer(), receiver_config, t0()).unwrap();
            let (events, result, _, _) = run(receiver, &wire, &cuts);
            prop_assert_eq!(result, Ok(()));
            let want: Vec<Event> = ops.iter().map(expected).collect();
            prop_assert_eq!(events, want);
        }
    }
}
