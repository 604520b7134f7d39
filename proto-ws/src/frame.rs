//! The frame header (RFC 6455 §5.2): parsing with every MUST checked, and
//! encoding.
//!
//! Parsing is split in two so that a bad header fails as early as possible:
//! [`check_first_two`] judges the two fixed bytes (FIN, RSV, opcode, MASK,
//! 7-bit length) as soon as they arrive, and [`parse`] the extended length
//! once [`header_len`] bytes are in. Rules that depend on the open message
//! (continuation order, size caps) live in the connection.

use bytes::BufMut;
use proto_core::Side;

use crate::error::{Error, Violation};

/// The longest header: 2 fixed bytes, an 8-byte length and a 4-byte key.
pub(crate) const MAX_HEADER_LEN: usize = 14;

/// The largest control-frame payload (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// The frame opcodes RFC 6455 §5.2 defines; the others are reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Result<Self, Error> {
        Ok(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xa => Self::Pong,
            other => return Err(Error::Protocol(Violation::ReservedOpcode(other))),
        })
    }

    pub(crate) fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xa,
        }
    }

    pub(crate) fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) fin: bool,
    pub(crate) opcode: OpCode,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) len: u64,
}

/// What the receiving role and the leniency options allow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// The role of the endpoint *receiving* the frames.
    pub(crate) side: Side,
    pub(crate) allow_non_minimal_length: bool,
}

/// Judges the two fixed header bytes: RSV bits, opcode, control-frame rules
/// and the masking rule of the receiving role.
pub(crate) fn check_first_two(b0: u8, b1: u8, rules: Rules) -> Result<(), Error> {
    if b0 & 0x70 != 0 {
        return Err(Error::Protocol(Violation::ReservedBits));
    }
    let opcode = OpCode::from_bits(b0 & 0x0f)?;
    if opcode.is_control() {
        if b0 & 0x80 == 0 {
            return Err(Error::Protocol(Violation::FragmentedControl));
        }
        if usize::from(b1 & 0x7f) > MAX_CONTROL_PAYLOAD {
            return Err(Error::Protocol(Violation::ControlTooLong));
        }
    }
    let masked = b1 & 0x80 != 0;
    match rules.side {
        Side::Server if !masked => Err(Error::Protocol(Violation::UnmaskedFrame)),
        Side::Client if masked => Err(Error::Protocol(Violation::MaskedFrame)),
        _ => Ok(()),
    }
}

/// The full header length implied by the two fixed bytes.
pub(crate) fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a complete header (`buf.len() == header_len(buf[1])`), whose first
/// two bytes passed [`check_first_two`].
#[inline]
pub(crate) fn parse(buf: &[u8], rules: Rules) -> Result<Header, Error> {
    let (b0, b1) = (buf[0], buf[1]);
    let opcode = OpCode::from_bits(b0 & 0x0f)?;
    let (len, rest) = match b1 & 0x7f {
        126 => {
            let len = u64::from(u16::from_be_bytes([buf[2], buf[3]]));
            if len < 126 && !rules.allow_non_minimal_length {
                return Err(Error::Protocol(Violation::NonMinimalLength));
            }
            (len, &buf[4..])
        }
        127 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(be);
            if len >> 63 != 0 {
                return Err(Error::Protocol(Violation::LengthOverflow));
            }
            if len <= 0xffff && !rules.allow_non_minimal_length {
                return Err(Error::Protocol(Violation::NonMinimalLength));
            }
            (len, &buf[10..])
        }
        short => (u64::from(short), &buf[2..]),
    };
    let mask = if b1 & 0x80 != 0 {
        rest[..4].try_into().ok()
    } else {
        None
    };
    Ok(Header {
        fin: b0 & 0x80 != 0,
        opcode,
        mask,
        len,
    })
}

/// Appends a header in its minimal encoding.
pub(crate) fn encode_header(
    out: &mut impl BufMut,
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    len: usize,
) {
    out.put_u8(if fin { 0x80 } else { 0 } | opcode.bits());
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        // `len < 126` fits the 7-bit field.
        out.put_u8(mask_bit | len.to_le_bytes()[0]);
    } else if let Ok(len) = u16::try_from(len) {
        out.put_u8(mask_bit | 126);
        out.put_u16(len);
    } else {
        out.put_u8(mask_bit | 127);
        out.put_u64(len as u64);
    }
    if let Some(key) = mask {
        out.put_slice(&key);
    }
}

/// The encoded header length for a payload of `len` bytes.
pub(crate) fn encoded_header_len(len: usize, masked: bool) -> usize {
    let ext = if len < 126 {
        0
    } else if len <= 0xffff {
        2
    } else {
        8
    };
    2 + ext + if masked { 4 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: Rules = Rules {
        side: Side::Server,
        allow_non_minimal_length: false,
    };
    const CLIENT: Rules = Rules {
        side: Side::Client,
        allow_non_minimal_length: false,
    };

    fn parse_all(buf: &[u8], rules: Rules) -> Result<Header, Error> {
        check_first_two(buf[0], buf[1], rules)?;
        assert_eq!(buf.len(), header_len(buf[1]));
        parse(buf, rules)
    }

    #[test]
    fn rfc6455_5_7_examples() {
        // "A single-frame unmasked text message" as a client receives it.
        let h = parse_all(&[0x81, 0x05], CLIENT).unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.len),
            (true, OpCode::Text, None, 5)
        );
        // "A single-frame masked text message" as a server receives it.
        let h = parse_all(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d], SERVER).unwrap();
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        // "256 bytes binary message in a single unmasked frame".
        let h = parse_all(&[0x82, 0x7e, 0x01, 0x00], CLIENT).unwrap();
        assert_eq!((h.opcode, h.len), (OpCode::Binary, 256));
        // "64KiB binary message in a single unmasked frame".
        let h = parse_all(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], CLIENT).unwrap();
        assert_eq!(h.len, 65536);
    }

    #[test]
    fn encode_is_minimal_and_parses_back() {
        for len in [0usize, 125, 126, 0xffff, 0x10000] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let mut out = Vec::new();
                encode_header(&mut out, true, OpCode::Binary, mask, len);
                assert_eq!(out.len(), encoded_header_len(len, mask.is_some()));
                let rules = if mask.is_some() { SERVER } else { CLIENT };
                let h = parse_all(&out, rules).unwrap();
                assert_eq!((h.len, h.mask), (len as u64, mask));
            }
        }
    }
}
