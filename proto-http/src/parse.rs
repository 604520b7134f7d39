//! Parses a complete head, once, and decides how its body is framed.
//!
//! The start line is parsed here (its rules are stricter and its errors more
//! specific than httparse's); the field lines go to `httparse::parse_headers`.
//! The head scanner has already refused bare CR/LF, control characters and
//! obs-fold, and counted the field lines, so the slots are sized exactly.

use crate::error::{Error, Violation};
use crate::head::{Headers, Request, Response, Version, list_elements, trim_ows};
use crate::scan::HeadEnd;
use bytes::Bytes;
use std::ops::Range;

/// How a received message's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes (zero: no body).
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// True for RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// True for a non-empty RFC 9110 `token`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().copied().all(is_tchar)
}

/// The field lines of `raw[fields_start..end]` as ranges into `raw`.
pub(crate) fn parse_fields(
    raw: &Bytes,
    fields_start: usize,
    end: usize,
    count: usize,
) -> Result<Headers, Error> {
    let region = &raw[fields_start..end];
    let mut ranges = Vec::with_capacity(count);
    if count <= 32 {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        collect_fields(raw, region, &mut slots[..count], &mut ranges)?;
    } else {
        let mut slots = vec![httparse::EMPTY_HEADER; count];
        collect_fields(raw, region, &mut slots, &mut ranges)?;
    }
    Ok(Headers::from_parts(raw.clone(), ranges.into_iter()))
}

fn parse_version(v: &[u8]) -> Result<Version, Error> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(Error::VersionNotSupported)
        }
        _ => Err(Error::Malformed(Violation::InvalidVersion)),
    }
}

type FieldRanges = Vec<(Range<usize>, Range<usize>)>;

fn collect_fields<'b>(
    raw: &'b [u8],
    region: &'b [u8],
    slots: &mut [httparse::Header<'b>],
    ranges: &mut FieldRanges,
) -> Result<(), Error> {
    let base = raw.as_ptr() as usize;
    let offset = |s: &[u8]| s.as_ptr() as usize - base;
    match httparse::parse_headers(region, slots) {
        Ok(httparse::Status::Complete((used, fields))) if used == region.len() => {
            for field in fields {
                let name = offset(field.name.as_bytes());
                let value = trim_ows(field.value);
                let v = offset(value);
                ranges.push((name..name + field.name.len(), v..v + value.len()));
            }
            Ok(())
        }
        Err(httparse::Error::HeaderValue) => Err(Error::Malformed(Violation::InvalidFieldValue)),
        Err(httparse::Error::NewLine) => Err(Error::Malformed(Violation::BareLf)),
        Err(httparse::Error::TooManyHeaders) => Err(Error::TooManyHeaders),
        _ => Err(Error::Malformed(Violation::InvalidFieldName)),
    }
}

/// A received request head.
pub(crate) fn parse_request(raw: Bytes, end: &HeadEnd) -> Result<Request, Error> {
    let line = &raw[end.start..end.start_line_end];
    let bad_line = Error::Malformed(Violation::InvalidRequestLine);
    let sp1 = line.iter().position(|&b| b == b' ').ok_or(bad_line)?;
    let method = &line[..sp1];
    let rest = &line[sp1 + 1..];
    let sp2 = rest.iter().position(|&b| b == b' ').ok_or(bad_line)?;
    let target = &rest[..sp2];
    let version = &rest[sp2 + 1..];
    if !is_token(method) {
        return Err(if method.is_empty() {
            bad_line
        } else {
            Error::Malformed(Violation::InvalidMethod)
        });
    }
    if target.is_empty() {
        return Err(bad_line);
    }
    let version = parse_version(version)?;
    check_target(method, target).map_err(|()| Error::Malformed(Violation::InvalidTarget))?;

    let headers = parse_fields(&raw, end.fields_start, end.end, end.fields)?;
    check_host(&headers, version)?;

    let method_range = end.start..end.start + sp1;
    let target_start = end.start + sp1 + 1;
    let target_range = target_start..target_start + sp2;
    Ok(Request::from_parts(
        raw,
        method_range,
        target_range,
        version,
        headers,
    ))
}

/// RFC 9112 §3.2: the four target forms, each only where it belongs.
pub(crate) fn check_target(method: &[u8], target: &[u8]) -> Result<(), ()> {
    if target.is_empty() || !target.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(());
    }
    if method == b"CONNECT" {
        return if is_authority(target, true) {
            Ok(())
        } else {
            Err(())
        };
    }
    if target == b"*" {
        return if method == b"OPTIONS" {
            Ok(())
        } else {
            Err(())
        };
    }
    if target[0] == b'/' {
        return Ok(());
    }
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]; a
    // hier-part without an authority (`host:443`, `urn:x`) is refused so that
    // it cannot be mistaken for authority-form.
    let colon = target.iter().position(|&b| b == b':').ok_or(())?;
    let scheme = &target[..colon];
    let valid_scheme = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if valid_scheme && target[colon..].starts_with(b"://") {
        Ok(())
    } else {
        Err(())
    }
}

/// `uri-host [":" port]` (RFC 3986 §3.2.2), with the port required when
/// `need_port`.
fn is_authority(s: &[u8], need_port: bool) -> bool {
    let (host, port) = if s.first() == Some(&b'[') {
        let Some(close) = s.iter().position(|&b| b == b']') else {
            return false;
        };
        let literal = &s[1..close];
        let valid = !literal.is_empty()
            && literal
                .iter()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'v' | b'V'));
        if !valid {
            return false;
        }
        match &s[close + 1..] {
            [] => (&s[..=close], None),
            [b':', port @ ..] => (&s[..=close], Some(port)),
            _ => return false,
        }
    } else {
        match s.iter().rposition(|&b| b == b':') {
            Some(colon) => (&s[..colon], Some(&s[colon + 1..])),
            None => (s, None),
        }
    };
    let host_ok = host.first() == Some(&b'[') || host.iter().all(|&b| is_reg_name_char(b));
    let port_ok = match port {
        None => !need_port,
        Some(p) => p.len() <= 5 && p.iter().all(u8::is_ascii_digit) && !(need_port && p.is_empty()),
    };
    host_ok && port_ok && !(need_port && host.is_empty())
}

/// unreserved / pct-encoded (checked loosely as `%`) / sub-delims.
fn is_reg_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

/// RFC 9112 §3.2: exactly one valid `Host` in HTTP/1.1, at most one in 1.0.
fn check_host(headers: &Headers, version: Version) -> Result<(), Error> {
    let mut hosts = headers.get_all("host");
    match (hosts.next(), hosts.next()) {
        (_, Some(_)) => Err(Error::Malformed(Violation::MultipleHost)),
        (None, None) if version == Version::Http11 => Err(Error::Malformed(Violation::MissingHost)),
        (None, None) => Ok(()),
        (Some(value), None) => {
            if value.is_empty() || is_authority(value, false) {
                Ok(())
            } else {
                Err(Error::Malformed(Violation::InvalidHost))
            }
        }
    }
}

/// A received response head.
pub(crate) fn parse_response(raw: Bytes, end: &HeadEnd) -> Result<Response, Error> {
    let line = &raw[end.start..end.start_line_end];
    let bad = Error::Malformed(Violation::InvalidStatusLine);
    let sp = line.iter().position(|&b| b == b' ').ok_or(bad)?;
    let version = parse_version(&line[..sp]).map_err(|e| match e {
        Error::VersionNotSupported => e,
        _ => bad,
    })?;
    let rest = &line[sp + 1..];
    let (code, reason) = match rest {
        [a, b, c] => ([*a, *b, *c], &rest[3..]),
        [a, b, c, b' ', ..] => ([*a, *b, *c], &rest[4..]),
        _ => return Err(bad),
    };
    if !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return Err(bad);
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    // The scanner refused CTLs; HTAB, SP, VCHAR and obs-text remain.
    let reason_start = end.start + (line.len() - reason.len());
    let reason_range: Range<usize> = reason_start..end.start_line_end;
    let headers = parse_fields(&raw, end.fields_start, end.end, end.fields)?;
    Ok(Response::from_parts(
        raw,
        status,
        reason_range,
        version,
        headers,
    ))
}

/// RFC 9112 §6.3 for a message with a body: `Content-Length` or
/// `Transfer-Encoding`, never both, each strictly; `None` when neither.
pub(crate) fn body_framing(headers: &Headers, version: Version) -> Result<Option<Framing>, Error> {
    let mut lengths = headers.get_all("content-length");
    let length = lengths.next();
    if lengths.next().is_some() {
        return Err(Error::Malformed(Violation::MultipleContentLength));
    }
    let has_te = headers.contains("transfer-encoding");
    if has_te && length.is_some() {
        return Err(Error::Malformed(
            Violation::ContentLengthAndTransferEncoding,
        ));
    }
    if has_te {
        if version == Version::Http10 {
            return Err(Error::Malformed(Violation::TransferEncodingInHttp10));
        }
        check_transfer_encoding(headers)?;
        return Ok(Some(Framing::Chunked));
    }
    match length {
        None => Ok(None),
        Some(value) => parse_content_length(value)
            .map(|n| Some(Framing::Length(n)))
            .ok_or(Error::Malformed(Violation::InvalidContentLength)),
    }
}

/// 1*DIGIT that fits in a u64.
pub(crate) fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 20 {
        return None;
    }
    value.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// Exactly the `chunked` coding, once and last; empty list elements are
/// ignored (RFC 9110 §5.6.1.2). Unknown but well-formed codings are 501.
fn check_transfer_encoding(headers: &Headers) -> Result<(), Error> {
    let bad = Error::Malformed(Violation::InvalidTransferEncoding);
    let mut codings = 0usize;
    let mut chunked_at = None;
    let mut unknown = false;
    for value in headers.get_all("transfer-encoding") {
        for element in list_elements(value) {
            let (name, params) = match element.iter().position(|&b| b == b';') {
                Some(i) => (trim_ows(&element[..i]), Some(&element[i + 1..])),
                None => (element, None),
            };
            if !is_token(name) {
                return Err(bad);
            }
            if name.eq_ignore_ascii_case(b"chunked") {
                if params.is_some() || chunked_at.is_some() {
                    return Err(bad);
                }
                chunked_at = Some(codings);
            } else {
                if let Some(params) = params {
                    if !params.split(|&b| b == b';').all(is_parameter) {
                        return Err(bad);
                    }
                }
                unknown = true;
            }
            codings += 1;
        }
    }
    match chunked_at {
        _ if codings == 0 => Err(bad),
        Some(i) if i + 1 != codings => Err(bad),
        _ if unknown => Err(Error::UnsupportedTransferCoding),
        _ => Ok(()),
    }
}

/// `token BWS "=" BWS ( token / quoted-string )`, OWS around.
fn is_parameter(p: &[u8]) -> bool {
    let p = trim_ows(p);
    let Some(eq) = p.iter().position(|&b| b == b'=') else {
        return false;
    };
    let name = trim_ows(&p[..eq]);
    let value = trim_ows(&p[eq + 1..]);
    is_token(name) && (is_token(value) || is_quoted_string(value))
}

/// `DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 §5.6.4).
pub(crate) fn is_quoted_string(s: &[u8]) -> bool {
    let [b'"', inner @ .., b'"'] = s else {
        return false;
    };
    let mut escaped = false;
    for &b in inner {
        if escaped {
            if !(b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80) {
                return false;
            }
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' || !(b == b'\t' || b == b' ' || b >= 0x21 && b != 0x7f) {
            return false;
        }
    }
    !escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_strictly_digits() {
        assert_eq!(parse_content_length(b"0"), Some(0));
        assert_eq!(
            parse_content_length(b"18446744073709551615"),
            Some(u64::MAX)
        );
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"1 2",
            b"0x10",
            b"18446744073709551616",
            b"1,1",
        ] {
            assert_eq!(parse_content_length(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn targets_follow_their_forms() {
        assert!(check_target(b"GET", b"/a?b").is_ok());
        assert!(check_target(b"GET", b"http://x/y").is_ok());
        assert!(check_target(b"OPTIONS", b"*").is_ok());
        assert!(check_target(b"GET", b"*").is_err());
        assert!(check_target(b"CONNECT", b"example.com:443").is_ok());
        assert!(check_target(b"CONNECT", b"[::1]:443").is_ok());
        assert!(check_target(b"CONNECT", b"example.com").is_err());
        assert!(check_target(b"CONNECT", b"/").is_err());
        assert!(check_target(b"GET", b"example.com:443").is_err());
        assert!(check_target(b"GET", b"a/b").is_err());
        assert!(check_target(b"GET", "/\u{e9}".as_bytes()).is_err());
    }

    #[test]
    fn quoted_strings() {
        assert!(is_quoted_string(br#""a\"b""#));
        assert!(!is_quoted_string(br#""a"b""#));
        assert!(!is_quoted_string(b"\"a\rb\""));
        assert!(!is_quoted_string(br#""a\"#));
    }
}
