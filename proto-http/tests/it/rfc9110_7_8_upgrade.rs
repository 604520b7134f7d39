//! RFC 9110 §7.8 and §9.3.6: Upgrade and CONNECT hand the connection over.
use crate::*;
use proto_http::{SendError, State};

const UPGRADE: &[u8] = b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";

fn switching() -> Response {
    let mut r = Response::new(101);
    r.headers_mut()
        .append("Connection", "Upgrade")
        .append("Upgrade", "websocket");
    r
}

#[test]
fn upgrade_hands_back_every_byte_after_the_request_untouched() {
    let mut c = server();
    let mut input = UPGRADE.to_vec();
    input.extend_from_slice(b"\x81\x85frame\r\n\r\nGET / HTTP/1.1\r\n");
    c.handle_input(t0(), &input).unwrap();
    c.handle_input(t0(), b"\x00\xffmore").unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Request("GET".into(), "/chat".into()), Ev::End(vec![])]
    );
    c.send_response(switching()).unwrap();
    let mut expected = b"\x81\x85frame\r\n\r\nGET / HTTP/1.1\r\n".to_vec();
    expected.extend_from_slice(b"\x00\xffmore");
    assert_eq!(simplify(events(&mut c)), [Ev::Upgraded(expected)]);
    assert_eq!(c.state(), State::Upgraded);
    assert_eq!(
        c.handle_input(t0(), b"later").unwrap(),
        0,
        "later bytes belong to the next protocol"
    );
    let (wire, shutdown) = transmit(&mut c);
    assert_eq!(
        wire,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    );
    assert!(!shutdown && !c.is_closed());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn upgrade_with_nothing_after_the_head_hands_back_nothing() {
    let mut c = server();
    c.handle_input(t0(), UPGRADE).unwrap();
    events(&mut c);
    c.send_response(switching()).unwrap();
    assert_eq!(simplify(events(&mut c)), [Ev::Upgraded(vec![])]);
}

#[test]
fn switching_protocols_without_an_upgrade_request_is_refused() {
    let mut c = server();
    c.handle_input(t0(), &get_with("")).unwrap();
    assert_eq!(c.send_response(switching()), Err(SendError::NotUpgradable));
}

#[test]
fn upgrade_in_http_1_0_is_ignored() {
    let mut c = server();
    c.handle_input(
        t0(),
        b"GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .unwrap();
    assert_eq!(c.send_response(switching()), Err(SendError::NotUpgradable));
}

#[test]
fn declining_an_upgrade_continues_with_http() {
    let mut c = server();
    let mut input = UPGRADE.to_vec();
    input.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    c.handle_input(t0(), &input).unwrap();
    events(&mut c);
    answer(&mut c, "no");
    assert_eq!(
        simplify(events(&mut c))[0],
        Ev::Request("GET".into(), "/next".into())
    );
}

#[test]
fn connect_2xx_switches_to_a_tunnel() {
    let mut c = server();
    c.handle_input(
        t0(),
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
    )
    .unwrap();
    events(&mut c);
    c.send_response(Response::new(200)).unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Upgraded(b"\x16\x03\x01".to_vec())]
    );
    assert_eq!(
        transmit(&mut c).0,
        b"HTTP/1.1 200 OK\r\n\r\n",
        "no framing on a tunnel"
    );
}

#[test]
fn client_sees_the_switch_and_the_bytes_after_the_101() {
    let mut c = client();
    let mut req = get("/chat");
    req.headers_mut()
        .append("Connection", "Upgrade")
        .append("Upgrade", "websocket");
    c.send_request(req).unwrap();
    c.finish().unwrap();
    let _ = transmit(&mut c);
    c.handle_input(t0(), b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi").unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Response(101), Ev::Upgraded(b"\x81\x02hi".to_vec())]
    );
    assert_eq!(c.state(), State::Upgraded);
}

#[test]
fn client_refuses_an_unrequested_switch() {
    let mut c = client();
    c.send_request(get("/")).unwrap();
    c.finish().unwrap();
    let err = c
        .handle_input(t0(), b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
        .unwrap_err();
    assert_eq!(
        err,
        Error::Malformed(proto_http::Violation::UnexpectedSwitch)
    );
}
