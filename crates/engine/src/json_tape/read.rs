//! The tape's JSON reader: cursor, strings (with unescaping) and numbers, per RFC 8259. What it
//! refuses goes to JavaScript as `RAW` (see the parent module).

use super::{Tape, OP_INT, OP_NUM};

/// Why an event could not be encoded (it then goes as `RAW`).
pub(super) struct Refused;

pub(super) type Step = Result<(), Refused>;

/// Reading position in one event's JSON.
pub(super) struct Cursor<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skip JSON whitespace (space, tab, LF, CR); the byte after it.
    #[inline]
    pub(super) fn skip_ws(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.at += 1;
        }
        None
    }

    /// The input continues with `expected` (JSON text of a string without escapes) and a closing quote;
    /// if so, step over both. The cursor is just after an opening quote.
    #[inline]
    pub(super) fn take_exact(&mut self, expected: &[u8]) -> bool {
        let b = self.bytes();
        let end = self.at + expected.len();
        if end < b.len() && b[end] == b'"' && &b[self.at..end] == expected {
            self.at = end + 1;
            return true;
        }
        false
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> Step {
        if self.bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Refused)
        }
    }
}

/// Index of the first `"`, `\` or control character (< 0x20) in `b` at or after `from`, eight bytes at a
/// time (SWAR: a byte of `x ^ needle` is zero exactly where `x` has the needle; `v - 0x01…` sets the high
/// bit of each zero byte of `v`, and of bytes below the needle for the control-character test).
#[inline]
fn find_string_end(b: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (LO * u64::from(b'"'));
        let backslash = x ^ (LO * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (x.wrapping_sub(LO * 0x20) & !x))
            & HI;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|k| i + k)
}

fn hex4(b: &[u8], at: usize) -> Result<u32, Refused> {
    let digits = b.get(at..at + 4).ok_or(Refused)?;
    let mut v = 0u32;
    for &d in digits {
        let n = (d as char).to_digit(16).ok_or(Refused)?;
        v = v * 16 + n;
    }
    Ok(v)
}

/// Read the string whose opening quote was just passed. Returns it borrowed when it has no escapes
/// (`true`: its JSON text is its value), else unescaped into `scratch`.
pub(super) fn read_string<'t: 's, 's>(
    cur: &mut Cursor<'t>,
    scratch: &'s mut String,
) -> Result<(&'s str, bool), Refused> {
    let b = cur.bytes();
    let start = cur.at;
    let end = find_string_end(b, start).ok_or(Refused)?;
    match b[end] {
        b'"' => {
            cur.at = end + 1;
            // Quotes and backslashes are ASCII, so these are char boundaries.
            Ok((&cur.text[start..end], true))
        }
        b'\\' => {
            scratch.clear();
            scratch.push_str(&cur.text[start..end]);
            let mut i = end;
            loop {
                // b[i] is a backslash here.
                let esc = *b.get(i + 1).ok_or(Refused)?;
                i += 2;
                match esc {
                    b'"' => scratch.push('"'),
                    b'\\' => scratch.push('\\'),
                    b'/' => scratch.push('/'),
                    b'b' => scratch.push('\u{8}'),
                    b'f' => scratch.push('\u{c}'),
                    b'n' => scratch.push('\n'),
                    b'r' => scratch.push('\r'),
                    b't' => scratch.push('\t'),
                    b'u' => {
                        let hi = hex4(b, i)?;
                        i += 4;
                        let c = match hi {
                            0xD800..=0xDBFF => {
                                // Only a pair makes a char; a lone surrogate (valid for JSON.parse) goes
                                // as RAW.
                                if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                    return Err(Refused);
                                }
                                let lo = hex4(b, i + 2)?;
                                if !(0xDC00..=0xDFFF).contains(&lo) {
                                    return Err(Refused);
                                }
                                i += 6;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            }
                            0xDC00..=0xDFFF => return Err(Refused),
                            _ => hi,
                        };
                        scratch.push(char::from_u32(c).ok_or(Refused)?);
                    }
                    _ => return Err(Refused),
                }
                let next = find_string_end(b, i).ok_or(Refused)?;
                scratch.push_str(&cur.text[i..next]);
                i = next;
                match b[i] {
                    b'"' => break,
                    b'\\' => {}
                    _ => return Err(Refused), // a control character
                }
            }
            cur.at = i + 1;
            Ok((scratch.as_str(), false))
        }
        _ => Err(Refused), // a control character
    }
}

/// A number (grammar of RFC 8259 section 6); the cursor is at its first byte.
pub(super) fn number(cur: &mut Cursor, tape: &mut Tape) -> Step {
    let b = cur.bytes();
    let start = cur.at;
    let mut i = start;
    let negative = b[i] == b'-';
    if negative {
        i += 1;
    }
    let int_start = i;
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        _ => return Err(Refused),
    }
    let int_end = i;
    let mut integer = true;
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1)?;
        integer = false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i)?;
        integer = false;
    }
    cur.at = i;
    if integer && int_end - int_start <= 15 {
        // Up to 15 digits: below 2^53, so exact in an f64 (timestamps such as `created` are 10 digits).
        let v = b[int_start..int_end].iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        match u32::try_from(v) {
            Ok(small) if !negative => tape.ops.extend_from_slice(&[OP_INT, small]),
            _ => {
                tape.ops.extend_from_slice(&[OP_NUM, tape.nums.len() as u32]);
                // `-0` stays -0.0, as JSON.parse gives.
                tape.nums.push(if negative { -(v as f64) } else { v as f64 });
            }
        }
        return Ok(());
    }
    // Correctly rounded, as JSON.parse; out of range gives ±inf, as JSON.parse's ±Infinity.
    let v: f64 = cur.text[start..i].parse().map_err(|_| Refused)?;
    if v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0 && !(v == 0.0 && v.is_sign_negative()) {
        tape.ops.extend_from_slice(&[OP_INT, v as u32]);
    } else {
        tape.ops.extend_from_slice(&[OP_NUM, tape.nums.len() as u32]);
        tape.nums.push(v);
    }
    Ok(())
}

/// The end of the run of one or more ASCII digits starting at `i` (none there: refused).
fn digits(b: &[u8], mut i: usize) -> Result<usize, Refused> {
    if !matches!(b.get(i), Some(b'0'..=b'9')) {
        return Err(Refused);
    }
    while matches!(b.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    Ok(i)
}
