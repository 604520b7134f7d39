//! The runner's own WebSocket wire code, independent of proto-ws.
//!
//! The runner must be able to send what no correct implementation would
//! (reserved bits, reserved opcodes, oversized control frames, broken UTF-8,
//! invalid close codes), and it must judge the peer strictly, so it does not
//! use the crate it is testing: this module writes frames byte by byte and
//! reads the peer's frames with its own strict reader (RFC 6455 §5).

use std::fmt;

/// Continuation frame opcode.
pub const OP_CONTINUATION: u8 = 0x0;
/// Text frame opcode.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame opcode.
pub const OP_BINARY: u8 = 0x2;
/// Close frame opcode.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame opcode.
pub const OP_PING: u8 = 0x9;
/// Pong frame opcode.
pub const OP_PONG: u8 = 0xA;

/// The largest frame payload the reader accepts from a peer: above the
/// biggest message the catalogue sends (16 MiB), so a correct echo always
/// fits, and finite, so a broken peer cannot exhaust memory.
pub const MAX_PEER_PAYLOAD: u64 = 64 << 20;

/// XORs `data` with `key`, starting at key offset `offset` (so a frame's
/// payload can be masked in several pieces).
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let rotated = [
        key[offset % 4],
        key[(offset + 1) % 4],
        key[(offset + 2) % 4],
        key[(offset + 3) % 4],
    ];
    let wide = u64::from_ne_bytes([
        rotated[0], rotated[1], rotated[2], rotated[3], rotated[0], rotated[1], rotated[2],
        rotated[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= rotated[i % 4];
    }
}

/// Encodes one frame with whatever `fin`, `rsv` (3 bits) and `opcode`
/// (4 bits) the caller asks for, valid or not: masked with `key` when one is
/// given (a client's frame), unmasked otherwise (a server's). The length
/// uses the shortest encoding.
#[must_use]
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: &[u8],
    key: Option<[u8; 4]>,
) -> Vec<u8> {
    let mut out = frame_header(fin, rsv, opcode, payload.len() as u64, key);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455
/// §4.2.2): base64 of the SHA-1 of the key and the protocol's GUID.
#[must_use]
pub fn accept_key(key: &str) -> String {
    use base64::Engine as _;
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// The header of a frame of `len` payload bytes, with the masking key when
/// `key` is given (client frames) and without (server frames).
#[must_use]
pub fn frame_header(fin: bool, rsv: u8, opcode: u8, len: u64, key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(14);
    out.push(u8::from(fin) << 7 | (rsv & 0x7) << 4 | (opcode & 0xF));
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    if let Ok(short @ 0..=125) = u8::try_from(len) {
        out.push(mask_bit | short);
    } else if let Ok(medium) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&medium.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    out
}

/// A close frame payload: the code (if any) and the reason bytes, which the
/// caller may make invalid on purpose.
#[must_use]
pub fn close_payload(code: Option<u16>, reason: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + reason.len());
    if let Some(code) = code {
        out.extend_from_slice(&code.to_be_bytes());
    }
    out.extend_from_slice(reason);
    out
}

/// One frame read from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The (unmasked) payload.
    pub payload: Vec<u8>,
}

/// A rule of RFC 6455 the peer broke, with the close code it calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1002 (protocol error), 1007 (invalid payload) or 1009 (too big).
    pub code: u16,
    /// What was wrong.
    pub reason: String,
}

impl Violation {
    pub(crate) fn protocol(reason: impl Into<String>) -> Self {
        Self {
            code: 1002,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.code)
    }
}

/// Parses one frame from the start of `buf`, as sent by a peer in the
/// given role (`peer_is_server`: frames must be unmasked; otherwise they
/// must be masked). Returns the frame and how many bytes it used, `Ok(None)`
/// when more bytes are needed.
///
/// # Errors
///
/// A [`Violation`] for reserved bits (no extension is ever negotiated), a
/// reserved opcode, a wrong mask bit, a fragmented or oversized control
/// frame, or a payload above [`MAX_PEER_PAYLOAD`].
pub fn parse_frame(buf: &[u8], peer_is_server: bool) -> Result<Option<(Frame, usize)>, Violation> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0x7;
    let opcode = b0 & 0xF;
    if rsv != 0 {
        return Err(Violation::protocol(format!(
            "reserved bits {rsv:#b} set with no extension negotiated"
        )));
    }
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(Violation::protocol(format!("reserved opcode {opcode}")));
    }
    let masked = b1 & 0x80 != 0;
    if masked && peer_is_server {
        return Err(Violation::protocol("masked frame from a server"));
    }
    if !masked && !peer_is_server {
        return Err(Violation::protocol("unmasked frame from a client"));
    }
    let (len, mut at) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut be = [0u8; 8];
            be.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(be), 10)
        }
        short => (u64::from(short), 2),
    };
    if opcode >= 0x8 {
        if !fin {
            return Err(Violation::protocol("fragmented control frame"));
        }
        if len > 125 {
            return Err(Violation::protocol(format!(
                "control frame payload of {len} bytes"
            )));
        }
    }
    if len > MAX_PEER_PAYLOAD {
        return Err(Violation {
            code: 1009,
            reason: format!("frame payload of {len} bytes"),
        });
    }
    let key = if masked {
        if buf.len() < at + 4 {
            return Ok(None);
        }
        let key = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(key)
    } else {
        None
    };
    let len = usize::try_from(len).map_err(|_| Violation::protocol("length overflows usize"))?;
    if buf.len() < at + len {
        return Ok(None);
    }
    let mut payload = buf[at..at + len].to_vec();
    if let Some(key) = key {
        apply_mask(&mut payload, key, 0);
    }
    Ok(Some((
        Frame {
            fin,
            opcode,
            payload,
        },
        at + len,
    )))
}

/// Close codes a peer may send (RFC 6455 §7.4.1 and the IANA registry as
/// the Autobahn suite reads it): 1000-1003, 1007-1011, 3000-4999.
#[must_use]
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// Incremental UTF-8 validation across frame boundaries.
#[derive(Debug, Default, Clone)]
pub struct Utf8Stream {
    tail: Vec<u8>,
}

impl Utf8Stream {
    /// Feeds the next bytes; `false` as soon as they cannot be the start of
    /// valid UTF-8.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(bytes);
        match std::str::from_utf8(&joined) {
            Ok(_) => true,
            Err(e) if e.error_len().is_none() => {
                self.tail = joined[e.valid_up_to()..].to_vec();
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the text fed so far ends on a code point boundary.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.tail.is_empty()
    }
}

/// A small xorshift generator for masking keys and handshake nonces. The
/// runner needs varied keys, not secrets.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (never zero).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        let [a, b, c, d, ..] = self.next_u64().to_le_bytes();
        [a, b, c, d]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_in_pieces_equals_masking_at_once() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = data.clone();
        let (a, b) = pieces.split_at_mut(13);
        apply_mask(a, key, 0);
        apply_mask(b, key, 13);
        assert_eq!(whole, pieces);
        apply_mask(&mut whole, key, 0);
        assert_eq!(whole, data);
    }

    #[test]
    fn a_client_frame_reads_back_with_the_server_reader() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![b'*'; len];
            let wire = encode_frame(true, 0, OP_TEXT, &payload, Some([9, 8, 7, 6]));
            let (frame, used) = parse_frame(&wire, false).unwrap().unwrap();
            assert_eq!(used, wire.len());
            assert_eq!(frame.payload, payload);
            assert!(
                parse_frame(&wire[..wire.len() - 1], false)
                    .unwrap()
                    .is_none()
            );
            assert!(parse_frame(&wire, true).is_err(), "masked from a server");
        }
    }

    #[test]
    fn a_server_frame_reads_back_with_the_client_reader() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![b'*'; len];
            let wire = encode_frame(true, 0, OP_BINARY, &payload, None);
            let (frame, used) = parse_frame(&wire, true).unwrap().unwrap();
            assert_eq!((used, frame.opcode), (wire.len(), OP_BINARY));
            assert_eq!(frame.payload, payload);
            let refused = parse_frame(&wire, false).unwrap_err();
            assert_eq!(refused.code, 1002, "unmasked from a client");
        }
    }

    #[test]
    fn the_accept_key_is_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn the_reader_is_strict() {
        let unmasked = |b0: u8, payload: &[u8]| {
            let mut v = frame_header(
                b0 & 0x80 != 0,
                (b0 >> 4) & 7,
                b0 & 0xF,
                payload.len() as u64,
                None,
            );
            v.extend_from_slice(payload);
            v
        };
        assert!(parse_frame(&unmasked(0x81, b"ok"), true).unwrap().is_some());
        assert_eq!(
            parse_frame(&unmasked(0xC1, b""), true).unwrap_err().code,
            1002
        );
        assert_eq!(
            parse_frame(&unmasked(0x83, b""), true).unwrap_err().code,
            1002
        );
        assert_eq!(
            parse_frame(&unmasked(0x09, b""), true).unwrap_err().code,
            1002
        );
        assert_eq!(
            parse_frame(&unmasked(0x89, &[0; 126]), true)
                .unwrap_err()
                .code,
            1002
        );
    }

    #[test]
    fn utf8_is_checked_across_pieces_and_fails_fast() {
        let mut s = Utf8Stream::default();
        assert!(s.feed(b"\xce\xba\xe1"));
        assert!(!s.is_complete());
        assert!(s.feed(b"\xbd\xb9"));
        assert!(s.is_complete());
        assert!(
            !s.feed(b"\xf4\x90"),
            "above U+10FFFF is refused at the second byte"
        );
        let mut s = Utf8Stream::default();
        assert!(
            !s.feed(b"\xed\xa0"),
            "a surrogate is refused before it ends"
        );
    }

    #[test]
    fn close_codes() {
        for ok in [1000, 1003, 1007, 1011, 3000, 4999] {
            assert!(is_valid_close_code(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1012, 1016, 2999, 5000, 65535] {
            assert!(!is_valid_close_code(bad), "{bad}");
        }
    }
}
