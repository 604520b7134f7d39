//! The kinds of peer misbehaviour every protocol shares, and what to answer.
//!
//! Each protocol crate has its own detailed error type; each of those maps to
//! one [`ErrorKind`], which fixes the HTTP status or WebSocket close code sent
//! before closing and the counter it is recorded under in
//! [`Stats`](crate::Stats). Keeping the mapping here means HTTP and WebSocket
//! answer the same misbehaviour the same way.

use std::fmt;

/// A class of peer violation, with the answer owed to the peer.
///
/// ```
/// use proto_core::ErrorKind;
/// assert_eq!(ErrorKind::HeadTooLarge.http_status(), 431);
/// assert_eq!(ErrorKind::InvalidUtf8.close_code(), 1007);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Bytes that do not follow the protocol's grammar or framing rules
    /// (request smuggling attempts, bad chunk sizes, unmasked client frames).
    /// HTTP 400, WebSocket 1002 (RFC 6455 §7.4.1).
    Malformed,
    /// Text that is not valid UTF-8 where the protocol requires it.
    /// HTTP 400, WebSocket 1007.
    InvalidUtf8,
    /// The request line or target is longer than allowed. HTTP 414
    /// (RFC 9112 §3), WebSocket 1009.
    UriTooLong,
    /// The head (fields in bytes or in count) is larger than allowed.
    /// HTTP 431 (RFC 6585 §5), WebSocket 1009.
    HeadTooLarge,
    /// A body, frame or message is larger than allowed, or the peer pinned
    /// more buffered memory than its share. HTTP 413, WebSocket 1009.
    TooLarge,
    /// A feature the peer used is understood but not implemented, such as an
    /// unknown transfer coding. HTTP 501 (RFC 9112 §6.1), WebSocket 1002.
    NotImplemented,
    /// An HTTP version other than 1.0 and 1.1. HTTP 505, WebSocket 1002.
    VersionNotSupported,
    /// A WebSocket handshake asking for a version other than 13. HTTP 426
    /// with `Sec-WebSocket-Version: 13` (RFC 6455 §4.4), WebSocket 1002.
    UpgradeRequired,
    /// A policy refused the peer: a forbidden `Origin`, a handshake the
    /// application rejected. HTTP 403, WebSocket 1008.
    PolicyViolation,
}

impl ErrorKind {
    /// How many kinds there are; the length of [`ErrorKind::ALL`].
    pub const COUNT: usize = 9;

    /// Every kind, in declaration order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::Malformed,
        Self::InvalidUtf8,
        Self::UriTooLong,
        Self::HeadTooLarge,
        Self::TooLarge,
        Self::NotImplemented,
        Self::VersionNotSupported,
        Self::UpgradeRequired,
        Self::PolicyViolation,
    ];

    /// The status an HTTP server answers with before it closes.
    #[must_use]
    pub fn http_status(self) -> u16 {
        match self {
            Self::Malformed | Self::InvalidUtf8 => 400,
            Self::UriTooLong => 414,
            Self::HeadTooLarge => 431,
            Self::TooLarge => 413,
            Self::NotImplemented => 501,
            Self::VersionNotSupported => 505,
            Self::UpgradeRequired => 426,
            Self::PolicyViolation => 403,
        }
    }

    /// The close code a WebSocket endpoint sends before it closes
    /// (RFC 6455 §7.4.1).
    #[must_use]
    pub fn close_code(self) -> u16 {
        match self {
            Self::Malformed
            | Self::NotImplemented
            | Self::VersionNotSupported
            | Self::UpgradeRequired => 1002,
            Self::InvalidUtf8 => 1007,
            Self::PolicyViolation => 1008,
            Self::UriTooLong | Self::HeadTooLarge | Self::TooLarge => 1009,
        }
    }

    /// A stable `snake_case` name, used as the key in statistics output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::UriTooLong => "uri_too_long",
            Self::HeadTooLarge => "head_too_large",
            Self::TooLarge => "too_large",
            Self::NotImplemented => "not_implemented",
            Self::VersionNotSupported => "version_not_supported",
            Self::UpgradeRequired => "upgrade_required",
            Self::PolicyViolation => "policy_violation",
        }
    }

    /// The position of this kind in [`ErrorKind::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed input",
            Self::InvalidUtf8 => "invalid utf-8",
            Self::UriTooLong => "request target too long",
            Self::HeadTooLarge => "head too large",
            Self::TooLarge => "payload too large",
            Self::NotImplemented => "not implemented",
            Self::VersionNotSupported => "version not supported",
            Self::UpgradeRequired => "upgrade required",
            Self::PolicyViolation => "policy violation",
        })
    }
}

/// A protocol error that knows its [`ErrorKind`].
///
/// Implemented by the peer-error types of the protocol crates, so adapters and
/// statistics can classify any protocol's error without knowing the protocol.
pub trait PeerError: std::error::Error {
    /// The class of violation, which fixes the answer and the counter.
    fn kind(&self) -> ErrorKind;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_kind_at_its_index() {
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn every_kind_maps_to_an_error_status_and_a_sendable_close_code() {
        for kind in ErrorKind::ALL {
            let status = kind.http_status();
            assert!((400..600).contains(&status), "{kind}: {status}");
            let code = kind.close_code();
            // RFC 6455 §7.4.1: codes an endpoint may put in a close frame.
            assert!(matches!(code, 1000..=1003 | 1007..=1011), "{kind}: {code}");
            assert!(!kind.to_string().ends_with('.'));
        }
    }

    #[test]
    fn limits_answer_with_their_specific_statuses() {
        assert_eq!(ErrorKind::UriTooLong.http_status(), 414);
        assert_eq!(ErrorKind::HeadTooLarge.http_status(), 431);
        assert_eq!(ErrorKind::TooLarge.http_status(), 413);
        assert_eq!(ErrorKind::TooLarge.close_code(), 1009);
        assert_eq!(ErrorKind::PolicyViolation.close_code(), 1008);
    }
}
