//! RFC 9112 §6.3 and RFC 9110 §5.5 when sending: what the user sends is
//! framed for them, and ambiguity is refused.
use crate::*;
use proto_http::{Headers, SendError, Version, WriteState};

fn with_request(req: &[u8]) -> Connection {
    let mut c = server();
    c.handle_input(t0(), req).unwrap();
    events(&mut c);
    c
}

fn response_with(fields: &[(&str, &str)]) -> Response {
    let mut r = Response::new(200);
    for (n, v) in fields {
        r.headers_mut().append(n, v);
    }
    r
}

#[test]
fn content_length_plus_transfer_encoding_is_refused() {
    let mut c = with_request(&get_with(""));
    let r = response_with(&[("Content-Length", "2"), ("Transfer-Encoding", "chunked")]);
    assert_eq!(c.send_response(r), Err(SendError::AmbiguousFraming));
    assert_eq!(transmit(&mut c).0, b"", "nothing queued");
    assert_eq!(
        c.write_state(),
        WriteState::AwaitingResponse,
        "and the connection is unchanged"
    );
}

#[test]
fn cr_or_lf_inside_a_header_value_is_refused() {
    let mut c = with_request(&get_with(""));
    for bad in ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"] {
        assert_eq!(
            c.send_response(response_with(&[("X", bad)])),
            Err(SendError::InvalidFieldValue)
        );
    }
    assert_eq!(
        c.send_response(response_with(&[("X Y", "a")])),
        Err(SendError::InvalidFieldName)
    );
    let mut r = Response::new(200);
    r.set_reason("OK\r\nX: y");
    assert_eq!(c.send_response(r), Err(SendError::InvalidReason));
}

#[test]
fn other_transfer_codings_are_refused() {
    let mut c = with_request(&get_with(""));
    assert_eq!(
        c.send_response(response_with(&[("Transfer-Encoding", "gzip, chunked")])),
        Err(SendError::UnsupportedTransferEncoding)
    );
    assert_eq!(
        c.send_response(response_with(&[
            ("Content-Length", "1"),
            ("Content-Length", "1")
        ])),
        Err(SendError::InvalidContentLength)
    );
}

#[test]
fn known_length_is_sent_as_is_and_enforced() {
    let mut c = with_request(&get_with(""));
    c.send_response(response_with(&[("Content-Length", "5")]))
        .unwrap();
    c.send_body("hel").unwrap();
    assert_eq!(c.send_body("lo!"), Err(SendError::BodyTooLong));
    assert_eq!(c.finish(), Err(SendError::BodyTooShort));
    c.send_body("lo").unwrap();
    c.finish().unwrap();
    assert_eq!(
        transmit(&mut c).0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    );
}

#[test]
fn streamed_http_1_1_body_is_chunked() {
    let mut c = with_request(&get_with(""));
    c.send_response(Response::new(200)).unwrap();
    c.send_body(vec![b'a'; 300]).unwrap();
    c.send_body("").unwrap();
    c.finish().unwrap();
    let wire = transmit(&mut c).0;
    let mut expected = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12C\r\n".to_vec();
    expected.extend_from_slice(&[b'a'; 300]);
    expected.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(wire, expected);
}

#[test]
fn chunked_to_http_1_0_is_refused() {
    let mut c = with_request(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(
        c.send_response(response_with(&[("Transfer-Encoding", "chunked")])),
        Err(SendError::UnsupportedTransferEncoding)
    );
}

#[test]
fn bodiless_responses_take_no_body() {
    let mut c = with_request(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    c.send_response(response_with(&[("Content-Length", "10")]))
        .unwrap();
    assert_eq!(c.send_body("x"), Err(SendError::BodyNotAllowed));
    c.finish().unwrap();
    assert_eq!(
        transmit(&mut c).0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    );

    let mut c = with_request(&get_with(""));
    c.send_response(Response::new(304)).unwrap();
    assert_eq!(c.send_body("x"), Err(SendError::BodyNotAllowed));
    c.finish().unwrap();
    assert_eq!(transmit(&mut c).0, b"HTTP/1.1 304 Not Modified\r\n\r\n");
}

#[test]
fn framing_fields_on_204_are_refused() {
    let mut c = with_request(&get_with(""));
    let mut r = Response::new(204);
    r.headers_mut().append("Content-Length", "0");
    assert_eq!(c.send_response(r), Err(SendError::ForbiddenField));
}

#[test]
fn wrong_state_errors_name_the_state() {
    let mut c = server();
    let err = c.send_response(Response::new(200)).unwrap_err();
    assert_eq!(
        err,
        SendError::WrongState {
            command: "send_response",
            state: WriteState::Idle
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot send_response while the sending half is idle"
    );
    c.handle_input(t0(), &get_with("")).unwrap();
    assert_eq!(
        c.send_body("x"),
        Err(SendError::WrongState {
            command: "send_body",
            state: WriteState::AwaitingResponse
        })
    );
    assert_eq!(
        c.send_informational(Response::new(200)),
        Err(SendError::InvalidStatus)
    );
    assert_eq!(
        c.send_response(Response::new(100)),
        Err(SendError::InvalidStatus)
    );
    assert_eq!(
        c.send_request(get("/")),
        Err(SendError::WrongSide {
            command: "send_request"
        })
    );
}

#[test]
fn client_requests_need_a_host_and_valid_parts() {
    let mut c = client();
    assert_eq!(
        c.send_request(Request::new("GET", "/")),
        Err(SendError::MissingHost)
    );
    let mut r = Request::new("GET", "/");
    r.set_version(Version::Http10);
    assert_eq!(c.send_request(r), Ok(()));
    let mut c = client();
    assert_eq!(
        c.send_request(Request::new("GE T", "/")),
        Err(SendError::InvalidMethod)
    );
    assert_eq!(
        c.send_request(Request::new("GET", "/a b")),
        Err(SendError::InvalidTarget)
    );
    assert_eq!(
        c.send_request(Request::new("GET", "")),
        Err(SendError::InvalidTarget)
    );
}

#[test]
fn request_without_framing_fields_has_no_body() {
    let mut c = client();
    c.send_request(get("/")).unwrap();
    assert_eq!(c.send_body("x"), Err(SendError::BodyNotAllowed));
}

#[test]
fn trailers_are_checked() {
    let mut c = with_request(&get_with(""));
    c.send_response(Response::new(200)).unwrap();
    let mut t = Headers::new();
    t.append("Content-Length", "5");
    assert_eq!(c.finish_with_trailers(&t), Err(SendError::ForbiddenField));
    let mut c = with_request(&get_with(""));
    c.send_response(response_with(&[("Content-Length", "0")]))
        .unwrap();
    assert_eq!(
        c.finish_with_trailers(&Headers::new()),
        Err(SendError::TrailersNotAllowed)
    );
}
