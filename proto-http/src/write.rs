//! Serialisation of what the user sends, with the framing chosen for them.
//!
//! Rules of this file: nothing is written until the whole head has been
//! checked, so a refused head queues no byte. Framing comes from the
//! message's own fields when they are unambiguous (one valid
//! `Content-Length`, or exactly `Transfer-Encoding: chunked`), never from
//! both; otherwise the connection picks chunked (HTTP/1.1 peers) or close
//! delimitation (HTTP/1.0 peers) for responses, and no body for requests.

use crate::connection::IDLE_BUFFER_CAPACITY;
use crate::error::SendError;
use crate::head::{Headers, Version, list_elements};
use crate::known::{Known, Seen};
use crate::parse::{is_token, parse_content_length};
use bytes::{Buf, Bytes};
use std::collections::VecDeque;

/// Body data of at most this many bytes is copied into the staging buffer
/// (one copy of a small piece is cheaper than tracking it); larger data is
/// queued as the caller's own [`Bytes`], never copied.
pub(crate) const MAX_COPIED_DATA: usize = 1024;

/// The staging buffer's first allocation: room for a typical head and a
/// small body, so that it does not grow step by step.
const INITIAL_STAGED_CAPACITY: usize = 512;

/// A drained queue keeps room for at most this many pieces.
const KEEP_PIECES: usize = 16;

/// One piece of queued output.
#[derive(Debug)]
enum Piece {
    /// The next this many unsent bytes of the staging buffer.
    Staged(usize),
    /// Caller data, sent without a copy.
    Shared(Bytes),
}

/// What a connection has queued to send, in order.
///
/// Heads, framing and small bodies are written into one staging buffer that
/// is reused from message to message, so a busy connection allocates
/// nothing per response; large bodies wait as the caller's own [`Bytes`].
/// Emptied, the buffer keeps at most [`IDLE_BUFFER_CAPACITY`], the bound an
/// idle connection keeps for its receive buffer too (a burst of pipelined
/// small responses fits).
#[derive(Debug, Default)]
pub(crate) struct Output {
    pieces: VecDeque<Piece>,
    /// `staged[sent..]` is the concatenation of the `Staged` pieces, in
    /// order.
    staged: Vec<u8>,
    sent: usize,
    /// Bytes queued and not yet handed out.
    len: usize,
}

impl Output {
    /// Bytes queued and not yet handed out.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues what `write` appends to the staging buffer.
    pub(crate) fn write(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.sent > 0 && self.sent >= self.staged.len() - self.sent {
            // Most of the buffer was handed out: move the rest to the front
            // (amortised: no more bytes move than were sent).
            self.staged.drain(..self.sent);
            self.sent = 0;
        }
        if self.staged.capacity() == 0 {
            self.staged.reserve(INITIAL_STAGED_CAPACITY);
        }
        let start = self.staged.len();
        write(&mut self.staged);
        let n = self.staged.len() - start;
        if n == 0 {
            return;
        }
        self.len += n;
        match self.pieces.back_mut() {
            Some(Piece::Staged(m)) => *m += n,
            _ => self.pieces.push_back(Piece::Staged(n)),
        }
    }

    /// Queues a copy of `bytes`.
    pub(crate) fn push_slice(&mut self, bytes: &[u8]) {
        self.write(|out| out.extend_from_slice(bytes));
    }

    /// Queues `data`: copied if small, else as it is.
    pub(crate) fn push(&mut self, data: Bytes) {
        if data.len() <= MAX_COPIED_DATA {
            self.push_slice(&data);
        } else {
            self.len += data.len();
            self.pieces.push_back(Piece::Shared(data));
        }
    }

    /// Appends the next bytes, at most `budget`, to `out`; returns how many.
    pub(crate) fn transmit(&mut self, mut budget: usize, out: &mut Vec<u8>) -> usize {
        let mut len = 0;
        while budget > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            let (n, done) = match front {
                Piece::Staged(left) => {
                    let n = budget.min(*left);
                    out.extend_from_slice(&self.staged[self.sent..self.sent + n]);
                    self.sent += n;
                    *left -= n;
                    (n, *left == 0)
                }
                Piece::Shared(data) => {
                    let n = budget.min(data.len());
                    out.extend_from_slice(&data[..n]);
                    data.advance(n);
                    (n, data.is_empty())
                }
            };
            if done {
                self.pieces.pop_front();
            }
            budget -= n;
            len += n;
        }
        self.len -= len;
        if self.sent == self.staged.len() {
            self.sent = 0;
            if self.staged.capacity() > IDLE_BUFFER_CAPACITY {
                self.staged = Vec::new();
            } else {
                self.staged.clear();
            }
        }
        if self.len == 0 && self.pieces.capacity() > KEEP_PIECES {
            self.pieces = VecDeque::new();
        }
        len
    }

    /// Drops everything queued and releases the buffers.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// The staging buffer's capacity.
    #[cfg(test)]
    pub(crate) fn staged_capacity(&self) -> usize {
        self.staged.capacity()
    }
}

/// How an outgoing body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyWrite {
    /// No body may be sent (bodiless response, request without framing).
    None,
    /// Exactly this many bytes remain.
    Length(u64),
    Chunked,
    /// Until we close (responses to HTTP/1.0 peers).
    Close,
}

/// The framing the user's fields ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserFraming {
    Neither,
    Length(u64),
    Chunked,
}

/// A field value we may send: field-content, no CR/LF/NUL/CTL, no
/// whitespace at either end (RFC 9110 §5.5).
pub(crate) fn is_value(v: &[u8]) -> bool {
    // Without an early exit, so the loop is vectorised: values are short
    // and almost always valid.
    let ok = |b: u8| b == b'\t' || (b >= 0x20 && b != 0x7f);
    v.iter().fold(true, |all, &b| all & ok(b))
        && !matches!(v.first(), Some(b' ' | b'\t'))
        && !matches!(v.last(), Some(b' ' | b'\t'))
}

/// Checks every field line of `headers`.
pub(crate) fn check_fields(headers: &Headers) -> Result<(), SendError> {
    for (name, value) in headers.iter() {
        if !is_token(name) {
            return Err(SendError::InvalidFieldName);
        }
        if !is_value(value) {
            return Err(SendError::InvalidFieldValue);
        }
    }
    Ok(())
}

/// A reason phrase we may send: HTAB, SP, VCHAR, obs-text.
pub(crate) fn is_reason(r: &[u8]) -> bool {
    r.iter().all(|b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f))
}

/// The framing `headers` ask for, refusing anything ambiguous; `known` is
/// [`Known::of`] them, so the field list is not walked again.
pub(crate) fn user_framing(
    headers: &Headers,
    known: &Known,
    version: Version,
) -> Result<UserFraming, SendError> {
    match (known.content_length, known.transfer_encoding) {
        (Seen::Repeated, _) => Err(SendError::InvalidContentLength),
        (Seen::Once(_), Seen::Once(_) | Seen::Repeated) => Err(SendError::AmbiguousFraming),
        (Seen::Once(i), Seen::Never) => parse_content_length(headers.value_at(i))
            .map(UserFraming::Length)
            .ok_or(SendError::InvalidContentLength),
        (Seen::Never, Seen::Once(i)) => {
            let mut codings = list_elements(headers.value_at(i));
            let only_chunked = codings
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"))
                && codings.next().is_none();
            if only_chunked && version == Version::Http11 {
                Ok(UserFraming::Chunked)
            } else {
                Err(SendError::UnsupportedTransferEncoding)
            }
        }
        (Seen::Never, Seen::Repeated) => Err(SendError::UnsupportedTransferEncoding),
        (Seen::Never, Seen::Never) => Ok(UserFraming::Neither),
    }
}

/// Appends the field lines and the empty line that ends a head.
pub(crate) fn write_fields(out: &mut Vec<u8>, headers: &Headers) {
    for (name, value) in headers.iter() {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends a status line.
pub(crate) fn write_status_line(out: &mut Vec<u8>, version: Version, status: u16, reason: &[u8]) {
    out.extend_from_slice(version.as_str().as_bytes());
    out.push(b' ');
    // A status is three digits by the time it is written (checked by the
    // senders); the general form is kept for any other u16.
    if (100..1000).contains(&status) {
        let digit = |n: u16| b'0' + u8::try_from(n % 10).unwrap_or(0);
        out.extend_from_slice(&[digit(status / 100), digit(status / 10), digit(status)]);
    } else {
        out.extend_from_slice(status.to_string().as_bytes());
    }
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
}

/// Appends the chunk-size line for `len` bytes of data (upper-case hex).
/// Appends `n` in decimal (a `Content-Length` value).
pub(crate) fn write_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut n = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

pub(crate) fn write_chunk_size_line(out: &mut Vec<u8>, len: usize) {
    let mut digits = [0u8; 2 * size_of::<usize>()];
    let mut start = digits.len();
    let mut n = len;
    loop {
        start -= 1;
        digits[start] = b"0123456789ABCDEF"[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
    out.extend_from_slice(b"\r\n");
}

/// Appends the complete bodiless error response a server sends before
/// closing.
pub(crate) fn write_error_response(out: &mut Vec<u8>, status: u16) {
    write_status_line(
        out,
        Version::Http11,
        status,
        crate::head::canonical_reason(status).as_bytes(),
    );
    out.extend_from_slice(b"Connection: close\r\nContent-Length: 0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_line_breaks_are_refused() {
        for bad in [&b"a\r\nb"[..], b"a\nb", b"a\rb", b"a\0b", b" a", b"a\t"] {
            let mut h = Headers::new();
            h.append("X", bad);
            assert_eq!(
                check_fields(&h),
                Err(SendError::InvalidFieldValue),
                "{bad:?}"
            );
        }
        let mut h = Headers::new();
        h.append("Bad Name", "x");
        assert_eq!(check_fields(&h), Err(SendError::InvalidFieldName));
    }

    #[test]
    fn decimals_are_written_whole() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = b"x".to_vec();
            write_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn chunk_size_lines_are_upper_hex() {
        for len in [0, 1, 9, 10, 15, 16, 255, 4096, 0xABCDEF, usize::MAX] {
            let mut out = b"x".to_vec();
            write_chunk_size_line(&mut out, len);
            assert_eq!(out, format!("x{len:X}\r\n").into_bytes());
        }
    }

    fn drain(output: &mut Output, budget: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        loop {
            let before = wire.len();
            let n = output.transmit(budget, &mut wire);
            assert_eq!(wire.len() - before, n);
            assert!(n <= budget);
            if n == 0 {
                return wire;
            }
        }
    }

    #[test]
    fn output_keeps_order_across_staged_and_shared_pieces() {
        let big = Bytes::from(vec![b'b'; MAX_COPIED_DATA + 1]);
        for budget in [1, 3, 7, 100, 5000] {
            let mut output = Output::default();
            output.push_slice(b"head\r\n");
            output.push(Bytes::from_static(b"small"));
            output.push(big.clone());
            output.push_slice(b"\r\n");
            output.write(|out| write_chunk_size_line(out, 26));
            let expected = [&b"head\r\nsmall"[..], &big, b"\r\n1A\r\n"].concat();
            assert_eq!(output.len(), expected.len());
            assert_eq!(drain(&mut output, budget), expected, "budget {budget}");
            assert!(output.is_empty());
        }
    }

    #[test]
    fn output_copies_small_data_and_shares_large() {
        let mut output = Output::default();
        output.push(Bytes::from(vec![b'a'; MAX_COPIED_DATA]));
        assert_eq!(output.pieces.len(), 1);
        assert!(matches!(output.pieces[0], Piece::Staged(MAX_COPIED_DATA)));
        let large = Bytes::from(vec![b'b'; MAX_COPIED_DATA + 1]);
        let ptr = large.as_ptr();
        output.push(large);
        assert!(matches!(&output.pieces[1], Piece::Shared(b) if b.as_ptr() == ptr));
    }

    #[test]
    fn output_reuses_its_buffer_and_releases_a_large_one_when_drained() {
        let mut output = Output::default();
        output.push_slice(&[b'x'; 100]);
        let capacity = output.staged_capacity();
        assert!(capacity >= 100);
        drain(&mut output, 64);
        assert_eq!(output.staged_capacity(), capacity, "small: kept");
        output.push_slice(&[b'y'; 100]);
        assert_eq!(output.staged_capacity(), capacity, "reused");
        drain(&mut output, 1000);

        for _ in 0..10 {
            output.push(Bytes::from(vec![b'z'; MAX_COPIED_DATA]));
        }
        assert!(output.staged_capacity() > IDLE_BUFFER_CAPACITY);
        drain(&mut output, 3000);
        assert_eq!(output.staged_capacity(), 0, "large: released once drained");
        assert!(output.is_empty());
    }

    #[test]
    fn output_compacts_while_busy() {
        // A consumer that never quite catches up: the buffer stays bounded.
        let mut output = Output::default();
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for i in 0..10_000u32 {
            let piece = i.to_string();
            expected.extend_from_slice(piece.as_bytes());
            output.push_slice(piece.as_bytes());
            if i % 2 == 0 {
                output.transmit(5, &mut wire);
            }
            assert!(output.staged.len() <= 2 * output.len() + 10);
        }
        wire.extend(drain(&mut output, 7));
        assert_eq!(wire, expected);
    }

    #[test]
    fn error_responses_are_complete() {
        let mut out = Vec::new();
        write_error_response(&mut out, 431);
        assert_eq!(
            out,
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn framing_is_never_ambiguous() {
        let mut h = Headers::new();
        h.append("Content-Length", "3")
            .append("Transfer-Encoding", "chunked");
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http11),
            Err(SendError::AmbiguousFraming)
        );
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "gzip, chunked");
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http11),
            Err(SendError::UnsupportedTransferEncoding)
        );
        let mut h = Headers::new();
        h.append("Content-Length", "3")
            .append("Content-Length", "3");
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http11),
            Err(SendError::InvalidContentLength)
        );
        // Two fields, even both `chunked`, are not exactly one `chunked`.
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "chunked")
            .append("transfer-encoding", "chunked");
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http11),
            Err(SendError::UnsupportedTransferEncoding)
        );
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "chunked");
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http11),
            Ok(UserFraming::Chunked)
        );
        assert_eq!(
            user_framing(&h, &Known::of(&h), Version::Http10),
            Err(SendError::UnsupportedTransferEncoding)
        );
    }
}
