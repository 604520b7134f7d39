//! Fuzz target bodies, for `fuzz/` and for replaying its corpora on stable.
//!
//! Each function drives a [`Connection`](crate::Connection) with arbitrary
//! bytes and panics if an invariant breaks: no panic inside the machine,
//! never more consumed than offered, never more buffered than
//! [`Config::max_buffer_size`](crate::Config::max_buffer_size), no event
//! after an error and the error sticky, and the same events, transmitted
//! bytes and error whether the input arrives whole, one byte per read or in
//! pseudo-random pieces. Built only with the `fuzzing` feature.
//!
//! ```
//! proto_http::fuzzing::server(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
//! proto_http::fuzzing::client(b"\x00HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
//! proto_http::fuzzing::chunked(b"5\r\nhello\r\n0\r\n\r\n");
//! ```

use crate::transcript::assert_split_invariant;
use crate::{Config, Side};

/// Small limits, so the fuzzer reaches them.
fn config() -> Config {
    let mut c = Config::default();
    c.max_head_size(256)
        .max_headers(8)
        .max_request_line_size(64)
        .max_body_size(Some(1024))
        .max_chunk_extension_size(16)
        .max_trailer_size(64)
        .max_buffer_size(512);
    c
}

/// `data` as the bytes a server receives; the driver answers every
/// complete request.
pub fn server(data: &[u8]) {
    assert_split_invariant(Side::Server, &config(), 0, data);
    assert_split_invariant(Side::Server, &Config::default(), 0, data);
}

/// `data[1..]` as the bytes a client receives after sending the requests
/// chosen by `data[0]` (pipelined GETs, HEAD then GET, CONNECT, or an
/// upgrade).
pub fn client(data: &[u8]) {
    let Some((&script, input)) = data.split_first() else {
        return;
    };
    assert_split_invariant(Side::Client, &config(), script, input);
}

/// `data` as a chunked request body (after a fixed head), for the chunk
/// decoder and trailer parser.
pub fn chunked(data: &[u8]) {
    let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(data);
    assert_split_invariant(Side::Server, &config(), 0, &input);
}
