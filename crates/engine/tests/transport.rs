//! Integration tests of the transport against a local scriptable server (127.0.0.1 only).
//!
//! Every test goes through the public API: `Engine::new`, `Engine::send`, `Engine::open_stream`.
//! Retries are in `retries.rs`, streams (`SseStream::next_events`) in `streams.rs`.

mod support;

use aiwire_engine::{
    CancellationToken, Engine, EngineConfig, EngineError, ErrorKind, Idempotency, Method, RequestSpec,
};
use bytes::Bytes;
use hyper::Version;
use std::time::{Duration, Instant};
use support::client::*;
use support::{Reply, TestServer};

// ---------------------------------------------------------------------------------------------
// 1. headers and query

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_and_request_headers_arrive_and_request_header_replaces_default() {
    let server = TestServer::start([]).await;
    let engine = engine(EngineConfig {
        default_headers: vec![
            ("x-default".into(), "d".into()),
            ("X-Override".into(), "default".into()),
            ("user-agent".into(), "aiwire-test/1".into()),
        ],
        ..config()
    });
    let spec = RequestSpec {
        headers: vec![
            ("x-override".into(), "request".into()),
            ("X-Request".into(), "r".into()),
            ("content-type".into(), "application/json".into()),
        ],
        ..post(server.url("/v1/h"), b"{}")
    };
    send(&engine, &spec).await.unwrap();
    // A later request without per-request headers still gets the untouched defaults.
    send(&engine, &get(server.url("/v1/h2"))).await.unwrap();

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0];
    assert_eq!(first.header("x-default"), Some("d"));
    assert_eq!(first.header("x-override"), Some("request"), "{:?}", first.headers);
    assert_eq!(first.header("x-request"), Some("r"));
    assert_eq!(first.header("user-agent"), Some("aiwire-test/1"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let second = &reqs[1];
    assert_eq!(second.header("x-override"), Some("default"));
    assert_eq!(second.header("x-default"), Some("d"));
    assert_eq!(second.header("x-request"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_and_request_query_are_appended_percent_encoded() {
    let server = TestServer::start([]).await;
    let engine = engine(EngineConfig {
        default_query: vec![("api-version".into(), "2024-10-21".into()), ("dq".into(), "a b&c".into())],
        ..config()
    });
    let spec = RequestSpec {
        query: vec![("q".into(), "ü=?/#".into()), ("empty".into(), String::new())],
        ..get(server.url("/v1/items?a=1&sp=x%20y"))
    };
    send(&engine, &spec).await.unwrap();
    // Defaults alone, on a URL without a query of its own.
    send(&engine, &get(server.url("/v1/plain"))).await.unwrap();
    // No query at all: no stray '?'.
    let bare = self::engine(config());
    send(&bare, &get(server.url("/v1/bare"))).await.unwrap();

    let reqs = server.requests();
    assert_eq!(
        reqs[0].uri,
        "/v1/items?a=1&sp=x%20y&api-version=2024-10-21&dq=a+b%26c&q=%C3%BC%3D%3F%2F%23&empty="
    );
    assert_eq!(reqs[1].uri, "/v1/plain?api-version=2024-10-21&dq=a+b%26c");
    assert_eq!(reqs[2].uri, "/v1/bare");
}

// ---------------------------------------------------------------------------------------------
// 2. body and method

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_bytes_and_method_arrive_exactly() {
    let server = TestServer::start([]).await;
    let engine = engine(config());
    // Every byte value, 256 KiB in all (several TCP segments).
    let body: Bytes = (0..256 * 1024).map(|i| (i % 256) as u8).collect::<Vec<u8>>().into();
    let methods =
        [Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::from_bytes(b"PURGE").unwrap()];
    for method in &methods {
        let spec =
            RequestSpec { body: Some(body.clone()), ..RequestSpec::new(method.clone(), server.url("/b")) };
        let resp = send(&engine, &spec).await.unwrap();
        assert_eq!((resp.status, resp.attempts, &resp.body[..]), (200, 1, &b"ok"[..]));
    }
    send(&engine, &get(server.url("/b"))).await.unwrap();

    let reqs = server.requests();
    assert_eq!(reqs.len(), methods.len() + 1);
    for (req, method) in reqs.iter().zip(&methods) {
        assert_eq!(&req.method, method);
        assert!(req.body == body, "{method}: body differs ({} bytes arrived)", req.body.len());
        assert_eq!(req.header("content-length"), Some("262144"), "{method}");
    }
    let last = reqs.last().unwrap();
    assert_eq!(last.method, Method::GET);
    assert!(last.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_response_body_arrives_whole() {
    let body: Bytes = (0..4 * 1024 * 1024).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>().into();
    let server = TestServer::start([Reply::ok(body.clone())]).await;
    let engine = engine(config());
    let resp = send(&engine, &get(server.url("/large"))).await.unwrap();
    assert_eq!(resp.body.len(), body.len());
    assert!(resp.body == body);
}

// ---------------------------------------------------------------------------------------------
// 3. pooling

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_requests_reuse_one_connection() {
    let server = TestServer::start([]).await;
    let engine = engine(config());
    for i in 0..20 {
        let resp = send(&engine, &get(server.url(&format!("/seq/{i}")))).await.unwrap();
        assert_eq!(resp.status, 200);
        // hyper-util hands a finished HTTP/1 connection back to the pool from its connection task, a
        // moment after the body's end reached us; a request issued in that instant races a fresh
        // connect against the pool (and, on loopback, sometimes opens a spare connection). A short pause,
        // as any real caller has between two requests, lets the connection settle back into the pool.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), 20);
    assert_eq!(server.accepted(), 1, "20 sequential requests opened {} connections", server.accepted());
    assert!(reqs.iter().all(|r| r.conn == 1 && r.version == Version::HTTP_11));
}

// ---------------------------------------------------------------------------------------------
// 4. HTTP/2

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_multiplexes_concurrent_requests_on_one_connection() {
    let server = TestServer::start([]).await;
    let engine = engine(EngineConfig { http2_prior_knowledge: true, ..config() });
    let resp = send(&engine, &get(server.url("/h2/first"))).await.unwrap();
    assert_eq!((resp.status, &resp.body[..]), (200, &b"ok"[..]));
    assert_eq!(server.requests()[0].version, Version::HTTP_2);

    // 50 concurrent requests, each held 100 ms by the server so they overlap.
    for i in 0..50 {
        server.push(Reply::ok(format!("r{i}")).delay(Duration::from_millis(100)));
    }
    let specs: Vec<RequestSpec> = (0..50).map(|i| post(server.url(&format!("/h2/{i}")), b"x")).collect();
    let start = Instant::now();
    let results = futures_util::future::join_all(specs.iter().map(|s| send(&engine, s))).await;
    let elapsed = start.elapsed();
    for r in &results {
        let r = r.as_ref().unwrap();
        assert_eq!((r.status, r.attempts), (200, 1));
        assert!(r.body.starts_with(b"r"));
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), 51);
    assert!(reqs.iter().all(|r| r.version == Version::HTTP_2));
    assert_eq!(server.accepted(), 1, "HTTP/2 requests used {} connections", server.accepted());
    assert!(server.max_in_flight() >= 40, "only {} requests overlapped", server.max_in_flight());
    assert!(elapsed < Duration::from_secs(2), "50 x 100 ms took {elapsed:?}: not concurrent");
}

// ---------------------------------------------------------------------------------------------
// 5. compression

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_body_is_decompressed_and_accept_encoding_offers_gzip_br_zstd() {
    let text = "hello gzip, ".repeat(2000);
    let server = TestServer::start([Reply::ok(text.clone()).gzip()]).await;
    let engine = engine(config());
    let resp = send(&engine, &get(server.url("/gz"))).await.unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.body == text.as_bytes(), "body not decompressed ({} bytes)", resp.body.len());

    let req = &server.requests()[0];
    let accept = req.header("accept-encoding").expect("accept-encoding sent");
    for coding in ["gzip", "br", "zstd"] {
        assert!(accept.contains(coding), "accept-encoding {accept:?} lacks {coding}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_compressed_body_is_a_decode_error_not_retried() {
    // A valid gzip header, then a deflate block of the reserved type 0b11: corrupt data.
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend_from_slice(&[0xff; 64]);
    let brotli = vec![0x1b, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3];
    for (coding, body) in [("gzip", gzip), ("br", brotli)] {
        let server = TestServer::start([
            Reply::ok(body).header("content-encoding", coding),
            Reply::ok("second attempt"),
        ])
        .await;
        let engine = engine(config());
        let result = send(&engine, &get(server.url("/corrupt"))).await;
        assert_eq!(server.request_count(), 1, "{coding}: corrupt body was retried: {result:?}");
        let err = result.unwrap_err();
        assert_eq!((err.kind, err.attempts), (ErrorKind::Decode, 1), "{coding}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_body_with_bad_checksum_is_a_decode_error_not_retried() {
    let text = "checksum me ".repeat(100);
    let mut body = support::gzip(text.as_bytes());
    let n = body.len();
    body[n - 8] ^= 0xff; // corrupt the CRC32 in the trailer
    let server = TestServer::start([
        Reply::ok(body).header("content-encoding", "gzip"),
        Reply::ok("should not be asked for"),
    ])
    .await;
    let engine = engine(config());
    let err = send(&engine, &get(server.url("/gz-bad"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode, "{err}");
    assert_eq!(err.attempts, 1, "{err}");
    assert_eq!(server.request_count(), 1);
}

// ---------------------------------------------------------------------------------------------
// 6. connect timeout

/// A listener with a backlog of 0 whose accept queue is full (nobody accepts): Linux drops further
/// SYNs, so a connect hangs until the client gives up. Loopback only. Returns `None` if the queue
/// could not be filled (then the platform does not behave like Linux and the test is skipped).
async fn full_listener() -> Option<(tokio::net::TcpListener, Vec<tokio::net::TcpStream>)> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind("127.0.0.1:0".parse().unwrap()).ok()?;
    let listener = socket.listen(0).ok()?;
    let addr = listener.local_addr().ok()?;
    let mut held = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(100), tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            Ok(Err(_)) => return None,
            Err(_) => return Some((listener, held)),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_fires_when_the_peer_never_completes_the_handshake() {
    let Some((listener, _held)) = full_listener().await else {
        eprintln!("skipped: could not fill a loopback accept queue on this platform");
        return;
    };
    let url = format!("http://{}/never", listener.local_addr().unwrap());
    let engine = engine(EngineConfig {
        connect_timeout: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        ..config()
    });
    let start = Instant::now();
    let err = send(&engine, &get(url)).await.unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(err.attempts, 1);
    assert!(elapsed >= Duration::from_millis(190), "gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "connect timeout took {elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// 7. per-attempt timeout

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempt_timeout_is_retried_then_reported_as_timeout() {
    let server = TestServer::start([Reply::hang(), Reply::hang()]).await;
    let engine = engine(EngineConfig { timeout: Duration::from_millis(150), max_retries: 1, ..config() });
    let start = Instant::now();
    let err = send(&engine, &post(server.url("/slow"), b"{}")).await.unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(err.attempts, 2, "max_retries 1 allows 2 attempts");
    assert!(err.response.is_none());
    // Two timeouts plus one default back-off (375-500 ms).
    assert!(elapsed >= Duration::from_millis(150 * 2 + 370), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(150 + 370), "second attempt came {gap:?} after the first");
    // Each timed-out attempt dropped its connection.
    assert!(
        server.wait_until(Duration::from_secs(2), |s| s.closed() == 2).await,
        "closed {}",
        server.closed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_timeout_overrides_the_engine_timeout() {
    let server = TestServer::start([Reply::hang()]).await;
    let engine = engine(EngineConfig { timeout: Duration::from_secs(5), max_retries: 0, ..config() });
    let spec = RequestSpec { timeout: Some(Duration::from_millis(100)), ..get(server.url("/slow")) };
    let start = Instant::now();
    let err = send(&engine, &spec).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Timeout, 1), "{err}");
    assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_timeout_covers_the_whole_body() {
    // The head and a first chunk come at once, the rest only after 30 s.
    let server =
        TestServer::start([Reply::status(200).chunks(["partial ", "rest"], Duration::from_secs(30))]).await;
    let engine = engine(EngineConfig { timeout: Duration::from_millis(150), max_retries: 0, ..config() });
    let start = Instant::now();
    let err = send(&engine, &get(server.url("/stall"))).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Timeout, 1), "{err}");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(1), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// 9. cancellation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_server_hangs_aborts_promptly_and_closes_the_connection() {
    let server = TestServer::start([Reply::hang()]).await;
    let engine = engine(config());
    let cancel = CancellationToken::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            cancel.cancel();
            Instant::now()
        })
    };
    let spec = post(server.url("/hang"), b"{}");
    let err =
        tokio::time::timeout(Duration::from_secs(5), engine.send(&spec, &cancel)).await.unwrap().unwrap_err();
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert_eq!(err.kind, ErrorKind::Aborted, "{err}");
    assert_eq!(err.attempts, 1);
    let lag = returned.saturating_duration_since(cancelled_at);
    assert!(lag < Duration::from_secs(1), "returned {lag:?} after the cancel");
    assert_eq!(server.request_count(), 1);
    assert!(
        server.wait_until(Duration::from_secs(2), |s| s.closed() == 1).await,
        "server never saw the connection close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_retry_backoff_returns_promptly() {
    let server = TestServer::start([Reply::status(503).header("retry-after", "5"), Reply::ok("late")]).await;
    let engine = engine(config());
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        });
    }
    let start = Instant::now();
    let spec = post(server.url("/backoff"), b"{}");
    let err =
        tokio::time::timeout(Duration::from_secs(5), engine.send(&spec, &cancel)).await.unwrap().unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.kind, ErrorKind::Aborted, "{err}");
    assert_eq!(err.attempts, 1);
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?} despite the cancel at 200 ms");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_cancelled_before_send_sends_nothing() {
    let server = TestServer::start([]).await;
    let engine = engine(config());
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = engine.send(&post(server.url("/never"), b"{}"), &cancel).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Aborted, 0), "{err}");
    let err = engine.open_stream(&get(server.url("/never")), &cancel).await.err().unwrap();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Aborted, 0), "{err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.accepted(), 0);
    assert_eq!(server.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 11. no secrets in errors

fn assert_no_secret(err: &EngineError) {
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains("sk-secret"), "secret leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_never_contain_secrets() {
    let engine = engine(EngineConfig {
        default_headers: vec![("authorization".into(), "Bearer sk-secret-123".into())],
        default_query: vec![("token".into(), "sk-secret-000".into())],
        timeout: Duration::from_millis(150),
        max_retries: 0,
        ..config()
    });
    let with_secrets = |base: String| RequestSpec {
        headers: vec![("x-api-key".into(), "sk-secret-789".into())],
        query: vec![("sig".into(), "sk-secret-abc".into())],
        ..post(format!("{base}?key=sk-secret-456"), b"{}")
    };

    // Connection refused: a port that was just bound and released.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = send(&engine, &with_secrets(format!("http://127.0.0.1:{closed_port}/v1/x"))).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");
    assert_no_secret(&err);

    let server = TestServer::start([
        Reply::status(401).header("content-type", "application/json").body(r#"{"error":"invalid key"}"#),
        Reply::status(500).body("internal"),
        // A reset before any response byte is resent once on a fresh connection: reset both.
        Reply::reset(),
        Reply::reset(),
        Reply::hang(),
    ])
    .await;
    let spec = with_secrets(server.url("/v1/x"));
    for expected in [ErrorKind::Status, ErrorKind::Status, ErrorKind::Connection, ErrorKind::Timeout] {
        let err = send(&engine, &spec).await.unwrap_err();
        assert_eq!(err.kind, expected, "{err}");
        assert_no_secret(&err);
    }
    // The server did get the secrets: the check above is not vacuous.
    let req = &server.requests()[0];
    assert_eq!(req.header("authorization"), Some("Bearer sk-secret-123"));
    assert!(req.query().contains("key=sk-secret-456"));

    // Invalid input that carries a secret.
    let bad_value = RequestSpec {
        headers: vec![("x-api-key".into(), "sk-secret-789\n".into())],
        ..get(server.url("/v1/x"))
    };
    let bad_url = get("http://[::1/v1?key=sk-secret-456".into());
    let bad_key =
        RequestSpec { idempotency: Idempotency::Key("sk-secret-1\n".into()), ..get(server.url("/")) };
    for spec in [bad_value, bad_url, bad_key] {
        let err = send(&engine, &spec).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
        assert_no_secret(&err);
    }
    let err = Engine::new(EngineConfig {
        default_headers: vec![("authorization".into(), "Bearer sk-secret-123\r\n".into())],
        ..config()
    })
    .err()
    .unwrap();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_no_secret(&err);
}

// ---------------------------------------------------------------------------------------------
// 12. invalid input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_fail_without_network_traffic() {
    let server = TestServer::start([]).await;
    let engine = engine(config());
    let cancel = CancellationToken::new();
    let specs = [
        get("not a url".into()),
        get("http://exa mple.com/".into()),
        get(format!("ftp://{}/file", server.addr)),
        RequestSpec { headers: vec![("bad header".into(), "v".into())], ..get(server.url("/h")) },
        RequestSpec { headers: vec![("x-ok".into(), "line\nbreak".into())], ..get(server.url("/h")) },
        RequestSpec { idempotency: Idempotency::Key("two\nlines".into()), ..post(server.url("/k"), b"{}") },
    ];
    for spec in &specs {
        let err = engine.send(spec, &cancel).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{}: {err}", spec.url);
        assert!(err.response.is_none());
        let err = engine.open_stream(spec, &cancel).await.err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{}: {err}", spec.url);
    }
    let err =
        Engine::new(EngineConfig { default_headers: vec![("bad:name".into(), "v".into())], ..config() })
            .err()
            .unwrap();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.accepted(), 0, "an invalid request opened a connection");
    assert_eq!(server.request_count(), 0);
}
