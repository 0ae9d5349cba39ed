//! JSON → tape: stream events' JSON parsed in Rust into a compact instruction tape that JavaScript
//! turns into objects without `JSON.parse`.
//!
//! Why: `JSON.parse` of a typical 300-byte `chat.completion.chunk` costs ~1.4-1.6 µs on the JS thread
//! (key internalisation, object building); replaying a tape costs ~0.25 µs, because
//! - every object shape (its key list, in order) is defined once per stream and JS builds objects of
//!   that shape from one cached object-literal factory (stable hidden class, no key lookups);
//! - short strings (ids, model names, most content deltas) are interned per stream: each distinct one
//!   crosses once and is referenced by index afterwards.
//!
//! The parser is this module's own (RFC 8259 grammar) because it reads a stream's events by their
//! predecessor: each object's keys are compared against the shape the previous event had at the same
//! place, and each string against the string there, as bytes, so a repeated key or id costs one
//! comparison and no scan, unescape or hash lookup. On the bench's OpenAI chunks (`examples/tape_bench.rs`)
//! that took encoding from 0.57-0.62 µs per event with serde_json's lexer driving the same encoder to
//! 0.39-0.42 (serde_json's lexing alone is 0.25-0.29). The reader itself is in `json_tape/read.rs`;
//! `tests/json_tape.rs` checks it against serde_json on random and mutated documents.
//!
//! Fidelity with `JSON.parse`: the same values, key order, duplicate-key rule (last value, first
//! position: the same as an object literal), numbers as the nearest f64 (Rust's correctly rounded
//! `f64::from_str`; beyond the f64 range ±Infinity, as `JSON.parse`), `-0`. What it refuses (invalid
//! JSON, lone surrogate escapes, nesting deeper than 128) is emitted as a `RAW` instruction holding the
//! event's text: JavaScript parses that one with `JSON.parse`, which gives the same value or the same
//! error as before.
//!
//! Layout of one batch ([`Tape`]), consumed by `src/core/tape.ts`:
//! - `text`: every new string of the batch, concatenated; positions are UTF-16 code units.
//! - `defs`: new shapes, each `shape_id, key_count, (start, end) × key_count` (keys in `text`).
//! - `ops`: one value per event, each a pre-order instruction sequence (see the `OP_*` constants).
//! - `nums`: numbers that are not integers in `0..2^32`.

use rustc_hash::{FxHashMap, FxHashSet};
use std::hash::BuildHasher;

mod read;
use read::{number, read_string, Cursor, Refused, Step};

/// `null`.
pub const OP_NULL: u32 = 0;
/// `true`.
pub const OP_TRUE: u32 = 1;
/// `false`.
pub const OP_FALSE: u32 = 2;
/// `INT n`: an integer in `0..2^32`, inline.
pub const OP_INT: u32 = 3;
/// `NUM i`: `nums[i]`.
pub const OP_NUM: u32 = 4;
/// `STR start end`: a string of `text`, not kept.
pub const OP_STR: u32 = 5;
/// `STR_KEEP start end`: a string of `text`, appended to the stream's string table.
pub const OP_STR_KEEP: u32 = 6;
/// `SREF i`: entry `i` of the stream's string table.
pub const OP_SREF: u32 = 7;
/// `ARR n`: an array of the `n` values that follow.
pub const OP_ARR: u32 = 8;
/// `OBJ shape`: an object of that shape; one value per key follows, in key order.
pub const OP_OBJ: u32 = 9;
/// `RAW start end`: the event's JSON text (serde_json refused it); JS applies `JSON.parse`.
pub const OP_RAW: u32 = 10;

/// Strings up to this many bytes are interned on their second sighting (ids such as OpenAI's 38-byte
/// `chatcmpl-…`, model names, finish reasons, common short deltas). Strings seen once (random nonces such as OpenAI's `obfuscation`) never
/// enter JS's table.
const INTERN_MAX_BYTES: usize = 64;
/// Most interned strings per stream; then new strings are sent as they come.
const INTERN_MAX_ENTRIES: usize = 8192;
/// Most fingerprints of strings seen once kept per stream (8 bytes each).
const SEEN_MAX_ENTRIES: usize = 65536;
/// Memo slots (strings and objects) per event position; later positions use the hash tables only.
const MEMO_SLOTS: usize = 64;
/// Most shapes per stream; an object of a new shape beyond this becomes `RAW` for its event.
const MAX_SHAPES: usize = 4096;

/// One batch of encoded values. Reuse with [`Tape::clear`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tape {
    /// New strings of this batch, concatenated.
    pub text: String,
    /// Length of `text` in UTF-16 code units.
    pub text_utf16: u32,
    /// Instructions, one value per event.
    pub ops: Vec<u32>,
    /// Numbers referenced by `OP_NUM`.
    pub nums: Vec<f64>,
    /// New shapes: `shape_id, key_count, (start, end) × key_count`.
    pub defs: Vec<u32>,
    /// Values (events) encoded.
    pub count: u32,
}

impl Tape {
    /// An empty tape with room for as much as `other` holds (the next batch of a stream is usually
    /// like the last one, so it then grows without reallocating).
    pub fn with_capacity_of(other: &Tape) -> Tape {
        Tape {
            text: String::with_capacity(other.text.len()),
            text_utf16: 0,
            ops: Vec::with_capacity(other.ops.len()),
            nums: Vec::with_capacity(other.nums.len()),
            defs: Vec::new(),
            count: 0,
        }
    }

    /// Empty the tape for the next batch (keeps capacity).
    pub fn clear(&mut self) {
        self.text.clear();
        self.text_utf16 = 0;
        self.ops.clear();
        self.nums.clear();
        self.defs.clear();
        self.count = 0;
    }

    /// Append `s` to `text`; returns its `(start, end)` in UTF-16 code units.
    fn push_text(&mut self, s: &str) -> (u32, u32) {
        let start = self.text_utf16;
        let units = if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
        self.text.push_str(s);
        self.text_utf16 += units as u32;
        (start, self.text_utf16)
    }
}

/// The per-stream state: interned strings and known shapes. One per stream, used for every batch.
#[derive(Debug, Default)]
pub struct TapeEncoder {
    /// Interned strings → their index in JS's string table. FxHash: SipHash was ~6% of a stream's CPU
    /// (perf); these keys come from one server's stream and the tables are bounded, so HashDoS
    /// resistance buys nothing.
    strings: FxHashMap<Box<str>, u32>,
    /// 64-bit fingerprints of short strings seen once: no allocation per string, and a collision only
    /// interns a string one sighting early.
    seen: FxHashSet<u64>,
    shapes: FxHashMap<Box<[u8]>, u32>,
    /// Key signature scratch: for each open object, its keys as `len (4 bytes LE) ++ bytes`.
    keys: Vec<u8>,
    /// Strings interned and shapes defined while encoding the current event (undone if it falls back
    /// to RAW, since JS never sees them).
    new_strings: Vec<Box<str>>,
    new_shapes: Vec<Box<[u8]>>,
    /// Signatures by shape id, and whether every key of the shape is written in JSON exactly as its
    /// text (no escapes), so the keys can be matched against the input byte for byte.
    shape_sigs: Vec<(Box<[u8]>, bool)>,
    /// Positional memo: events of one stream mostly repeat the previous event's strings and shapes at
    /// the same places (ids, model names, every object's keys). Slot `k` holds the `k`-th string value
    /// of the last event if it was interned, and whether its JSON form is its text; a match is one
    /// comparison against the input, with no scanning, unescaping or hashing.
    string_memo: Vec<Option<(String, u32, bool)>>,
    /// Slot `k`: the shape id of the `k`-th object (in pre-order) of the last event. The next event's
    /// object there is read by comparing the input against that shape's keys.
    shape_memo: Vec<u32>,
    /// Unescaping scratch for strings with escapes.
    scratch: String,
    /// Ordinals of the next string and object in the current event.
    string_at: usize,
    object_at: usize,
}

/// Deepest nesting of arrays and objects read here; deeper events go as `RAW` (JSON.parse).
const MAX_DEPTH: usize = 128;

/// Step into an array or object (the cursor is at its bracket): writes `op` and a placeholder for its
/// length or shape, whose index is returned.
fn open(cur: &mut Cursor, tape: &mut Tape, depth: usize, op: u32) -> Result<usize, Refused> {
    if depth > MAX_DEPTH {
        return Err(Refused);
    }
    cur.at += 1;
    tape.ops.extend_from_slice(&[op, 0]);
    Ok(tape.ops.len() - 2)
}

impl TapeEncoder {
    /// A fresh encoder (empty string table, no shapes).
    pub fn new() -> Self {
        let mut enc = Self::default();
        enc.strings.reserve(256);
        enc.seen.reserve(2048);
        enc.shapes.reserve(16);
        enc
    }

    /// Encode one JSON text as the next value of `tape` (a `RAW` instruction if it is not JSON this
    /// parser reads: see the module docs).
    pub fn encode(&mut self, json: &str, tape: &mut Tape) {
        let (ops, nums, text, text_utf16, defs) =
            (tape.ops.len(), tape.nums.len(), tape.text.len(), tape.text_utf16, tape.defs.len());
        self.new_strings.clear();
        self.new_shapes.clear();
        self.keys.clear();
        self.string_at = 0;
        self.object_at = 0;
        let mut cur = Cursor { text: json, at: 0 };
        let ok = self.value(&mut cur, tape, 0).is_ok() && cur.skip_ws().is_none();
        if !ok {
            // Undo everything this event added, then hand its text over as it is.
            // Interned strings were the newest table entries: removing them restores the numbering.
            // Fingerprints stay (a string of the failed event counts as seen once).
            for key in self.new_strings.drain(..) {
                self.strings.remove(&key);
            }
            for s in self.new_shapes.drain(..) {
                self.shapes.remove(&s);
                self.shape_sigs.pop();
            }
            // The memo may name what was just removed.
            self.string_memo.clear();
            self.shape_memo.clear();
            tape.ops.truncate(ops);
            tape.nums.truncate(nums);
            tape.text.truncate(text);
            tape.text_utf16 = text_utf16;
            tape.defs.truncate(defs);
            let (start, end) = tape.push_text(json);
            tape.ops.extend_from_slice(&[OP_RAW, start, end]);
        }
        tape.count += 1;
    }

    fn value(&mut self, cur: &mut Cursor, tape: &mut Tape, depth: usize) -> Step {
        match cur.skip_ws().ok_or(Refused)? {
            b'"' => {
                cur.at += 1;
                self.string_value(cur, tape)
            }
            b'{' => self.object(cur, tape, depth + 1),
            b'[' => self.array(cur, tape, depth + 1),
            b't' => {
                cur.literal(b"true")?;
                tape.ops.push(OP_TRUE);
                Ok(())
            }
            b'f' => {
                cur.literal(b"false")?;
                tape.ops.push(OP_FALSE);
                Ok(())
            }
            b'n' => {
                cur.literal(b"null")?;
                tape.ops.push(OP_NULL);
                Ok(())
            }
            b'-' | b'0'..=b'9' => number(cur, tape),
            _ => Err(Refused),
        }
    }

    fn array(&mut self, cur: &mut Cursor, tape: &mut Tape, depth: usize) -> Step {
        let at = open(cur, tape, depth, OP_ARR)?;
        let mut n = 0u32;
        if cur.skip_ws() == Some(b']') {
            cur.at += 1;
            return Ok(());
        }
        loop {
            self.value(cur, tape, depth)?;
            n += 1;
            match cur.skip_ws() {
                Some(b',') => cur.at += 1,
                Some(b']') => {
                    cur.at += 1;
                    tape.ops[at + 1] = n;
                    return Ok(());
                }
                _ => return Err(Refused),
            }
        }
    }

    fn object(&mut self, cur: &mut Cursor, tape: &mut Tape, depth: usize) -> Step {
        let at = open(cur, tape, depth, OP_OBJ)?;
        let ordinal = self.object_at;
        self.object_at += 1;
        let from = self.keys.len();
        // While `predicted` holds, the keys so far are the predicted shape's first keys (not yet copied
        // into `keys`), up to `sig_at` in its signature.
        let mut predicted =
            self.shape_memo.get(ordinal).copied().filter(|&id| self.shape_sigs[id as usize].1);
        let mut sig_at = 0usize;
        let mut first = true;
        loop {
            match cur.skip_ws() {
                Some(b'"') => cur.at += 1,
                Some(b'}') if first => {
                    cur.at += 1;
                    break;
                }
                _ => return Err(Refused),
            }
            first = false;
            let mut hit = false;
            if let Some(id) = predicted {
                let sig = &self.shape_sigs[id as usize].0;
                if sig_at + 4 <= sig.len() {
                    let len =
                        u32::from_le_bytes([sig[sig_at], sig[sig_at + 1], sig[sig_at + 2], sig[sig_at + 3]])
                            as usize;
                    if cur.take_exact(&sig[sig_at + 4..sig_at + 4 + len]) {
                        sig_at += 4 + len;
                        hit = true;
                    }
                }
                if !hit {
                    // Off the prediction: the keys so far become explicit.
                    self.keys.extend_from_slice(&sig[..sig_at]);
                    predicted = None;
                }
            }
            if !hit {
                let (key, _) = read_string(cur, &mut self.scratch)?;
                let keys = &mut self.keys;
                keys.extend_from_slice(&(key.len() as u32).to_le_bytes());
                keys.extend_from_slice(key.as_bytes());
            }
            if cur.skip_ws() != Some(b':') {
                return Err(Refused);
            }
            cur.at += 1;
            self.value(cur, tape, depth)?;
            match cur.skip_ws() {
                Some(b',') => cur.at += 1,
                Some(b'}') => {
                    cur.at += 1;
                    break;
                }
                _ => return Err(Refused),
            }
        }
        let id = match predicted {
            Some(id) if sig_at == self.shape_sigs[id as usize].0.len() => id,
            Some(id) => {
                // A prefix of the predicted shape: a different shape.
                let sig = &self.shape_sigs[id as usize].0;
                self.keys.extend_from_slice(&sig[..sig_at]);
                self.shape(from, ordinal, tape).ok_or(Refused)?
            }
            None => self.shape(from, ordinal, tape).ok_or(Refused)?,
        };
        self.keys.truncate(from);
        tape.ops[at + 1] = id;
        Ok(())
    }

    /// A string value; the cursor is just after its opening quote.
    fn string_value(&mut self, cur: &mut Cursor, tape: &mut Tape) -> Step {
        let at = self.string_at;
        self.string_at += 1;
        if let Some(Some((memo, id, true))) = self.string_memo.get(at) {
            if cur.take_exact(memo.as_bytes()) {
                tape.ops.extend_from_slice(&[OP_SREF, *id]);
                return Ok(());
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = read_string(cur, &mut scratch).map(|(s, plain)| self.string(s, at, plain, tape));
        self.scratch = scratch;
        result
    }

    /// Emit string `s` (the `at`-th string value of its event; `plain`: its JSON text is `s`).
    fn string(&mut self, s: &str, at: usize, plain: bool, tape: &mut Tape) {
        if s.len() <= INTERN_MAX_BYTES {
            if let Some(&i) = self.strings.get(s) {
                self.remember_string(at, s, i, plain);
                tape.ops.extend_from_slice(&[OP_SREF, i]);
                return;
            }
            let fingerprint = self.seen.hasher().hash_one(s);
            if self.seen.contains(&fingerprint) {
                if self.strings.len() < INTERN_MAX_ENTRIES {
                    // Second sighting: into JS's table.
                    let id = self.strings.len() as u32;
                    let key: Box<str> = s.into();
                    self.new_strings.push(key.clone());
                    self.strings.insert(key, id);
                    self.remember_string(at, s, id, plain);
                    let (start, end) = tape.push_text(s);
                    tape.ops.extend_from_slice(&[OP_STR_KEEP, start, end]);
                    return;
                }
            } else if self.seen.len() < SEEN_MAX_ENTRIES {
                self.seen.insert(fingerprint);
            }
        }
        let (start, end) = tape.push_text(s);
        tape.ops.extend_from_slice(&[OP_STR, start, end]);
    }

    /// Memo slot `at` (see `string_memo`) now holds `s`, interned as `id`.
    fn remember_string(&mut self, at: usize, s: &str, id: u32, plain: bool) {
        if at >= MEMO_SLOTS {
            return;
        }
        if at >= self.string_memo.len() {
            self.string_memo.resize(at + 1, None);
        }
        match &mut self.string_memo[at] {
            Some(slot) => {
                slot.0.clear();
                slot.0.push_str(s);
                slot.1 = id;
                slot.2 = plain;
            }
            empty => *empty = Some((s.to_owned(), id, plain)),
        }
    }

    /// The id of the shape whose signature is `keys[from..]` (the `at`-th object of its event),
    /// defining it in `tape` if new.
    fn shape(&mut self, from: usize, at: usize, tape: &mut Tape) -> Option<u32> {
        let id = match self.shapes.get(&self.keys[from..]) {
            Some(&id) => id,
            None => self.define_shape(from, tape)?,
        };
        if at < MEMO_SLOTS {
            if at >= self.shape_memo.len() {
                self.shape_memo.resize(at + 1, id);
            }
            self.shape_memo[at] = id;
        }
        Some(id)
    }

    fn define_shape(&mut self, from: usize, tape: &mut Tape) -> Option<u32> {
        if self.shapes.len() >= MAX_SHAPES {
            return None;
        }
        let id = self.shapes.len() as u32;
        let sig: Box<[u8]> = self.keys[from..].into();
        tape.defs.push(id);
        let count_at = tape.defs.len();
        tape.defs.push(0);
        let mut rest = &sig[..];
        let mut count = 0;
        let mut plain = true;
        while rest.len() >= 4 {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            // The signature holds keys as read: valid UTF-8.
            let key = std::str::from_utf8(&rest[4..4 + len]).unwrap_or_default();
            plain &= !key.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20);
            let (start, end) = tape.push_text(key);
            tape.defs.extend_from_slice(&[start, end]);
            rest = &rest[4 + len..];
            count += 1;
        }
        tape.defs[count_at] = count;
        self.new_shapes.push(sig.clone());
        self.shape_sigs.push((sig.clone(), plain));
        self.shapes.insert(sig, id);
        Some(id)
    }
}
