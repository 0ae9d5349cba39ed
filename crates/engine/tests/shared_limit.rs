//! The Redis reservation of `rateLimit.redis` (`limiter::shared`) against a real `redis-server`
//! started on a free loopback port (Debian package `redis-server`; `.ci/run` installs it), and its
//! fallback when Redis is gone, and the correction of the shared token budget from responses' `usage`.

mod support;

use aiwire_engine::limiter::shared::{RedisLimitConfig, Shared, SharedTurn, RETRY_AFTER, TIMEOUT};
use aiwire_engine::limiter::RateLimitConfig;
use aiwire_engine::EngineConfig;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Redis(Child, u16);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    start_redis_with(port, &["--port", &port.to_string()])
}

/// The private CA and server certificate of `__test__/fixtures/tls` (for localhost and 127.0.0.1).
fn fixture(name: &str) -> String {
    format!("{}/../../__test__/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A redis-server speaking only TLS (Debian's is built with TLS), server certificate from the fixtures.
fn start_redis_tls() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (cert, key, ca) = (fixture("server-cert.pem"), fixture("server-key.pem"), fixture("ca.pem"));
    let args = ["--port", "0", "--tls-port", &port.to_string(), "--tls-cert-file", &cert];
    let args = [&args[..], &["--tls-key-file", &key, "--tls-ca-cert-file", &ca, "--tls-auth-clients", "no"]];
    start_redis_with(port, &args.concat())
}

fn start_redis_with(port: u16, args: &[&str]) -> Redis {
    let child = Command::new("redis-server")
        .args(args)
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    Redis(child, port)
}

fn shared(port: u16, key: &str, rpm: Option<u32>, tpm: Option<u32>) -> Shared {
    let config = RedisLimitConfig {
        url: format!("redis://127.0.0.1:{port}"),
        key: Some(key.into()),
        fallback_share: 0.25,
    };
    Shared::new(&config, rpm, tpm).unwrap()
}

fn wait_of(turn: SharedTurn) -> Duration {
    match turn {
        SharedTurn::Wait(w) => w,
        other => panic!("expected a reserved turn, got {other:?}"),
    }
}

const MS: Duration = Duration::from_millis(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_limiters_on_one_key_share_one_budget_and_max_queue_reserves_nothing() {
    let redis = start_redis();
    // 600 per minute: one every 100 ms, burst 10.
    let (a, b) = (shared(redis.1, "k1", Some(600), None), shared(redis.1, "k1", Some(600), None));
    let mut waits = Vec::new();
    for i in 0..20 {
        let s = if i % 2 == 0 { &a } else { &b };
        waits.push(wait_of(s.reserve("o", 1, None).await));
    }
    // The first 10 (the burst) go at once, then 100 ms apart, whichever process asks.
    for (i, w) in waits.iter().enumerate() {
        let expected = Duration::from_millis(100) * (i.saturating_sub(9) as u32);
        assert!(w.abs_diff(expected) < 60 * MS, "call {i}: wait {w:?}, expected about {expected:?}");
    }
    // Next turn is about 1.1 s away: with maxQueue 500 ms nothing is reserved.
    match a.reserve("o", 1, Some(500 * MS)).await {
        SharedTurn::TooLong(w) => assert!(w > 900 * MS, "{w:?}"),
        other => panic!("expected TooLong, got {other:?}"),
    }
    let next = wait_of(b.reserve("o", 1, None).await);
    assert!(next.abs_diff(Duration::from_millis(1100)) < 60 * MS, "{next:?}");
    // Another key is another budget.
    assert_eq!(wait_of(shared(redis.1, "k2", Some(600), None).reserve("o", 1, None).await), Duration::ZERO);
    assert_eq!((a.outages(), a.fallback_calls()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_reserved_by_count() {
    let redis = start_redis();
    // 60,000 tokens per minute: 1 ms per token, burst 1,000 tokens.
    let s = shared(redis.1, "t", None, Some(60_000));
    assert_eq!(s.remaining(Instant::now()), None, "nothing known before a reservation");
    assert_eq!(wait_of(s.reserve("o", 300, None).await), Duration::ZERO);
    // 300 of the 1,000-token burst taken (a few more come back each ms).
    let (req, tok) = s.remaining(Instant::now()).unwrap();
    assert_eq!(req, None);
    assert!((700..=760).contains(&tok.unwrap()), "{tok:?}");
    assert_eq!(wait_of(s.reserve("o", 700, None).await), Duration::ZERO);
    let w = wait_of(s.reserve("o", 500, None).await);
    assert!(w.abs_diff(500 * MS) < 40 * MS, "{w:?}");
    assert_eq!(s.remaining(Instant::now()), Some((None, Some(0))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_falls_back_at_once_and_is_retried_later() {
    let mut redis = start_redis();
    let s = shared(redis.1, "f", Some(6000), None);
    assert!(matches!(s.reserve("o", 1, None).await, SharedTurn::Wait(_)));
    let _ = redis.0.kill();
    let _ = redis.0.wait();
    // A closed connection is an outage at once: the call does not wait for TIMEOUT.
    let t = Instant::now();
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert!(t.elapsed() < TIMEOUT / 2, "{:?}", t.elapsed());
    // Within RETRY_AFTER, Redis is not asked again: answered at once.
    let t = Instant::now();
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert!(t.elapsed() < 5 * MS);
    assert_eq!((s.outages(), s.fallback_calls()), (1, 2));
    assert_eq!(RETRY_AFTER, Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_does_not_hang() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = shared(port, "x", Some(60), None);
    // Refused: an outage at once, not after TIMEOUT.
    let t = Instant::now();
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert!(t.elapsed() < TIMEOUT / 2, "{:?}", t.elapsed());
    assert_eq!(s.outages(), 1);
}

/// How far ahead of Redis's clock the TAT under `key` runs, in ms (0 when the key is absent or past).
fn backlog_ms(port: u16, key: &str) -> f64 {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
    let mut c = client.get_connection().unwrap();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query(&mut c).unwrap();
    let tat: Option<f64> = redis::cmd("GET").arg(key).query(&mut c).unwrap();
    let now = (secs * 1_000_000 + micros) as f64;
    tat.map_or(0.0, |t| ((t - now) / 1000.0).max(0.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_charges_or_gives_back_the_difference_in_the_shared_token_budget() {
    let redis = start_redis();
    // 60,000 tokens per minute: 1 ms per token, burst 1,000 tokens.
    let s = shared(redis.1, "c", None, Some(60_000));
    assert_eq!(wait_of(s.reserve("o", 2000, None).await), Duration::from_millis(1000));
    let b = backlog_ms(redis.1, "c:tokens");
    assert!((1900.0..=2000.0).contains(&b), "{b}");
    // Used 2,600: 600 more.
    assert!(s.correct("o", 2000, 2600).await);
    let b = backlog_ms(redis.1, "c:tokens");
    assert!((2500.0..=2600.0).contains(&b), "{b}");
    // Another process on the key sees it: its 1-token call waits past the burst.
    let other = shared(redis.1, "c", None, Some(60_000));
    let w = wait_of(other.reserve("o", 1, None).await);
    assert!(w.abs_diff(1600 * MS) < 100 * MS, "{w:?}");
    // Used 500 of 2,000: 1,500 given back.
    assert!(s.correct("o", 2000, 500).await);
    let b = backlog_ms(redis.1, "c:tokens");
    assert!((1000.0..=1101.0).contains(&b), "{b}");
    // Giving back more than the backlog never runs the TAT before now (no extra burst).
    assert!(s.correct("o", 10_000, 0).await);
    assert_eq!(backlog_ms(redis.1, "c:tokens"), 0.0);
    assert_eq!(wait_of(s.reserve("o", 1000, None).await), Duration::ZERO);
    let w = wait_of(s.reserve("o", 100, None).await);
    assert!(w.abs_diff(100 * MS) < 40 * MS, "{w:?}");
    // Nothing to correct: no tokens limit, or no difference.
    assert!(!s.correct("o", 10, 10).await);
    assert!(!shared(redis.1, "c", Some(60), None).correct("o", 1, 100).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_corrects_the_shared_budget_from_a_buffered_response_usage() {
    use support::client::*;
    use support::{Reply, TestServer};
    let redis = start_redis();
    let server = TestServer::start([
        Reply::ok(
            r#"{"id":"a","usage":{"prompt_tokens":1000,"completion_tokens":2000,"total_tokens":3000}}"#,
        ),
        Reply::ok(r#"{"id":"b","usage":{"input_tokens":3,"output_tokens":7}}"#),
    ])
    .await;
    let config = EngineConfig {
        rate_limit: RateLimitConfig {
            // 600,000 tokens per minute: 0.1 ms per token, burst 10,000 tokens (no call waits here).
            tokens_per_minute: Some(600_000),
            redis: Some(RedisLimitConfig {
                url: format!("redis://127.0.0.1:{}", redis.1),
                key: Some("e".into()),
                fallback_share: 0.25,
            }),
            ..RateLimitConfig::default()
        },
        ..config()
    };
    let engine = engine(config);
    // Estimated at 40 bytes / 4 + 90 = 100 tokens (10 ms), used 3,000 (300 ms).
    let small: &'static [u8] = br#"{"model":"m","max_tokens":90,"x":"abcd"}"#;
    assert_eq!(small.len(), 40);
    send(&engine, &post(server.url("/v1/chat/completions"), small)).await.unwrap();
    // The correction is sent from a task: wait (bounded) for the 2,900 extra tokens to land.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut b = backlog_ms(redis.1, "e:tokens");
    while b < 200.0 && Instant::now() < deadline {
        tokio::time::sleep(MS).await;
        b = backlog_ms(redis.1, "e:tokens");
    }
    let measured = Instant::now();
    assert!((200.0..=300.0).contains(&b), "backlog {b} ms, expected about 300 (the usage)");
    // Estimated at 44 bytes / 4 + 5,000 = 5,011 tokens (+501 ms), used 10: 5,001 given back.
    let big: &'static [u8] = br#"{"model":"m","max_tokens":5000,"x":"abcdef"}"#;
    assert_eq!(big.len(), 44);
    send(&engine, &post(server.url("/v1/messages"), big)).await.unwrap();
    // Backlog plus the time since `b` was read: what the calls since then added (time does not lower it).
    let debt = || backlog_ms(redis.1, "e:tokens") + measured.elapsed().as_secs_f64() * 1000.0;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut added = debt() - b;
    while added > 250.0 && Instant::now() < deadline {
        tokio::time::sleep(MS).await;
        added = debt() - b;
    }
    assert!(added < 250.0, "{added} ms added by a 10-token call estimated at 5,011 tokens (501 ms)");
    assert_eq!(engine.stats().shared_limit_outages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_corrects_the_budget_from_the_usage_its_events_state() {
    use support::client::*;
    use support::{Reply, TestServer};
    let redis = start_redis();
    let openai = [
        "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1500,\"total_tokens\":2500}}\n\n",
        "data: [DONE]\n\n",
    ];
    let anthropic = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":400,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"\\\"usage\\\"\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":600}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];
    let server = TestServer::start([
        Reply::sse(openai, Duration::from_millis(1)),
        Reply::sse(anthropic, Duration::from_millis(1)),
    ])
    .await;
    let redis_config = |key: &str| RedisLimitConfig {
        url: format!("redis://127.0.0.1:{}", redis.1),
        key: Some(key.into()),
        fallback_share: 0.25,
    };
    // 600,000 tokens per minute: 0.1 ms per token, burst 10,000 tokens (no call waits here).
    let limited = |key: &str| EngineConfig {
        rate_limit: RateLimitConfig {
            tokens_per_minute: Some(600_000),
            redis: Some(redis_config(key)),
            ..RateLimitConfig::default()
        },
        ..config()
    };
    // Estimated at 40 bytes / 4 + 90 = 100 tokens (10 ms).
    let body: &'static [u8] = br#"{"model":"m","max_tokens":90,"x":"abcd"}"#;
    for (key, path, used_ms) in [("s1", "/v1/chat/completions", 250.0), ("s2", "/v1/messages", 100.0)] {
        let engine = engine(limited(key));
        let mut stream = open(&engine, &post(server.url(path), body)).await.unwrap();
        read_all(&mut stream).await.unwrap();
        drop(stream);
        let tat_key = format!("{key}:tokens");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut b = backlog_ms(redis.1, &tat_key);
        while b < used_ms - 40.0 && Instant::now() < deadline {
            tokio::time::sleep(MS).await;
            b = backlog_ms(redis.1, &tat_key);
        }
        assert!((used_ms - 40.0..=used_ms).contains(&b), "{path}: backlog {b} ms, expected about {used_ms}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_speaks_tls_trusting_the_clients_ca_and_nothing_unknown() {
    let redis = start_redis_tls();
    let config = RedisLimitConfig {
        url: format!("rediss://127.0.0.1:{}", redis.1),
        key: Some("tls".into()),
        fallback_share: 0.25,
    };
    // The private CA is not among the system roots: no connection, the fallback is used.
    let untrusted = Shared::new(&config, Some(600), None).unwrap();
    assert_eq!(untrusted.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert_eq!(untrusted.outages(), 1);
    // With the CA (the client's `ca` option): one budget in Redis over TLS.
    let ca = std::fs::read(fixture("ca.pem")).unwrap();
    let (a, b) = (
        Shared::with_roots(&config, Some(600), None, std::slice::from_ref(&ca)).unwrap(),
        Shared::with_roots(&config, Some(600), None, &[ca]).unwrap(),
    );
    let mut waits = Vec::new();
    for i in 0..12 {
        waits.push(wait_of((if i % 2 == 0 { &a } else { &b }).reserve("o", 1, None).await));
    }
    // Burst 10, then 100 ms apart: the two share the key's budget.
    assert_eq!(waits[..10], [Duration::ZERO; 10]);
    // (The TLS handshakes of the first calls took some of the first 100 ms.)
    assert!(waits[10] > Duration::ZERO && waits[11].abs_diff(waits[10] + 100 * MS) < 30 * MS, "{waits:?}");
    assert_eq!((a.outages(), b.outages()), (0, 0));
    // A plain redis:// URL to the TLS port gets no answer it understands: fallback, not a hang.
    let plain = RedisLimitConfig { url: format!("redis://127.0.0.1:{}", redis.1), ..config };
    let t = Instant::now();
    assert_eq!(
        Shared::new(&plain, Some(600), None).unwrap().reserve("o", 1, None).await,
        SharedTurn::Unavailable
    );
    assert!(t.elapsed() <= TIMEOUT + 100 * MS, "{:?}", t.elapsed());
}

/// A TCP proxy in front of Redis that passes requests on at once and holds each reply `delay` ms
/// before passing it on: a loaded Redis as its clients see it (replies late, in order). A delay of
/// hours is a silent server (a stopped process, a dropped route). The delay can change mid-test.
struct SlowProxy {
    port: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SlowProxy {
    fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn slow_proxy(redis_port: u16, delay: Duration) -> SlowProxy {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let delay_ms = std::sync::Arc::new(AtomicU64::new(delay.as_millis() as u64));
    let shared_delay = delay_ms.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", redis_port)).await else {
                continue;
            };
            let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                (client.into_split(), server.into_split());
            tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
            let delay = shared_delay.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                    let due =
                        tokio::time::Instant::now() + Duration::from_millis(delay.load(Ordering::SeqCst));
                    if tx.send((due, buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((due, bytes)) = rx.recv().await {
                    tokio::time::sleep_until(due).await;
                    if to_client.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    SlowProxy { port, delay_ms }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_is_waited_for_not_taken_as_down_so_the_shared_budget_holds() {
    use std::sync::Arc;
    use support::client::*;
    use support::{Reply, TestServer};
    let redis = start_redis();
    // Its replies 400 ms late for two of the four engines: twice the 200 ms that used to mean "down".
    let slow = slow_proxy(redis.1, 400 * MS).await;
    let server = TestServer::start([]).await;
    for _ in 0..4000 {
        server.push(Reply::ok("{}"));
    }
    // 6,000 per minute in total: 100 per second, burst 100; the fallback would be 25 per second each.
    let limited = |port: u16| EngineConfig {
        rate_limit: RateLimitConfig {
            requests_per_minute: Some(6000),
            redis: Some(RedisLimitConfig {
                url: format!("redis://127.0.0.1:{port}"),
                key: Some("slow".into()),
                fallback_share: 0.25,
            }),
            ..RateLimitConfig::default()
        },
        ..config()
    };
    let ports = [redis.1, redis.1, slow.port, slow.port];
    let engines: Vec<Arc<aiwire_engine::Engine>> =
        ports.iter().map(|&p| Arc::new(engine(limited(p)))).collect();
    let start = Instant::now();
    // Four loops per engine, each sending one call after another: bounded by 2.5 s and 300 calls.
    let mut loops = Vec::new();
    for (i, e) in engines.iter().enumerate() {
        for _ in 0..4 {
            let (e, url) = (e.clone(), server.url(&format!("/e{i}")));
            loops.push((
                i,
                tokio::spawn(async move {
                    let mut took = Vec::new();
                    while start.elapsed() < Duration::from_millis(2500) && took.len() < 300 {
                        let t = Instant::now();
                        send(&e, &get(url.clone())).await.unwrap();
                        took.push(t.elapsed());
                    }
                    took
                }),
            ));
        }
    }
    let mut quickest_call = [Duration::MAX; 4];
    let mut calls = [0; 4];
    for (i, l) in loops {
        let took = l.await.unwrap();
        calls[i] += took.len();
        quickest_call[i] = quickest_call[i].min(took.into_iter().min().unwrap_or(Duration::MAX));
    }
    // The server saw at most the budget: over the first 2 s, the burst (100) plus 100 per second,
    // within 5% (the fallback would have added 2 x (25 + 25/s)). Counted from before the first
    // reservation: a call arrives at its turn or later (never before), however busy the machine.
    let in_window = server.requests().iter().filter(|r| r.at < start + Duration::from_secs(2)).count();
    println!("calls per engine {calls:?}; {in_window} arrivals in the first 2 s (budget 300)");
    assert!(in_window <= 315, "{in_window} arrivals in 2 s, budget 300 (+5%)");
    // The engines behind the proxy did send, every call after a reservation answered >= 400 ms late.
    for i in [2, 3] {
        assert!(calls[i] >= 4, "engine {i} sent {} calls", calls[i]);
        assert!(quickest_call[i] >= 400 * MS, "engine {i}: a call took {:?}", quickest_call[i]);
    }
    // None took Redis for down, none used its local share.
    for (i, e) in engines.iter().enumerate() {
        let s = e.stats();
        assert_eq!((s.shared_limit_outages, s.shared_limit_fallback_calls), (0, 0), "engine {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_falls_back_after_timeout_and_then_one_call_probes_it() {
    use std::sync::Arc;
    let redis = start_redis();
    let proxy = slow_proxy(redis.1, Duration::ZERO).await;
    let s = Arc::new(shared(proxy.port, "silent", Some(6000), None));
    assert_eq!(wait_of(s.reserve("o", 1, None).await), Duration::ZERO);
    // Connected and then silent (no reply for an hour): the calls in flight wait TIMEOUT, no longer.
    proxy.set_delay(Duration::from_secs(3600));
    let t = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn({
                let s = s.clone();
                async move { s.reserve("o", 1, None).await }
            })
        })
        .collect();
    for c in calls {
        assert_eq!(tokio::time::timeout(TIMEOUT * 3, c).await.unwrap().unwrap(), SharedTurn::Unavailable);
    }
    let waited = t.elapsed();
    assert!(waited >= TIMEOUT - 10 * MS && waited < TIMEOUT * 2, "{waited:?}");
    assert_eq!((s.outages(), s.fallback_calls()), (1, 3));
    // Meanwhile the fallback answers at once.
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    // After RETRY_AFTER one call asks again (Redis answering 300 ms late now); the others keep the
    // fallback until it has its answer, which is obeyed: Redis is back.
    tokio::time::sleep((t + TIMEOUT + RETRY_AFTER).saturating_duration_since(Instant::now()) + 50 * MS).await;
    proxy.set_delay(300 * MS);
    let mut probe = Box::pin(s.reserve("o", 1, None));
    // Polled first: the probe has started (its answer is at least 300 ms away).
    tokio::select! {
        biased;
        turn = &mut probe => panic!("the probe was answered at once: {turn:?}"),
        () = tokio::time::sleep(MS) => {}
    }
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable, "a second call while the probe waits");
    assert!(matches!(tokio::time::timeout(TIMEOUT * 3, probe).await.unwrap(), SharedTurn::Wait(_)));
    assert!(matches!(s.reserve("o", 1, None).await, SharedTurn::Wait(_)));
    assert_eq!((s.outages(), s.fallback_calls()), (1, 5));
}
