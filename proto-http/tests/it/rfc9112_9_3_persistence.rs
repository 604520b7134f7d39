//! RFC 9112 §9.3: keep-alive, pipelining, Connection: close, HTTP/1.0.
use crate::*;
use proto_http::{State, Violation};

#[test]
fn pipelined_requests_in_one_read_are_parsed_one_at_a_time() {
    let mut c = server();
    let input = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
    assert_eq!(c.handle_input(t0(), input).unwrap(), input.len());
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Request("GET".into(), "/1".into()), Ev::End(vec![])]
    );
    answer(&mut c, "one");
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Request("GET".into(), "/2".into()), Ev::End(vec![])]
    );
    answer(&mut c, "two");
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Request("POST".into(), "/3".into()),
            Ev::Body(b"hi".to_vec()),
            Ev::End(vec![])
        ]
    );
    answer(&mut c, "three");
    let (wire, shutdown) = transmit(&mut c);
    let wire = String::from_utf8(wire).unwrap();
    assert_eq!(wire.matches("HTTP/1.1 200 OK").count(), 3);
    assert!(wire.ends_with("three") && !shutdown);
    assert_eq!(c.state(), State::Idle);
}

#[test]
fn a_bad_pipelined_request_is_answered_after_the_good_ones() {
    let mut c = server();
    let input = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
    c.handle_input(t0(), input).unwrap();
    events(&mut c);
    c.send_response(ok_response("ok")).unwrap();
    c.send_body("ok").unwrap();
    c.finish().unwrap();
    assert_eq!(c.error(), Some(&Error::Malformed(Violation::MissingHost)));
    let (wire, shutdown) = transmit(&mut c);
    let wire = String::from_utf8(wire).unwrap();
    assert!(wire.starts_with("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    assert!(
        wire.ends_with(
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
    );
    assert!(shutdown);
}

#[test]
fn keep_alive_reuses_the_connection() {
    let mut c = server();
    for i in 0..5 {
        c.handle_input(
            t0(),
            format!("GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            simplify(events(&mut c))[0],
            Ev::Request("GET".into(), format!("/{i}"))
        );
        answer(&mut c, "ok");
        let (_, shutdown) = transmit(&mut c);
        assert!(!shutdown);
        assert_eq!(c.state(), State::Idle);
    }
}

#[test]
fn connection_close_from_the_client_closes_after_the_response() {
    let mut c = server();
    c.handle_input(t0(), &get_with("Connection: close\r\n"))
        .unwrap();
    events(&mut c);
    answer(&mut c, "ok");
    let (wire, shutdown) = transmit(&mut c);
    assert!(
        String::from_utf8(wire)
            .unwrap()
            .contains("\r\nConnection: close\r\n")
    );
    assert!(shutdown && c.is_closed());
}

#[test]
fn connection_close_from_the_server_closes_after_the_response() {
    let mut c = server();
    c.handle_input(t0(), &get_with("")).unwrap();
    events(&mut c);
    let mut res = ok_response("ok");
    res.headers_mut().append("Connection", "close");
    c.send_response(res).unwrap();
    c.send_body("ok").unwrap();
    c.finish().unwrap();
    let (wire, shutdown) = transmit(&mut c);
    assert_eq!(
        String::from_utf8(wire)
            .unwrap()
            .matches("Connection")
            .count(),
        1
    );
    assert!(shutdown && c.is_closed());
}

#[test]
fn http_1_0_closes_unless_keep_alive_is_asked_for() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.0\r\n\r\n").unwrap();
    events(&mut c);
    answer(&mut c, "ok");
    let (wire, shutdown) = transmit(&mut c);
    assert!(
        String::from_utf8(wire)
            .unwrap()
            .contains("Connection: close\r\n")
    );
    assert!(shutdown);
}

#[test]
fn http_1_0_keep_alive_is_honoured_and_confirmed() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    events(&mut c);
    answer(&mut c, "ok");
    let (wire, shutdown) = transmit(&mut c);
    assert!(
        String::from_utf8(wire)
            .unwrap()
            .contains("Connection: keep-alive\r\n")
    );
    assert!(!shutdown);
    assert_eq!(c.state(), State::Idle);
}

#[test]
fn http_1_0_response_without_length_is_close_delimited() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    events(&mut c);
    c.send_response(Response::new(200)).unwrap();
    c.send_body("streamed").unwrap();
    c.finish().unwrap();
    let (wire, shutdown) = transmit(&mut c);
    assert_eq!(
        wire,
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed"
    );
    assert!(shutdown);
}

#[test]
fn eof_between_requests_is_a_clean_close() {
    let mut c = server();
    c.handle_input(t0(), &get_with("")).unwrap();
    events(&mut c);
    answer(&mut c, "");
    c.handle_eof(t0());
    assert_eq!(events(&mut c), [Event::Closed]);
    assert!(c.is_closed() && c.error().is_none());
}

#[test]
fn eof_in_the_middle_of_a_head_fails_silently() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.1\r\nHo").unwrap();
    c.handle_eof(t0());
    assert_eq!(c.error(), Some(&Error::IncompleteMessage));
    assert_eq!(transmit(&mut c), (Vec::new(), true));
}

#[test]
fn eof_after_a_complete_request_still_lets_the_server_answer() {
    let mut c = server();
    c.handle_input(t0(), &get_with("")).unwrap();
    c.handle_eof(t0());
    events(&mut c);
    answer(&mut c, "ok");
    let (wire, shutdown) = transmit(&mut c);
    assert!(String::from_utf8(wire).unwrap().ends_with("ok"));
    assert!(shutdown && c.is_closed());
}

#[test]
fn early_response_then_body_keeps_the_connection() {
    let mut c = server();
    c.handle_input(t0(), &post_with("Content-Length: 4\r\n", "ab"))
        .unwrap();
    events(&mut c);
    answer(&mut c, "early");
    c.handle_input(t0(), b"cdGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Body(b"cd".to_vec()),
            Ev::End(vec![]),
            Ev::Request("GET".into(), "/next".into()),
            Ev::End(vec![])
        ]
    );
}
