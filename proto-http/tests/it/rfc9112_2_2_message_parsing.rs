//! RFC 9112 §2.2: line ends, bare CR, the ignored empty line.
use crate::*;
use proto_http::Violation;

#[test]
fn bare_cr_in_a_field_line_is_400() {
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        Error::Malformed(Violation::BareCr),
    );
}

#[test]
fn bare_cr_in_the_request_line_is_400() {
    rejects(
        b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
        Error::Malformed(Violation::BareCr),
    );
}

#[test]
fn lf_without_cr_is_400_by_default() {
    rejects(
        b"GET / HTTP/1.1\nHost: a\n\n",
        Error::Malformed(Violation::BareLf),
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        Error::Malformed(Violation::BareLf),
    );
}

#[test]
fn lf_line_ends_are_accepted_with_allow_lf_line_endings() {
    let mut config = Config::default();
    config.allow_lf_line_endings(true);
    let evs = accepts_with(b"GET /old HTTP/1.0\nHost: a\n\n", config);
    assert_eq!(
        evs,
        [Ev::Request("GET".into(), "/old".into()), Ev::End(vec![])]
    );
}

#[test]
fn allow_lf_line_endings_never_applies_to_chunk_framing() {
    let mut config = Config::default();
    config.allow_lf_line_endings(true);
    rejects_body_with(
        b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n",
        Error::Malformed(Violation::BareLf),
        config,
    );
}

#[test]
fn bare_cr_is_refused_even_with_allow_lf_line_endings() {
    let mut config = Config::default();
    config.allow_lf_line_endings(true);
    rejects_with(
        b"GET / HTTP/1.1\rHost: a\n\n",
        Error::Malformed(Violation::BareCr),
        config,
    );
}

#[test]
fn one_empty_line_before_the_request_line_is_ignored() {
    let evs = accepts(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(evs[0], Ev::Request("GET".into(), "/".into()));
}

#[test]
fn two_empty_lines_before_the_request_line_are_400() {
    rejects(
        b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        Error::Malformed(Violation::InvalidRequestLine),
    );
}
