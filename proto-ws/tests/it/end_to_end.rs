//! A whole exchange: handshake heads, then framing, then the close
//! handshake, with both machines wired back to back and a virtual clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use proto_core::{Drive, OriginPolicy, Side, Transmit};
use proto_ws::handshake::{ClientHandshake, validate_request};
use proto_ws::{Config, Connection, Event, SeededMasks, State};

#[allow(clippy::disallowed_methods)] // tests need one origin instant
fn t0() -> Instant {
    Instant::now()
}

/// Moves every byte `from` wants to send into `to`; returns whether `from`
/// asked to shut down its write side.
fn pump(now: Instant, from: &mut Connection, to: &mut Connection) -> bool {
    let mut wire = Vec::new();
    let mut shutdown = false;
    while let Some(t) = from.poll_transmit(now, &mut wire) {
        shutdown |= t == Transmit::ShutdownWrite;
    }
    let mut rest = &wire[..];
    while !rest.is_empty() {
        let n = to.handle_input(now, rest).expect("valid traffic");
        rest = &rest[n..];
        if n == 0 {
            break;
        }
    }
    if shutdown {
        to.handle_eof(now);
    }
    shutdown
}

fn all_events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

#[test]
fn handshake_messages_and_close_handshake() {
    let mut now = t0();
    // Opening handshake (RFC 6455 §4) on proto-http heads.
    let mut hs = ClientHandshake::new(*b"0123456789abcdef");
    hs.protocols(["chat"]);
    let mut request = hs.request("127.0.0.1:8080", "/ws");
    request
        .headers_mut()
        .append("Origin", "http://127.0.0.1:8080");
    let offer = validate_request(&request, &OriginPolicy::same_host()).unwrap();
    let response = offer.accept(Some("chat")).unwrap();
    assert_eq!(
        hs.validate_response(&response).unwrap().protocol(),
        Some("chat")
    );

    let mut server = Connection::new(Side::Server, Config::default(), now).unwrap();
    let mut client_config = Config::default();
    client_config
        .mask_source(Arc::new(SeededMasks::new(99)))
        .ping_interval(Duration::MAX);
    let mut client = Connection::new(Side::Client, client_config, now).unwrap();

    client.send_text("hello").unwrap();
    client.send_binary(&[1, 2, 3]).unwrap();
    client.send_ping(b"p").unwrap();
    pump(now, &mut client, &mut server);
    assert_eq!(
        all_events(&mut server),
        [
            Event::Text("hello".into()),
            Event::Binary(vec![1, 2, 3].into()),
            Event::Ping("p".into())
        ]
    );
    pump(now, &mut server, &mut client);
    assert_eq!(all_events(&mut client), [Event::Pong("p".into())]);

    // Virtual clock: jump to the earlier deadline; the server pings.
    now = server
        .poll_timeout()
        .unwrap()
        .min(client.poll_timeout().unwrap());
    server.handle_timeout(now);
    client.handle_timeout(now);
    pump(now, &mut server, &mut client);
    assert_eq!(all_events(&mut client), [Event::Ping("".into())]);
    pump(now, &mut client, &mut server);
    assert_eq!(all_events(&mut server), [Event::Pong("".into())]);

    // Close handshake: the client starts, the server echoes and closes TCP.
    now += Duration::from_secs(1);
    client.close(now, 1000, "done").unwrap();
    pump(now, &mut client, &mut server);
    assert_eq!(
        all_events(&mut server),
        [Event::Closed {
            code: 1000,
            reason: "done".into()
        }]
    );
    let server_shut = pump(now, &mut server, &mut client);
    assert!(server_shut);
    assert!(server.is_closed());
    assert_eq!(
        all_events(&mut client),
        [Event::Closed {
            code: 1000,
            reason: String::new()
        }]
    );
    assert_eq!(client.state(), State::Closed);
    assert!(Drive::is_closed(&client), "the client saw the server's EOF");
}
