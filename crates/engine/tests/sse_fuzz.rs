//! A time-bounded fuzz loop for the SSE decoder that runs on stable Rust (no cargo-fuzz, no nightly).
//!
//! For `AIWIRE_FUZZ_SECS` seconds (default 3) it generates streams from SSE-shaped fragments and raw
//! bytes and checks, for each:
//!
//! - split equivalence: the input fed whole, split at random points, and one byte at a time gives the
//!   same events (and the same error, under a limit);
//! - the WHATWG model: without a limit, the events equal those of a plain transcription of the spec
//!   run on the whole input (decoded with `String::from_utf8_lossy`, i.e. WHATWG maximal-subpart U+FFFD
//!   replacement);
//! - the limit: under `max_event_bytes`, no delivered event's data is longer than the limit, and the
//!   events delivered before an `EventTooLarge` error are a prefix of the unlimited decoding.
//!
//! It prints the seed and the iteration count (`cargo test -p aiwire-engine --test sse_fuzz --
//! --nocapture`). Reproduce a failure with `AIWIRE_FUZZ_SEED=<seed>`.

use aiwire_engine::sse::{SseDecoder, SseError, SseEvent};
use std::time::{Duration, Instant};

/// Feed `chunks`, then `finish`; the events delivered and the first error.
fn run(limit: Option<usize>, chunks: &[&[u8]]) -> (Vec<SseEvent>, Option<SseError>) {
    let mut decoder = match limit {
        Some(l) => SseDecoder::with_max_event_bytes(l),
        None => SseDecoder::new(),
    };
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(e) = decoder.feed(chunk, &mut out) {
            return (out, Some(e));
        }
    }
    let before = out.len();
    decoder.finish(&mut out);
    assert_eq!(out.len(), before, "finish() dispatched an event");
    (out, None)
}

/// The spec, written out plainly: decode all bytes (one leading BOM dropped), cut lines at CRLF, LF
/// or CR, drop an unterminated last line, interpret fields, dispatch at blank lines.
fn model(input: &[u8]) -> Vec<SseEvent> {
    let body = input.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(input);
    let text = String::from_utf8_lossy(body);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut rest = text.chars().peekable();
    while let Some(c) = rest.next() {
        if c == '\n' || c == '\r' {
            if c == '\r' && rest.peek() == Some(&'\n') {
                rest.next();
            }
            lines.push(std::mem::take(&mut line));
        } else {
            line.push(c);
        }
    }
    let mut events = Vec::new();
    let mut data = String::new();
    let mut kind = String::new();
    let mut last_id: Option<String> = None;
    let mut retry: Option<u64> = None;
    for line in &lines {
        if line.is_empty() {
            if !data.is_empty() {
                data.truncate(data.len() - 1);
                let event = if kind.is_empty() { "message".to_owned() } else { kind.clone() };
                events.push(SseEvent { event, data: std::mem::take(&mut data), id: last_id.clone(), retry });
            }
            data.clear();
            kind.clear();
            retry = None;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match name {
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "event" => kind = value.to_owned(),
            "id" if !value.contains('\0') => last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                retry = Some(value.parse::<u64>().unwrap_or(u64::MAX));
            }
            _ => {}
        }
    }
    events
}

const FRAGMENTS: &[&[u8]] = &[
    b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}",
    b"data: [DONE]",
    b"data:",
    b"data",
    b"data: ",
    b"data:  x",
    b"event: delta",
    b"event:",
    b"event",
    b"id: 42",
    b"id:",
    b"id: a\x00b",
    b"retry: 250",
    b"retry: 18446744073709551616",
    b"retry: -1",
    b"retry:",
    b": keep-alive",
    b":",
    b"datum: no",
    b"DATA: no",
    b" data: leading space is a different field",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\r\n\r\n",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB",
    b"\xEF",
    "é".as_bytes(),
    "€".as_bytes(),
    "😀".as_bytes(),
    b"\xFF",
    b"\xC0\xAF",
    b"\xED\xA0\x80",
    b"\xF4\x90\x80\x80",
    b"\xE2\x82",
    b"\xF0\x9F\x98",
    b"\x80",
    b"\x00",
    b" ",
    b"x",
    b"data: tok\n\n",
    b"event: e\ndata: d\r\n\r\n",
];

/// A random stream: mostly fragments, some raw bytes, sometimes a long run of one byte.
fn stream(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.u8(..8) == 0 {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let parts = rng.usize(..80);
    for _ in 0..parts {
        match rng.u8(..20) {
            0..=14 => out.extend_from_slice(FRAGMENTS[rng.usize(..FRAGMENTS.len())]),
            15..=18 => out.extend((0..rng.usize(1..6)).map(|_| rng.u8(..))),
            _ => {
                let byte = [b'\r', b'\n', b'x', b':', 0xFF][rng.usize(..5)];
                let run = rng.usize(1..300);
                out.resize(out.len() + run, byte);
            }
        }
    }
    out
}

/// `input` cut at `n` random points (possibly empty chunks, possibly none).
fn random_split<'a>(rng: &mut fastrand::Rng, input: &'a [u8]) -> Vec<&'a [u8]> {
    let n = rng.usize(..16);
    let mut points: Vec<usize> = (0..n).map(|_| rng.usize(..=input.len())).collect();
    points.sort_unstable();
    let mut chunks = Vec::with_capacity(n + 1);
    let mut start = 0;
    for p in points {
        chunks.push(&input[start..p]);
        start = p;
    }
    chunks.push(&input[start..]);
    chunks
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn fuzz_sse_decoder_split_equivalence() {
    let secs: f64 = std::env::var("AIWIRE_FUZZ_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(3.0);
    let seed: u64 = std::env::var("AIWIRE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let budget = Duration::from_secs_f64(secs.max(0.0));
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    let mut iterations: u64 = 0;
    let mut events_seen: u64 = 0;
    let mut limit_errors: u64 = 0;
    // At least a few hundred iterations even with AIWIRE_FUZZ_SECS=0, so the test always means something.
    while iterations < 200 || started.elapsed() < budget {
        iterations += 1;
        let input = stream(&mut rng);
        let context = || format!("seed {seed}, iteration {iterations}, input {}", hex(&input));

        // Unlimited: whole = model = random splits = one byte at a time.
        let (whole, error) = run(None, &[&input]);
        assert_eq!(error, None, "{}", context());
        assert_eq!(whole, model(&input), "WHATWG model, {}", context());
        let split = random_split(&mut rng, &input);
        assert_eq!(run(None, &split), (whole.clone(), None), "split {split:?}, {}", context());
        if iterations & 7 == 0 {
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(run(None, &bytes), (whole.clone(), None), "one byte at a time, {}", context());
        }
        events_seen += whole.len() as u64;

        // Under a small limit: splitting changes nothing, and the result is bounded and a prefix.
        let limit = if rng.bool() { rng.usize(..96) } else { rng.usize(96..2048) };
        let limited = run(Some(limit), &[&input]);
        let split = random_split(&mut rng, &input);
        assert_eq!(run(Some(limit), &split), limited, "limit {limit}, split {split:?}, {}", context());
        let (events, error) = limited;
        assert!(events.iter().all(|e| e.data.len() <= limit), "event over limit {limit}, {}", context());
        match error {
            Some(SseError::EventTooLarge { limit: l }) => {
                limit_errors += 1;
                assert_eq!(l, limit, "{}", context());
                assert_eq!(events[..], whole[..events.len()], "limit {limit}: not a prefix, {}", context());
            }
            None => assert_eq!(events, whole, "limit {limit} changed the events, {}", context()),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "sse fuzz: {iterations} iterations in {elapsed:.1} s (seed {seed}; {events_seen} events decoded, \
         {limit_errors} limit errors checked)"
    );
}
