//! RFC 9112 §3.2: exactly one valid Host.
use crate::*;
use proto_http::Violation;

#[test]
fn http_1_1_request_without_host_is_400() {
    rejects(
        b"GET / HTTP/1.1\r\n\r\n",
        Error::Malformed(Violation::MissingHost),
    );
}

#[test]
fn two_host_fields_are_400() {
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        Error::Malformed(Violation::MultipleHost),
    );
    rejects(
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
        Error::Malformed(Violation::MultipleHost),
    );
}

#[test]
fn invalid_host_value_is_400() {
    for bad in ["a b", "a/b", "a@b", "[::1", "a:b:c", "a:123456"] {
        rejects(
            format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n").as_bytes(),
            Error::Malformed(Violation::InvalidHost),
        );
    }
}

#[test]
fn valid_host_values_are_accepted() {
    for good in [
        "example.com",
        "example.com:8080",
        "127.0.0.1:1",
        "[::1]:443",
        "[::1]",
        "",
    ] {
        accepts(format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n").as_bytes());
    }
}
