//! Close frames: codes (RFC 6455 §7.4) and payloads (§5.5.1).

use crate::error::{Error, Violation};

/// Close codes of RFC 6455 §7.4.1 and the IANA registry.
pub mod close_code {
    /// 1000: normal closure.
    pub const NORMAL: u16 = 1000;
    /// 1001: the endpoint is going away (server shutdown, idle timeout).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// 1005: reported locally when a close frame had no code; never sent.
    pub const NO_STATUS: u16 = 1005;
    /// 1006: reported locally when TCP closed without a close frame; never sent.
    pub const ABNORMAL: u16 = 1006;
    /// 1007: a message's data did not match its type (invalid UTF-8).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// 1008: a policy was violated.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// 1009: a message too big to process.
    pub const TOO_BIG: u16 = 1009;
    /// 1010: the client needed an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: u16 = 1010;
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// True for the codes that may appear in a close frame (RFC 6455 §7.4.1,
/// §7.4.2, IANA registry): 1000-1003, 1007-1014 and 3000-4999.
///
/// ```
/// use proto_ws::is_valid_close_code;
/// assert!(is_valid_close_code(1000));
/// assert!(is_valid_close_code(4999));
/// assert!(!is_valid_close_code(1005)); // reported locally, never sent
/// assert!(!is_valid_close_code(2999));
/// ```
#[must_use]
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Parses a received close payload into its code (1005 if absent) and
/// reason.
pub(crate) fn parse_payload(payload: &[u8]) -> Result<(u16, String), Error> {
    match payload {
        [] => Ok((close_code::NO_STATUS, String::new())),
        [_] => Err(Error::Protocol(Violation::CloseTooShort)),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(Error::Protocol(Violation::InvalidCloseCode(code)));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| Error::InvalidUtf8)?;
            Ok((code, reason.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_7_4_code_ranges() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(is_valid_close_code(code), expected, "{code}");
        }
    }

    #[test]
    fn rfc6455_5_5_1_payloads() {
        assert_eq!(parse_payload(b""), Ok((1005, String::new())));
        assert_eq!(
            parse_payload(b"\x03"),
            Err(Error::Protocol(Violation::CloseTooShort))
        );
        assert_eq!(parse_payload(b"\x03\xe8bye"), Ok((1000, "bye".into())));
        assert_eq!(parse_payload(b"\x03\xe8\xff"), Err(Error::InvalidUtf8));
        assert_eq!(
            parse_payload(b"\x03\xed"),
            Err(Error::Protocol(Violation::InvalidCloseCode(1005)))
        );
    }
}
