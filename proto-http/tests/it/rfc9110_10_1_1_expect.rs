//! RFC 9110 §10.1.1: Expect: 100-continue.
use crate::*;

#[test]
fn continue_then_body_keeps_the_connection() {
    let mut c = server();
    c.handle_input(
        t0(),
        &post_with("Content-Length: 5\r\nExpect: 100-continue\r\n", ""),
    )
    .unwrap();
    assert!(c.is_waiting_for_continue());
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Request("POST".into(), "/upload".into())]
    );
    c.send_informational(Response::new(100)).unwrap();
    assert_eq!(transmit(&mut c).0, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.handle_input(t0(), b"hello").unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Body(b"hello".to_vec()), Ev::End(vec![])]
    );
    answer(&mut c, "ok");
    assert!(!transmit(&mut c).1, "still keep-alive");
}

#[test]
fn final_response_without_continue_closes_the_connection() {
    let mut c = server();
    c.handle_input(
        t0(),
        &post_with("Content-Length: 5\r\nExpect: 100-continue\r\n", ""),
    )
    .unwrap();
    events(&mut c);
    let mut res = Response::new(417);
    res.headers_mut().append("Content-Length", "0");
    c.send_response(res).unwrap();
    c.finish().unwrap();
    let (wire, shutdown) = transmit(&mut c);
    assert!(
        String::from_utf8(wire)
            .unwrap()
            .contains("Connection: close")
    );
    assert!(shutdown);
}

#[test]
fn expect_without_a_body_waits_for_nothing() {
    let mut c = server();
    c.handle_input(t0(), &get_with("Expect: 100-continue\r\n"))
        .unwrap();
    assert!(!c.is_waiting_for_continue());
}

#[test]
fn body_arriving_first_ends_the_wait() {
    let mut c = server();
    c.handle_input(
        t0(),
        &post_with("Content-Length: 5\r\nExpect: 100-continue\r\n", "hello"),
    )
    .unwrap();
    assert!(!c.is_waiting_for_continue());
    events(&mut c);
    answer(&mut c, "ok");
    assert!(!transmit(&mut c).1);
}

#[test]
fn no_informational_response_to_http_1_0() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(
        c.send_informational(Response::new(100)),
        Err(proto_http::SendError::InvalidStatus)
    );
}
