//! Serialisation of what the user sends, with the framing chosen for them.
//!
//! Rules of this file: nothing is written until the whole head has been
//! checked, so a refused head queues no byte. Framing comes from the
//! message's own fields when they are unambiguous (one valid
//! `Content-Length`, or exactly `Transfer-Encoding: chunked`), never from
//! both; otherwise the connection picks chunked (HTTP/1.1 peers) or close
//! delimitation (HTTP/1.0 peers) for responses, and no body for requests.

use crate::error::SendError;
use crate::head::{Headers, Version, list_elements};
use crate::parse::{is_token, parse_content_length};

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
fn is_value(v: &[u8]) -> bool {
    let ok = |b: &u8| *b == b'\t' || (*b >= 0x20 && *b != 0x7f);
    v.iter().all(ok)
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

/// The framing `headers` ask for, refusing anything ambiguous.
pub(crate) fn user_framing(headers: &Headers, version: Version) -> Result<UserFraming, SendError> {
    let mut lengths = headers.get_all("content-length");
    let length = lengths.next();
    if lengths.next().is_some() {
        return Err(SendError::InvalidContentLength);
    }
    let mut te = headers.get_all("transfer-encoding");
    let first_te = te.next();
    let more_te = te.next().is_some();
    match (length, first_te) {
        (Some(_), Some(_)) => Err(SendError::AmbiguousFraming),
        (Some(v), None) => parse_content_length(v)
            .map(UserFraming::Length)
            .ok_or(SendError::InvalidContentLength),
        (None, Some(v)) => {
            let mut codings = list_elements(v);
            let only_chunked = codings
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"))
                && codings.next().is_none()
                && !more_te;
            if only_chunked && version == Version::Http11 {
                Ok(UserFraming::Chunked)
            } else {
                Err(SendError::UnsupportedTransferEncoding)
            }
        }
        (None, None) => Ok(UserFraming::Neither),
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

/// The length of what `write_fields` appends.
pub(crate) fn fields_len(headers: &Headers) -> usize {
    headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

/// The length of what `write_status_line` appends for a three-digit status.
pub(crate) fn status_line_len(reason: &[u8]) -> usize {
    b"HTTP/1.1 200 \r\n".len() + reason.len()
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

/// The chunk-size line for `len` bytes of data.
pub(crate) fn chunk_size_line(len: usize) -> Vec<u8> {
    format!("{len:X}\r\n").into_bytes()
}

/// The complete bodiless error response a server sends before closing.
pub(crate) fn error_response(status: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    write_status_line(
        &mut out,
        Version::Http11,
        status,
        crate::head::canonical_reason(status).as_bytes(),
    );
    out.extend_from_slice(b"Connection: close\r\nContent-Length: 0\r\n\r\n");
    out
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
    fn framing_is_never_ambiguous() {
        let mut h = Headers::new();
        h.append("Content-Length", "3")
            .append("Transfer-Encoding", "chunked");
        assert_eq!(
            user_framing(&h, Version::Http11),
            Err(SendError::AmbiguousFraming)
        );
        let mut h = Headers::new();
        h.append("Transfer-Encoding", "gzip, chunked");
        assert_eq!(
            user_framing(&h, Version::Http11),
            Err(SendError::UnsupportedTransferEncoding)
        );
        let mut h = Headers::new();
        h.append("Content-Length", "3")
            .append("Content-Length", "3");
        assert_eq!(
            user_framing(&h, Version::Http11),
            Err(SendError::InvalidContentLength)
        );
    }
}
