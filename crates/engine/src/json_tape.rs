//! JSON → tape: stream events' JSON parsed in Rust (serde_json's lexer) into a compact instruction
//! tape that JavaScript turns into objects without `JSON.parse`.
//!
//! Why: `JSON.parse` of a typical 300-byte `chat.completion.chunk` costs ~1.4-1.6 µs on the JS thread
//! (key internalisation, object building); replaying a tape costs ~0.25 µs, because
//! - every object shape (its key list, in order) is defined once per stream and JS builds objects of
//!   that shape from one cached object-literal factory (stable hidden class, no key lookups);
//! - short strings (ids, model names, most content deltas) are interned per stream: each distinct one
//!   crosses once and is referenced by index afterwards.
//!
//! Fidelity with `JSON.parse`: the same values, key order, duplicate-key rule (last value, first
//! position: the same as an object literal), numbers as the nearest f64 (serde_json's
//! `float_roundtrip`), `-0`. Anything serde_json refuses (invalid JSON, lone surrogate escapes, nesting
//! deeper than 128) is emitted as a `RAW` instruction holding the event's text: JavaScript parses that
//! one with `JSON.parse`, which gives the same value or the same error as before.
//!
//! Layout of one batch ([`Tape`]), consumed by `src/core/tape.ts`:
//! - `text`: every new string of the batch, concatenated; positions are UTF-16 code units.
//! - `defs`: new shapes, each `shape_id, key_count, (start, end) × key_count` (keys in `text`).
//! - `ops`: one value per event, each a pre-order instruction sequence (see the `OP_*` constants).
//! - `nums`: numbers that are not integers in `0..2^32`.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::hash::BuildHasher;

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

/// Strings up to this many bytes are interned on their second sighting (ids, model names, finish
/// reasons, common short deltas). Strings seen once (random nonces such as OpenAI's `obfuscation`) never
/// enter JS's table.
const INTERN_MAX_BYTES: usize = 32;
/// Most interned strings per stream; then new strings are sent as they come.
const INTERN_MAX_ENTRIES: usize = 8192;
/// Most fingerprints of strings seen once kept per stream (8 bytes each).
const SEEN_MAX_ENTRIES: usize = 65536;
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
}

impl TapeEncoder {
    /// A fresh encoder (empty string table, no shapes).
    pub fn new() -> Self {
        let mut enc = Self::default();
        enc.strings.reserve(256);
        enc.seen.reserve(1024);
        enc.shapes.reserve(16);
        enc
    }

    /// Encode one JSON text as the next value of `tape` (a `RAW` instruction if serde_json refuses it).
    pub fn encode(&mut self, json: &str, tape: &mut Tape) {
        let (ops, nums, text, text_utf16, defs) =
            (tape.ops.len(), tape.nums.len(), tape.text.len(), tape.text_utf16, tape.defs.len());
        self.new_strings.clear();
        self.new_shapes.clear();
        self.keys.clear();
        let mut de = serde_json::Deserializer::from_str(json);
        let ok = ValueSeed { enc: self, tape }.deserialize(&mut de).is_ok() && de.end().is_ok();
        if !ok {
            // Undo everything this event added, then hand its text over as it is.
            // Interned strings were the newest table entries: removing them restores the numbering.
            // Fingerprints stay (a string of the failed event counts as seen once).
            for key in self.new_strings.drain(..) {
                self.strings.remove(&key);
            }
            for s in self.new_shapes.drain(..) {
                self.shapes.remove(&s);
            }
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

    fn string(&mut self, s: &str, tape: &mut Tape) {
        if s.len() <= INTERN_MAX_BYTES {
            if let Some(&i) = self.strings.get(s) {
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

    /// The id of the shape whose signature is `keys[from..]`, defining it in `tape` if new.
    fn shape(&mut self, from: usize, tape: &mut Tape) -> Option<u32> {
        if let Some(&id) = self.shapes.get(&self.keys[from..]) {
            return Some(id);
        }
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
        while rest.len() >= 4 {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            // The signature holds keys exactly as serde_json handed them over: valid UTF-8.
            let key = std::str::from_utf8(&rest[4..4 + len]).unwrap_or_default();
            let (start, end) = tape.push_text(key);
            tape.defs.extend_from_slice(&[start, end]);
            rest = &rest[4 + len..];
            count += 1;
        }
        tape.defs[count_at] = count;
        self.new_shapes.push(sig.clone());
        self.shapes.insert(sig, id);
        Some(id)
    }
}

/// Encodes one value (and everything inside it) into the tape.
struct ValueSeed<'a> {
    enc: &'a mut TapeEncoder,
    tape: &'a mut Tape,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.tape.ops.push(OP_NULL);
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.tape.ops.push(if v { OP_TRUE } else { OP_FALSE });
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        match u32::try_from(v) {
            Ok(small) => self.tape.ops.extend_from_slice(&[OP_INT, small]),
            Err(_) => self.visit_f64::<E>(v as f64)?,
        }
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        // serde_json hands non-negative integers to visit_u64; these are negative.
        self.visit_f64(v as f64)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.tape.ops.extend_from_slice(&[OP_NUM, self.tape.nums.len() as u32]);
        self.tape.nums.push(v);
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.enc.string(v, self.tape);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.tape.ops.len();
        self.tape.ops.extend_from_slice(&[OP_ARR, 0]);
        let mut n = 0u32;
        while seq.next_element_seed(ValueSeed { enc: &mut *self.enc, tape: &mut *self.tape })?.is_some() {
            n += 1;
        }
        self.tape.ops[at + 1] = n;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.tape.ops.len();
        self.tape.ops.extend_from_slice(&[OP_OBJ, 0]);
        let from = self.enc.keys.len();
        while map.next_key_seed(KeySeed { keys: &mut self.enc.keys })?.is_some() {
            map.next_value_seed(ValueSeed { enc: &mut *self.enc, tape: &mut *self.tape })?;
        }
        let shape = self.enc.shape(from, self.tape);
        self.enc.keys.truncate(from);
        match shape {
            Some(id) => {
                self.tape.ops[at + 1] = id;
                Ok(())
            }
            None => Err(serde::de::Error::custom("too many object shapes in one stream")),
        }
    }
}

/// Appends one object key to the signature scratch.
struct KeySeed<'a> {
    keys: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.keys.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.keys.extend_from_slice(v.as_bytes());
        Ok(())
    }
}
