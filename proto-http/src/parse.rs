//! Parses a complete head, once, and decides how its body is framed.
//!
//! The scanner has already refused bare CR/LF, control characters and
//! obs-fold, and split the field lines into names and values; the start line
//! is parsed here, with rules stricter and errors more specific than
//! httparse's.

use crate::error::{Error, Violation};
use crate::head::{Headers, Request, Response, Version, list_elements, trim_ows};
use crate::known::{Known, Seen};
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

/// A 256-entry table of a byte predicate (a `const fn`), for hot loops.
macro_rules! byte_table {
    ($pred:ident) => {{
        let mut table = [false; 256];
        let mut b: u8 = 0;
        loop {
            table[b as usize] = $pred(b);
            if b == u8::MAX {
                break table;
            }
            b += 1;
        }
    }};
}

static TCHAR: [bool; 256] = byte_table!(tchar);
static REG_NAME: [bool; 256] = byte_table!(reg_name_char);

/// RFC 9110 `tchar`.
const fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
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
        )
}

/// True for RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// True for a non-empty RFC 9110 `token`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    // No early exit: one table load per byte, no branch (names are short
    // and almost always valid).
    !s.is_empty() && s.iter().fold(true, |all, &b| all & is_tchar(b))
}

/// The field lines the scanner found, over the head's bytes `raw`.
pub(crate) fn fields(raw: &Bytes, end: HeadEnd) -> Result<Headers, Error> {
    if end.malformed_field {
        return Err(Error::Malformed(Violation::InvalidFieldName));
    }
    Ok(Headers::from_fields(raw.clone(), end.fields))
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

/// A received request head, and what its fields say.
pub(crate) fn parse_request(raw: Bytes, end: HeadEnd) -> Result<(Request, Known), Error> {
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

    let method_range = end.start..end.start + sp1;
    let target_start = end.start + sp1 + 1;
    let target_range = target_start..target_start + sp2;
    let headers = fields(&raw, end)?;
    let known = Known::of(&headers);
    check_host(&headers, &known, version)?;
    let request = Request::from_parts(raw, method_range, target_range, version, headers);
    Ok((request, known))
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
        // A reg-name has no colon, so it ends at the first byte that is not
        // one of its characters; only a port may follow.
        let end = s
            .iter()
            .position(|&b| !REG_NAME[usize::from(b)])
            .unwrap_or(s.len());
        match &s[end..] {
            [] => (s, None),
            [b':', port @ ..] => (&s[..end], Some(port)),
            _ => return false,
        }
    };
    let port_ok = match port {
        None => !need_port,
        Some(p) => p.len() <= 5 && p.iter().all(u8::is_ascii_digit) && !(need_port && p.is_empty()),
    };
    port_ok && !(need_port && host.is_empty())
}

/// unreserved / pct-encoded (checked loosely as `%`) / sub-delims.
const fn reg_name_char(b: u8) -> bool {
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
fn check_host(headers: &Headers, known: &Known, version: Version) -> Result<(), Error> {
    match known.host {
        Seen::Repeated => Err(Error::Malformed(Violation::MultipleHost)),
        Seen::Never if version == Version::Http11 => Err(Error::Malformed(Violation::MissingHost)),
        Seen::Never => Ok(()),
        Seen::Once(i) => {
            let value = headers.value_at(i);
            if value.is_empty() || is_authority(value, false) {
                Ok(())
            } else {
                Err(Error::Malformed(Violation::InvalidHost))
            }
        }
    }
}

/// A received response head, and what its fields say.
pub(crate) fn parse_response(raw: Bytes, end: HeadEnd) -> Result<(Response, Known), Error> {
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
    let headers = fields(&raw, end)?;
    let known = Known::of(&headers);
    let response = Response::from_parts(raw, status, reason_range, version, headers);
    Ok((response, known))
}

/// RFC 9112 §6.3 for a message with a body: `Content-Length` or
/// `Transfer-Encoding`, never both, each strictly; `None` when neither.
pub(crate) fn body_framing(
    headers: &Headers,
    known: &Known,
    version: Version,
) -> Result<Option<Framing>, Error> {
    let length = match known.content_length {
        Seen::Repeated => return Err(Error::Malformed(Violation::MultipleContentLength)),
        Seen::Never => None,
        Seen::Once(i) => Some(headers.value_at(i)),
    };
    let has_te = known.transfer_encoding != Seen::Never;
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
    fn byte_tables_match_their_predicates() {
        for b in 0..=u8::MAX {
            assert_eq!(is_tchar(b), tchar(b), "{b:#x}");
            assert_eq!(REG_NAME[usize::from(b)], reg_name_char(b), "{b:#x}");
        }
        assert!(is_tchar(b'~') && !is_tchar(b':') && !is_tchar(0x80));
    }

    #[test]
    fn authorities() {
        for good in [
            &b"a"[..],
            b"a:80",
            b"a:",
            b"",
            b":80",
            b"[::1]",
            b"[::1]:8080",
            b"x.y-z_~%!$&'()*+,;=",
        ] {
            assert!(is_authority(good, false), "{good:?}");
        }
        for bad in [
            &b"a:b:80"[..],
            b"a b",
            b"a:8o",
            b"a:123456",
            b"a[b",
            b"[::1",
            b"[]",
            b"[::1]x",
        ] {
            assert!(!is_authority(bad, false), "{bad:?}");
        }
        assert!(is_authority(b"a:1", true));
        assert!(
            !is_authority(b"a", true) && !is_authority(b"a:", true) && !is_authority(b":1", true)
        );
    }

    #[test]
    fn quoted_strings() {
        assert!(is_quoted_string(br#""a\"b""#));
        assert!(!is_quoted_string(br#""a"b""#));
        assert!(!is_quoted_string(b"\"a\rb\""));
        assert!(!is_quoted_string(br#""a\"#));
    }
}
