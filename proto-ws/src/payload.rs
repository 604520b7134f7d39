//! [`PayloadBuffer`]: where data-frame payload is copied, once, from the
//! caller's input, unmasked on the way (so the block is written once, see
//! [`copy_masked`]), and handed out as [`Bytes`] views (DESIGN.md,
//! "memory").
//!
//! How much it reserves is a trade between copies and the memory a peer can
//! make us hold, and this file is the one place that decides it:
//!
//! - **A frame is reserved in one piece** once its declared length is at
//!   most [`RESERVE_RATIO`] (2) times what has arrived of it, plus
//!   [`RECEIVE_BLOCK`] (64 KiB): a frame of up to 64 KiB at its first byte,
//!   a 1 MiB frame once 480 KiB of it is in. Its payload is then never moved
//!   by a reallocation, so it is copied exactly once, from the input. The
//!   declared length passed the frame and message caps before the frame
//!   started, so no reservation exceeds
//!   [`Config::max_message_size`](crate::Config::max_message_size), nor
//!   twice what the peer actually sent plus 64 KiB: an adapter's budget on
//!   buffered bytes counts what arrived
//!   ([`Connection::buffered_input`](crate::Connection::buffered_input)),
//!   so what is reserved must stay close to it. (A ratio of 16 saved a
//!   1 MiB frame its growth copies, but let a peer make us reserve 16
//!   times what it sent, unseen by that budget.) (What a quiet peer can
//!   pin between reads is bounded further by the compaction below.)
//! - **Before that the buffer grows with what arrives**, at least doubling
//!   each time, so a header declaring 16 MiB followed by a trickle pins only
//!   about what arrived, and the copies made while growing add up to at most
//!   about twice the frame (about once for a frame read in 64 KiB
//!   pieces; `realloc` moves a large block without copying where it can). A message in many fragments grows the same way.
//! - **The small frames that follow in the same read share the block**: when
//!   a frame ends in the current input, up to [`RECEIVE_BLOCK`] of the bytes
//!   after it are reserved too, so a read of many small messages costs one
//!   allocation, and each message is a view of it.
//! - **Between reads an empty buffer keeps only a small block** (at most
//!   [`COMPACT_BELOW`] bytes), and a small partial message is moved out of
//!   a large block, so a quiet connection pins at most [`COMPACT_BELOW`]
//!   bytes of payload. Keeping the small block lets a connection that
//!   exchanges small messages reuse one block instead of allocating and
//!   freeing one per read (blocks start at [`MIN_BLOCK`] bytes, so several
//!   small messages fit before the block is reclaimed). This holds for a read cut short
//!   by the event queue too: keeping the block for the rest of that read
//!   saves two allocations per 32 messages, but measured no faster (the next
//!   messages land on cold cache lines further into the block, where a
//!   fresh allocation usually gets the just-freed, still cached one back).
//!
//! Reservations use [`BytesMut::try_reclaim`] first, so a block whose
//! messages the application already dropped is reused rather than freed and
//! allocated again.

use bytes::{Bytes, BytesMut};

use crate::mask::{apply_mask, copy_masked};

/// A frame is reserved whole once its length is at most `RESERVE_RATIO`
/// times what arrived of it, plus [`RECEIVE_BLOCK`].
const RESERVE_RATIO: u64 = 2;
/// The most a block is reserved past the end of the current frame, for the
/// frames that follow it in the same read.
const RECEIVE_BLOCK: usize = 64 * 1024;
/// A partial message at most this long is moved out of an oversized block
/// at the end of a read.
const COMPACT_BELOW: usize = 1024;
/// The smallest block reserved: room for a few small messages.
const MIN_BLOCK: usize = 256;
/// Pieces at least this long are unmasked while copied; shorter ones are
/// copied, then unmasked a word at a time in place.
const COPY_MASKED_FROM: usize = 32;

/// The payload of the data message being received.
#[derive(Debug)]
pub(crate) struct PayloadBuffer {
    buf: BytesMut,
    /// The size of the block `buf` was last given, kept between reads when
    /// at most [`COMPACT_BELOW`].
    block: usize,
    /// The message size cap: no reservation goes past it (plus the
    /// following frames' [`RECEIVE_BLOCK`]).
    max_message_size: usize,
}

impl PayloadBuffer {
    pub(crate) fn new(max_message_size: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            block: 0,
            max_message_size,
        }
    }

    /// Payload bytes held.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes reserved, held ones included.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Copies `chunk` in, unmasked as the bytes `phase` bytes into a frame
    /// masked with `mask`; returns the unmasked bytes, for validation.
    ///
    /// `frame_rest` is how much of the frame is still to come, `chunk`
    /// included (the frame ends with this chunk when they are equal), and
    /// `after` how many input bytes follow the chunk in the current read.
    #[inline]
    pub(crate) fn append(
        &mut self,
        chunk: &[u8],
        mask: Option<[u8; 4]>,
        phase: usize,
        frame_rest: u64,
        after: usize,
    ) -> &[u8] {
        let n = chunk.len();
        if self.buf.capacity() - self.buf.len() < n {
            self.make_room(n, frame_rest, after);
        }
        let start = self.buf.len();
        match mask {
            Some(key) if n >= COPY_MASKED_FROM => {
                // Safe Rust writes only initialized bytes: zero the room
                // first, a write-only pass, cheaper than reading a plain
                // copy back to unmask it (see `copy_masked`).
                self.buf.resize(start + n, 0);
                copy_masked(&mut self.buf[start..], chunk, key, phase);
            }
            Some(key) => {
                self.buf.extend_from_slice(chunk);
                apply_mask(&mut self.buf[start..], key, phase);
            }
            None => self.buf.extend_from_slice(chunk),
        }
        &self.buf[start..]
    }

    /// Hands out everything held as one view; the rest of the block stays
    /// for the frames that follow.
    #[inline]
    pub(crate) fn take(&mut self) -> Bytes {
        self.buf.split_to(self.buf.len()).freeze()
    }

    /// Drops what is held and the block.
    pub(crate) fn release(&mut self) {
        self.buf = BytesMut::new();
        self.block = 0;
    }

    /// Trims the buffer at the end of a read.
    pub(crate) fn end_read(&mut self) {
        if self.buf.is_empty() {
            // A large block lives on only in the messages handed out; a
            // small one is kept for the next read.
            if self.block > COMPACT_BELOW {
                self.release();
            }
        } else if self.buf.len() <= COMPACT_BELOW && self.buf.capacity() > 2 * COMPACT_BELOW {
            // A small partial message must not pin a large block while the
            // peer goes quiet.
            self.buf = BytesMut::from(&self.buf[..]);
            self.block = self.buf.capacity();
        }
    }

    /// Grows the buffer to take `n` more bytes (see the module doc).
    #[cold]
    fn make_room(&mut self, n: usize, frame_rest: u64, after: usize) {
        let len = self.buf.len();
        let held = len + n;
        let frame_end = (len as u64).saturating_add(frame_rest);
        let whole = (held as u64)
            .saturating_mul(RESERVE_RATIO)
            .saturating_add(RECEIVE_BLOCK as u64);
        let mut target = if frame_end <= whole {
            // Fits: `frame_end` passed the message cap, a `usize`.
            let end = usize::try_from(frame_end).unwrap_or(held);
            if end <= held {
                // The frame ends in this piece: room for what follows it.
                held + after.min(RECEIVE_BLOCK)
            } else {
                end
            }
        } else {
            held
        };
        // At least double, so a buffer grown a piece at a time is copied
        // O(1) times per byte, never past the message cap.
        target = target
            .max(len.saturating_mul(2).min(self.max_message_size))
            .max(MIN_BLOCK.min(self.max_message_size));
        if self.buf.try_reclaim(target - len) {
            return;
        }
        if self.buf.capacity().saturating_mul(2) <= target {
            // Grows to exactly `target` (a `Vec` grows to the larger of
            // twice its capacity and what is asked), by `realloc` where
            // this buffer owns the block alone: a large block is then
            // moved by remapping its pages instead of copying them.
            self.buf.reserve(target - len);
        } else {
            let mut grown = BytesMut::with_capacity(target);
            grown.extend_from_slice(&self.buf);
            self.buf = grown;
        }
        self.block = self.buf.capacity();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn fill(buf: &mut PayloadBuffer, n: usize, frame_rest: usize, after: usize) {
        buf.append(&vec![7; n], None, 0, frame_rest as u64, after);
    }

    #[test]
    fn a_frame_is_reserved_whole_once_half_arrived() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 1, 64 * 1024, 0);
        assert_eq!(buf.capacity(), 64 * 1024, "64 KiB at its first byte");
        buf.release();
        fill(&mut buf, 400 * 1024, MIB, 0);
        assert_eq!(buf.capacity(), 400 * 1024, "1 MiB not on 400 KiB");
        buf.release();
        fill(&mut buf, 480 * 1024, MIB, 0);
        assert_eq!(buf.capacity(), MIB, "1 MiB on 480 KiB");
        while buf.len() < MIB {
            let rest = MIB - buf.len();
            fill(&mut buf, rest.min(64 * 1024), rest, 0);
            assert_eq!(buf.capacity(), MIB, "never moved again");
        }
        assert_eq!(buf.take().len(), MIB);
    }

    #[test]
    fn a_trickle_reserves_about_what_arrived() {
        let frame = 16 * MIB;
        let mut buf = PayloadBuffer::new(frame);
        fill(&mut buf, 1000, frame, 0);
        assert_eq!(buf.capacity(), 1000);
        let mut copied = 0;
        while buf.capacity() < frame {
            let (len, before) = (buf.len(), buf.capacity());
            fill(&mut buf, 1000, frame - len, 0);
            if buf.capacity() != before {
                copied += len;
                // Doubling with what arrived, or the whole frame once
                // half of it is in: never more than twice what arrived
                // plus one receive block.
                assert!(
                    buf.capacity() <= 2 * buf.len() + RECEIVE_BLOCK,
                    "{} for {}",
                    buf.capacity(),
                    buf.len()
                );
            }
        }
        assert_eq!(buf.capacity(), frame);
        // A doubling buffer: growth copies stay within two bytes per byte.
        assert!(copied <= 2 * frame, "{copied}");
    }

    #[test]
    fn small_frames_of_one_read_share_a_block() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 16, 16, 10_000);
        assert_eq!(buf.capacity(), 16 + 10_000);
        let mut previous = buf.take();
        for _ in 0..100 {
            fill(&mut buf, 16, 16, 0);
            let next = buf.take();
            assert_eq!(next.as_ptr(), previous.as_ptr().wrapping_add(16));
            previous = next;
        }
    }

    #[test]
    fn the_lookahead_is_bounded() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 16, 16, 10 * MIB);
        assert_eq!(buf.capacity(), 16 + RECEIVE_BLOCK);
    }

    #[test]
    fn fragments_grow_geometrically_within_the_cap() {
        let mut buf = PayloadBuffer::new(4096);
        let mut moves = 0;
        for _ in 0..64 {
            let before = buf.capacity();
            fill(&mut buf, 64, 64, 0);
            moves += usize::from(buf.capacity() != before);
            assert!(buf.capacity() <= 4096);
        }
        assert!(moves <= 8, "{moves}");
    }

    #[test]
    fn a_block_whose_messages_were_dropped_is_reused() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 64 * 1024, 64 * 1024, 0);
        let first = buf.take();
        let address = first.as_ptr();
        drop(first);
        fill(&mut buf, 64 * 1024, 64 * 1024, 0);
        assert_eq!(buf.take().as_ptr(), address);
    }

    #[test]
    fn a_small_block_is_kept_across_reads_and_reused() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 32, 32, 0);
        assert_eq!(buf.capacity(), MIN_BLOCK, "room for a few small messages");
        let first = buf.take();
        let address = first.as_ptr();
        drop(first);
        buf.end_read();
        // The next read's messages land in the same block, one after the
        // other, then at its start again once the earlier ones are dropped.
        for i in 0..(3 * MIN_BLOCK / 32) {
            fill(&mut buf, 32, 32, 0);
            let message = buf.take();
            let expected = address.wrapping_add((i + 1) % (MIN_BLOCK / 32) * 32);
            assert_eq!(message.as_ptr(), expected, "message {i}");
            drop(message);
            buf.end_read();
        }
        // Messages the application still holds are never written over.
        let held: Vec<Bytes> = (0..16u8) // two blocks of 32-byte messages
            .map(|i| {
                buf.append(&[i; 32], None, 0, 32, 0);
                let message = buf.take();
                buf.end_read();
                message
            })
            .collect();
        for (i, message) in (0..).zip(&held) {
            assert_eq!(&message[..], &[i; 32][..]);
        }
    }

    #[test]
    fn end_read_releases_or_compacts() {
        let mut buf = PayloadBuffer::new(16 * MIB);
        fill(&mut buf, 16, 16, 60_000);
        drop(buf.take());
        buf.end_read();
        assert_eq!(buf.capacity(), 0);

        fill(&mut buf, 16, 16, 60_000);
        drop(buf.take());
        fill(&mut buf, 100, 1000, 0);
        buf.end_read();
        assert_eq!((buf.len(), buf.capacity()), (100, 100));
    }
}
