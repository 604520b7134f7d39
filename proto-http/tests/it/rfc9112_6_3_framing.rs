//! RFC 9112 §6 and RFC 9110 §8.6: one framing interpretation only.
use crate::*;
use proto_http::Violation;

#[test]
fn content_length_and_transfer_encoding_together_are_400() {
    let e = Error::Malformed(Violation::ContentLengthAndTransferEncoding);
    rejects(
        &post_with(
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
        ),
        e,
    );
    rejects(
        &post_with(
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "0\r\n\r\n",
        ),
        e,
    );
}

#[test]
fn content_length_must_be_digits_only() {
    for bad in ["+5", "-5", "1 0", "0x5", "5a", "", "5, 5", "5;", "\u{b3}"] {
        rejects(
            &post_with(&format!("Content-Length: {bad}\r\n"), "hello"),
            Error::Malformed(Violation::InvalidContentLength),
        );
    }
}

#[test]
fn content_length_overflowing_u64_is_400() {
    rejects(
        &post_with("Content-Length: 18446744073709551616\r\n", ""),
        Error::Malformed(Violation::InvalidContentLength),
    );
}

#[test]
fn repeated_content_length_is_400_even_with_equal_values() {
    rejects(
        &post_with("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
        Error::Malformed(Violation::MultipleContentLength),
    );
}

#[test]
fn content_length_delimits_the_body_exactly() {
    let evs = accepts(&post_with("Content-Length:  5 \r\n", "hello"));
    assert_eq!(
        evs,
        [
            Ev::Request("POST".into(), "/upload".into()),
            Ev::Body(b"hello".to_vec()),
            Ev::End(vec![])
        ]
    );
}

#[test]
fn no_framing_fields_means_no_body() {
    let mut c = server();
    c.handle_input(
        t0(),
        &post_with("", "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"),
    )
    .unwrap();
    assert_eq!(
        simplify(events(&mut c)),
        [
            Ev::Request("POST".into(), "/upload".into()),
            Ev::End(vec![])
        ]
    );
    answer(&mut c, "");
    assert_eq!(
        simplify(events(&mut c))[0],
        Ev::Request("GET".into(), "/next".into())
    );
}

#[test]
fn transfer_encoding_chunked_is_case_insensitive_with_ows() {
    for te in ["chunked", "Chunked", "CHUNKED", " chunked ", "\tchunked"] {
        accepts(&post_with(
            &format!("Transfer-Encoding:{te}\r\n"),
            "0\r\n\r\n",
        ));
    }
}

#[test]
fn empty_list_elements_before_chunked_are_ignored() {
    accepts(&post_with("Transfer-Encoding: , chunked\r\n", "0\r\n\r\n"));
    accepts(&post_with("Transfer-Encoding: chunked, ,\r\n", "0\r\n\r\n"));
}

#[test]
fn unknown_transfer_coding_is_501() {
    rejects(
        &post_with("Transfer-Encoding: gzip\r\n", ""),
        Error::UnsupportedTransferCoding,
    );
    rejects(
        &post_with("Transfer-Encoding: gzip, chunked\r\n", ""),
        Error::UnsupportedTransferCoding,
    );
    rejects(
        &post_with("Transfer-Encoding: identity\r\n", ""),
        Error::UnsupportedTransferCoding,
    );
}

#[test]
fn chunked_not_last_is_400() {
    rejects(
        &post_with("Transfer-Encoding: chunked, gzip\r\n", ""),
        Error::Malformed(Violation::InvalidTransferEncoding),
    );
}

#[test]
fn chunked_twice_is_400() {
    let e = Error::Malformed(Violation::InvalidTransferEncoding);
    rejects(&post_with("Transfer-Encoding: chunked, chunked\r\n", ""), e);
    rejects(
        &post_with(
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "",
        ),
        e,
    );
}

#[test]
fn parameter_on_chunked_is_400() {
    rejects(
        &post_with("Transfer-Encoding: chunked;q=1\r\n", ""),
        Error::Malformed(Violation::InvalidTransferEncoding),
    );
}

#[test]
fn malformed_transfer_encoding_is_400() {
    let e = Error::Malformed(Violation::InvalidTransferEncoding);
    rejects(&post_with("Transfer-Encoding: chu nked\r\n", ""), e);
    rejects(&post_with("Transfer-Encoding:\r\n", ""), e);
    rejects(&post_with("Transfer-Encoding: ,\r\n", ""), e);
    rejects(&post_with("Transfer-Encoding: \"chunked\"\r\n", ""), e);
}

#[test]
fn transfer_encoding_in_http_1_0_is_400() {
    rejects(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        Error::Malformed(Violation::TransferEncodingInHttp10),
    );
}

#[test]
fn nothing_after_a_framing_error_is_parsed() {
    let mut input = post_with("Content-Length: 1\r\nContent-Length: 2\r\n", "");
    input.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    let (evs, err, wire, shutdown) = run_server(&input, input.len(), Config::default());
    assert!(err.is_some() && shutdown && evs.is_empty());
    assert_eq!(
        wire.windows(4).filter(|w| w == b"HTTP").count(),
        1,
        "one answer only"
    );
}
