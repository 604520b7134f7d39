//! HTTP/1.1 request vectors (`vectors/http1/requests.json`) against a
//! proto-http server with the default `Config`.
//!
//! Each vector is fed whole, split at every offset (short vectors), one byte
//! per read, and in odd-sized chunks; every way must give the same verdict:
//! either exactly one request with the expected body, or the expected error
//! status written to the wire followed by the end of the connection.

use std::time::Instant;

use proto_http::{Config, Connection, Event, Side, Transmit};
use serde_json::Value;

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// One request; its method and body.
    Accepted { requests: usize, body: Vec<u8> },
    /// The status line written before closing.
    Refused { status: u16, closed: bool },
    /// Neither: the machine wants more input, or something else happened.
    Stuck(String),
}

#[allow(clippy::disallowed_methods)] // one origin instant; time does not move
fn now() -> Instant {
    Instant::now()
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("vectors are Latin-1: one byte per character"))
        .collect()
}

fn run(input: &[u8], cuts: &[usize]) -> Verdict {
    let now = now();
    let mut conn = Connection::new(Side::Server, Config::default()).expect("default config");
    let (mut requests, mut body, mut ended) = (0, Vec::new(), false);
    let mut wire = Vec::new();
    let mut error = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut start = 0;
    let mut pieces = cuts.iter().copied().chain([input.len()]);
    // Bounded: every round either consumes a piece or drains the machine.
    for _ in 0..(input.len() * 4 + 64) {
        if pending.is_empty() {
            let Some(end) = pieces.next() else { break };
            pending.extend_from_slice(&input[start..end]);
            start = end;
        }
        match conn.handle_input(now, &pending) {
            Ok(used) => {
                pending.drain(..used);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Request(_) => requests += 1,
                Event::Data(bytes) => body.extend_from_slice(&bytes),
                Event::EndOfMessage { .. } => ended = true,
                other => return Verdict::Stuck(format!("unexpected event {other:?}")),
            }
        }
        if ended {
            break;
        }
    }
    let mut closed = false;
    while let Some(t) = conn.poll_transmit(now, &mut wire) {
        closed |= t == Transmit::ShutdownWrite;
    }
    match error {
        Some(e) => {
            let status_line = format!("HTTP/1.1 {} ", e.status_hint());
            assert!(
                wire.starts_with(status_line.as_bytes()),
                "the error response is queued: {:?}",
                String::from_utf8_lossy(&wire)
            );
            Verdict::Refused {
                status: e.status_hint(),
                closed,
            }
        }
        None if ended => Verdict::Accepted { requests, body },
        None => Verdict::Stuck(format!("no verdict after {requests} requests")),
    }
}

fn splits(len: usize) -> Vec<Vec<usize>> {
    let mut ways = vec![vec![]];
    if len <= 2048 {
        ways.extend((1..len).map(|cut| vec![cut]));
    }
    if len <= 8192 {
        ways.push((1..len).collect());
    }
    for step in [7, 1000] {
        ways.push((step..len).step_by(step).collect());
    }
    ways
}

#[test]
fn every_vector_gets_its_verdict_whatever_the_split() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/http1/requests.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = file["vectors"].as_array().expect("a vectors array");
    assert!(
        vectors.len() >= 80,
        "the vector file lost entries: {}",
        vectors.len()
    );
    let mut failures = Vec::new();
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let input = latin1(vector["request"].as_str().unwrap());
        let expected = match &vector["expect"] {
            Value::String(s) if s == "accept" => Verdict::Accepted {
                requests: 1,
                body: latin1(
                    vector["body"]
                        .as_str()
                        .expect("accepted vectors name their body"),
                ),
            },
            Value::Number(n) => Verdict::Refused {
                status: u16::try_from(n.as_u64().unwrap()).unwrap(),
                closed: true,
            },
            other => panic!("{name}: bad expect {other}"),
        };
        for cuts in splits(input.len()) {
            let got = run(&input, &cuts);
            if got != expected {
                failures.push(format!(
                    "{name} ({}): expected {expected:?}, got {got:?} with {} cuts",
                    vector["rule"].as_str().unwrap_or(""),
                    cuts.len()
                ));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
