//! Benchmark of the stream path's engine side on chunks like the bench suite's OpenAI stream
//! (`chat.completion.chunk`, ~310 bytes, a random `obfuscation` nonce per chunk): SSE decoding, then
//! [`aiwire_engine::json_tape::TapeEncoder`] over batches of 256 events, per 1,000-chunk stream.
//!
//! ```sh
//! cargo run --release -p aiwire-engine --example tape_bench [streams]
//! ```
//!
//! Prints µs per event for: serde_json parsing alone (`IgnoredAny`: what a serde-based encoder could
//! not go below), the tape encoder, and SSE decoding + tape encoding (events handed over by
//! `SseDecoder::feed_into`, as the native stream does).

use aiwire_engine::json_tape::{Tape, TapeEncoder};
use aiwire_engine::sse::{SseDecoder, SseSink};
use std::time::Instant;

const CHUNKS: usize = 1000;
const WORDS: [&str; 12] = [
    " the",
    " pool",
    " keeps",
    " connections",
    " open",
    ",",
    " so",
    " each",
    " request",
    " skips",
    " the",
    " handshake",
];

fn stream_body() -> (String, Vec<String>) {
    let mut seed = 20261125u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut events = Vec::with_capacity(CHUNKS);
    for i in 0..CHUNKS {
        let nonce: String = (0..8)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(rand() % 36) as usize]))
            .collect();
        let delta = if i == 0 {
            r#"{"role":"assistant","content":"","refusal":null}"#.to_owned()
        } else {
            format!(r#"{{"content":"{}"}}"#, WORDS[i % WORDS.len()])
        };
        events.push(format!(
            r#"{{"id":"chatcmpl-BENCHbXk2oQm1n9Yt0uJ7cZr4sVfA","object":"chat.completion.chunk","created":1763683200,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":null}}],"obfuscation":"{nonce}"}}"#
        ));
    }
    let body = events.iter().map(|e| format!("data: {e}\n\n")).collect::<String>() + "data: [DONE]\n\n";
    (body, events)
}

/// Encodes each event as the SSE decoder hands it over (as the native stream does).
struct Sink<'a> {
    enc: &'a mut TapeEncoder,
    tape: Tape,
}

impl SseSink for Sink<'_> {
    fn event(&mut self, _event: &str, data: &str, _id: Option<&str>, _retry: Option<u64>) {
        if data != "[DONE]" {
            self.enc.encode(data, &mut self.tape);
        }
    }
}

fn main() {
    let streams: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(300);
    let (body, events) = stream_body();
    let per_event = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / (streams * CHUNKS) as f64;
    for round in 0..3 {
        let t = Instant::now();
        for _ in 0..streams {
            for e in &events {
                let v: serde::de::IgnoredAny = serde_json::from_str(e).expect("valid JSON");
                std::hint::black_box(v);
            }
        }
        let lex = per_event(t);

        let t = Instant::now();
        let mut size = 0;
        for _ in 0..streams {
            let mut enc = TapeEncoder::new();
            for batch in events.chunks(256) {
                let mut tape = Tape::default();
                for e in batch {
                    enc.encode(e, &mut tape);
                }
                size += tape.ops.len();
            }
        }
        let tape = per_event(t);

        let t = Instant::now();
        for _ in 0..streams {
            let mut enc = TapeEncoder::new();
            let mut sse = SseDecoder::new();
            for piece in body.as_bytes().chunks(16 * 1024) {
                let mut sink = Sink { enc: &mut enc, tape: Tape::default() };
                sse.feed_into(piece, &mut sink).expect("valid SSE");
                size += sink.tape.ops.len();
            }
        }
        let both = per_event(t);
        println!(
            "round {round}: serde_json lexing {lex:.3} µs/event · tape encoder {tape:.3} · SSE + tape {both:.3} (check {size})"
        );
    }
}
