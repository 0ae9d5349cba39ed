//! Unit tests of the parent module (kept in their own file; private items are in scope via `super`).

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

mod props;
