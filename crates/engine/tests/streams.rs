//! Integration tests of event streams against a local scriptable server (127.0.0.1 only): SSE over
//! HTTP/1.1 and h2c, compression, retries before the stream opens, resets and limits mid-stream,
//! cancellation on drop. Public API only: `Engine::open_stream`, `SseStream::next_events`.

mod support;

use aiwire_engine::sse::SseEvent;
use aiwire_engine::{EngineConfig, ErrorKind};
use bytes::Bytes;
use std::time::{Duration, Instant};
use support::client::*;
use support::{split_every, Reply, TestServer};

// ---------------------------------------------------------------------------------------------
// 10. streams

const SSE_CRLF: &str = concat!(
    "data: hello\r\n\r\n",
    "event: update\r\ndata: {\"a\":1}\r\nid: 7\r\n\r\n",
    ": keep-alive comment\r\n\r\n",
    "data: line1\r\ndata: line2\r\nretry: 1500\r\n\r\n",
    "data: [DONE]\r\n\r\n",
);

/// `s` cut into pieces of 1, 2, 3, 5 and 7 bytes in turn.
fn ragged_chunks(s: &[u8]) -> Vec<Bytes> {
    let sizes = [1usize, 2, 3, 5, 7];
    let mut chunks = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= s.len() {
            break;
        }
        let end = (at + size).min(s.len());
        chunks.push(Bytes::copy_from_slice(&s[at..end]));
        at = end;
    }
    chunks
}

fn expected_crlf_events() -> Vec<SseEvent> {
    vec![
        msg("hello"),
        SseEvent { event: "update".into(), data: r#"{"a":1}"#.into(), id: Some("7".into()), retry: None },
        SseEvent {
            event: "message".into(),
            data: "line1\nline2".into(),
            id: Some("7".into()),
            retry: Some(1500),
        },
        SseEvent { event: "message".into(), data: "[DONE]".into(), id: Some("7".into()), retry: None },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_of_small_chunks_split_inside_lines_with_crlf_yields_events_in_order() {
    let chunks = ragged_chunks(SSE_CRLF.as_bytes());
    // The script really splits a CRLF pair and a line across chunks.
    assert!(chunks.windows(2).any(|w| w[0].ends_with(b"\r") && w[1].starts_with(b"\n")));
    let server = TestServer::start([Reply::sse(chunks, Duration::from_millis(1))]).await;
    let engine = engine(config());
    let mut stream = open(&engine, &get(server.url("/sse"))).await.unwrap();
    assert_eq!((stream.status, stream.attempts), (200, 1));
    assert_eq!(stream.headers.get("content-type").unwrap(), "text/event-stream");
    let events = read_all(&mut stream).await.map_err(|(_, e)| e).unwrap();
    assert_eq!(events, expected_crlf_events());
    // After the end, the stream stays ended.
    let mut out = Vec::new();
    assert!(!stream.next_events(&mut out).await.unwrap());
    assert!(out.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_stream_is_decoded_as_it_arrives() {
    let server =
        TestServer::start([Reply::sse(ragged_chunks(SSE_CRLF.as_bytes()), Duration::from_millis(1)).gzip()])
            .await;
    let engine = engine(config());
    let mut stream = open(&engine, &get(server.url("/sse-gz"))).await.unwrap();
    let events = read_all(&mut stream).await.map_err(|(_, e)| e).unwrap();
    assert_eq!(events, expected_crlf_events());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_500_is_retried_before_the_stream_is_returned() {
    let server = TestServer::start([
        fast_retry(500).body("boom"),
        Reply::sse(["data: a\n\n", "data: b\n\n"], Duration::from_millis(5)),
    ])
    .await;
    let engine = engine(config());
    let mut stream = open(&engine, &post(server.url("/sse"), b"{}")).await.unwrap();
    assert_eq!((stream.status, stream.attempts), (200, 2));
    let events = read_all(&mut stream).await.map_err(|(_, e)| e).unwrap();
    assert_eq!(events, [msg("a"), msg("b")]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("idempotency-key"), reqs[1].header("idempotency-key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_reset_after_its_head_before_any_event_is_retried() {
    // The first answer's head arrives, then half an event, then a reset: nothing reached the caller.
    let server = TestServer::start([
        Reply::sse(["data: par"], Duration::from_millis(1)).then_reset(),
        Reply::sse(["data: a\n\n", "data: b\n\n"], Duration::from_millis(5)),
    ])
    .await;
    let engine = engine(EngineConfig { retry_min_delay: Duration::from_millis(5), ..config() });
    let mut stream = open(&engine, &post(server.url("/sse"), b"{}")).await.unwrap();
    assert_eq!((stream.status, stream.attempts), (200, 2));
    let events = read_all(&mut stream).await.map_err(|(_, e)| e).unwrap();
    assert_eq!(events, [msg("a"), msg("b")]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_timeout_covers_the_head_only() {
    // The head comes at once, the four events over ~300 ms: longer than the 150 ms timeout.
    let server = TestServer::start([
        Reply::sse(["data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: 4\n\n"], Duration::from_millis(100)),
        Reply::hang(),
    ])
    .await;
    let engine = engine(EngineConfig { timeout: Duration::from_millis(150), max_retries: 0, ..config() });
    let start = Instant::now();
    let mut stream = open(&engine, &get(server.url("/slow-body"))).await.unwrap();
    let events = read_all(&mut stream).await.map_err(|(_, e)| e).unwrap();
    assert_eq!(events, [msg("1"), msg("2"), msg("3"), msg("4")]);
    assert!(start.elapsed() >= Duration::from_millis(300));
    // A head that never comes does time out.
    let err = open(&engine, &get(server.url("/no-head"))).await.err().unwrap();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Timeout, 1), "{err}");
}

/// Two events, then the connection is reset; the next read must fail with `Connection`.
async fn reset_mid_stream(gzip: bool, http2: bool) {
    let mut reply = Reply::sse(["data: one\n\n", "data: two\n\n"], Duration::from_millis(10)).then_reset();
    if gzip {
        reply = reply.gzip();
    }
    let server = TestServer::start([reply]).await;
    let engine = engine(EngineConfig { http2_prior_knowledge: http2, ..config() });
    let mut stream = open(&engine, &get(server.url("/sse-reset"))).await.unwrap();
    match read_all(&mut stream).await {
        Ok(events) => panic!("stream ended cleanly after {events:?}; expected an error"),
        Err((events, err)) => {
            assert_eq!(events, [msg("one"), msg("two")], "{err}");
            assert_eq!(err.kind, ErrorKind::Connection, "gzip={gzip} http2={http2}: {err}");
        }
    }
    // The broken stream stays ended.
    let mut out = Vec::new();
    assert!(!stream.next_events(&mut out).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_stream_is_a_connection_error() {
    reset_mid_stream(false, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_gzip_stream_is_a_connection_error() {
    reset_mid_stream(true, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_http2_stream_is_a_connection_error() {
    reset_mid_stream(false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_non_2xx_returns_status_error_with_the_complete_body() {
    let body = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(3000));
    let server = TestServer::start([Reply::status(404)
        .header("content-type", "application/json")
        .chunks(split_every(body.as_bytes(), 500), Duration::from_millis(5))])
    .await;
    let engine = engine(config());
    let err = open(&engine, &get(server.url("/missing"))).await.err().unwrap();
    assert_eq!((err.kind, err.http_status(), err.attempts), (ErrorKind::Status, Some(404), 1), "{err}");
    let response = err.response.as_ref().unwrap();
    assert_eq!(response.body.len(), body.len());
    assert!(response.body == body.as_bytes());
    assert_eq!(response.headers.get("content-type").unwrap(), "application/json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_larger_than_max_event_bytes_is_a_decode_error() {
    let big = format!("data: {}\n\n", "x".repeat(1000));
    let server = TestServer::start([Reply::sse(
        [Bytes::from_static(b"data: small\n\n"), Bytes::from(big)],
        Duration::from_millis(20),
    )])
    .await;
    let engine = engine(EngineConfig { max_event_bytes: 64, ..config() });
    let mut stream = open(&engine, &get(server.url("/big"))).await.unwrap();
    let (events, err) = read_all(&mut stream).await.expect_err("a 1000-byte event passed a 64-byte limit");
    assert_eq!(events, [msg("small")]);
    assert_eq!(err.kind, ErrorKind::Decode, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_closes_its_connection() {
    // One event now, the next only after 30 s: the client leaves before.
    let server =
        TestServer::start([Reply::sse(["data: first\n\n", "data: late\n\n"], Duration::from_secs(30))]).await;
    let engine = engine(config());
    let mut stream = open(&engine, &get(server.url("/sse"))).await.unwrap();
    let mut out = Vec::new();
    for _ in 0..100 {
        if !out.is_empty() {
            break;
        }
        assert!(tokio::time::timeout(Duration::from_secs(2), stream.next_events(&mut out))
            .await
            .unwrap()
            .unwrap());
    }
    assert_eq!(out, [msg("first")]);
    drop(stream);
    assert!(
        server.wait_until(Duration::from_secs(2), |s| s.closed() == 1).await,
        "server never saw the connection close"
    );
}
