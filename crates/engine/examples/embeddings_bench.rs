//! Benchmark of [`aiwire_engine::float_vectors::decode_embeddings`] on a body like a real one:
//! 100 vectors × 1536 float32 values, once as a float array (each value printed as JavaScript prints a
//! float32 widened to double, e.g. `-0.012345678918063641`) and once as base64.
//!
//! ```sh
//! cargo run --release -p aiwire-engine --example embeddings_bench [iterations]
//! ```
//!
//! Also writes both bodies and the decoded values (little-endian f64) to the temp dir, so the numbers can
//! be compared with Node's `JSON.parse` of the same text (the paths are printed), e.g.:
//!
//! ```sh
//! node -e 'const s = require("fs").readFileSync("/tmp/aiwire-embeddings-float.json", "utf8");
//!   JSON.parse(s); const t = performance.now(); for (let i = 0; i < 20; i++) JSON.parse(s);
//!   console.log(((performance.now() - t) / 20).toFixed(2), "ms per JSON.parse")'
//! ```

use aiwire_engine::float_vectors::decode_embeddings;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::time::{Duration, Instant};

const VECTORS: usize = 100;
const DIMS: usize = 1536;

/// `x` as JavaScript's `String(x)` prints it (shortest round-trip digits; exponent below 1e-6).
fn js_number(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else if x.abs() < 1e-6 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Embedding-like float32 values: roughly normal around 0 with a standard deviation of about 0.025.
fn vectors() -> Vec<Vec<f32>> {
    let mut rng = fastrand::Rng::with_seed(1536);
    (0..VECTORS)
        .map(|_| {
            (0..DIMS)
                .map(|_| {
                    let s: f32 = (0..4).map(|_| rng.f32() - 0.5).sum();
                    s * 0.043
                })
                .collect()
        })
        .collect()
}

fn body(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items
        .enumerate()
        .map(|(i, embedding)| format!(r#"{{"object":"embedding","index":{i},"embedding":{embedding}}}"#))
        .collect();
    format!(
        r#"{{"object":"list","data":[{}],"model":"text-embedding-3-small","usage":{{"prompt_tokens":8,"total_tokens":8}}}}"#,
        items.join(",")
    )
}

fn bench(name: &str, body: &[u8], iterations: usize) -> Duration {
    for _ in 0..3 {
        std::hint::black_box(decode_embeddings(std::hint::black_box(body)).unwrap());
    }
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            let d = decode_embeddings(std::hint::black_box(body)).unwrap();
            let t = start.elapsed();
            assert_eq!(d.values.len(), VECTORS * DIMS);
            drop(std::hint::black_box(d));
            t
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let mb = body.len() as f64 / 1e6;
    println!(
        "{name:>6}: {:.2} MB body, median {:.3} ms/decode (min {:.3}), {:.0} MB/s",
        mb,
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        mb / median.as_secs_f64()
    );
    median
}

fn main() {
    let iterations: usize = std::env::args().nth(1).map_or(50, |s| s.parse().expect("iterations"));
    let vectors = vectors();
    let float_body = body(vectors.iter().map(|v| {
        let nums: Vec<String> = v.iter().map(|&x| js_number(x as f64)).collect();
        format!("[{}]", nums.join(","))
    }));
    let base64_body = body(vectors.iter().map(|v| {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        format!("\"{}\"", STANDARD.encode(bytes))
    }));

    let decoded = decode_embeddings(float_body.as_bytes()).unwrap();
    let want: Vec<f64> = vectors.iter().flatten().map(|&x| x as f64).collect();
    assert!(decoded.values.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
    let from_base64 = decode_embeddings(base64_body.as_bytes()).unwrap();
    assert!(from_base64.values.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));

    let dir = std::env::temp_dir();
    let paths = [
        (dir.join("aiwire-embeddings-float.json"), float_body.as_bytes().to_vec()),
        (dir.join("aiwire-embeddings-base64.json"), base64_body.as_bytes().to_vec()),
        (
            dir.join("aiwire-embeddings-values.f64"),
            decoded.values.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        (dir.join("aiwire-embeddings-rest.json"), decoded.json.as_bytes().to_vec()),
    ];
    for (path, bytes) in &paths {
        std::fs::write(path, bytes).unwrap();
        println!("wrote {}", path.display());
    }

    bench("float", float_body.as_bytes(), iterations);
    bench("base64", base64_body.as_bytes(), iterations);
}
