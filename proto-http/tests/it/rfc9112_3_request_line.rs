//! RFC 9112 §3: the request line, its version and its target forms.
use crate::*;
use proto_http::Violation;

fn line(l: &str) -> Vec<u8> {
    format!("{l}\r\nHost: example.com\r\n\r\n").into_bytes()
}

#[test]
fn method_must_be_a_token() {
    rejects(
        &line("G(T / HTTP/1.1"),
        Error::Malformed(Violation::InvalidMethod),
    );
    rejects(
        &line("G\"T / HTTP/1.1"),
        Error::Malformed(Violation::InvalidMethod),
    );
}

#[test]
fn separators_are_single_spaces() {
    rejects(
        &line("GET  / HTTP/1.1"),
        Error::Malformed(Violation::InvalidRequestLine),
    );
    rejects(
        &line("GET\t/ HTTP/1.1"),
        Error::Malformed(Violation::InvalidRequestLine),
    );
    rejects(
        &line("GET /\tHTTP/1.1"),
        Error::Malformed(Violation::InvalidRequestLine),
    );
    rejects(
        &line(" GET / HTTP/1.1"),
        Error::Malformed(Violation::InvalidRequestLine),
    );
    rejects(
        &line("GET / HTTP/1.1 "),
        Error::Malformed(Violation::InvalidVersion),
    );
    rejects(
        &line("GET /"),
        Error::Malformed(Violation::InvalidRequestLine),
    );
}

#[test]
fn other_well_formed_versions_are_505() {
    rejects(&line("GET / HTTP/1.2"), Error::VersionNotSupported);
    rejects(&line("GET / HTTP/2.0"), Error::VersionNotSupported);
    rejects(&line("GET / HTTP/0.9"), Error::VersionNotSupported);
}

#[test]
fn malformed_versions_are_400() {
    for v in [
        "http/1.1",
        "HTTP/1",
        "HTTP/11",
        "HTTP/1.1.1",
        "HTTP/a.b",
        "HTTPS/1.1",
    ] {
        rejects(
            &line(&format!("GET / {v}")),
            Error::Malformed(Violation::InvalidVersion),
        );
    }
}

#[test]
fn origin_form_is_accepted() {
    let evs = accepts(&line("GET /a/b?c=d&e HTTP/1.1"));
    assert_eq!(evs[0], Ev::Request("GET".into(), "/a/b?c=d&e".into()));
}

#[test]
fn absolute_form_is_accepted() {
    let evs = accepts(&line("GET http://example.com/x HTTP/1.1"));
    assert_eq!(
        evs[0],
        Ev::Request("GET".into(), "http://example.com/x".into())
    );
}

#[test]
fn asterisk_form_only_with_options() {
    accepts(&line("OPTIONS * HTTP/1.1"));
    rejects(
        &line("GET * HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
}

#[test]
fn authority_form_only_with_connect() {
    let evs = accepts(&line("CONNECT example.com:443 HTTP/1.1"));
    assert_eq!(
        evs[0],
        Ev::Request("CONNECT".into(), "example.com:443".into())
    );
    rejects(
        &line("GET example.com:443 HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
    rejects(
        &line("CONNECT / HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
    rejects(
        &line("CONNECT example.com HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
}

#[test]
fn origin_form_must_start_with_a_slash() {
    rejects(
        &line("GET a/b HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
}

#[test]
fn raw_non_ascii_in_the_target_is_400() {
    rejects(
        &line("GET /caf\u{e9} HTTP/1.1"),
        Error::Malformed(Violation::InvalidTarget),
    );
}

#[test]
fn control_characters_in_the_target_are_400() {
    rejects(
        &line("GET /a\x01b HTTP/1.1"),
        Error::Malformed(Violation::ControlCharacter),
    );
    rejects(
        &line("GET /a\x7fb HTTP/1.1"),
        Error::Malformed(Violation::ControlCharacter),
    );
}

#[test]
fn http_1_0_requests_need_no_host() {
    let evs = accepts(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(
        evs,
        [Ev::Request("GET".into(), "/".into()), Ev::End(vec![])]
    );
}

#[test]
fn parsed_request_keeps_method_target_version_and_fields() {
    let mut c = server();
    c.handle_input(
        t0(),
        b"DELETE /x?y HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
    )
    .unwrap();
    match c.poll_event() {
        Some(Event::Request(r)) => {
            assert_eq!(r.method(), "DELETE");
            assert_eq!(r.target(), "/x?y");
            assert_eq!(r.version(), proto_http::Version::Http11);
            assert_eq!(
                r.headers().get_all("X-A").collect::<Vec<_>>(),
                [&b"1"[..], &b"2"[..]]
            );
            let names: Vec<&[u8]> = r.headers().iter().map(|(n, _)| n).collect();
            assert_eq!(
                names,
                [&b"Host"[..], b"X-A", b"x-a"],
                "raw names kept in order"
            );
        }
        other => panic!("{other:?}"),
    }
}
