//! Finds the end of a head (or trailer section) incrementally, and splits
//! its field lines into names and values on the way.
//!
//! Rules of this file: every received head byte is looked at once, in order,
//! whatever the read split (the class of tungstenite's CVE-2023-43669 is
//! re-parsing a growing buffer on every read). The first violating byte
//! decides the error, so errors do not depend on the split either. A field
//! line that is not `token ":" value` (RFC 9112 §5) is not an error here: it
//! is remembered, and the parser reports it once the head is complete, after
//! the start line's own errors. This is the only pass over the field lines:
//! the parser gets their names and values as ranges, and reads again only
//! the few fields the connection acts on (`known.rs`).
//!
//! The general steps (`name`, `rest_of_line`, `end_line`) handle any byte in
//! any state; whole field lines of the usual shape take a shorter path
//! (`field_lines`) that stops at the first byte it does not expect, in the
//! state the general steps would have reached there.

use crate::head::Field;
use crate::parse::is_tchar;
use std::ops::Range;

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const SP: u8 = b' ';
const HTAB: u8 = b'\t';

/// Room for this many fields is made at the first field line. Browsers send
/// 10 to 20.
const INITIAL_FIELDS: usize = 16;

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

/// A complete head: where its parts are, as buffer offsets, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadEnd {
    /// First byte of the start line (after an ignored empty line).
    pub(crate) start: usize,
    /// End of the start line's content (its CR or LF).
    pub(crate) start_line_end: usize,
    /// One past the final LF.
    pub(crate) end: usize,
    /// The well-formed field lines, in order: names, and values without the
    /// whitespace around them.
    pub(crate) fields: Vec<Field>,
    /// Some field line is not `token ":" value`.
    pub(crate) malformed_field: bool,
}

/// Where the scan is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    StartLine,
    /// In a field name, from the line's first byte.
    Name,
    /// After a field name: its value, or the rest of a line whose name was
    /// not a token followed by a colon, or the final empty line.
    Value,
}

/// The state of a scan in progress.
#[derive(Debug, Clone)]
pub(crate) struct HeadScan {
    at: Cursor,
    fields: Vec<Field>,
}

/// Where a scan stands, apart from the field index so that the steps can
/// borrow both.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: usize,
    start: usize,
    line_start: usize,
    /// Completed non-empty lines (the start line included, if any).
    lines: usize,
    start_line_end: usize,
    phase: Phase,
    /// The colon ending the current line's name, if the name is a token.
    colon: Option<usize>,
    cr: bool,
    skipped_empty: bool,
    malformed_field: bool,
}

impl HeadScan {
    /// A scan of a head with a start line, its fields going into `fields`
    /// (emptied first: a recycled index saves an allocation per head).
    pub(crate) fn head(mut fields: Vec<Field>) -> Self {
        fields.clear();
        Self {
            at: Cursor {
                pos: 0,
                start: 0,
                line_start: 0,
                lines: 0,
                start_line_end: 0,
                phase: Phase::StartLine,
                colon: None,
                cr: false,
                skipped_empty: false,
                malformed_field: false,
            },
            fields,
        }
    }

    /// A scan of a trailer section: field lines only.
    pub(crate) fn fields() -> Self {
        let mut scan = Self::head(Vec::new());
        scan.at.lines = 1;
        scan.at.skipped_empty = true;
        scan.at.phase = Phase::Name;
        scan
    }

    /// Scans `buf[self.pos..]`; `buf` must start where the head starts and
    /// hold every byte scanned before.
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        limits: &ScanLimits,
    ) -> Result<Option<HeadEnd>, ScanError> {
        let found = self.at.run(buf, limits, &mut self.fields)?;
        Ok(found.map(|end| HeadEnd {
            start: self.at.start,
            start_line_end: self.at.start_line_end,
            end,
            fields: std::mem::take(&mut self.fields),
            malformed_field: self.at.malformed_field,
        }))
    }
}

impl Cursor {
    /// Scans until the end of the head (returned: one past its final LF),
    /// the end of the input, or an error.
    fn run(
        &mut self,
        buf: &[u8],
        limits: &ScanLimits,
        fields: &mut Vec<Field>,
    ) -> Result<Option<usize>, ScanError> {
        loop {
            // No byte past the size cap is ever examined: reaching the first
            // one is the error.
            let over_size = self.start.saturating_add(limits.max_size);
            let end = buf.len().min(over_size);
            if self.pos >= end {
                return if buf.len() > over_size {
                    Err(ScanError::TooLarge)
                } else {
                    Ok(None)
                };
            }
            let done = if self.cr {
                // The byte after a CR that ended a read.
                if buf[self.pos] != LF {
                    return Err(ScanError::BareCr);
                }
                self.cr = false;
                self.pos += 1;
                self.end_line(buf, self.pos - 2, self.pos, limits, fields)?
            } else {
                if self.phase == Phase::Name && self.pos == self.line_start {
                    self.field_lines(&buf[..end], limits, fields)?;
                }
                if self.phase == Phase::Name {
                    self.name(&buf[..end])?;
                    if self.phase == Phase::Name {
                        // The input ends inside the name.
                        continue;
                    }
                }
                self.rest_of_line(buf, end, limits, fields)?
            };
            if done.is_some() {
                return Ok(done);
            }
        }
    }

    /// Takes whole field lines of the usual shape, `token ":" value CRLF`
    /// with no HTAB, in fewer steps than `name` and `rest_of_line` take.
    /// Stops at the first byte it does not expect, with the state those two
    /// would have reached there: they go on from it (so no byte is looked at
    /// twice, and every rule and error stays theirs).
    #[inline(never)]
    fn field_lines(
        &mut self,
        buf: &[u8],
        limits: &ScanLimits,
        fields: &mut Vec<Field>,
    ) -> Result<(), ScanError> {
        loop {
            let name_start = self.pos;
            let colon = name_start + token_run(&buf[name_start..]);
            if colon == name_start || buf.get(colon) != Some(&b':') {
                // Not a name: the final empty line, obs-fold, a bad name,
                // or the end of the input.
                self.pos = colon;
                return Ok(());
            }
            let value_start = colon + 1;
            let value_end = value_start + plain_run(&buf[value_start..]);
            if buf.get(value_end) != Some(&CR) || buf.get(value_end + 1) != Some(&LF) {
                self.colon = Some(colon);
                self.phase = Phase::Value;
                self.pos = value_end;
                return Ok(());
            }
            if self.lines > limits.max_fields {
                return Err(ScanError::TooManyFields);
            }
            let value = trim_ows_range(buf, value_start, value_end);
            if fields.len() == fields.capacity() {
                fields.reserve(fields.len().max(INITIAL_FIELDS));
            }
            fields.push(Field {
                name: name_start..colon,
                value,
            });
            self.lines += 1;
            self.pos = value_end + 2;
            self.line_start = self.pos;
        }
    }

    /// Takes the bytes of a field name; at its end, moves on to the value.
    fn name(&mut self, buf: &[u8]) -> Result<(), ScanError> {
        self.pos += out_of_line(token_run, &buf[self.pos..]);
        let Some(&b) = buf.get(self.pos) else {
            return Ok(());
        };
        if b == b':' && self.pos > self.line_start {
            self.colon = Some(self.pos);
            self.pos += 1;
        } else if self.pos == self.line_start && (b == SP || b == HTAB) {
            return Err(ScanError::ObsFold);
        } else {
            // Not a token and a colon (or the empty line that ends the
            // head): the rest of the line is checked like a value, and `b`
            // by that check.
            self.colon = None;
        }
        self.phase = Phase::Value;
        Ok(())
    }

    /// Takes the bytes of a start line or of a field value, up to the end of
    /// the line; `end` is where the input or the size cap ends.
    fn rest_of_line(
        &mut self,
        buf: &[u8],
        end: usize,
        limits: &ScanLimits,
        fields: &mut Vec<Field>,
    ) -> Result<Option<usize>, ScanError> {
        // The start line's content (not its line end) has a cap of its own.
        let over_line = if self.phase == Phase::StartLine {
            self.line_start.saturating_add(limits.max_start_line)
        } else {
            usize::MAX
        };
        let stop = end.min(over_line);
        self.pos += out_of_line(plain_run, &buf[self.pos..stop]);
        let i = self.pos;
        if i == stop {
            if i >= end {
                // More input is needed, or the size cap is reached.
                return Ok(None);
            }
            // The first byte past the start line's cap (and within the size
            // cap): only a line end may be there.
            if buf[i] != CR && buf[i] != LF {
                return Err(ScanError::StartLineTooLong);
            }
        }
        match buf[i] {
            CR => match buf[..end].get(i + 1) {
                Some(&LF) => {
                    self.pos = i + 2;
                    self.end_line(buf, i, i + 2, limits, fields)
                }
                Some(_) => Err(ScanError::BareCr),
                None => {
                    // The LF is still to come (or over the size cap).
                    self.cr = true;
                    self.pos = i + 1;
                    Ok(None)
                }
            },
            LF if limits.allow_lf => {
                self.pos = i + 1;
                self.end_line(buf, i, i + 1, limits, fields)
            }
            LF => Err(ScanError::BareLf),
            HTAB => {
                self.pos = i + 1;
                Ok(None)
            }
            _ => Err(ScanError::Control),
        }
    }

    /// Handles the end of a line whose content ends at `content_end`; the
    /// next line starts at `next`. Returns `next` at the end of the head.
    fn end_line(
        &mut self,
        buf: &[u8],
        content_end: usize,
        next: usize,
        limits: &ScanLimits,
        fields: &mut Vec<Field>,
    ) -> Result<Option<usize>, ScanError> {
        if content_end == self.line_start {
            if self.lines >= 1 {
                return Ok(Some(next));
            }
            if limits.skip_empty_line && !self.skipped_empty {
                self.skipped_empty = true;
                self.start = next;
                self.line_start = next;
                self.start_line_end = next;
                return Ok(None);
            }
            return Err(ScanError::EmptyStartLine);
        }
        if self.lines == 0 {
            self.start_line_end = content_end;
        } else if self.lines > limits.max_fields {
            return Err(ScanError::TooManyFields);
        } else if let Some(colon) = self.colon {
            let value = trim_ows_range(buf, colon + 1, content_end);
            if fields.len() == fields.capacity() {
                // One allocation for most heads, then doubling.
                fields.reserve(fields.len().max(INITIAL_FIELDS));
            }
            fields.push(Field {
                name: self.line_start..colon,
                value,
            });
        } else {
            self.malformed_field = true;
        }
        self.lines += 1;
        self.line_start = next;
        self.phase = Phase::Name;
        Ok(None)
    }
}

/// `from..to` without the SP and HTAB at either end.
fn trim_ows_range(buf: &[u8], from: usize, to: usize) -> Range<usize> {
    let s = &buf[from..to];
    let is_ows = |b: &u8| *b == SP || *b == HTAB;
    let start = s.iter().position(|b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    from + start..from + end
}

/// Calls `run` out of line. The general steps use this: they mostly see a
/// few bytes at a time (a head trickled in, the start of a read), and should
/// not pay for setting up the wide loops at every call; `field_lines` has
/// them inline.
#[inline(never)]
fn out_of_line(run: fn(&[u8]) -> usize, s: &[u8]) -> usize {
    run(s)
}

/// The length of the leading run of `tchar` bytes. Sixteen bytes at a time
/// while they are letters, digits and `-`, what field names are made of.
fn token_run(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 16) {
        let (a, b) = chunk.split_at(8);
        let (a, b) = (not_name_bytes(word(a)), not_name_bytes(word(b)));
        if a | b != 0 {
            let hit = if a != 0 {
                a.trailing_zeros()
            } else {
                64 + b.trailing_zeros()
            };
            i += (hit / 8) as usize;
            break;
        }
        i += 16;
    }
    while i < s.len() && is_tchar(s[i]) {
        i += 1;
    }
    i
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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `x` that is not an ASCII letter, digit or
/// `-`. Exact for every byte: the sums below see only seven-bit bytes, so no
/// carry crosses from one byte into the next.
fn not_name_bytes(x: u64) -> u64 {
    let low = x & LOW7;
    // For a seven-bit byte b, b + 0x80 - lo has its high bit set exactly
    // when b >= lo, and b + 0x7f - hi exactly when b > hi.
    let lower = low | (ONES * 0x20);
    let letter = (lower + ONES * u64::from(0x80 - b'a')) & !(lower + ONES * u64::from(0x7f - b'z'));
    let digit = (low + ONES * u64::from(0x80 - b'0')) & !(low + ONES * u64::from(0x7f - b'9'));
    let y = low ^ (ONES * u64::from(b'-'));
    let hyphen = !((y + LOW7) | y);
    !((letter | digit | hyphen) & !x) & HIGH
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
        HeadScan::head(Vec::new()).scan(input, l)
    }

    fn scan_split(input: &[u8], l: &ScanLimits) -> Result<Option<HeadEnd>, ScanError> {
        let mut s = HeadScan::head(Vec::new());
        for n in 1..=input.len() {
            if let Some(end) = s.scan(&input[..n], l)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    /// Scans `input` in two reads, split at `cut`.
    fn scan_cut(input: &[u8], cut: usize, l: &ScanLimits) -> Result<Option<HeadEnd>, ScanError> {
        let mut s = HeadScan::head(Vec::new());
        match s.scan(&input[..cut], l)? {
            Some(end) => Ok(Some(end)),
            None => s.scan(input, l),
        }
    }

    #[test]
    fn fields_do_not_depend_on_the_split() {
        let heads: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name-Here: some value\r\n\r\n",
            b"GET / HTTP/1.1\r\nA:\t b\tc \t\r\nB:\r\nC:  \r\nD:v\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\nOk: y\r\n\r\n",
            b"GET / HTTP/1.1\r\n:x\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nA\x80: b\r\nV: \x80\xff\r\n\r\n",
        ];
        for head in heads {
            let whole = scan_all(head, &limits()).unwrap().unwrap();
            for cut in 1..head.len() {
                assert_eq!(
                    scan_cut(head, cut, &limits()),
                    Ok(Some(whole.clone())),
                    "cut at {cut} of {:?}",
                    String::from_utf8_lossy(head)
                );
            }
            assert_eq!(scan_split(head, &limits()), Ok(Some(whole)));
        }
    }

    #[test]
    fn finds_the_end_and_the_parts() {
        let head = b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        let end = scan_all(head, &limits()).unwrap().unwrap();
        assert_eq!(end.start, 2);
        assert_eq!(&head[end.start..end.start_line_end], b"GET / HTTP/1.1");
        assert_eq!(&head[end.end..], b"rest");
        let [field] = &end.fields[..] else {
            panic!("{:?}", end.fields)
        };
        assert_eq!(&head[field.name.clone()], b"Host");
        assert_eq!(&head[field.value.clone()], b"a");
        assert!(!end.malformed_field);
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
    fn token_run_stops_at_the_first_non_tchar() {
        let slow = |s: &[u8]| s.iter().position(|&b| !is_tchar(b)).unwrap_or(s.len());
        for b in 0..=255u8 {
            assert_eq!(
                not_name_bytes(u64::from(b)) & 0x80 == 0,
                b.is_ascii_alphanumeric() || b == b'-',
                "{b:#x}"
            );
            for len in [1, 7, 8, 9, 16, 17, 24] {
                for at in 0..len {
                    // Every byte value at every position, after name bytes of
                    // every kind and before other stopping bytes.
                    let mut s: Vec<u8> = (0..len).map(|i| b"aZ09-x_~"[i % 8]).collect();
                    s[at] = b;
                    for later in (at + 1..len).step_by(2) {
                        s[later] = [b':', 0x00, 0xff, b' '][later % 4];
                    }
                    assert_eq!(token_run(&s), slow(&s), "byte {b:#x} at {at} of {len}");
                }
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
