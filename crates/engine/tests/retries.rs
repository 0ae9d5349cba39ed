//! Integration tests of the retry loop against a local scriptable server (127.0.0.1 only): which
//! statuses and failures retry, `retry-after-ms` / `x-should-retry`, idempotency keys kept across
//! attempts, `max_retries`. Public API only: `Engine::send`.

mod support;

use aiwire_engine::{EngineConfig, ErrorKind, Idempotency, RequestSpec, RetryOn};
use hyper::Version;
use std::time::Duration;
use support::client::*;
use support::{Reply, TestServer};

// ---------------------------------------------------------------------------------------------
// 8. retries and idempotency keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_500_then_200_resends_same_body_and_idempotency_key() {
    let server = TestServer::start([fast_retry(500), Reply::ok("done")]).await;
    let engine = engine(config());
    let resp = send(&engine, &post(server.url("/r"), b"payload")).await.unwrap();
    assert_eq!((resp.status, resp.attempts, &resp.body[..]), (200, 2, &b"done"[..]));
    // A second logical request gets a fresh key.
    send(&engine, &post(server.url("/r"), b"payload")).await.unwrap();

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let key = reqs[0].header("idempotency-key").expect("POST carries an idempotency key");
    assert_retry_key(key);
    assert_eq!(reqs[1].header("idempotency-key"), Some(key), "retry must reuse the key");
    assert_eq!(&reqs[1].body[..], b"payload");
    let other = reqs[2].header("idempotency-key").unwrap();
    assert_retry_key(other);
    assert_ne!(other, key, "each logical request needs its own key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_backoff_for_500_without_retry_headers() {
    let server = TestServer::start([Reply::status(500), Reply::ok("ok")]).await;
    let engine = engine(config());
    let resp = send(&engine, &get(server.url("/backoff"))).await.unwrap();
    assert_eq!(resp.attempts, 2);
    let reqs = server.requests();
    let gap = reqs[1].at - reqs[0].at;
    // 500 ms * (1 - up to 25 % jitter).
    assert!(gap >= Duration::from_millis(370), "retried after {gap:?}");
    assert!(gap < Duration::from_millis(900), "retried after {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_carries_no_idempotency_key_by_default() {
    let server = TestServer::start([fast_retry(500), Reply::ok("ok")]).await;
    let engine = engine(config());
    let resp = send(&engine, &get(server.url("/g"))).await.unwrap();
    assert_eq!(resp.attempts, 2);
    for req in server.requests() {
        assert_eq!(req.header("idempotency-key"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_disabled_explicit_and_user_header() {
    let server = TestServer::start([
        fast_retry(500),
        Reply::ok("disabled"),
        fast_retry(500),
        Reply::ok("key"),
        fast_retry(500),
        Reply::ok("header"),
    ])
    .await;
    let engine = engine(config());

    let disabled = RequestSpec { idempotency: Idempotency::Disabled, ..post(server.url("/d"), b"1") };
    assert_eq!(send(&engine, &disabled).await.unwrap().attempts, 2);
    // An explicit key is sent for any method, GET included.
    let explicit = RequestSpec { idempotency: Idempotency::Key("k".into()), ..get(server.url("/k")) };
    assert_eq!(send(&engine, &explicit).await.unwrap().attempts, 2);
    // A key the caller put in the headers wins over the generated one.
    let header = RequestSpec {
        headers: vec![("Idempotency-Key".into(), "mine".into())],
        ..post(server.url("/h"), b"1")
    };
    assert_eq!(send(&engine, &header).await.unwrap().attempts, 2);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 6);
    let keys: Vec<Option<&str>> = reqs.iter().map(|r| r.header("idempotency-key")).collect();
    assert_eq!(keys, [None, None, Some("k"), Some("k"), Some("mine"), Some("mine")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_ms_on_429_is_honoured() {
    let server =
        TestServer::start([Reply::status(429).header("retry-after-ms", "200"), Reply::ok("ok")]).await;
    let engine = engine(config());
    let resp = send(&engine, &post(server.url("/limited"), b"{}")).await.unwrap();
    assert_eq!(resp.attempts, 2);
    let reqs = server.requests();
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(200), "retried after {gap:?}");
    // Well below the 375 ms minimum of the default back-off: the header was used.
    assert!(gap < Duration::from_millis(370), "retried after {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_should_retry_false_stops_retrying_a_503() {
    let server = TestServer::start([
        fast_retry(503).header("x-should-retry", "false").body("overloaded"),
        Reply::ok("not reached"),
    ])
    .await;
    let engine = engine(config());
    let err = send(&engine, &post(server.url("/no-retry"), b"{}")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Status, "{err}");
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(err.attempts, 1);
    let response = err.response.as_ref().unwrap();
    assert_eq!(&response.body[..], b"overloaded");
    assert_eq!(response.headers.get("x-should-retry").unwrap(), "false");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_400_is_not_retried() {
    let body = r#"{"error":{"message":"bad request","type":"invalid_request_error"}}"#;
    let server = TestServer::start([
        Reply::status(400).header("content-type", "application/json").body(body),
        Reply::ok("not reached"),
    ])
    .await;
    let engine = engine(config());
    let err = send(&engine, &post(server.url("/bad"), b"{}")).await.unwrap_err();
    assert_eq!((err.kind, err.http_status(), err.attempts), (ErrorKind::Status, Some(400), 1));
    let response = err.response.as_ref().unwrap();
    assert_eq!(&response.body[..], body.as_bytes());
    assert_eq!(response.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_before_headers_is_retried_then_succeeds() {
    let server = TestServer::start([Reply::reset(), Reply::ok("recovered")]).await;
    let engine = engine(config());
    let resp = send(&engine, &post(server.url("/flaky"), b"{}")).await.unwrap();
    assert_eq!((resp.status, resp.attempts, &resp.body[..]), (200, 2, &b"recovered"[..]));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_ne!(reqs[0].conn, reqs[1].conn, "the reset connection can not be reused");
    assert_eq!(reqs[0].header("idempotency-key"), reqs[1].header("idempotency-key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_broken_off_mid_way_is_retried_for_buffered_requests() {
    let server = TestServer::start([
        Reply::status(200)
            .header("content-length", "100")
            .chunks(["only part"], Duration::from_millis(5))
            .then_reset(),
        Reply::ok("whole"),
    ])
    .await;
    let engine = engine(config());
    let resp = send(&engine, &post(server.url("/cut"), b"{}")).await.unwrap();
    assert_eq!((resp.attempts, &resp.body[..]), (2, &b"whole"[..]));
    // Without retries the broken body is a connection error (not a decode error).
    server.push(Reply::status(200).chunks(["only part"], Duration::from_millis(5)).then_reset());
    let spec = RequestSpec { max_retries: Some(0), ..post(server.url("/cut"), b"{}") };
    let err = send(&engine, &spec).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Connection, 1), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_should_retry_true_retries_a_400() {
    let server = TestServer::start([
        fast_retry(400).header("x-should-retry", "true").body("try again"),
        Reply::ok("ok"),
    ])
    .await;
    let engine = engine(config());
    let resp = send(&engine, &post(server.url("/please"), b"{}")).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_reset_before_headers_is_retried_on_a_new_connection() {
    let server = TestServer::start([Reply::reset(), Reply::ok("h2 ok")]).await;
    let engine = engine(EngineConfig { http2_prior_knowledge: true, ..config() });
    let resp = send(&engine, &post(server.url("/h2-flaky"), b"{}")).await.unwrap();
    assert_eq!((resp.attempts, &resp.body[..]), (2, &b"h2 ok"[..]));
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.version == Version::HTTP_2));
    assert_eq!(server.accepted(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_retries_zero_means_one_attempt_and_per_request_override_wins() {
    let server = TestServer::start([
        fast_retry(500),
        fast_retry(500),
        fast_retry(500),
        fast_retry(500),
        fast_retry(500),
        fast_retry(500),
        Reply::ok("fifth attempt"),
    ])
    .await;
    // Engine-wide 0.
    let none = engine(EngineConfig { max_retries: 0, ..config() });
    let err = send(&none, &post(server.url("/0"), b"{}")).await.unwrap_err();
    assert_eq!((err.kind, err.http_status(), err.attempts), (ErrorKind::Status, Some(500), 1));
    assert_eq!(server.request_count(), 1);
    // Per-request 0 on an engine that would retry twice.
    let default = engine(config());
    let spec = RequestSpec { max_retries: Some(0), ..post(server.url("/0"), b"{}") };
    let err = send(&default, &spec).await.unwrap_err();
    assert_eq!(err.attempts, 1);
    assert_eq!(server.request_count(), 2);
    // Per-request 4 on the engine with 0: four 500s, then the fifth attempt succeeds.
    let spec = RequestSpec { max_retries: Some(4), ..post(server.url("/4"), b"{}") };
    let resp = send(&none, &spec).await.unwrap();
    assert_eq!((resp.attempts, &resp.body[..]), (5, &b"fifth attempt"[..]));
    assert_eq!(server.request_count(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_return_the_last_status_and_body() {
    let server = TestServer::start([
        fast_retry(502).body("e1"),
        fast_retry(503).body("e2"),
        fast_retry(504).body("e3"),
        Reply::ok("not reached"),
    ])
    .await;
    let engine = engine(config());
    let err = send(&engine, &post(server.url("/down"), b"{}")).await.unwrap_err();
    assert_eq!((err.kind, err.http_status(), err.attempts), (ErrorKind::Status, Some(504), 3));
    assert_eq!(&err.response.as_ref().unwrap().body[..], b"e3");
    assert_eq!(server.request_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// rate-limit-only requests and the configurable backoff

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_only_retries_429_but_not_5xx() {
    let server =
        TestServer::start([fast_retry(429), Reply::ok("created"), fast_retry(500), Reply::ok("never")]).await;
    let engine = engine(config());
    let spec = RequestSpec { retry_on: RetryOn::RateLimitOnly, ..post(server.url("/predictions"), b"{}") };
    let resp = send(&engine, &spec).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
    let err = send(&engine, &spec).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Status, 1));
    assert_eq!(err.response.as_ref().map(|r| r.status), Some(500));
    assert_eq!(server.request_count(), 3, "the 500 must not be retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_only_does_not_resend_after_a_dropped_connection() {
    let server = TestServer::start([Reply::reset(), Reply::ok("duplicate")]).await;
    let engine = engine(config());
    let spec = RequestSpec { retry_on: RetryOn::RateLimitOnly, ..post(server.url("/predictions"), b"{}") };
    let err = send(&engine, &spec).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::Connection, 1));
    assert_eq!(server.request_count(), 1, "no stale-connection resend either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_backoff_bounds_set_the_gap() {
    let server = TestServer::start([Reply::status(500), Reply::status(500), Reply::ok("ok")]).await;
    let engine = engine(EngineConfig {
        retry_min_delay: Duration::from_millis(40),
        retry_max_delay: Duration::from_millis(60),
        ..config()
    });
    let resp = send(&engine, &get(server.url("/b"))).await.unwrap();
    assert_eq!(resp.attempts, 3);
    let reqs = server.requests();
    let (first, second) = (reqs[1].at - reqs[0].at, reqs[2].at - reqs[1].at);
    // 40 ms then min(80, 60) = 60 ms, each shortened by up to 25 % jitter.
    assert!(first >= Duration::from_millis(29) && first < Duration::from_millis(300), "{first:?}");
    assert!(second >= Duration::from_millis(44) && second < Duration::from_millis(300), "{second:?}");
}
