//! RFC 6585 §5, RFC 9112 §3, RFC 9110 §15.5.14: every cap (431, 414, 413)
//! is exact at N-1 / N / N+1 whatever the read split.
use crate::*;

/// A GET head of exactly `size` bytes (line ends included).
fn head_of(size: usize) -> Vec<u8> {
    let base = "GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n".len();
    format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "v".repeat(size - base)
    )
    .into_bytes()
}

#[test]
fn head_size_cap_is_exact() {
    assert_eq!(head_of(16384).len(), 16384);
    accepts(&head_of(16383));
    accepts(&head_of(16384));
    rejects(&head_of(16385), Error::HeadTooLarge);
}

#[test]
fn head_size_cap_is_exact_when_configured() {
    let mut config = Config::default();
    config.max_head_size(100);
    accepts_with(&head_of(99), config.clone());
    accepts_with(&head_of(100), config.clone());
    rejects_with(&head_of(101), Error::HeadTooLarge, config);
}

#[test]
fn head_over_the_cap_is_refused_before_its_end_arrives() {
    let mut c = server();
    let head = head_of(20000);
    let err = c.handle_input(t0(), &head[..16385]).unwrap_err();
    assert_eq!(err, Error::HeadTooLarge);
}

#[test]
fn ignored_empty_line_does_not_count_towards_the_head_cap() {
    let mut input = b"\r\n".to_vec();
    input.extend_from_slice(&head_of(16384));
    accepts(&input);
}

fn with_fields(n: usize) -> Vec<u8> {
    let mut s = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 1..n {
        s.push_str(&format!("X-{i}: v\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

#[test]
fn header_count_cap_is_exact() {
    accepts(&with_fields(99));
    accepts(&with_fields(100));
    rejects(&with_fields(101), Error::TooManyHeaders);
}

fn line_of(len: usize) -> Vec<u8> {
    let fixed = "GET / HTTP/1.1".len();
    format!(
        "GET /{} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(len - fixed)
    )
    .into_bytes()
}

#[test]
fn request_line_cap_is_exact_and_answered_414() {
    accepts(&line_of(8191));
    accepts(&line_of(8192));
    rejects(&line_of(8193), Error::UriTooLong);
}

#[test]
fn body_cap_is_exact_with_content_length() {
    let mut config = Config::default();
    config.max_body_size(Some(10));
    let body = |n: usize| post_with(&format!("Content-Length: {n}\r\n"), &"b".repeat(n));
    accepts_with(&body(9), config.clone());
    accepts_with(&body(10), config.clone());
    rejects_with(&body(11), Error::BodyTooLarge, config);
}

#[test]
fn body_cap_is_exact_with_chunked() {
    let mut config = Config::default();
    config.max_body_size(Some(10));
    let body = |n: usize| {
        post_with(
            "Transfer-Encoding: chunked\r\n",
            &format!(
                "5\r\nbbbbb\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                n - 5,
                "b".repeat(n - 5)
            ),
        )
    };
    accepts_with(&body(9), config.clone());
    accepts_with(&body(10), config.clone());
    rejects_body_with(&body(11), Error::BodyTooLarge, config);
}

#[test]
fn a_full_buffer_is_backpressure_not_an_error() {
    let mut config = Config::default();
    config.max_buffer_size(16386);
    let mut c = server_with(config);
    let mut input = post_with("Content-Length: 100000\r\n", "");
    input.extend(std::iter::repeat_n(b'x', 100_000));
    let taken = c.handle_input(t0(), &input).unwrap();
    assert_eq!(taken, 16386, "takes only what fits");
    assert_eq!(
        c.handle_input(t0(), &input[taken..]).unwrap(),
        0,
        "full until events are polled"
    );
    let mut body = 0;
    let mut pos = taken;
    loop {
        for e in events(&mut c) {
            if let Event::Data(d) = e {
                body += d.len();
            }
        }
        if pos == input.len() {
            break;
        }
        pos += c.handle_input(t0(), &input[pos..]).unwrap();
    }
    assert_eq!(body, 100_000);
}

#[test]
fn config_that_cannot_hold_a_head_is_refused() {
    let mut config = Config::default();
    config.max_buffer_size(1000);
    assert_eq!(
        Connection::new(Side::Server, config).unwrap_err(),
        proto_http::ConfigError::BufferTooSmall
    );
}

#[test]
fn a_flood_of_one_byte_chunks_is_bounded_by_the_buffer() {
    let mut c = server();
    let mut input = post_with("Transfer-Encoding: chunked\r\n", "");
    for _ in 0..100_000 {
        input.extend_from_slice(b"1\r\nx\r\n");
    }
    let mut pos = 0;
    loop {
        let n = c.handle_input(t0(), &input[pos..]).unwrap();
        if n == 0 {
            break;
        }
        pos += n;
    }
    assert!(
        pos < 2 * 65536,
        "stops taking input while events are unpolled: took {pos}"
    );
    let body: usize = events(&mut c)
        .iter()
        .map(|e| match e {
            Event::Data(d) => d.len(),
            _ => 0,
        })
        .sum();
    assert!(body > 1000, "polling resumes parsing: {body}");
}

#[test]
fn a_paused_body_resumes_when_events_are_polled_even_after_eof() {
    let mut c = client();
    c.send_request(get("/")).unwrap();
    c.finish().unwrap();
    let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5_000 {
        input.extend_from_slice(b"1\r\nx\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(c.handle_input(t0(), &input).unwrap(), input.len());
    c.handle_eof(t0());
    let evs = simplify(events(&mut c));
    assert_eq!(
        evs,
        [
            Ev::Response(200),
            Ev::Body(vec![b'x'; 5_000]),
            Ev::End(vec![]),
            Ev::Closed
        ]
    );
}
