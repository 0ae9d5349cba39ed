//! Engine-side helpers shared by the transport and stream tests: short timeouts, bounded sends and
//! reads (no test may hang the suite).

use super::Reply;
use aiwire_engine::sse::SseEvent;
use aiwire_engine::{CancellationToken, Engine, EngineConfig, EngineError, Method, RequestSpec, SseStream};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// A config with short timeouts: tests fail fast instead of waiting for the 10-minute default.
pub fn config() -> EngineConfig {
    EngineConfig {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        ..EngineConfig::default()
    }
}

pub fn engine(config: EngineConfig) -> Engine {
    Engine::new(config).expect("engine")
}

pub fn get(url: String) -> RequestSpec {
    RequestSpec::new(Method::GET, url)
}

pub fn post(url: String, body: &'static [u8]) -> RequestSpec {
    RequestSpec { body: Some(Bytes::from_static(body)), ..RequestSpec::new(Method::POST, url) }
}

/// A 5xx (or other) status asking for a 1 ms retry delay, so retry tests stay fast.
pub fn fast_retry(status: u16) -> Reply {
    Reply::status(status).header("retry-after-ms", "1")
}

pub async fn send(engine: &Engine, spec: &RequestSpec) -> Result<aiwire_engine::Response, EngineError> {
    // Bounded: no test may hang the suite.
    tokio::time::timeout(Duration::from_secs(8), engine.send(spec, &CancellationToken::new()))
        .await
        .expect("send did not finish within 8 s")
}

pub async fn open(engine: &Engine, spec: &RequestSpec) -> Result<SseStream, EngineError> {
    tokio::time::timeout(Duration::from_secs(8), engine.open_stream(spec, &CancellationToken::new()))
        .await
        .expect("open_stream did not finish within 8 s")
}

/// Read the stream to its end (at most 10 000 chunks, 8 s). On failure returns the events delivered
/// before the error, and the error.
pub async fn read_all(stream: &mut SseStream) -> Result<Vec<SseEvent>, (Vec<SseEvent>, EngineError)> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(8);
    for _ in 0..10_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next_events(&mut out)).await.expect("stream stalled") {
            Ok(true) => {}
            Ok(false) => return Ok(out),
            Err(e) => return Err((out, e)),
        }
    }
    panic!("stream did not end after 10 000 chunks");
}

pub fn msg(data: &str) -> SseEvent {
    SseEvent { event: "message".into(), data: data.into(), id: None, retry: None }
}

pub fn assert_retry_key(key: &str) {
    let hex = key.strip_prefix("aiwire-retry-").unwrap_or_else(|| panic!("bad key {key:?}"));
    assert_eq!(hex.len(), 32, "{key:?}");
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{key:?}");
}
