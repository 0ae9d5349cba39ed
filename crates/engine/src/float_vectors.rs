//! The "float vectors" body decoder: a JSON object whose `data` array holds items with one vector
//! field each (`data[*].<field>`, e.g. OpenAI's `embedding`), decoded without building a JavaScript
//! object per number. Provider-neutral: the field name is a parameter ([`decode_float_vectors`]).
//!
//! A body of 100 vectors × 1536 floats is about 3.3 MB of float text; the decoder lexes it once with
//! serde_json and hands back the numbers as one flat `Vec<f64>` plus offsets, and the rest of the body
//! as small JSON text in which every `data[i].<field>` is replaced by `0`. The Node layer parses that
//! small text and slots the vectors back in.
//!
//! Accepted shape (key order and unknown extra keys at any level are kept), with field `embedding`:
//!
//! ```json
//! {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],
//!  "model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}
//! ```
//!
//! where each vector is either an array of JSON numbers or a standard, padded base64 string of
//! little-endian float32 values.
//!
//! Anything else is a [`DecodeError`], returned cheaply and without panicking: the caller then hands
//! the raw body to JavaScript, which is always correct, only slower.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The default vector field (`data[*].embedding`).
pub const DEFAULT_FIELD: &str = "embedding";

/// The decoded body of a float-vectors response.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedVectors {
    /// The body as compact JSON text with every `data[i].embedding` value replaced by the number `0`.
    /// Keys are in the order received; every value other than `data` at the top level, and every
    /// value other than `embedding` in a `data` item, is copied byte for byte (including its inner
    /// whitespace). Whitespace between those top-level and item tokens is dropped. A key written with
    /// escapes (e.g. `"d\u0061ta"`) is re-escaped by serde_json: same string, other bytes.
    pub json: String,
    /// All vectors' values, concatenated in `data` order. A float array gives each number exactly as
    /// JavaScript's `JSON.parse` would; a base64 string gives each float32 widened to f64, exactly as
    /// `new Float32Array(buf)[i]`.
    pub values: Vec<f64>,
    /// Where each vector starts in `values`: `offsets.len() == data.len() + 1`, `offsets[0] == 0`, and
    /// vector `i` is `values[offsets[i] as usize..offsets[i + 1] as usize]`.
    pub offsets: Vec<u32>,
    /// How each vector was encoded in the body, one entry per `data` item (`formats.len() == data.len()`).
    pub formats: Vec<EmbeddingFormat>,
}

impl DecodedVectors {
    /// Number of vectors (`data.len()` of the body).
    pub fn count(&self) -> usize {
        self.formats.len()
    }

    /// Vector `i` (values of `data[i].embedding`); panics if `i >= self.count()`.
    pub fn vector(&self, i: usize) -> &[f64] {
        &self.values[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// How one `embedding` value was encoded in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingFormat {
    /// A JSON array of numbers (`encoding_format: "float"`).
    Float,
    /// A base64 string of little-endian float32 values (`encoding_format: "base64"`), widened to f64.
    Base64,
}

/// The body is not valid JSON or not a float-vectors body of the accepted shape.
///
/// The message says what was wrong and, for JSON-level problems, where (line and column).
#[derive(Debug)]
pub struct DecodeError(serde_json::Error);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a decodable float-vectors body: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes an OpenAI `CreateEmbeddingResponse` body: [`decode_float_vectors`] with field `embedding`.
pub fn decode_embeddings(body: &[u8]) -> Result<DecodedVectors, DecodeError> {
    decode_float_vectors(body, DEFAULT_FIELD)
}

/// Decodes a body (UTF-8 JSON bytes) whose `data` items each hold a vector in `field`.
///
/// Fails (never panics) when `body` is not valid JSON, not an object, has no `data` array, has a
/// `data` item that is not an object or lacks `field`, has a `field` value that is neither an array
/// of numbers nor a standard padded base64 string decoding to a multiple of 4 bytes, has a number out
/// of f64 range, has a duplicated key at the top level or in a `data` item, or holds more than
/// `u32::MAX` values in total.
pub fn decode_float_vectors(body: &[u8], field: &str) -> Result<DecodedVectors, DecodeError> {
    let mut state = State {
        body,
        field,
        out: DecodedVectors {
            json: String::new(),
            values: Vec::new(),
            offsets: Vec::new(),
            formats: Vec::new(),
        },
        reserved: false,
        base64_bytes: Vec::new(),
        item_keys: SeenKeys::default(),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    TopSeed(&mut state).deserialize(&mut de).map_err(DecodeError)?;
    de.end().map_err(DecodeError)?;
    Ok(state.out)
}

/// Everything the visitors share while walking one body.
struct State<'de> {
    body: &'de [u8],
    /// The vector field's name in each `data` item.
    field: &'de str,
    out: DecodedVectors,
    /// `values` capacity has been reserved from an estimate (done at the first embedding).
    reserved: bool,
    /// Decoded base64 bytes of the current vector, reused across vectors.
    base64_bytes: Vec<u8>,
    /// Keys seen in the current `data` item, reused across items.
    item_keys: SeenKeys<'de>,
}

impl State<'_> {
    /// Reserves `values` once, from a cheap estimate taken at the first embedding: float arrays hold about
    /// one value per comma in the body (one more per vector, and other commas fewer), a base64 string
    /// needs at least 16/3 characters per float32. If it falls short, `values` simply grows.
    fn reserve_values(&mut self, format: EmbeddingFormat) {
        if self.reserved {
            return;
        }
        self.reserved = true;
        let estimate = match format {
            EmbeddingFormat::Float => count_commas(self.body) + 1,
            EmbeddingFormat::Base64 => self.body.len() / 16 * 3,
        };
        self.out.values.reserve(estimate);
    }
}

/// Number of `,` bytes in `bytes`. Summed as u8 over 255-byte chunks, which LLVM vectorizes: about
/// 0.1 ms for 3.3 MB, where a plain `filter().count()` (usize lanes) takes over 1 ms.
fn count_commas(bytes: &[u8]) -> usize {
    bytes.chunks(255).map(|c| c.iter().map(|&b| (b == b',') as u8).sum::<u8>() as usize).sum()
}

/// Keys of one JSON object, to reject duplicates (JSON.parse would keep the last one, in the first
/// one's position; replacing `embedding` in only one of them would change the meaning). A linear scan
/// for the usual handful of keys, a hash set past [`SeenKeys::LINEAR`] so a huge object stays linear.
#[derive(Default)]
struct SeenKeys<'de> {
    list: Vec<Cow<'de, str>>,
    set: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> SeenKeys<'de> {
    const LINEAR: usize = 16;

    /// Adds `key`, or hands it back if it was already there.
    fn insert(&mut self, key: Cow<'de, str>) -> Result<(), Cow<'de, str>> {
        if let Some(set) = &mut self.set {
            if set.contains(&key) {
                return Err(key);
            }
            set.insert(key);
            return Ok(());
        }
        if self.list.contains(&key) {
            return Err(key);
        }
        self.list.push(key);
        if self.list.len() > Self::LINEAR {
            self.set = Some(self.list.drain(..).collect());
        }
        Ok(())
    }

    fn clear(&mut self) {
        self.list.clear();
        self.set = None;
    }
}

fn duplicate_key<E: de::Error>(key: &str) -> E {
    if key.len() <= 64 {
        E::custom(format_args!("duplicate key {key:?}"))
    } else {
        E::custom("duplicate key")
    }
}

/// Appends `"key"` to `json`: verbatim when serde_json handed the key out unescaped (borrowed from the
/// body, so it holds no `"`, `\` or control character), re-escaped when it had escapes (`Cow::Owned`).
// Clippy's ptr_arg would take a `&str`, but whether the key is borrowed is what matters here.
#[allow(clippy::ptr_arg)]
fn write_key<E: de::Error>(json: &mut String, key: &Cow<'_, str>) -> Result<(), E> {
    match key {
        Cow::Borrowed(k) => {
            json.push('"');
            json.push_str(k);
            json.push('"');
        }
        Cow::Owned(k) => json.push_str(&serde_json::to_string(k).map_err(E::custom)?),
    }
    Ok(())
}

/// A map key: borrowed from the body unless it contained escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// The top-level object.
struct TopSeed<'s, 'de>(&'s mut State<'de>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an embeddings response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        let mut seen = SeenKeys::default();
        let mut have_data = false;
        let mut first_key = true;
        st.out.json.push('{');
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !first_key {
                st.out.json.push(',');
            }
            first_key = false;
            write_key(&mut st.out.json, &key)?;
            st.out.json.push(':');
            let is_data = key == "data";
            if let Err(key) = seen.insert(key) {
                return Err(duplicate_key(&key));
            }
            if is_data {
                map.next_value_seed(DataSeed(&mut *st))?;
                have_data = true;
            } else {
                let raw: &'de RawValue = map.next_value()?;
                st.out.json.push_str(raw.get());
            }
        }
        if !have_data {
            return Err(de::Error::missing_field("data"));
        }
        st.out.json.push('}');
        Ok(())
    }
}

/// The `data` array.
struct DataSeed<'s, 'de>(&'s mut State<'de>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`data` as an array of embedding objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.0;
        st.out.json.push('[');
        st.out.offsets.push(0);
        let mut first = true;
        while seq.next_element_seed(ItemSeed { st: &mut *st, first })?.is_some() {
            first = false;
            let end = u32::try_from(st.out.values.len())
                .map_err(|_| de::Error::custom("more than u32::MAX embedding values"))?;
            st.out.offsets.push(end);
        }
        st.out.json.push(']');
        Ok(())
    }
}

/// One `data` item.
struct ItemSeed<'s, 'de> {
    st: &'s mut State<'de>,
    first: bool,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an embedding object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        if !self.first {
            st.out.json.push(',');
        }
        st.out.json.push('{');
        let mut seen = std::mem::take(&mut st.item_keys);
        seen.clear();
        let mut have_embedding = false;
        let mut first_key = true;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !first_key {
                st.out.json.push(',');
            }
            first_key = false;
            write_key(&mut st.out.json, &key)?;
            st.out.json.push(':');
            let is_embedding = key == st.field;
            if let Err(key) = seen.insert(key) {
                return Err(duplicate_key(&key));
            }
            if is_embedding {
                map.next_value_seed(EmbeddingSeed(&mut *st))?;
                st.out.json.push('0');
                have_embedding = true;
            } else {
                let raw: &'de RawValue = map.next_value()?;
                st.out.json.push_str(raw.get());
            }
        }
        st.item_keys = seen;
        if !have_embedding {
            return Err(de::Error::custom(format_args!("missing field `{}`", st.field)));
        }
        st.out.json.push('}');
        Ok(())
    }
}

/// One `embedding` value: its numbers are appended straight to `values`.
struct EmbeddingSeed<'s, 'de>(&'s mut State<'de>);

impl<'de> DeserializeSeed<'de> for EmbeddingSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EmbeddingSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`embedding` as an array of numbers or a base64 string")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.0;
        st.reserve_values(EmbeddingFormat::Float);
        // f64's own Deserialize: serde_json hands over u64 / i64 / f64 (correctly rounded, thanks to
        // `float_roundtrip`) and integers are widened with `as`, which rounds to nearest like JSON.parse.
        while let Some(v) = seq.next_element::<f64>()? {
            st.out.values.push(v);
        }
        st.out.formats.push(EmbeddingFormat::Float);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let st = self.0;
        st.reserve_values(EmbeddingFormat::Base64);
        st.base64_bytes.clear();
        STANDARD.decode_vec(v, &mut st.base64_bytes).map_err(|e| E::custom(format_args!("base64: {e}")))?;
        let floats = st.base64_bytes.chunks_exact(4);
        if !floats.remainder().is_empty() {
            return Err(E::custom(format_args!(
                "base64 embedding of {} bytes, not a multiple of 4 (float32)",
                st.base64_bytes.len()
            )));
        }
        st.out.values.extend(floats.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64));
        st.out.formats.push(EmbeddingFormat::Base64);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
