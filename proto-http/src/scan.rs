//! Finds the end of a head (or trailer section) incrementally.
//!
//! Rules of this file: every received head byte is looked at exactly once,
//! in order, whatever the read split (the class of tungstenite's
//! CVE-2023-43669 is re-parsing a growing buffer on every read). The first
//! violating byte decides the error, so errors do not depend on the split
//! either. Only once the final empty line is seen is the head handed to
//! httparse, once.

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const SP: u8 = b' ';
const HTAB: u8 = b'\t';

/// Why a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    BareCr,
    BareLf,
    Control,
    ObsFold,
    /// An empty start line (after the one ignored empty line).
    EmptyStartLine,
    StartLineTooLong,
    TooLarge,
    TooManyFields,
}

/// Limits of one scan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanLimits {
    /// Bytes from the start of the head through its final LF.
    pub(crate) max_size: usize,
    /// Bytes of the start line without its line end, if capped.
    pub(crate) max_start_line: usize,
    pub(crate) max_fields: usize,
    pub(crate) allow_lf: bool,
    /// Ignore one empty line before the start line (RFC 9112 §2.2).
    pub(crate) skip_empty_line: bool,
}

/// Where the parts of a complete head are, as buffer offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadEnd {
    /// First byte of the start line (after an ignored empty line).
    pub(crate) start: usize,
    /// End of the start line's content (its CR or LF).
    pub(crate) start_line_end: usize,
    /// First byte of the first field line.
    pub(crate) fields_start: usize,
    /// One past the final LF.
    pub(crate) end: usize,
    /// Number of field lines.
    pub(crate) fields: usize,
}

/// The state of a scan in progress.
#[derive(Debug, Clone)]
pub(crate) struct HeadScan {
    pos: usize,
    start: usize,
    line_start: usize,
    /// Completed non-empty lines (the start line included, if any).
    lines: usize,
    start_line_end: usize,
    fields_start: usize,
    cr: bool,
    skipped_empty: bool,
}

impl HeadScan {
    /// A scan of a head with a start line.
    pub(crate) fn head() -> Self {
        Self {
            pos: 0,
            start: 0,
            line_start: 0,
            lines: 0,
            start_line_end: 0,
            fields_start: 0,
            cr: false,
            skipped_empty: false,
        }
    }

    /// A scan of a trailer section: field lines only.
    pub(crate) fn fields() -> Self {
        Self {
            lines: 1,
            skipped_empty: true,
            ..Self::head()
        }
    }

    /// Scans `buf[self.pos..]`; `buf` must start where the head starts and
    /// hold every byte scanned before.
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        limits: &ScanLimits,
    ) -> Result<Option<HeadEnd>, ScanError> {
        while self.pos < buf.len() {
            // Fast path: a run of ordinary bytes in the middle of a line.
            if !self.cr && self.pos != self.line_start {
                let run = plain_run(&buf[self.pos..]);
                if run > 0 {
                    self.check_run(self.pos, self.pos + run, true, limits)?;
                    self.pos += run;
                    continue;
                }
            }
            let i = self.pos;
            let b = buf[i];
            self.check_run(i, i + 1, !(self.cr || b == CR || b == LF), limits)?;
            self.pos += 1;
            if self.cr {
                if b != LF {
                    return Err(ScanError::BareCr);
                }
                self.cr = false;
                if let Some(end) = self.end_line(i - 1, i + 1, limits)? {
                    return Ok(Some(end));
                }
            } else if b == CR {
                if buf.get(i + 1) == Some(&LF) {
                    // The usual line end in one step: the same checks as
                    // taking the LF on its own below.
                    self.check_run(i + 1, i + 2, false, limits)?;
                    self.pos += 1;
                    if let Some(end) = self.end_line(i, i + 2, limits)? {
                        return Ok(Some(end));
                    }
                } else {
                    self.cr = true;
                }
            } else if b == LF {
                if !limits.allow_lf {
                    return Err(ScanError::BareLf);
                }
                if let Some(end) = self.end_line(i, i + 1, limits)? {
                    return Ok(Some(end));
                }
            } else if !is_plain(b) {
                return Err(ScanError::Control);
            } else if i == self.line_start && self.lines >= 1 && (b == SP || b == HTAB) {
                return Err(ScanError::ObsFold);
            }
        }
        Ok(None)
    }

    /// Checks the size limits for bytes `from..to` of the current line; the
    /// first byte over a limit decides which error.
    fn check_run(
        &self,
        from: usize,
        to: usize,
        content: bool,
        limits: &ScanLimits,
    ) -> Result<(), ScanError> {
        // Index of the first byte over each limit.
        let over_size = self.start.saturating_add(limits.max_size);
        let over_line = if self.lines == 0 && content {
            self.line_start.saturating_add(limits.max_start_line)
        } else {
            usize::MAX
        };
        let first = over_size.min(over_line);
        if first >= from && first < to {
            return Err(if over_size <= over_line {
                ScanError::TooLarge
            } else {
                ScanError::StartLineTooLong
            });
        }
        Ok(())
    }

    /// Handles the end of a line whose content ends at `content_end`; the
    /// next line starts at `next`.
    fn end_line(
        &mut self,
        content_end: usize,
        next: usize,
        limits: &ScanLimits,
    ) -> Result<Option<HeadEnd>, ScanError> {
        let empty = content_end == self.line_start;
        if empty {
            if self.lines >= 1 {
                return Ok(Some(HeadEnd {
                    start: self.start,
                    start_line_end: self.start_line_end,
                    fields_start: self.fields_start,
                    end: next,
                    fields: self.lines - 1,
                }));
            }
            if limits.skip_empty_line && !self.skipped_empty {
                self.skipped_empty = true;
                self.start = next;
                self.line_start = next;
                self.fields_start = next;
                self.start_line_end = next;
                return Ok(None);
            }
            return Err(ScanError::EmptyStartLine);
        }
        if self.lines == 0 {
            self.start_line_end = content_end;
            self.fields_start = next;
        } else if self.lines > limits.max_fields {
            return Err(ScanError::TooManyFields);
        }
        self.lines += 1;
        self.line_start = next;
        Ok(None)
    }
}

/// Not a control character: SP, VCHAR or obs-text (HTAB is handled apart).
fn is_plain(b: u8) -> bool {
    (b >= 0x20 && b != 0x7f) || b == HTAB
}

/// The length of the leading run of bytes that are neither CR, LF nor a
/// control character other than HTAB. Sixteen bytes at a time where it can.
fn plain_run(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 16) {
        let (a, b) = chunk.split_at(8);
        let (a, b) = (special_bytes(word(a)), special_bytes(word(b)));
        if a | b != 0 {
            let hit = if a != 0 {
                a.trailing_zeros()
            } else {
                64 + b.trailing_zeros()
            };
            return i + (hit / 8) as usize;
        }
        i += 16;
    }
    if let Some(chunk) = s.get(i..i + 8) {
        let a = special_bytes(word(chunk));
        if a != 0 {
            return i + (a.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // HTAB is plain for the caller but rare: leave it to the byte loop.
    while i < s.len() && s[i] >= 0x20 && s[i] != 0x7f {
        i += 1;
    }
    i
}

/// Eight bytes, the first in the lowest bits.
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    u64::from_le_bytes(w)
}

/// The high bit of each byte of `x` that is below 0x20 or is 0x7f, where
/// only the lowest set bit is meaningful: it marks exactly the first such
/// byte (a borrow only moves upwards from a byte that is itself flagged, so
/// bits above it may be false alarms, bits below it never are). Zero
/// exactly when there is no such byte.
fn special_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let y = x ^ (ONES * 0x7f);
    let del = y.wrapping_sub(ONES) & !y & HIGH;
    low | del
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ScanLimits {
        ScanLimits {
            max_size: 1000,
            max_start_line: 100,
            max_fields: 10,
            allow_lf: false,
            skip_empty_line: true,
        }
    }

    fn scan_all(input: &[u8], l: &ScanLimits) -> Result<Option<HeadEnd>, ScanError> {
        HeadScan::head().scan(input, l)
    }

    fn scan_split(input: &[u8], l: &ScanLimits) -> Result<Option<HeadEnd>, ScanError> {
        let mut s = HeadScan::head();
        for n in 1..=input.len() {
            if let Some(end) = s.scan(&input[..n], l)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    #[test]
    fn finds_the_end_and_the_parts() {
        let head = b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        let end = scan_all(head, &limits()).unwrap().unwrap();
        assert_eq!(end.start, 2);
        assert_eq!(&head[end.start..end.start_line_end], b"GET / HTTP/1.1");
        assert_eq!(&head[end.fields_start..end.end], b"Host: a\r\n\r\n");
        assert_eq!(end.fields, 1);
        assert_eq!(scan_split(head, &limits()), Ok(Some(end)));
    }

    #[test]
    fn plain_run_stops_at_every_special_byte() {
        for special in (0u8..0x20).chain([0x7f]) {
            for at in 0..20 {
                let mut s = vec![b'a'; 20];
                s[at] = special;
                assert_eq!(plain_run(&s), at, "byte {special:#x} at {at}");
            }
        }
        assert_eq!(
            plain_run(&[0x80, 0xff, b' ', b'~', 0x80, 0x90, 0xa0, 0xfe, 0xff]),
            9
        );
        // Every position of every word and of the byte tail, with other
        // special bytes after the first (they must not move the answer).
        for special in (0u8..0x20).chain([0x7f]) {
            for len in [7, 8, 15, 16, 17, 24, 31, 32, 33, 40] {
                for at in 0..len {
                    let mut s: Vec<u8> = (0..len)
                        .map(|i| 0x20 + u8::try_from(i * 37 % 0xe0).unwrap())
                        .collect();
                    for b in &mut s {
                        if *b == 0x7f {
                            *b = b'a';
                        }
                    }
                    s[at] = special;
                    for later in (at + 1..len).step_by(3) {
                        s[later] = [0x00, 0x1f, 0x7f, b'\r'][later % 4];
                    }
                    assert_eq!(plain_run(&s), at, "byte {special:#x} at {at} of {len}");
                }
                let clean: Vec<u8> = (0..len).map(|i| [b'a', 0x80, 0xff, b' '][i % 4]).collect();
                assert_eq!(plain_run(&clean), len);
            }
        }
    }

    #[test]
    fn limits_are_exact_whatever_the_split() {
        for size in 60..70 {
            let l = ScanLimits {
                max_size: size,
                ..limits()
            };
            let mut head = b"GET / HTTP/1.1\r\nX: ".to_vec();
            while head.len() < 64 - 4 {
                head.push(b'a');
            }
            head.extend_from_slice(b"\r\n\r\n");
            let expect = if head.len() <= size {
                Ok(())
            } else {
                Err(ScanError::TooLarge)
            };
            assert_eq!(scan_all(&head, &l).map(|_| ()), expect);
            assert_eq!(scan_split(&head, &l).map(|_| ()), expect);
        }
    }
}
