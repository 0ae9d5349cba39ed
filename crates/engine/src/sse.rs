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
    fn feed_sniffing_bom(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
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
    fn feed_lines(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
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
    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
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
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if let Some(id) = self.pending_id.take() {
            self.last_event_id = Some(id);
        }
        let retry = self.block_retry.take();
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        // The data buffer always ends with the '\n' appended after the last value.
        data.pop();
        let event = if self.event_type.is_empty() {
            String::from("message")
        } else {
            std::mem::take(&mut self.event_type)
        };
        out.push(SseEvent { event, data, id: self.last_event_id.clone(), retry });
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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    /// Feed `chunks` in order, then `finish`; return the events, or the first error.
    fn decode_chunks(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        decode_chunks_with(SseDecoder::new(), chunks)
    }

    fn decode_chunks_with(mut decoder: SseDecoder, chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out)?;
        }
        let before = out.len();
        decoder.finish(&mut out);
        assert_eq!(out.len(), before, "finish must not dispatch anything");
        Ok(out)
    }

    fn decode(input: &[u8]) -> Vec<SseEvent> {
        decode_chunks(&[input]).expect("decodes")
    }

    /// An expected event with no `retry`.
    fn ev(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent { event: event.to_owned(), data: data.to_owned(), id: id.map(str::to_owned), retry: None }
    }

    fn msg(data: &str) -> SseEvent {
        ev("message", data, None)
    }

    /// Every way of splitting `input` into two chunks, and into one-byte chunks, must give
    /// `expected`.
    fn assert_all_splits(input: &[u8], expected: &[SseEvent]) {
        assert_eq!(decode(input), expected, "whole input");
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            assert_eq!(decode_chunks(&[a, b]).unwrap(), expected, "split at {at}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_chunks(&bytes).unwrap(), expected, "one byte at a time");
    }

    // ----- fields -----

    #[test]
    fn event_field_sets_event_type() {
        assert_eq!(decode(b"event: update\ndata: x\n\n"), [ev("update", "x", None)]);
    }

    #[test]
    fn data_field_sets_data() {
        assert_eq!(decode(b"data: hello world\n\n"), [msg("hello world")]);
    }

    #[test]
    fn id_field_sets_event_id() {
        assert_eq!(decode(b"id: 42\ndata: x\n\n"), [ev("message", "x", Some("42"))]);
    }

    #[test]
    fn retry_field_sets_retry_for_its_block_only() {
        let events = decode(b"retry: 1500\ndata: a\n\ndata: b\n\n");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].retry, Some(1500));
        assert_eq!(events[0].data, "a");
        assert_eq!(events[1].retry, None);
    }

    #[test]
    fn last_retry_field_in_block_wins() {
        let events = decode(b"retry: 1\nretry: 2\ndata: a\n\n");
        assert_eq!(events[0].retry, Some(2));
    }

    #[test]
    fn default_event_type_is_message() {
        assert_eq!(decode(b"data: x\n\n")[0].event, "message");
        // An empty `event` field also means "message".
        assert_eq!(decode(b"event:\ndata: x\n\n")[0].event, "message");
    }

    #[test]
    fn event_type_does_not_persist_across_events() {
        assert_eq!(decode(b"event: a\ndata: 1\n\ndata: 2\n\n"), [ev("a", "1", None), msg("2")]);
    }

    #[test]
    fn multiple_data_lines_joined_with_lf() {
        assert_eq!(decode(b"data: a\ndata: b\ndata: c\n\n"), [msg("a\nb\nc")]);
        // Empty data lines contribute empty lines.
        assert_eq!(decode(b"data\ndata: b\ndata\n\n"), [msg("\nb\n")]);
    }

    #[test]
    fn comments_ignored() {
        assert_eq!(decode(b": keep-alive\ndata: a\n:another\ndata: b\n\n"), [msg("a\nb")]);
    }

    #[test]
    fn stream_of_only_comments_yields_nothing() {
        assert_eq!(decode(b": one\n: two\n\n:\n\n:three\r\n\r\n"), []);
    }

    // ----- line terminators -----

    #[test]
    fn lf_terminators() {
        assert_all_splits(b"data: a\n\ndata: b\n\n", &[msg("a"), msg("b")]);
    }

    #[test]
    fn cr_terminators() {
        assert_all_splits(b"data: a\r\rdata: b\r\r", &[msg("a"), msg("b")]);
    }

    #[test]
    fn crlf_terminators() {
        assert_all_splits(b"data: a\r\n\r\ndata: b\r\n\r\n", &[msg("a"), msg("b")]);
    }

    #[test]
    fn mixed_terminators() {
        assert_all_splits(
            b"data: a\rdata: b\r\ndata: c\n\r\nevent: e\rdata: d\n\r",
            &[msg("a\nb\nc"), ev("e", "d", None)],
        );
    }

    #[test]
    fn cr_at_chunk_end_then_lf_at_next_chunk_start_is_one_line_break() {
        // Were the LF a second (blank) line, "a" would be dispatched on its own.
        assert_eq!(decode_chunks(&[b"data: a\r", b"\ndata: b\n\n"]).unwrap(), [msg("a\nb")]);
        // Also when the CR is the only byte of its chunk.
        assert_eq!(decode_chunks(&[b"data: a", b"\r", b"\n", b"data: b\n\n"]).unwrap(), [msg("a\nb")]);
    }

    #[test]
    fn cr_at_chunk_end_then_other_byte_is_a_line_break() {
        assert_eq!(decode_chunks(&[b"data: a\r", b"data: b\r", b"\r"]).unwrap(), [msg("a\nb")]);
    }

    #[test]
    fn cr_at_chunk_end_survives_empty_chunks() {
        assert_eq!(decode_chunks(&[b"data: a\r", b"", b"\ndata: b\n\n"]).unwrap(), [msg("a\nb")]);
    }

    // ----- BOM -----

    #[test]
    fn leading_bom_stripped() {
        assert_eq!(decode(b"\xEF\xBB\xBFdata: x\n\n"), [msg("x")]);
    }

    #[test]
    fn bom_split_across_chunks() {
        assert_all_splits(b"\xEF\xBB\xBFdata: x\n\n", &[msg("x")]);
        assert_eq!(decode_chunks(&[b"\xEF", b"\xBB", b"\xBF", b"data: x\n\n"]).unwrap(), [msg("x")]);
    }

    #[test]
    fn bom_only_stripped_at_stream_start() {
        // A BOM after the first one is content: here it is part of the field name "\u{FEFF}data".
        assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), []);
        // A BOM later in the stream is data.
        assert_all_splits(b"data: \xEF\xBB\xBFx\n\n", &[msg("\u{FEFF}x")]);
        assert_eq!(decode_chunks(&[b"data: a\n\n", b"\xEF\xBB\xBFdata: b\n\n"]).unwrap(), [msg("a")]);
    }

    #[test]
    fn partial_bom_at_stream_start_is_content() {
        // EF BB followed by something else is not a BOM: it decodes to one U+FFFD that becomes
        // part of the field name, so the line is an unknown field.
        assert_all_splits(b"\xEF\xBBdata: x\n\ndata: y\n\n", &[msg("y")]);
        // As a comment's prefix it turns the comment into an unknown field line.
        assert_all_splits(b"\xEF:c\ndata: y\n\n", &[msg("y")]);
    }

    // ----- field parsing -----

    #[test]
    fn field_without_colon_has_empty_value() {
        assert_eq!(decode(b"data\n\n"), [msg("")]);
        // `event` with no colon sets an empty type, i.e. "message".
        assert_eq!(decode(b"event: x\nevent\ndata: d\n\n"), [msg("d")]);
        // `id` with no colon resets the last event ID to "".
        assert_eq!(
            decode(b"id: 1\ndata: a\n\nid\ndata: b\n\n"),
            [ev("message", "a", Some("1")), ev("message", "b", Some(""))]
        );
    }

    #[test]
    fn no_space_after_colon() {
        assert_eq!(decode(b"event:e\ndata:x\nid:7\n\n"), [ev("e", "x", Some("7"))]);
    }

    #[test]
    fn only_one_leading_space_removed() {
        assert_eq!(decode(b"data:  two\n\n"), [msg(" two")]);
        assert_eq!(decode(b"data:   \n\n"), [msg("  ")]);
        // Tabs are not spaces; trailing whitespace is kept.
        assert_eq!(decode(b"data:\tx \n\n"), [msg("\tx ")]);
    }

    #[test]
    fn value_may_contain_colons() {
        assert_eq!(decode(b"data: a: b:c\n\n"), [msg("a: b:c")]);
    }

    #[test]
    fn field_names_are_case_sensitive() {
        assert_eq!(decode(b"Data: x\nDATA: y\n\n"), []);
    }

    #[test]
    fn id_with_nul_ignored() {
        assert_eq!(
            decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"),
            [ev("message", "a", Some("1")), ev("message", "b", Some("1"))]
        );
    }

    #[test]
    fn id_persists_to_later_events() {
        assert_eq!(
            decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\ndata: d\n\n"),
            [
                ev("message", "a", Some("1")),
                ev("message", "b", Some("1")),
                ev("message", "c", Some("2")),
                ev("message", "d", Some("2")),
            ]
        );
    }

    #[test]
    fn id_in_block_without_data_still_updates_last_event_id() {
        assert_eq!(decode(b"id: 5\n\ndata: x\n\n"), [ev("message", "x", Some("5"))]);
    }

    #[test]
    fn empty_id_resets_last_event_id() {
        assert_eq!(
            decode(b"id: 1\ndata: a\n\nid:\ndata: b\n\n"),
            [ev("message", "a", Some("1")), ev("message", "b", Some(""))]
        );
    }

    #[test]
    fn retry_with_non_digits_ignored() {
        for value in [
            &b"retry: 1.5"[..],
            b"retry: -1",
            b"retry: +1",
            b"retry: 10 ",
            b"retry:  10",
            b"retry: 1e3",
            b"retry: ",
            b"retry",
            b"retry: \xD9\xA1", // ARABIC-INDIC DIGIT ONE is not an ASCII digit
        ] {
            let mut input = value.to_vec();
            input.extend_from_slice(b"\ndata: x\n\n");
            let events = decode(&input);
            assert_eq!(events, [msg("x")], "{:?}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn retry_with_leading_zeros_accepted() {
        assert_eq!(decode(b"retry: 0010\ndata: x\n\n")[0].retry, Some(10));
        assert_eq!(decode(b"retry:0\ndata: x\n\n")[0].retry, Some(0));
    }

    #[test]
    fn retry_overflow_saturates() {
        let events = decode(b"retry: 99999999999999999999999999\ndata: x\n\n");
        assert_eq!(events[0].retry, Some(u64::MAX));
        let events = decode(b"retry: 18446744073709551615\ndata: x\n\n");
        assert_eq!(events[0].retry, Some(u64::MAX));
    }

    #[test]
    fn unknown_fields_ignored() {
        assert_eq!(decode(b"foo: bar\ndata: x\nevents: y\nretry_ms: 5\nidx: 3\n\n"), [msg("x")]);
        // A block made only of unknown fields dispatches nothing.
        assert_eq!(decode(b"foo: bar\n\n"), []);
    }

    #[test]
    fn empty_data_line_dispatches_empty_string() {
        assert_eq!(decode(b"data\n\n"), [msg("")]);
        assert_eq!(decode(b"data:\n\n"), [msg("")]);
        assert_eq!(decode(b"data: \n\n"), [msg("")]);
    }

    #[test]
    fn blank_line_without_data_does_not_dispatch_and_resets_event_type() {
        assert_eq!(decode(b"event: ping\n\n"), []);
        assert_eq!(decode(b"event: ping\n\ndata: x\n\n"), [msg("x")]);
        // A retry-only block dispatches nothing and its retry does not leak into the next event.
        assert_eq!(decode(b"retry: 10\n\ndata: x\n\n"), [msg("x")]);
        assert_eq!(decode(b"\n\n\n\r\n\r"), []);
    }

    // ----- end of stream -----

    #[test]
    fn last_event_without_trailing_blank_line_discarded_by_finish() {
        assert_eq!(decode(b"data: a\n\ndata: b\n"), [msg("a")]);
        assert_eq!(decode(b"data: a\n\ndata: b\r"), [msg("a")]);
    }

    #[test]
    fn final_line_without_terminator_discarded_by_finish() {
        assert_eq!(decode(b"data: a\n\ndata: b"), [msg("a")]);
        // Even when it would have been the blank line's partner.
        assert_eq!(decode(b"data: a\ndata: b"), []);
    }

    #[test]
    fn finish_resets_stream_state_but_keeps_id_and_reconnection_time() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        decoder.feed(b"id: 9\nretry: 300\ndata: a\n\nevent: e\ndata: pending", &mut out).unwrap();
        decoder.finish(&mut out);
        assert_eq!(decoder.last_event_id(), Some("9"));
        assert_eq!(decoder.reconnection_time(), Some(300));
        // A new stream: its BOM is stripped again, the pending event is gone, the ID persists.
        decoder.feed(b"\xEF\xBB\xBFdata: b\n\n", &mut out).unwrap();
        decoder.finish(&mut out);
        assert_eq!(
            out,
            [SseEvent { retry: Some(300), ..ev("message", "a", Some("9")) }, ev("message", "b", Some("9")),]
        );
    }

    #[test]
    fn accessors_track_id_and_retry_without_dispatch() {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        assert_eq!(decoder.last_event_id(), None);
        assert_eq!(decoder.reconnection_time(), None);
        decoder.feed(b"retry: 2500\n\n", &mut out).unwrap();
        assert_eq!(decoder.reconnection_time(), Some(2500));
        decoder.feed(b"id: abc\n", &mut out).unwrap();
        // The ID takes effect at the blank line that ends its block.
        assert_eq!(decoder.last_event_id(), None);
        decoder.feed(b"\n", &mut out).unwrap();
        assert_eq!(decoder.last_event_id(), Some("abc"));
        assert!(out.is_empty());
        assert_eq!(decoder.max_event_bytes(), SseDecoder::DEFAULT_MAX_EVENT_BYTES);
    }

    // ----- UTF-8 -----

    #[test]
    fn invalid_utf8_replaced_with_replacement_char() {
        assert_eq!(decode(b"data: a\xFFb\n\n"), [msg("a\u{FFFD}b")]);
        assert_eq!(decode(b"event: \xC0\xAF\ndata: x\n\n")[0].event, "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn truncated_multibyte_sequence_replaced_once() {
        // E2 82 is a valid prefix of a 3-byte sequence (e.g. E2 82 AC = '€'): one U+FFFD.
        assert_all_splits(b"data: \xE2\x82x\n\n", &[msg("\u{FFFD}x")]);
        // A truncated sequence at the end of a line does not swallow the terminator.
        assert_all_splits(b"data: \xF0\x9F\x98\n\n", &[msg("\u{FFFD}")]);
    }

    #[test]
    fn utf8_char_split_across_chunks_decoded_correctly() {
        assert_all_splits("data: é😀€\n\n".as_bytes(), &[msg("é😀€")]);
        assert_all_splits("event: ünïcödé\nid: ☃\ndata: x\n\n".as_bytes(), &[ev("ünïcödé", "x", Some("☃"))]);
    }

    #[test]
    fn nul_bytes_in_data_kept() {
        assert_eq!(decode(b"data: a\x00b\x00\n\n"), [msg("a\0b\0")]);
    }

    // ----- limits and performance -----

    #[test]
    fn event_too_large_when_data_exceeds_limit() {
        let mut decoder = SseDecoder::with_max_event_bytes(8);
        let mut out = Vec::new();
        // "1234\n5678" is 9 bytes once joined.
        assert_eq!(
            decoder.feed(b"data: ok\n\ndata: 1234\ndata: 5678\n\n", &mut out),
            Err(SseError::EventTooLarge { limit: 8 })
        );
        // Events before the offending line were delivered.
        assert_eq!(out, [msg("ok")]);
    }

    #[test]
    fn data_exactly_at_limit_accepted() {
        let decoder = SseDecoder::with_max_event_bytes(12);
        // "data: 123456" is a 12-byte line; "1234\n567" is 8 bytes of data.
        let events = decode_chunks_with(decoder, &[b"data: 123456\n\ndata: 1234\ndata:567\n\n"]);
        assert_eq!(events.unwrap(), [msg("123456"), msg("1234\n567")]);
    }

    #[test]
    fn event_too_large_when_pending_line_exceeds_limit() {
        let mut decoder = SseDecoder::with_max_event_bytes(16);
        let mut out = Vec::new();
        // An unterminated line is refused as soon as it passes the limit.
        decoder.feed(b"data: 0123456789", &mut out).unwrap();
        assert_eq!(decoder.feed(b"abc", &mut out), Err(SseError::EventTooLarge { limit: 16 }));
        // Also for comments, which are never stored.
        let mut decoder = SseDecoder::with_max_event_bytes(16);
        assert!(decoder.feed(b": 01234567890123456789\n", &mut out).is_err());
    }

    #[test]
    fn decoder_stays_failed_until_finish() {
        let mut decoder = SseDecoder::with_max_event_bytes(4);
        let mut out = Vec::new();
        let err = SseError::EventTooLarge { limit: 4 };
        assert_eq!(decoder.feed(b"data: 12345\n\n", &mut out), Err(err.clone()));
        assert_eq!(decoder.feed(b"\n\n", &mut out), Err(err));
        decoder.finish(&mut out);
        decoder.feed(b"data\n\n", &mut out).unwrap();
        assert_eq!(out, [msg("")]);
    }

    #[test]
    fn error_display_names_the_limit() {
        let message = SseError::EventTooLarge { limit: 1024 }.to_string();
        assert!(message.contains("maxEventBytes"), "{message}");
        assert!(message.contains("1024 bytes"), "{message}");
        let _: &dyn std::error::Error = &SseError::EventTooLarge { limit: 1 };
    }

    #[test]
    fn ten_megabyte_line_decodes_whole() {
        let payload = "x".repeat(10 * 1024 * 1024);
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(payload.as_bytes());
        input.extend_from_slice(b"\n\n");
        let start = Instant::now();
        let events = decode(&input);
        assert_eq!(events.len(), 1);
        assert!(events[0].data == payload);
        // Delivered in 16 KiB chunks it must not re-scan the buffered line (no quadratic time).
        let chunks: Vec<&[u8]> = input.chunks(16 * 1024).collect();
        let events = decode_chunks(&chunks).unwrap();
        assert!(events.len() == 1 && events[0].data == payload);
        assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    }

    #[test]
    fn one_megabyte_of_bare_cr_yields_nothing_fast() {
        let input = vec![b'\r'; 1024 * 1024];
        let start = Instant::now();
        assert_eq!(decode(&input), []);
        let chunks: Vec<&[u8]> = input.chunks(4096).collect();
        assert_eq!(decode_chunks(&chunks).unwrap(), []);
        assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    }

    #[test]
    fn openai_style_stream() {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for i in 0..100 {
            let json = format!(
                r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"tok{i} é"}}}}]}}"#
            );
            input.extend_from_slice(format!("data: {json}\n\n").as_bytes());
            expected.push(msg(&json));
        }
        input.extend_from_slice(b"data: [DONE]\n\n");
        expected.push(msg("[DONE]"));
        assert_eq!(decode(&input), expected);
        let chunks: Vec<&[u8]> = input.chunks(7).collect();
        assert_eq!(decode_chunks(&chunks).unwrap(), expected);
    }

    #[test]
    fn find_eol_finds_first_terminator_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                for needle in [b'\r', b'\n'] {
                    let mut hay = vec![b'a'; len];
                    hay[at] = needle;
                    if at + 1 < len {
                        hay[at + 1] = b'\n';
                    }
                    assert_eq!(find_eol(&hay), Some(at), "len {len} at {at}");
                }
            }
            assert_eq!(find_eol(&vec![0xFF; len]), None);
        }
    }

    // ----- property tests -----

    /// A straightforward transcription of the spec, for comparison: decode the whole stream,
    /// split it into lines, then interpret them.
    fn reference_decode(input: &[u8]) -> Vec<SseEvent> {
        let input = input.strip_prefix(&BOM[..]).unwrap_or(input);
        let text = String::from_utf8_lossy(input);
        let mut lines = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    lines.push(std::mem::take(&mut current));
                }
                '\n' => lines.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        // `current` is an unterminated final line: discarded.
        let (mut data, mut event_type, mut last_id, mut retry) =
            (String::new(), String::new(), None::<String>, None::<u64>);
        let mut events = Vec::new();
        for line in lines {
            if line.is_empty() {
                if !data.is_empty() {
                    data.pop();
                    events.push(SseEvent {
                        event: if event_type.is_empty() { "message".into() } else { event_type.clone() },
                        data: std::mem::take(&mut data),
                        id: last_id.clone(),
                        retry,
                    });
                }
                data.clear();
                event_type.clear();
                retry = None;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.find(':') {
                Some(i) => {
                    let value = &line[i + 1..];
                    (&line[..i], value.strip_prefix(' ').unwrap_or(value))
                }
                None => (&line[..], ""),
            };
            match field {
                "event" => event_type = value.to_owned(),
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "id" if !value.contains('\0') => last_id = Some(value.to_owned()),
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    retry = Some(value.parse().unwrap_or(u64::MAX));
                }
                _ => {}
            }
        }
        events
    }

    /// Realistic stream fragments, including every kind of terminator, the BOM, multi-byte
    /// characters, invalid bytes and a few random bytes.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        const FRAGMENTS: &[&[u8]] = &[
            b"data: {\"x\":1}",
            b"data:",
            b"data",
            b"data: ",
            b"data:  two",
            b"event: update",
            b"event:",
            b"id: 7",
            b"id: a\x00b",
            b"id",
            b"retry: 1000",
            b"retry: 1x",
            b"retry: 99999999999999999999999",
            b": comment",
            b":",
            b"foo: bar",
            b"\r",
            b"\n",
            b"\r\n",
            b"\n\n",
            b"\r\n\r\n",
            b"\xEF\xBB\xBF",
            b"\xEF\xBB",
            "é".as_bytes(),
            "😀".as_bytes(),
            b"\xFF",
            b"\xE2\x82",
            b"\xF0\x9F\x98",
            b"\x00",
            b" ",
        ];
        prop_oneof![
            8 => proptest::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 1..4),
        ]
    }

    fn fragment_stream() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(fragment(), 0..60).prop_map(|parts| parts.concat())
    }

    /// Feed `chunks` with the given limit; return the events delivered and the first error.
    fn decode_until_error(limit: usize, chunks: &[&[u8]]) -> (Vec<SseEvent>, Option<SseError>) {
        let mut decoder = SseDecoder::with_max_event_bytes(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            if let Err(e) = decoder.feed(chunk, &mut out) {
                return (out, Some(e));
            }
        }
        decoder.finish(&mut out);
        (out, None)
    }

    /// Split `input` at the given points (taken modulo its length).
    fn split<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points {
            chunks.push(&input[start..point]);
            start = point;
        }
        chunks.push(&input[start..]);
        chunks
    }

    proptest! {
        #[test]
        fn prop_split_fragments_same_as_whole(
            input in fragment_stream(),
            points in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let whole = decode_chunks(&[&input]);
            prop_assert_eq!(decode_chunks(&split(&input, &points)), whole);
        }

        #[test]
        fn prop_split_random_bytes_same_as_whole(
            input in proptest::collection::vec(any::<u8>(), 0..300),
            points in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let whole = decode_chunks(&[&input]);
            prop_assert_eq!(decode_chunks(&split(&input, &points)), whole);
        }

        #[test]
        fn prop_one_byte_chunks_same_as_whole(input in fragment_stream()) {
            let chunks: Vec<&[u8]> = input.chunks(1).collect();
            prop_assert_eq!(decode_chunks(&chunks), decode_chunks(&[&input]));
        }

        #[test]
        fn prop_matches_reference_model(
            input in fragment_stream(),
            points in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let expected = reference_decode(&input);
            prop_assert_eq!(decode_chunks(&split(&input, &points)).unwrap(), expected);
        }

        #[test]
        fn prop_small_limit_split_same_as_whole(
            input in fragment_stream(),
            points in proptest::collection::vec(any::<usize>(), 0..12),
            limit in 0usize..48,
        ) {
            let whole = decode_until_error(limit, &[&input]);
            prop_assert_eq!(decode_until_error(limit, &split(&input, &points)), whole);
        }

        #[test]
        fn prop_find_eol_matches_naive(input in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..64)
        ) {
            let naive = input.iter().position(|&b| b == b'\r' || b == b'\n');
            prop_assert_eq!(find_eol(&input), naive);
        }
    }
}
