//! WHATWG-compliant Server-Sent Events (`text/event-stream`) decoder.
//!
//! Implements "Interpreting an event stream" from the WHATWG HTML Standard
//! (section "Server-sent events"):
//!
//! - the stream is UTF-8; one leading BOM (`EF BB BF`) is stripped; invalid UTF-8 becomes
//!   U+FFFD exactly as the WHATWG UTF-8 decoder does (maximal-subpart replacement);
//! - lines end with CRLF, LF or a lone CR (a CRLF split across two chunks is one terminator);
//! - a blank line dispatches the pending event; lines starting with `:` are comments;
//! - the fields `event`, `data`, `id` and `retry` are interpreted, every other field is ignored;
//! - at end of stream an event that was not terminated by a blank line is discarded.
//!
//! Decoding is incremental: [`SseDecoder::feed`] accepts chunks split at any byte. Lines that
//! lie entirely inside a chunk are parsed in place; only a trailing partial line is buffered, and
//! buffered bytes are never scanned twice, so decoding is O(n) in the input size.
//!
//! UTF-8 is decoded per line (and per field value). Because every byte the parser looks at
//! (CR, LF, `:`, space) is ASCII, and the UTF-8 decoder never folds an ASCII byte into a
//! replacement character, this gives exactly the same text as decoding the whole stream first.

use std::borrow::Cow;
use std::fmt;

/// The UTF-8 byte order mark, stripped once at the very start of a stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Value of `SseDecoder::bom` once BOM sniffing is over for the current stream.
const BOM_DECIDED: u8 = BOM.len() as u8;

/// After a partial line longer than this was processed, its buffer is freed rather than kept,
/// so one huge event does not pin its memory for the rest of the stream.
const KEEP_LINE_CAPACITY: usize = 64 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Event type: the value of the block's last `event:` field, or `"message"` when the block
    /// had no `event:` field (or an empty one).
    pub event: String,
    /// The block's `data:` values joined with `'\n'` (no trailing `'\n'`). May be empty
    /// (a `data` field with an empty value still dispatches an event).
    pub data: String,
    /// The last event ID at dispatch time: the value of the most recent valid `id:` field in this
    /// stream, which persists across events per the spec. `None` if no `id:` field was ever seen;
    /// `Some("")` if the server reset the ID with an empty `id:` field (then no `Last-Event-ID`
    /// should be sent on reconnection).
    pub id: Option<String>,
    /// Reconnection time in milliseconds, if a valid `retry:` field (ASCII digits only) appeared
    /// in this event's block; otherwise `None`. Values too large for `u64` saturate to
    /// `u64::MAX`. See also [`SseDecoder::reconnection_time`], which also remembers `retry:`
    /// fields from blocks that dispatched no event.
    pub retry: Option<u64>,
}

/// Why [`SseDecoder::feed`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event's data, or one line, grew past `max_event_bytes`. `limit` is that limit in bytes.
    EventTooLarge {
        /// The configured `max_event_bytes`, in bytes.
        limit: usize,
    },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::EventTooLarge { limit } => write!(
                f,
                "SSE event exceeds maxEventBytes ({limit} bytes); raise the limit if such events are expected"
            ),
        }
    }
}

impl std::error::Error for SseError {}

/// Where [`SseDecoder::feed_into`] delivers events: borrowed views, valid only during the call, so a
/// consumer that transforms events (e.g. parses their JSON) allocates nothing per event.
/// `Vec<SseEvent>` collects owned copies.
pub trait SseSink {
    /// One dispatched event: its type (`"message"` when the block set none), its data (lines joined by
    /// `'\n'`), the last event ID (see [`SseEvent::id`]) and the block's `retry:` value in ms.
    fn event(&mut self, event: &str, data: &str, id: Option<&str>, retry: Option<u64>);
}

impl SseSink for Vec<SseEvent> {
    fn event(&mut self, event: &str, data: &str, id: Option<&str>, retry: Option<u64>) {
        self.push(SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
            id: id.map(str::to_owned),
            retry,
        });
    }
}

/// Incremental `text/event-stream` decoder.
///
/// Feed the body's chunks in order with [`feed`](Self::feed), then call
/// [`finish`](Self::finish) at end of stream. Events are appended to a caller-provided `Vec`
/// so one buffer can be reused across chunks.
///
/// Memory is bounded by `max_event_bytes`: a single line (terminated or still pending, not
/// counting its terminator) or one event's data (UTF-8 bytes after decoding, as it would be
/// dispatched) longer than the limit makes `feed` fail with [`SseError::EventTooLarge`].
#[derive(Debug, Clone)]
pub struct SseDecoder {
    /// Maximum bytes of one line and of one event's data.
    max_event_bytes: usize,
    /// BOM sniffing: how many BOM bytes have been matched at the start of the stream, or
    /// `BOM_DECIDED` once the stream is known to start with or without a BOM.
    bom: u8,
    /// The previous chunk ended with a CR, so an LF starting the next chunk completes a CRLF.
    cr_pending: bool,
    /// Bytes of an unterminated line carried over from earlier chunks (never contains CR or LF).
    line: Vec<u8>,
    /// The data buffer: each `data` value followed by `'\n'`.
    data: String,
    /// The event type buffer (empty means "message").
    event_type: String,
    /// Value of an `id` field seen in the current block, committed at the next blank line.
    pending_id: Option<String>,
    /// The last event ID as of the most recent blank line.
    last_event_id: Option<String>,
    /// A valid `retry` value seen in the current block.
    block_retry: Option<u64>,
    /// The most recent valid `retry` value seen anywhere.
    reconnection_time: Option<u64>,
    /// A previous `feed` failed; the stream must be abandoned (or restarted after `finish`).
    failed: bool,
}

impl Default for SseDecoder {
    /// Same as [`SseDecoder::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// Default `max_event_bytes`: 64 MiB.
    pub const DEFAULT_MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

    /// A decoder with the default limit, [`DEFAULT_MAX_EVENT_BYTES`](Self::DEFAULT_MAX_EVENT_BYTES).
    pub fn new() -> Self {
        Self::with_max_event_bytes(Self::DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder that rejects any line, or any event's data, longer than `limit` bytes
    /// (see [`SseError::EventTooLarge`]). With `limit == 0` only empty lines are accepted.
    pub fn with_max_event_bytes(limit: usize) -> Self {
        SseDecoder {
            max_event_bytes: limit,
            bom: 0,
            cr_pending: false,
            line: Vec::new(),
            data: String::new(),
            event_type: String::new(),
            pending_id: None,
            last_event_id: None,
            block_retry: None,
            reconnection_time: None,
            failed: false,
        }
    }

    /// The configured limit, in bytes, for one line and for one event's data.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// The stream's last event ID as of the most recent blank line (what a reconnecting client
    /// sends as `Last-Event-ID`; `Some("")` or `None` means send none). Updated even by blocks
    /// that dispatch no event; persists across [`finish`](Self::finish).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The most recent valid `retry:` value in milliseconds, whether or not its block dispatched
    /// an event (per the spec it takes effect immediately). `None` if none was seen; persists
    /// across [`finish`](Self::finish).
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Feed the next chunk of bytes. Chunks may be split at any byte: inside a line, inside a
    /// UTF-8 multi-byte sequence, between `'\r'` and `'\n'`, or inside the BOM. Appends every
    /// event completed by this chunk to `out`, in stream order.
    ///
    /// # Errors
    ///
    /// [`SseError::EventTooLarge`] when a line or the pending event's data exceeds
    /// `max_event_bytes`. Events completed before the offending line are still appended to
    /// `out`. The decoder then drops its buffers and fails every further `feed` with the same
    /// error until [`finish`](Self::finish) is called.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.feed_into(chunk, out)
    }

    /// [`feed`](Self::feed), handing each event to `sink` as borrowed views instead of collecting owned
    /// [`SseEvent`]s (same events, same order, same errors).
    pub fn feed_into<S: SseSink + ?Sized>(&mut self, chunk: &[u8], out: &mut S) -> Result<(), SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        let result = self.feed_sniffing_bom(chunk, out);
        if result.is_err() {
            self.fail();
        }
        result
    }

    /// End of stream. Per the WHATWG spec an event not terminated by a blank line is discarded,
    /// and so is a final line without a line terminator; therefore nothing is ever appended to
    /// `out`.
    ///
    /// Resets the per-stream state (partial line, pending event, BOM sniffing, a previous
    /// error) so the decoder can decode a following stream, e.g. after a reconnection;
    /// [`last_event_id`](Self::last_event_id) and
    /// [`reconnection_time`](Self::reconnection_time) persist, and so does the last event ID
    /// reported in later events.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        // Nothing to dispatch: an unterminated event is discarded by the spec.
        let _ = out;
        self.reset_stream();
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge { limit: self.max_event_bytes }
    }

    /// Enter the failed state and release the buffers.
    fn fail(&mut self) {
        self.reset_stream();
        self.line = Vec::new();
        self.data = String::new();
        self.event_type = String::new();
        self.failed = true;
    }

    fn reset_stream(&mut self) {
        self.bom = 0;
        self.cr_pending = false;
        self.line.clear();
        if self.line.capacity() > KEEP_LINE_CAPACITY {
            self.line = Vec::new();
        }
        self.data.clear();
        self.event_type.clear();
        self.pending_id = None;
        self.block_retry = None;
        self.failed = false;
    }

    /// Strip a leading BOM (possibly split across chunks), then parse the rest.
    fn feed_sniffing_bom<S: SseSink + ?Sized>(
        &mut self,
        mut chunk: &[u8],
        out: &mut S,
    ) -> Result<(), SseError> {
        while self.bom < BOM_DECIDED {
            let Some((&byte, rest)) = chunk.split_first() else {
                // The chunk was (the start of) a BOM; wait for more bytes.
                return Ok(());
            };
            if byte == BOM[usize::from(self.bom)] {
                self.bom += 1;
                chunk = rest;
            } else {
                // Not a BOM: the bytes matched so far are ordinary stream content.
                let matched = usize::from(self.bom);
                self.bom = BOM_DECIDED;
                self.feed_lines(&BOM[..matched], out)?;
            }
        }
        self.feed_lines(chunk, out)
    }

    /// Split `chunk` into lines and process each complete one; buffer the trailing partial line.
    fn feed_lines<S: SseSink + ?Sized>(&mut self, mut chunk: &[u8], out: &mut S) -> Result<(), SseError> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.cr_pending {
            self.cr_pending = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        if !self.line.is_empty() {
            // Complete the line carried over from earlier chunks. Its bytes are known to hold no
            // terminator, so only the new chunk is scanned.
            let Some(end) = find_eol(chunk) else {
                return self.buffer_partial(chunk);
            };
            self.buffer_partial(&chunk[..end])?;
            let mut line = std::mem::take(&mut self.line);
            let result = self.process_line(&line, out);
            line.clear();
            if line.capacity() <= KEEP_LINE_CAPACITY {
                self.line = line;
            }
            result?;
            chunk = self.after_terminator(chunk, end);
        }
        // Lines entirely inside the chunk are parsed in place, without copying.
        while let Some(end) = find_eol(chunk) {
            self.process_line(&chunk[..end], out)?;
            chunk = self.after_terminator(chunk, end);
        }
        self.buffer_partial(chunk)
    }

    /// The rest of `chunk` after the line terminator at `at` (a CR or an LF). A CR that ends the
    /// chunk may be the first half of a CRLF, remembered in `cr_pending`.
    fn after_terminator<'c>(&mut self, chunk: &'c [u8], at: usize) -> &'c [u8] {
        if chunk[at] == b'\r' {
            match chunk.get(at + 1) {
                Some(b'\n') => return &chunk[at + 2..],
                Some(_) => {}
                None => self.cr_pending = true,
            }
        }
        &chunk[at + 1..]
    }

    /// Append bytes of an unterminated line to the line buffer, enforcing the limit.
    fn buffer_partial(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > self.max_event_bytes {
            return Err(self.too_large());
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Process one complete line (without its terminator).
    fn process_line<S: SseSink + ?Sized>(&mut self, line: &[u8], out: &mut S) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.len() > self.max_event_bytes {
            return Err(self.too_large());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            // A comment.
            Some(0) => return Ok(()),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        // Field names are compared as bytes: a name holding invalid UTF-8 would decode to
        // something containing U+FFFD, which matches none of these names either.
        match field {
            b"data" => {
                let value = decode_utf8(value);
                // Length of the data as dispatched: earlier values with their separators plus
                // this value (its own trailing '\n' would be removed at dispatch).
                if self.data.len() + value.len() > self.max_event_bytes {
                    return Err(self.too_large());
                }
                // Reserve the trailing '\n' too, so a single-line event allocates exactly once.
                self.data.reserve(value.len() + 1);
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&decode_utf8(value));
            }
            // U+0000 only ever comes from a 0x00 byte, so checking the bytes is exact.
            b"id" if !value.contains(&0) => {
                self.pending_id = Some(decode_utf8(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value
                    .iter()
                    .fold(0u64, |acc, &digit| acc.saturating_mul(10).saturating_add(u64::from(digit - b'0')));
                self.block_retry = Some(ms);
                self.reconnection_time = Some(ms);
            }
            // Other fields, an `id` containing NUL and a `retry` that is not all ASCII digits
            // are ignored.
            _ => {}
        }
        Ok(())
    }

    /// A blank line: dispatch the pending event, if it has data, and reset the block's buffers.
    fn dispatch<S: SseSink + ?Sized>(&mut self, out: &mut S) {
        if let Some(id) = self.pending_id.take() {
            self.last_event_id = Some(id);
        }
        let retry = self.block_retry.take();
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // The data buffer always ends with the '\n' appended after the last value.
        let data = &self.data[..self.data.len() - 1];
        let event = if self.event_type.is_empty() { "message" } else { self.event_type.as_str() };
        out.event(event, data, self.last_event_id.as_deref(), retry);
        // Both buffers are reused by the next event.
        self.data.clear();
        self.event_type.clear();
        if self.data.capacity() > KEEP_LINE_CAPACITY {
            self.data = String::new();
        }
    }
}

/// Decode one line's bytes: borrowed when valid UTF-8, otherwise with WHATWG (maximal-subpart)
/// U+FFFD replacement.
fn decode_utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Index of the first CR or LF in `hay`. Scans eight bytes at a time (SWAR): for each word,
/// `(v - 0x01..01) & !v & 0x80..80` flags the bytes of `v` that are zero, where `v` is the word
/// XOR-ed with the needle in every byte. The lowest flag is always exact (spurious flags only
/// appear above a true zero byte), so the lowest flag of either needle is the first match.
#[inline]
fn find_eol(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const CR: u64 = LO * b'\r' as u64;
    const LF: u64 = LO * b'\n' as u64;
    let mut words = hay.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let cr = x ^ CR;
        let lf = x ^ LF;
        let found = ((cr.wrapping_sub(LO) & !cr) | (lf.wrapping_sub(LO) & !lf)) & HI;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words.remainder().iter().position(|&b| b == b'\r' || b == b'\n').map(|i| offset + i)
}

#[cfg(test)]
mod tests;
