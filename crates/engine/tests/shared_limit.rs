//! The Redis reservation of `rateLimit.redis` (`limiter::shared`) against a real `redis-server`
//! started on a free loopback port (Debian package `redis-server`; `.ci/run` installs it), and its
//! fallback when Redis is gone.

use aiwire_engine::limiter::shared::{RedisLimitConfig, Shared, SharedTurn, RETRY_AFTER, TIMEOUT};
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
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
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
    assert_eq!(wait_of(s.reserve("o", 1000, None).await), Duration::ZERO);
    let w = wait_of(s.reserve("o", 500, None).await);
    assert!(w.abs_diff(500 * MS) < 40 * MS, "{w:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_falls_back_at_once_and_is_retried_later() {
    let mut redis = start_redis();
    let s = shared(redis.1, "f", Some(6000), None);
    assert!(matches!(s.reserve("o", 1, None).await, SharedTurn::Wait(_)));
    let _ = redis.0.kill();
    let _ = redis.0.wait();
    let t = Instant::now();
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert!(t.elapsed() <= TIMEOUT + 50 * MS, "{:?}", t.elapsed());
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
    let t = Instant::now();
    assert_eq!(s.reserve("o", 1, None).await, SharedTurn::Unavailable);
    assert!(t.elapsed() <= TIMEOUT + 50 * MS);
    assert_eq!(s.outages(), 1);
}
