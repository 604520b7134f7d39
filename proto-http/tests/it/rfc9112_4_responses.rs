//! RFC 9112 §4 and §6.3: the client role parses responses with the same
//! strictness.
use crate::*;
use proto_http::{Headers, State, Violation};

fn sent(c: &mut Connection, req: Request) {
    c.send_request(req).unwrap();
    c.finish().unwrap();
    let _ = transmit(c);
}

#[test]
fn http_1_0_close_delimited_response_ends_at_eof() {
    let mut c = client();
    sent(&mut c, get("/"));
    c.handle_input(
        t0(),
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ",
    )
    .unwrap();
    c.handle_input(t0(), b"this").unwrap();
    c.handle_eof(t0());
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Response(200),
            Ev::Body(b"all of this".to_vec()),
            Ev::End(vec![]),
            Ev::Closed
        ]
    );
    assert!(c.is_closed() && c.error().is_none());
}

#[test]
fn interim_responses_come_before_the_final_one() {
    let mut c = client();
    sent(&mut c, get("/"));
    c.handle_input(
        t0(),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    )
    .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Informational(100),
            Ev::Informational(103),
            Ev::Response(200),
            Ev::Body(b"ok".to_vec()),
            Ev::End(vec![])
        ]
    );
    assert_eq!(c.state(), State::Idle);
}

#[test]
fn head_response_has_no_body_whatever_its_length() {
    let mut c = client();
    sent(&mut c, {
        let mut r = Request::new("HEAD", "/");
        r.headers_mut().append("Host", "a");
        r
    });
    sent(&mut c, get("/2"));
    c.handle_input(t0(), b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Response(200),
            Ev::End(vec![]),
            Ev::Response(200),
            Ev::Body(b"ok".to_vec()),
            Ev::End(vec![])
        ]
    );
}

#[test]
fn no_content_and_not_modified_have_no_body() {
    let mut c = client();
    sent(&mut c, get("/1"));
    sent(&mut c, get("/2"));
    c.handle_input(
        t0(),
        b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Response(204),
            Ev::End(vec![]),
            Ev::Response(304),
            Ev::End(vec![])
        ]
    );
}

#[test]
fn chunked_response_with_trailers() {
    let mut c = client();
    sent(&mut c, get("/"));
    c.handle_input(
        t0(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nEtag: x\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Response(200),
            Ev::Body(b"abc".to_vec()),
            Ev::End(vec![(b"Etag".to_vec(), b"x".to_vec())])
        ]
    );
}

#[test]
fn response_with_content_length_and_transfer_encoding_is_refused() {
    let mut c = client();
    sent(&mut c, get("/"));
    let err = c
        .handle_input(
            t0(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::Malformed(Violation::ContentLengthAndTransferEncoding)
    );
    assert_eq!(
        transmit(&mut c),
        (Vec::new(), true),
        "a client sends no error response"
    );
}

#[test]
fn a_response_without_a_request_is_refused() {
    let mut c = client();
    let err = c
        .handle_input(t0(), b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        .unwrap_err();
    assert_eq!(err, Error::Malformed(Violation::UnsolicitedResponse));
}

#[test]
fn malformed_status_lines_are_refused() {
    for bad in [
        &b"HTTP/1.1 20 OK\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/1.1 099 x\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
    ] {
        let mut c = client();
        sent(&mut c, get("/"));
        assert_eq!(
            c.handle_input(t0(), bad).unwrap_err(),
            Error::Malformed(Violation::InvalidStatusLine)
        );
    }
}

#[test]
fn connection_close_response_closes_the_client() {
    let mut c = client();
    sent(&mut c, get("/"));
    c.handle_input(
        t0(),
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [Ev::Response(200), Ev::End(vec![])]
    );
    assert!(c.is_closed());
    assert!(matches!(
        c.send_request(get("/")),
        Err(proto_http::SendError::WrongState { .. })
    ));
}

#[test]
fn chunked_request_with_trailers_round_trips_to_a_server() {
    let mut c = client();
    let mut req = Request::new("PUT", "/f");
    req.headers_mut()
        .append("Host", "a")
        .append("Transfer-Encoding", "chunked");
    c.send_request(req).unwrap();
    c.send_body("hello ").unwrap();
    c.send_body("world").unwrap();
    let mut trailers = Headers::new();
    trailers.append("Digest", "sha-256=abc");
    c.finish_with_trailers(&trailers).unwrap();
    let (wire, _) = transmit(&mut c);
    let mut s = server();
    s.handle_input(t0(), &wire).unwrap();
    assert_eq!(
        simplify(events(&mut s)),
        [
            Ev::Request("PUT".into(), "/f".into()),
            Ev::Body(b"hello world".to_vec()),
            Ev::End(vec![(b"Digest".to_vec(), b"sha-256=abc".to_vec())])
        ]
    );
}

#[test]
fn pipelined_client_requests_get_their_responses_in_order() {
    let mut c = client();
    sent(&mut c, get("/1"));
    sent(&mut c, get("/2"));
    c.handle_input(t0(), b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb").unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Response(200),
            Ev::Body(b"a".to_vec()),
            Ev::End(vec![]),
            Ev::Response(404),
            Ev::Body(b"b".to_vec()),
            Ev::End(vec![])
        ]
    );
}

#[test]
fn eof_before_the_response_fails_the_client() {
    let mut c = client();
    sent(&mut c, get("/"));
    c.handle_eof(t0());
    assert_eq!(c.error(), Some(&Error::IncompleteMessage));
}
