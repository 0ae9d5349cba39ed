use super::adaptive::{parse_duration, read_headers, until_rfc3339, Adaptive, Budget};
use super::*;
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::SystemTime;

fn limiter(rpm: Option<u32>, tpm: Option<u32>, max_queue_ms: Option<u64>) -> Limiter {
    Limiter::new(RateLimitConfig {
        requests_per_minute: rpm,
        tokens_per_minute: tpm,
        max_queue: max_queue_ms.map(Duration::from_millis),
        adaptive: false,
        redis: None,
    })
    .unwrap()
    .unwrap()
}

#[test]
fn off_when_it_limits_nothing() {
    assert!(Limiter::new(RateLimitConfig::default()).unwrap().is_none());
}

#[test]
fn burst_is_one_seconds_worth_then_one_per_interval() {
    let l = limiter(Some(6000), None, None);
    let t = Instant::now();
    let waits: Vec<Duration> = (0..300).map(|_| l.reserve("o", 1, t, None).unwrap().at - t).collect();
    assert!(waits[..100].iter().all(|w| w.is_zero()), "100 at once (one second of 6,000/min)");
    assert_eq!(waits[100], Duration::from_millis(10));
    assert_eq!(waits[299], Duration::from_millis(2000));
}

#[test]
fn max_queue_refuses_without_reserving() {
    let l = limiter(Some(60), None, Some(1500));
    let t = Instant::now();
    assert!(l.reserve("o", 1, t, None).unwrap().at == t);
    assert_eq!(l.reserve("o", 1, t, None).unwrap().at - t, Duration::from_secs(1));
    assert_eq!(l.reserve("o", 1, t, None).unwrap_err(), Duration::from_secs(2));
    // Nothing was reserved by the refusal: a second later the next turn is 1 s away again.
    let later = t + Duration::from_secs(1);
    assert_eq!(l.reserve("o", 1, later, None).unwrap().at - later, Duration::from_secs(1));
}

#[test]
fn tokens_wait_for_their_size() {
    let l = limiter(None, Some(60_000), None); // 1,000 tokens/s, burst 1,000
    let t = Instant::now();
    assert!(l.reserve("o", 1000, t, None).unwrap().at == t);
    assert_eq!(l.reserve("o", 500, t, None).unwrap().at - t, Duration::from_millis(500));
    // Larger than the burst: waits for the excess.
    let l = limiter(None, Some(60_000), None);
    assert_eq!(l.reserve("o", 3000, t, None).unwrap().at - t, Duration::from_secs(2));
}

#[test]
fn usage_corrects_the_token_budget() {
    let l = limiter(None, Some(60_000), None); // 1 token per ms, burst 1,000
    let t = Instant::now();
    l.reserve("o", 1000, t, None).unwrap();
    // The call used 1,500 tokens, not 1,000: the next 500 wait 500 ms more (1,000 in all).
    l.correct_tokens(1000, 1500);
    let wait = l.reserve("o", 500, t, None).unwrap().at - t;
    assert!(wait >= Duration::from_millis(999) && wait <= Duration::from_millis(1000), "{wait:?}");
    // Fewer tokens than estimated give the difference back.
    let l = limiter(None, Some(60_000), None);
    l.reserve("o", 1000, t, None).unwrap();
    l.reserve("o", 1000, t, None).unwrap(); // its turn is 1 s away
    l.correct_tokens(1000, 200);
    let wait =
        l.reserve("o", 100, Instant::now(), None).unwrap().at.saturating_duration_since(Instant::now());
    assert!(wait <= Duration::from_millis(301), "{wait:?}");
    assert_eq!(
        used_tokens(br#"{"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#),
        Some(21)
    );
    assert_eq!(used_tokens(br#"{"usage":{"input_tokens":10,"output_tokens":5}}"#), Some(15));
    assert_eq!(used_tokens(br#"{"id":"x"}"#), None);
}

#[test]
fn token_estimate() {
    assert_eq!(estimate_tokens(None), 1);
    let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens": 100}"#;
    assert_eq!(estimate_tokens(Some(body)), body.len() as u64 / 4 + 100);
    let body = br#"{"max_completion_tokens":7}"#;
    assert_eq!(estimate_tokens(Some(body)), body.len() as u64 / 4 + 7);
}

#[test]
fn durations_as_openai_writes_them() {
    assert_eq!(parse_duration("6m0s"), Some(Duration::from_secs(360)));
    assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
    assert_eq!(parse_duration("20ms"), Some(Duration::from_millis(20)));
    assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_duration("1h2m3s"), Some(Duration::from_secs(3723)));
    assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
    assert_eq!(parse_duration(""), None);
    assert_eq!(parse_duration("5 minutes"), None);
}

#[test]
fn rfc3339_times() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
    assert_eq!(until_rfc3339("2023-11-14T22:13:30Z", now), Some(Duration::from_secs(10)));
    assert_eq!(until_rfc3339("2023-11-14T22:13:20.5Z", now), Some(Duration::from_millis(500)));
    assert_eq!(until_rfc3339("2023-11-15T00:13:30+02:00", now), Some(Duration::from_secs(10)));
    assert_eq!(until_rfc3339("2023-11-14T22:13:00Z", now), Some(Duration::ZERO));
    assert_eq!(until_rfc3339("yesterday", now), None);
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn reads_openai_anthropic_and_retry_after() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let cap = Duration::from_secs(60);
    let b = read_headers(
        200,
        &headers(&[
            ("x-ratelimit-limit-requests", "100"),
            ("x-ratelimit-remaining-requests", "7"),
            ("x-ratelimit-reset-requests", "250ms"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "1s"),
        ]),
        now,
        cap,
    );
    assert_eq!(
        b,
        Budget {
            limit: Some(100),
            remaining: Some(7),
            reset: Some(Duration::from_millis(250)),
            blocked_for: Some(Duration::from_secs(1)),
        }
    );
    let b = read_headers(
        200,
        &headers(&[
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "2023-11-14T22:13:22Z"),
        ]),
        now,
        cap,
    );
    assert_eq!((b.limit, b.remaining, b.reset), (Some(50), Some(0), Some(Duration::from_secs(2))));
    let b = read_headers(429, &headers(&[("retry-after", "3")]), now, cap);
    assert_eq!(b.blocked_for, Some(Duration::from_secs(3)));
}

#[test]
fn adaptive_spends_the_budget_then_waits_for_the_reset() {
    let a = Adaptive::default();
    let t = Instant::now();
    let (at, seq) = a.reserve("o", t);
    assert_eq!(at, t);
    // Two more calls went out after the first, within the last half round trip (10 ms): the response
    // saying 3 remain (limit 5, for 100 ms) had not counted them.
    a.reserve("o", t);
    a.reserve("o", t);
    let budget = Budget {
        limit: Some(5),
        remaining: Some(3),
        reset: Some(Duration::from_millis(100)),
        blocked_for: None,
    };
    a.observe("o", seq, &budget, t + Duration::from_millis(1), Duration::from_millis(20));
    assert_eq!(a.reserve("o", t).0, t, "3 - 2 not counted = 1 left");
    let end = t + Duration::from_millis(101); // observed at t + 1 ms, reset 100 ms
    let next: Vec<Instant> = (0..6).map(|_| a.reserve("o", t).0).collect();
    let rel: Vec<Duration> = next.iter().map(|x| *x - t).collect();
    assert!(next[..5].iter().all(|&x| x == end), "the next window allows the limit (5): {rel:?}");
    assert_eq!(next[5], end + Duration::from_millis(100));
    assert_eq!(a.peek("other", t), Duration::ZERO, "origins are apart");
}

#[test]
fn adaptive_first_word_takes_every_call_sent_before_as_uncounted() {
    let a = Adaptive::default();
    let t = Instant::now();
    // Three calls went out unpaced (nothing known yet); the first one's answer, 50 ms later after a
    // 2 ms round trip, says 3 remain: the other two may still reach the server after it.
    let (_, seq) = a.reserve("o", t);
    a.reserve("o", t);
    a.reserve("o", t);
    let budget =
        Budget { limit: Some(5), remaining: Some(3), reset: Some(Duration::from_secs(1)), blocked_for: None };
    let now = t + Duration::from_millis(50);
    a.observe("o", seq, &budget, now, Duration::from_millis(2));
    assert_eq!(a.reserve("o", now).0, now, "3 - 2 = 1 left");
    assert_eq!(a.reserve("o", now).0, now + Duration::from_secs(1), "then the next window");
}

#[test]
fn adaptive_trusts_remaining_for_calls_sent_long_before_the_response() {
    let a = Adaptive::default();
    let t = Instant::now();
    let budget = |remaining| Budget {
        limit: Some(5),
        remaining: Some(remaining),
        reset: Some(Duration::from_secs(1)),
        blocked_for: None,
    };
    // A first response (nothing else in flight) makes the window known: 5 left.
    let (_, first) = a.reserve("o", t);
    a.observe("o", first, &budget(5), t + Duration::from_millis(1), Duration::from_millis(1));
    let (_, seq) = a.reserve("o", t);
    a.reserve("o", t);
    // The response came 50 ms later after a 2 ms round trip: the server had counted the second call.
    a.observe("o", seq, &budget(3), t + Duration::from_millis(50), Duration::from_millis(2));
    let later = t + Duration::from_millis(50);
    let turns: Vec<Instant> = (0..4).map(|_| a.reserve("o", later).0).collect();
    assert_eq!(&turns[..3], &[later; 3]);
    assert!(turns[3] > later);
}

#[test]
fn adaptive_blocks_after_a_429() {
    let a = Adaptive::default();
    let t = Instant::now();
    let (_, seq) = a.reserve("o", t);
    let budget = Budget { blocked_for: Some(Duration::from_millis(300)), ..Budget::default() };
    a.observe("o", seq, &budget, t, Duration::ZERO);
    assert_eq!(a.peek("o", t), Duration::from_millis(300));
}

#[test]
fn with_redis_the_local_buckets_are_the_fallback_share() {
    let redis =
        Some(shared::RedisLimitConfig { url: "redis://127.0.0.1:1".into(), key: None, fallback_share: 0.25 });
    let config = RateLimitConfig { requests_per_minute: Some(600), redis, ..Default::default() };
    let l = Limiter::new(config.clone()).unwrap().unwrap();
    assert!(l.shared.is_some());
    // 600 × 0.25 = 150 per minute: 400 ms apart, burst 2.
    let t = Instant::now();
    let waits: Vec<Duration> = (0..4).map(|_| l.reserve("o", 1, t, None).unwrap().at - t).collect();
    assert_eq!(waits, [0, 0, 400, 800].map(Duration::from_millis));
    // A wait reserved in Redis leaves the local buckets alone.
    assert_eq!(
        l.reserve("o", 1, t, Some(Duration::from_millis(70))).unwrap().at - t,
        Duration::from_millis(70)
    );
    assert_eq!(l.reserve("o", 1, t, None).unwrap().at - t, Duration::from_millis(1200));
    let bad = |f: f64| {
        let mut c = config.clone();
        c.redis.as_mut().unwrap().fallback_share = f;
        Limiter::new(c).unwrap_err()
    };
    assert!(bad(0.0).contains("fallbackShare"));
    assert!(bad(1.5).contains("fallbackShare"));
}
