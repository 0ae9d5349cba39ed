//! Integration tests of failover across endpoints (`EngineConfig::endpoints`) against local scriptable
//! servers (127.0.0.1 only): the spread by weight, each endpoint's base URL and headers, retries moved
//! to another endpoint at once, open breakers skipped, spent budgets (adaptive limits, per endpoint)
//! avoided, endpoints' own budgets bounded by `maxQueueMs` (the request's or the client's) and their
//! figures, URLs pinned to the endpoint whose base URL or origin they are on, and requests outside the
//! endpoints. Public API only.

mod support;

use aiwire_engine::{
    BreakerConfig, CircuitState, EndpointConfig, Engine, EngineConfig, ErrorKind, RateLimitConfig,
    RequestLimit, RequestSpec,
};
use std::time::Duration;
use support::client::*;
use support::{Reply, TestServer};

fn endpoint(base_url: String, key: &str, weight: u32) -> EndpointConfig {
    EndpointConfig {
        base_url,
        headers: vec![("authorization".into(), format!("Bearer {key}"))],
        weight,
        requests_per_minute: None,
        tokens_per_minute: None,
    }
}

/// A URL nothing listens on (a port bound, then released).
async fn dead_url(path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}{path}")
}

/// An engine over `endpoints` whose back-off (60 s) would outlast the bounded sends of the tests:
/// a call that completes did not wait for it.
fn failover_engine(endpoints: Vec<EndpointConfig>, breaker: Option<BreakerConfig>) -> Engine {
    engine(EngineConfig {
        endpoints,
        circuit_breaker: breaker,
        retry_min_delay: Duration::from_secs(60),
        retry_max_delay: Duration::from_secs(60),
        ..config()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_spread_by_weight_with_each_endpoints_base_url_and_headers() {
    let (a, b) = (TestServer::start([]).await, TestServer::start([]).await);
    let engine = failover_engine(
        vec![endpoint(a.url("/v1/"), "key-a", 3), endpoint(b.url("/openai"), "key-b", 1)],
        Some(BreakerConfig::default()),
    );
    for _ in 0..40 {
        let resp = send(&engine, &post(a.url("/v1/chat/completions?x=1"), b"{}")).await.unwrap();
        assert_eq!(resp.attempts, 1);
    }
    assert_eq!((a.request_count(), b.request_count()), (30, 10), "3:1 by weight");
    for r in a.requests() {
        assert_eq!(
            (r.uri.as_str(), r.header("authorization")),
            ("/v1/chat/completions?x=1", Some("Bearer key-a"))
        );
    }
    for r in b.requests() {
        assert_eq!(
            (r.uri.as_str(), r.header("authorization")),
            ("/openai/chat/completions?x=1", Some("Bearer key-b"))
        );
    }
    // Interleaved, not in bursts: B is never picked twice in a row.
    let mut order: Vec<_> =
        a.requests().iter().map(|r| (r.at, 'a')).chain(b.requests().iter().map(|r| (r.at, 'b'))).collect();
    order.sort();
    let order: String = order.iter().map(|(_, c)| *c).collect();
    assert!(!order.contains("bb"), "{order}");
    let stats = engine.endpoints();
    assert_eq!(stats.len(), 2);
    assert_eq!((stats[0].requests, stats[0].served, stats[0].failures), (30, 30, 0));
    assert_eq!((stats[1].requests, stats[1].served, stats[1].weight), (10, 10, 1));
    assert_eq!(stats[1].base_url, format!("http://{}/openai", b.addr));
    assert_eq!(stats[0].circuit, Some(CircuitState::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_fails_over_at_once_and_its_breaker_opens() {
    let live = TestServer::start([]).await;
    let dead = dead_url("/v1").await;
    let breaker = BreakerConfig { failure_threshold: 2, ..BreakerConfig::default() };
    let engine = failover_engine(
        vec![endpoint(dead.clone(), "key-dead", 1), endpoint(live.url("/v1"), "key-live", 1)],
        Some(breaker),
    );
    for _ in 0..10 {
        let resp = send(&engine, &post(format!("{dead}/embeddings"), b"{}"))
            .await
            .expect("served by the live endpoint");
        assert_eq!(resp.status, 200);
    }
    assert_eq!(live.request_count(), 10);
    assert!(live
        .requests()
        .iter()
        .all(|r| r.uri == "/v1/embeddings" && r.header("authorization") == Some("Bearer key-live")));
    let stats = engine.endpoints();
    assert_eq!(
        (stats[0].requests, stats[0].failures, stats[0].served),
        (2, 2, 0),
        "tried until its breaker opened"
    );
    assert_eq!(stats[0].circuit, Some(CircuitState::Open));
    assert_eq!((stats[1].served, stats[1].circuit), (10, Some(CircuitState::Closed)));
    let origin = dead.trim_end_matches("/v1").to_owned();
    assert!(engine.circuits().contains(&(origin, CircuitState::Open)), "{:?}", engine.circuits());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_breaker_open_fails_with_circuit_open_and_the_soonest_retry_after() {
    let (d1, d2) = (dead_url("/v1").await, dead_url("/v1").await);
    let breaker =
        BreakerConfig { failure_threshold: 1, cooldown: Duration::from_secs(30), ..Default::default() };
    let engine = engine(EngineConfig {
        endpoints: vec![endpoint(d1.clone(), "k1", 1), endpoint(d2, "k2", 1)],
        circuit_breaker: Some(breaker),
        max_retries: 1,
        ..config()
    });
    // Refused by one, then (the one retry, at once) by the other: both open.
    let first = send(&engine, &post(format!("{d1}/x"), b"{}")).await.unwrap_err();
    assert_eq!((first.kind, first.attempts), (ErrorKind::Connection, 2));
    let err = send(&engine, &post(format!("{d1}/x"), b"{}")).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::CircuitOpen, 0));
    let wait = err.retry_after.expect("retry_after");
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30), "{wait:?}");
    assert!(engine.endpoints().iter().all(|e| e.circuit == Some(CircuitState::Open)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_on_the_other_endpoint_without_its_retry_after() {
    let a = TestServer::start([Reply::status(429).header("retry-after", "60")]).await;
    let b = TestServer::start([]).await;
    let engine = failover_engine(vec![endpoint(a.url(""), "ka", 1), endpoint(b.url(""), "kb", 1)], None);
    let resp = send(&engine, &post(a.url("/v1/messages"), b"{}")).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
    assert_eq!((a.request_count(), b.request_count()), (1, 1));
    assert_eq!(b.requests()[0].uri, "/v1/messages");
    // The idempotency key of the call goes to both endpoints.
    assert_eq!(a.requests()[0].header("idempotency-key"), b.requests()[0].header("idempotency-key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attempt_record_names_each_attempts_endpoint() {
    let a = TestServer::start([Reply::status(503)]).await;
    let b = TestServer::start([]).await;
    let engine =
        failover_engine(vec![endpoint(a.url("/v1"), "ka", 1), endpoint(b.url("/v1"), "kb", 1)], None);
    let mut spec = post(a.url("/v1/x"), b"{}");
    spec.trace = true;
    let resp = send(&engine, &spec).await.unwrap();
    let lines: Vec<Vec<&str>> =
        resp.trace.as_deref().unwrap().lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // The failed attempt on endpoint 0, retried at once; then the endpoint that served the call.
    assert_eq!(
        (lines[0][0], lines[0][1], lines[0][3], lines[0][4], lines[0][6]),
        ("1", "503", "retry", "0", "0")
    );
    assert_eq!(lines[1], vec!["2", "0", "0", "endpoint", "0", "", "1"]);
    // Without endpoints, the record keeps its six columns and has no endpoint line.
    let plain = support::client::engine(config());
    let c = TestServer::start([Reply::status(503).header("retry-after-ms", "1")]).await;
    let mut spec = get(c.url("/y"));
    spec.trace = true;
    let trace = send(&plain, &spec).await.unwrap().trace.unwrap();
    assert_eq!(trace.lines().count(), 1);
    assert_eq!(trace.lines().next().unwrap().split('\t').count(), 6, "{trace}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_moves_calls_to_the_other_key_at_the_same_origin() {
    // One server, two keys: the first answer (to key a) says a's budget is spent for 30 s.
    let spent = Reply::ok("{}")
        .header("x-ratelimit-limit-requests", "100")
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "30s");
    let server = TestServer::start([spent]).await;
    let engine = engine(EngineConfig {
        endpoints: vec![endpoint(server.url("/v1"), "a", 1), endpoint(server.url("/v1"), "b", 1)],
        rate_limit: RateLimitConfig { adaptive: true, ..Default::default() },
        ..config()
    });
    for _ in 0..6 {
        send(&engine, &post(server.url("/v1/chat/completions"), b"{}")).await.unwrap();
    }
    let keys: Vec<_> =
        server.requests().iter().map(|r| r.header("authorization").unwrap_or_default().to_owned()).collect();
    assert_eq!(keys[0], "Bearer a");
    assert!(keys[1..].iter().all(|k| k == "Bearer b"), "a's budget is spent, b's is not: {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_fails_over_before_its_first_event() {
    let live = TestServer::start([Reply::sse(["data: one\n\n", "data: two\n\n"], Duration::ZERO)]).await;
    let dead = dead_url("").await;
    let engine =
        failover_engine(vec![endpoint(dead.clone(), "kd", 1), endpoint(live.url(""), "kl", 1)], None);
    let mut stream = open(&engine, &post(format!("{dead}/v1/responses"), b"{}")).await.unwrap();
    let events = read_all(&mut stream).await.unwrap();
    assert_eq!(events, vec![msg("one"), msg("two")]);
    assert_eq!(live.requests()[0].header("authorization"), Some("Bearer kl"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_outside_the_endpoints_goes_as_it_is_with_the_first_endpoints_headers() {
    let (a, b, other) =
        (TestServer::start([]).await, TestServer::start([]).await, TestServer::start([]).await);
    let engine =
        failover_engine(vec![endpoint(a.url("/v1"), "ka", 1), endpoint(b.url("/v1"), "kb", 1)], None);
    // Same origin, another path prefix (`/v10` is not under `/v1`), then another origin.
    send(&engine, &get(a.url("/v10/x"))).await.unwrap();
    send(&engine, &get(other.url("/files/1"))).await.unwrap();
    assert_eq!(a.requests()[0].uri, "/v10/x");
    assert_eq!(other.requests()[0].header("authorization"), Some("Bearer ka"));
    assert_eq!(b.request_count(), 0);
    // A request's removed header (credentials dropped for a foreign origin) stays removed.
    let mut spec = get(other.url("/files/2"));
    spec.remove_headers = vec!["authorization".into()];
    send(&engine, &spec).await.unwrap();
    assert_eq!(other.requests()[1].header("authorization"), None);
}

#[test]
fn invalid_endpoints_are_refused_with_the_reason() {
    let with = |endpoints: Vec<EndpointConfig>| match Engine::new(EngineConfig { endpoints, ..config() }) {
        Ok(_) => panic!("accepted"),
        Err(e) => (e.kind, e.message),
    };
    let (kind, message) = with(vec![endpoint("http://127.0.0.1:1/v1".into(), "k", 0)]);
    assert_eq!(kind, ErrorKind::InvalidRequest);
    assert!(message.contains("endpoints[0].weight"), "{message}");
    let (_, message) =
        with(vec![endpoint("http://127.0.0.1:1".into(), "k", 1), endpoint("ftp://x/".into(), "k", 1)]);
    assert!(message.contains("endpoints[1].baseURL"), "{message}");
    let many = (0..65).map(|i| endpoint(format!("http://127.0.0.1:{}", i + 1), "k", 1)).collect();
    assert!(with(many).1.contains("at most 64"));
    let bad_header = EndpointConfig {
        headers: vec![("authorization".into(), "a\nb".into())],
        ..endpoint("http://127.0.0.1:1".into(), "k", 1)
    };
    let (_, message) = with(vec![bad_header]);
    assert!(!message.contains("a\nb"), "the value (a secret) is not in the message: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoints_own_spent_budget_moves_calls_to_the_others_then_fails_past_max_queue() {
    let (a, b) = (TestServer::start([]).await, TestServer::start([]).await);
    // One request per minute on `a` (its turn after the first is a minute away), none on `b`.
    let limited = EndpointConfig { requests_per_minute: Some(1), ..endpoint(a.url("/v1"), "ka", 1) };
    let first = failover_engine(vec![limited, endpoint(b.url("/v1"), "kb", 1)], None);
    for _ in 0..6 {
        send(&first, &post(a.url("/v1/chat/completions"), b"{}")).await.unwrap();
    }
    assert_eq!((a.request_count(), b.request_count()), (1, 5));

    // Both spent, with the client's maxQueue of 1 s: the call fails at once, saying how long it would wait.
    let (c, d) = (TestServer::start([]).await, TestServer::start([]).await);
    let one = |s: &TestServer, k: &str| EndpointConfig {
        requests_per_minute: Some(1),
        ..endpoint(s.url(""), k, 1)
    };
    let engine = engine(EngineConfig {
        endpoints: vec![one(&c, "kc"), one(&d, "kd")],
        rate_limit: RateLimitConfig { max_queue: Some(Duration::from_secs(1)), ..Default::default() },
        ..config()
    });
    send(&engine, &get(c.url("/m"))).await.unwrap();
    send(&engine, &get(c.url("/m"))).await.unwrap();
    assert_eq!((c.request_count(), d.request_count()), (1, 1));
    let err = send(&engine, &get(c.url("/m"))).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::RateLimitedLocally, 0));
    assert!(err.retry_after.unwrap() > Duration::from_secs(30), "{:?}", err.retry_after);
    assert!(err.message.contains("endpoints["), "{}", err.message);
}

/// An endpoint with its own budget of `rpm` requests per minute.
fn budgeted(base_url: String, key: &str, rpm: u32) -> EndpointConfig {
    EndpointConfig { requests_per_minute: Some(rpm), ..endpoint(base_url, key, 1) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requests_own_max_queue_bounds_the_endpoints_budgets_and_off_skips_them() {
    let (a, b) = (TestServer::start([]).await, TestServer::start([]).await);
    // No client rateLimit at all: only the endpoints' own budgets (one request a minute each).
    let engine =
        failover_engine(vec![budgeted(a.url("/v1"), "ka", 1), budgeted(b.url("/v1"), "kb", 1)], None);
    let call = || post(a.url("/v1/chat/completions"), b"{}");
    send(&engine, &call()).await.unwrap();
    send(&engine, &call()).await.unwrap();
    assert_eq!((a.request_count(), b.request_count()), (1, 1));
    // Both a minute away; the request's own maxQueue of 1 s: it fails at once, nothing sent.
    let mut bounded = call();
    bounded.rate_limit = RequestLimit::MaxQueue(Duration::from_secs(1));
    let err = send(&engine, &bounded).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::RateLimitedLocally, 0));
    let wait = err.retry_after.expect("retry_after");
    assert!(wait > Duration::from_secs(30) && wait <= Duration::from_secs(60), "{wait:?}");
    assert!(err.message.contains("endpoints[") && err.message.contains("maxQueueMs"), "{}", err.message);
    assert_eq!((a.request_count(), b.request_count()), (1, 1));
    // `rate_limit` off: sent at once, outside the budgets (they neither queue nor count it).
    let mut off = call();
    off.rate_limit = RequestLimit::Off;
    assert_eq!(send(&engine, &off).await.unwrap().status, 200);
    assert_eq!(a.request_count() + b.request_count(), 3);
    let stats = engine.endpoints();
    let budgets: Vec<_> = stats.iter().map(|e| e.rate_limit.clone().expect("a budget")).collect();
    assert_eq!(budgets.iter().map(|r| r.refused_calls).sum::<u64>(), 1, "the refused call, counted once");
    assert!(budgets.iter().all(|r| r.waited_calls == 0 && r.requests_remaining == Some(0)), "{budgets:?}");
    assert_eq!(budgets[0].tokens_remaining, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_stays_on_a_tried_endpoint_rather_than_one_past_max_queue() {
    let a = TestServer::start([]).await;
    let b = TestServer::start([fast_retry(503)]).await;
    let engine = engine(EngineConfig {
        endpoints: vec![budgeted(a.url(""), "ka", 1), endpoint(b.url(""), "kb", 1)],
        rate_limit: RateLimitConfig { max_queue: Some(Duration::from_secs(1)), ..Default::default() },
        ..config()
    });
    // The first call goes to `a` (ties go to the first) and spends its budget for a minute.
    send(&engine, &get(a.url("/m"))).await.unwrap();
    assert_eq!(a.request_count(), 1);
    // `b` fails once: the retry goes to `b` again, not to `a` (untried, but past maxQueue).
    let resp = send(&engine, &get(a.url("/m"))).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
    assert_eq!((a.request_count(), b.request_count()), (1, 2));
    let stats = engine.endpoints();
    assert_eq!(stats[0].rate_limit.as_ref().map(|r| r.refused_calls), Some(0));
    assert_eq!(stats[1].rate_limit, None, "no budget of its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoints_budget_counts_its_queued_calls_and_their_waits() {
    let a = TestServer::start([]).await;
    // 60 a minute: one a second, a burst of one.
    let engine = failover_engine(vec![budgeted(a.url("/v1"), "ka", 60)], None);
    send(&engine, &get(a.url("/v1/models"))).await.unwrap();
    send(&engine, &get(a.url("/v1/models"))).await.unwrap();
    let r = engine.endpoints()[0].rate_limit.clone().expect("a budget");
    assert_eq!((r.waited_calls, r.refused_calls), (1, 0), "{r:?}");
    assert!(r.wait_max > Duration::ZERO && r.wait_total >= r.wait_max, "{r:?}");
    assert!(r.adaptive.is_empty());
    // The client's maxQueue of 0 for this request: refused at once, counted.
    let mut now_or_never = get(a.url("/v1/models"));
    now_or_never.rate_limit = RequestLimit::MaxQueue(Duration::ZERO);
    let err = send(&engine, &now_or_never).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimitedLocally);
    assert_eq!(engine.endpoints()[0].rate_limit.as_ref().map(|r| r.refused_calls), Some(1));
    assert_eq!(a.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_under_another_endpoints_base_url_or_origin_goes_to_that_endpoint() {
    let (a, b) = (TestServer::start([]).await, TestServer::start([fast_retry(503)]).await);
    let engine = engine(EngineConfig {
        endpoints: vec![endpoint(a.url("/v1"), "ka", 1), endpoint(b.url("/v1"), "kb", 5)],
        ..config()
    });
    // A next page URL `b` gave: every attempt (its retry too) goes to `b`, with `b`'s key, as it is.
    let resp = send(&engine, &get(b.url("/v1/predictions?cursor=c2"))).await.unwrap();
    assert_eq!((resp.status, resp.attempts), (200, 2));
    for _ in 0..4 {
        send(&engine, &get(b.url("/v1/predictions?cursor=c3"))).await.unwrap();
    }
    // On `b`'s origin, not under its base URL: `b` still.
    send(&engine, &get(b.url("/other/1"))).await.unwrap();
    assert_eq!(a.request_count(), 0);
    let recorded = b.requests();
    let seen: Vec<_> = recorded.iter().map(|r| (r.uri.clone(), r.header("authorization"))).collect();
    assert_eq!(seen.len(), 7);
    assert!(seen[..6]
        .iter()
        .all(|(u, k)| u.starts_with("/v1/predictions?cursor=c") && *k == Some("Bearer kb")));
    assert_eq!(seen[6], ("/other/1".into(), Some("Bearer kb")));
    let stats = engine.endpoints();
    assert_eq!((stats[1].requests, stats[1].served, stats[1].failures), (7, 6, 1));
    assert_eq!(stats[0].requests, 0);
    // A URL a server returned under the first endpoint's base URL (`pin_endpoint`): that endpoint,
    // every time (`b` weighs 5 and would get most calls spread by weight).
    for _ in 0..3 {
        let spec = RequestSpec { pin_endpoint: true, ..get(a.url("/v1/predictions?cursor=a2")) };
        send(&engine, &spec).await.unwrap();
    }
    assert_eq!(b.request_count(), 7);
    assert!(a
        .requests()
        .iter()
        .all(|r| r.uri == "/v1/predictions?cursor=a2" && r.header("authorization") == Some("Bearer ka")));
    assert_eq!(a.request_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_refused_for_the_servers_budget_takes_no_turn_in_the_endpoints_own() {
    // The server says its budget is spent for 30 s (a 429 with `retry-after`, read by `adaptive`).
    let a = TestServer::start([Reply::status(429).header("retry-after", "30")]).await;
    let engine = engine(EngineConfig {
        endpoints: vec![budgeted(a.url(""), "ka", 60)],
        rate_limit: RateLimitConfig { adaptive: true, ..Default::default() },
        max_retries: 0,
        ..config()
    });
    let first = send(&engine, &get(a.url("/m"))).await.unwrap_err();
    assert_eq!(first.http_status(), Some(429));
    // The next call may wait 5 s: the server's 30 s are past that, so it is refused at once, without
    // queueing in the endpoint's own budget (whose next turn is only a second away).
    let mut spec = get(a.url("/m"));
    spec.rate_limit = RequestLimit::MaxQueue(Duration::from_secs(5));
    let err = send(&engine, &spec).await.unwrap_err();
    assert_eq!((err.kind, err.attempts), (ErrorKind::RateLimitedLocally, 0));
    assert!(err.retry_after.unwrap() > Duration::from_secs(20), "{:?}", err.retry_after);
    let own = engine.endpoints()[0].rate_limit.clone().expect("a budget");
    assert_eq!((own.waited_calls, own.refused_calls), (0, 0), "{own:?}");
    assert_eq!(engine.limiter_stats().map(|s| s.refused_calls), Some(1));
    assert_eq!(a.request_count(), 1);
}
