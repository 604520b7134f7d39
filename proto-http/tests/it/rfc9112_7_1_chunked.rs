//! RFC 9112 §7.1: the chunked coding, strictly.
use crate::*;
use proto_http::Violation;

fn chunked(body: &str) -> Vec<u8> {
    post_with("Transfer-Encoding: chunked\r\n", body)
}

#[test]
fn chunked_body_with_trailers_is_delivered() {
    let evs = accepts(&chunked(
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-B: b\r\n\r\n",
    ));
    assert_eq!(
        evs,
        [
            Ev::Request("POST".into(), "/upload".into()),
            Ev::Body(b"hello world".to_vec()),
            Ev::End(vec![
                (b"X-Sum".to_vec(), b"42".to_vec()),
                (b"X-B".to_vec(), b"b".to_vec())
            ]),
        ]
    );
}

#[test]
fn chunk_size_with_0x_prefix_is_400() {
    rejects_body(
        &chunked("0x5\r\nhello\r\n0\r\n\r\n"),
        Error::Malformed(Violation::InvalidChunkSize),
    );
}

#[test]
fn chunk_size_that_is_not_hex_is_400() {
    for bad in ["g", "-5", "+5", "", ";a"] {
        rejects_body(
            &chunked(&format!("{bad}\r\n")),
            Error::Malformed(Violation::InvalidChunkSize),
        );
    }
}

#[test]
fn chunk_size_over_16_digits_is_400() {
    rejects_body(
        &chunked("00000000000000005\r\nhello\r\n"),
        Error::Malformed(Violation::InvalidChunkSize),
    );
    rejects_body(
        &chunked("10000000000000000\r\n"),
        Error::Malformed(Violation::InvalidChunkSize),
    );
}

#[test]
fn chunk_size_of_16_digits_is_checked_against_the_body_cap() {
    rejects_body(&chunked("FFFFFFFFFFFFFFFF\r\n"), Error::BodyTooLarge);
}

#[test]
fn whitespace_around_the_chunk_size_is_400() {
    let e = Error::Malformed(Violation::InvalidChunkSize);
    rejects_body(&chunked(" 5\r\nhello\r\n0\r\n\r\n"), e);
    rejects_body(&chunked("5 \r\nhello\r\n0\r\n\r\n"), e);
    rejects_body(&chunked("5\t\r\nhello\r\n0\r\n\r\n"), e);
}

#[test]
fn bws_before_an_extension_is_accepted() {
    accepts(&chunked("5 ;a=b\r\nhello\r\n0\r\n\r\n"));
    accepts(&chunked("5;a = \"x y\"\r\nhello\r\n0\r\n\r\n"));
}

#[test]
fn bare_lf_in_the_chunk_size_line_is_400() {
    rejects_body(
        &chunked("5\nhello\r\n0\r\n\r\n"),
        Error::Malformed(Violation::BareLf),
    );
    rejects_body(
        &chunked("5;a=b\nhello\r\n0\r\n\r\n"),
        Error::Malformed(Violation::InvalidChunkExtension),
    );
}

#[test]
fn bare_cr_in_the_chunk_size_line_is_400() {
    rejects_body(
        &chunked("5\rhello\r\n0\r\n\r\n"),
        Error::Malformed(Violation::BareCr),
    );
    rejects_body(
        &chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"),
        Error::Malformed(Violation::BareCr),
    );
}

#[test]
fn cr_or_lf_inside_a_quoted_extension_is_400() {
    let e = Error::Malformed(Violation::InvalidChunkExtension);
    rejects_body(&chunked("5;a=\"x\r\ny\"\r\nhello\r\n0\r\n\r\n"), e);
    rejects_body(&chunked("5;a=\"x\ny\"\r\nhello\r\n0\r\n\r\n"), e);
    rejects_body(&chunked("5;a=\"x\\\ry\"\r\nhello\r\n0\r\n\r\n"), e);
}

#[test]
fn malformed_chunk_extension_is_400() {
    let e = Error::Malformed(Violation::InvalidChunkExtension);
    for bad in [
        "5;\r\n",
        "5;=b\r\n",
        "5;a=\r\n",
        "5;a=\"x\r\n",
        "5;a b\r\n",
        "5;a=b c\r\n",
        "5;a=@\r\n",
    ] {
        rejects_body(&chunked(bad), e);
    }
}

#[test]
fn chunk_extensions_are_capped_in_bytes() {
    let with_ext = |n: usize| chunked(&format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(n - 1)));
    accepts(&with_ext(1023));
    accepts(&with_ext(1024));
    rejects_body(
        &with_ext(1025),
        Error::Malformed(Violation::ChunkExtensionTooLong),
    );
}

#[test]
fn chunk_data_not_followed_by_crlf_is_400() {
    let e = Error::Malformed(Violation::MissingChunkCrlf);
    rejects_body(&chunked("5\r\nhelloX\r\n0\r\n\r\n"), e);
    rejects_body(&chunked("5\r\nhello\n0\r\n\r\n"), e);
    rejects_body(&chunked("5\r\nhello\r0\r\n\r\n"), e);
    rejects_body(&chunked("5\r\nhello world\r\n0\r\n\r\n"), e);
}

#[test]
fn trailer_section_over_its_cap_is_400() {
    // 4096 bytes: "X: " + value + CRLF, then the final CRLF.
    let trailer = |total: usize| chunked(&format!("0\r\nX: {}\r\n\r\n", "v".repeat(total - 7)));
    accepts(&trailer(4095));
    accepts(&trailer(4096));
    rejects_body(
        &trailer(4097),
        Error::Malformed(Violation::TrailersTooLarge),
    );
}

#[test]
fn obs_fold_in_trailers_is_400() {
    rejects_body(
        &chunked("0\r\nX: a\r\n b\r\n\r\n"),
        Error::Malformed(Violation::ObsFold),
    );
}

#[test]
fn last_chunk_may_have_leading_zeros_and_extensions() {
    let evs = accepts(&chunked("000;done\r\n\r\n"));
    assert_eq!(evs.last(), Some(&Ev::End(vec![])));
}
