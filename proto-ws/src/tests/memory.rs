//! DESIGN.md "memory": an idle connection holds at most 4 KiB in all.

use super::util::*;
use crate::{Config, Connection};

const IDLE_BUDGET: usize = 4096;

fn idle_cost(conn: &Connection) -> usize {
    size_of::<Connection>() + conn.buffer_capacity()
}

#[test]
fn an_idle_connection_costs_at_most_4_kib() {
    let now = t0();
    let mut s = server(now);
    assert!(idle_cost(&s) <= IDLE_BUDGET, "fresh: {}", idle_cost(&s));

    // A busy spell: a 1 MiB message in, a 1 MiB message out, pings.
    let (events, _) = feed(&mut s, now, &cf(0x82, &vec![1; 1 << 20]));
    assert_eq!(events.len(), 1);
    drop(events);
    s.send_binary(&vec![2; 1 << 20]).unwrap();
    assert_eq!(feed(&mut s, now, &cf(0x89, b"ping")).1, Ok(()));
    drain(&mut s, now);
    assert!(
        idle_cost(&s) <= IDLE_BUDGET,
        "after traffic: {}",
        idle_cost(&s)
    );

    let mut c = client(now);
    let (events, _) = feed(&mut c, now, &sf(0x81, &vec![b'a'; 100_000]));
    drop(events);
    c.send_text(&"b".repeat(100_000)).unwrap();
    drain(&mut c, now);
    assert!(idle_cost(&c) <= IDLE_BUDGET, "client: {}", idle_cost(&c));
}

#[test]
fn a_half_received_frame_holds_only_what_arrived() {
    let now = t0();
    let mut s = server(now);
    let wire = cf(0x82, &vec![0; 1 << 20]);
    s.handle_input(now, &wire[..1000]).unwrap();
    assert!(s.buffered_input() < 1000);
    assert!(s.buffer_capacity() < 4096);
}

#[test]
fn the_connection_struct_itself_is_small() {
    println!(
        "Connection {} B, Event {} B",
        size_of::<Connection>(),
        size_of::<crate::Event>()
    );
    assert!(
        size_of::<Connection>() <= 1024,
        "{}",
        size_of::<Connection>()
    );
    assert!(size_of::<Config>() <= 256);
}

#[test]
fn a_partial_frame_after_many_messages_does_not_pin_the_read() {
    let now = t0();
    let mut s = server(now);
    let mut wire = Vec::new();
    for _ in 0..20 {
        wire.extend(cf(0x82, &[3; 1000]));
    }
    let last = cf(0x82, &[4; 1000]);
    wire.extend_from_slice(&last[..100]);
    let (events, result) = feed(&mut s, now, &wire);
    assert_eq!((events.len(), result), (20, Ok(())));
    drop(events);
    assert!(idle_cost(&s) <= IDLE_BUDGET, "partial: {}", idle_cost(&s));
    let (events, _) = feed(&mut s, now, &last[100..]);
    assert_eq!(events, [crate::Event::Binary(vec![4; 1000].into())]);
}
