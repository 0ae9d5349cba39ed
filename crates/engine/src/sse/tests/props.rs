//! Property tests of the SSE decoder: against a straightforward transcription of the spec, and
//! over arbitrary chunkings of the same input.

use super::*;

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
