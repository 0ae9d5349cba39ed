//! Unit tests of the parent module (kept in their own file; private items are in scope via `super`).

use super::*;
use reqwest::header::HeaderName;

/// A fixed clock, so HTTP-date tests are deterministic (2023-11-14T22:13:20Z).
fn fixed_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    map
}

fn status(status: u16, headers: &HeaderMap) -> AttemptOutcome<'_> {
    AttemptOutcome::Status { status, headers }
}

/// The delay chosen for the first retry with rand01 = 0 (backoff = exactly 500 ms).
fn first_delay(h: &HeaderMap) -> Option<Duration> {
    RetryPolicy::default().next_delay_at(&status(429, h), 0, fixed_now(), 0.0)
}

const BACKOFF0: Duration = Duration::from_millis(500);

fn approx_eq(a: Duration, b: Duration) -> bool {
    a.abs_diff(b) <= Duration::from_nanos(10)
}

// ---- defaults -------------------------------------------------------

#[test]
fn default_policy_is_two_retries_and_sixty_seconds() {
    let p = RetryPolicy::default();
    assert_eq!(p.max_retries, 2);
    assert_eq!(p.max_retry_after, Duration::from_secs(60));
    assert_eq!(DEFAULT_MAX_RETRIES, 2);
    assert_eq!(DEFAULT_MAX_RETRY_AFTER, Duration::from_secs(60));
    assert_eq!(INITIAL_RETRY_DELAY, Duration::from_millis(500));
    assert_eq!(MAX_RETRY_DELAY, Duration::from_secs(8));
}

// ---- retryability ---------------------------------------------------

#[test]
fn retryable_statuses() {
    let p = RetryPolicy::default();
    let h = HeaderMap::new();
    for s in [408, 409, 429, 500, 502, 503, 504, 599] {
        assert!(p.is_retryable(&status(s, &h)), "status {s} should be retryable");
        assert!(p.next_delay(&status(s, &h), 0).is_some(), "status {s}");
    }
}

#[test]
fn non_retryable_statuses() {
    let p = RetryPolicy::default();
    let h = HeaderMap::new();
    for s in [300, 304, 400, 401, 403, 404, 405, 410, 413, 422, 499] {
        assert!(!p.is_retryable(&status(s, &h)), "status {s} should not be retryable");
        assert_eq!(p.next_delay(&status(s, &h), 0), None, "status {s}");
    }
}

#[test]
fn connection_error_is_retryable_with_backoff() {
    let p = RetryPolicy::default();
    assert!(p.is_retryable(&AttemptOutcome::ConnectionError));
    assert_eq!(p.next_delay_at(&AttemptOutcome::ConnectionError, 0, fixed_now(), 0.0), Some(BACKOFF0));
    assert_eq!(
        p.next_delay_at(&AttemptOutcome::ConnectionError, 1, fixed_now(), 0.0),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn x_should_retry_true_overrides_non_retryable_status() {
    let p = RetryPolicy::default();
    let h = headers(&[("x-should-retry", "true")]);
    for s in [400, 401, 404, 422] {
        assert!(p.is_retryable(&status(s, &h)), "status {s}");
    }
    assert_eq!(p.next_delay_at(&status(400, &h), 0, fixed_now(), 0.0), Some(BACKOFF0));
}

#[test]
fn x_should_retry_false_overrides_retryable_status() {
    let p = RetryPolicy::default();
    let h = headers(&[("x-should-retry", "false")]);
    for s in [500, 429, 408, 409, 503] {
        assert!(!p.is_retryable(&status(s, &h)), "status {s}");
        assert_eq!(p.next_delay(&status(s, &h), 0), None, "status {s}");
    }
    // Even with a retry-after the server said not to retry.
    let h = headers(&[("x-should-retry", "false"), ("retry-after", "1")]);
    assert_eq!(p.next_delay(&status(429, &h), 0), None);
}

#[test]
fn x_should_retry_lookup_is_case_insensitive() {
    let p = RetryPolicy::default();
    let h = headers(&[("X-Should-Retry", "false")]);
    assert!(!p.is_retryable(&status(500, &h)));
}

#[test]
fn x_should_retry_other_values_are_ignored() {
    let p = RetryPolicy::default();
    for v in ["", "yes", "no", "1", "0", "TRUE", "False", "maybe"] {
        let h = headers(&[("x-should-retry", v)]);
        assert!(p.is_retryable(&status(500, &h)), "value {v:?} on 500");
        assert!(!p.is_retryable(&status(400, &h)), "value {v:?} on 400");
    }
    // A non-UTF-8 value is ignored too.
    let mut h = HeaderMap::new();
    h.insert("x-should-retry", HeaderValue::from_bytes(b"\xfftrue").unwrap());
    assert!(p.is_retryable(&status(500, &h)));
    assert!(!p.is_retryable(&status(400, &h)));
}

// ---- retry count ----------------------------------------------------

#[test]
fn max_retries_is_respected() {
    let p = RetryPolicy::default();
    let h = HeaderMap::new();
    let o = status(503, &h);
    assert!(p.next_delay_at(&o, 0, fixed_now(), 0.0).is_some());
    assert!(p.next_delay_at(&o, 1, fixed_now(), 0.0).is_some());
    assert_eq!(p.next_delay_at(&o, 2, fixed_now(), 0.0), None);
    assert_eq!(p.next_delay_at(&o, 3, fixed_now(), 0.0), None);
    assert_eq!(p.next_delay_at(&o, u32::MAX, fixed_now(), 0.0), None);
    assert_eq!(p.next_delay(&AttemptOutcome::ConnectionError, 2), None);
}

#[test]
fn max_retries_zero_never_retries() {
    let p = RetryPolicy { max_retries: 0, ..RetryPolicy::default() };
    let h = headers(&[("x-should-retry", "true"), ("retry-after", "1")]);
    assert_eq!(p.next_delay(&AttemptOutcome::ConnectionError, 0), None);
    assert_eq!(p.next_delay(&status(500, &h), 0), None);
    // Retryability itself ignores the count.
    assert!(p.is_retryable(&AttemptOutcome::ConnectionError));
}

#[test]
fn custom_max_retries_allows_more_attempts() {
    let p = RetryPolicy { max_retries: 5, ..RetryPolicy::default() };
    let o = AttemptOutcome::ConnectionError;
    let delays: Vec<_> = (0..6).map(|n| p.next_delay_at(&o, n, fixed_now(), 0.0)).collect();
    assert_eq!(
        delays,
        vec![
            Some(Duration::from_millis(500)),
            Some(Duration::from_secs(1)),
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(4)),
            Some(Duration::from_secs(8)),
            None,
        ]
    );
}

// ---- server-requested delay -----------------------------------------

#[test]
fn retry_after_ms_is_used_exactly() {
    let h = headers(&[("retry-after-ms", "250")]);
    assert_eq!(first_delay(&h), Some(Duration::from_millis(250)));
    let h = headers(&[("retry-after-ms", "1.5")]);
    assert_eq!(first_delay(&h), Some(Duration::from_micros(1500)));
    let h = headers(&[("Retry-After-Ms", " 2000 ")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(2)));
}

#[test]
fn retry_after_ms_zero_means_retry_immediately() {
    let h = headers(&[("retry-after-ms", "0")]);
    assert_eq!(first_delay(&h), Some(Duration::ZERO));
    let h = headers(&[("retry-after-ms", "-0")]);
    assert_eq!(first_delay(&h), Some(Duration::ZERO));
}

#[test]
fn retry_after_ms_is_preferred_over_retry_after() {
    let h = headers(&[("retry-after", "3"), ("retry-after-ms", "100")]);
    assert_eq!(first_delay(&h), Some(Duration::from_millis(100)));
}

#[test]
fn unparseable_retry_after_ms_falls_through_to_retry_after() {
    let h = headers(&[("retry-after-ms", "soon"), ("retry-after", "3")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(3)));
}

#[test]
fn retry_after_seconds() {
    let h = headers(&[("retry-after", "3")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(3)));
    let h = headers(&[("retry-after", "0.5")]);
    assert_eq!(first_delay(&h), Some(Duration::from_millis(500)));
    let h = headers(&[("Retry-After", "0.25")]);
    assert_eq!(first_delay(&h), Some(Duration::from_millis(250)));
}

#[test]
fn retry_after_http_date_in_the_future() {
    let date = httpdate::fmt_http_date(fixed_now() + Duration::from_secs(10));
    let h = headers(&[("retry-after", &date)]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(10)));
    assert_eq!(server_retry_delay(&h, fixed_now(), DEFAULT_MAX_RETRY_AFTER), Some(Duration::from_secs(10)));
    // The literal form, for the record: fixed_now() is Tue, 14 Nov 2023 22:13:20 GMT.
    let h = headers(&[("retry-after", "Tue, 14 Nov 2023 22:13:30 GMT")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(10)));
}

#[test]
fn retry_after_http_date_in_the_past_falls_back_to_backoff() {
    let date = httpdate::fmt_http_date(fixed_now() - Duration::from_secs(10));
    let h = headers(&[("retry-after", &date)]);
    assert_eq!(first_delay(&h), Some(BACKOFF0));
    assert_eq!(server_retry_delay(&h, fixed_now(), DEFAULT_MAX_RETRY_AFTER), None);
}

#[test]
fn retry_after_http_date_beyond_the_cap_falls_back_to_backoff() {
    let date = httpdate::fmt_http_date(fixed_now() + Duration::from_secs(3600));
    let h = headers(&[("retry-after", &date)]);
    assert_eq!(first_delay(&h), Some(BACKOFF0));
}

#[test]
fn retry_after_above_the_cap_falls_back_to_backoff() {
    for h in [
        headers(&[("retry-after", "120")]),
        headers(&[("retry-after", "60.001")]),
        headers(&[("retry-after-ms", "60001")]),
        headers(&[("retry-after", "1e300")]),
        headers(&[("retry-after-ms", "1e308")]),
    ] {
        assert_eq!(first_delay(&h), Some(BACKOFF0), "{h:?}");
    }
}

#[test]
fn retry_after_exactly_at_the_cap_is_honoured() {
    let h = headers(&[("retry-after", "60")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(60)));
    let h = headers(&[("retry-after-ms", "60000")]);
    assert_eq!(first_delay(&h), Some(Duration::from_secs(60)));
}

#[test]
fn cap_is_a_parameter() {
    let h = headers(&[("retry-after", "120")]);
    let p = RetryPolicy { max_retry_after: Duration::from_secs(300), ..RetryPolicy::default() };
    assert_eq!(p.next_delay_at(&status(429, &h), 0, fixed_now(), 0.0), Some(Duration::from_secs(120)));
    let h = headers(&[("retry-after", "2")]);
    assert_eq!(server_retry_delay(&h, fixed_now(), Duration::from_secs(1)), None);
    assert_eq!(server_retry_delay(&h, fixed_now(), Duration::ZERO), None);
}

#[test]
fn negative_values_fall_back_to_backoff() {
    for h in [
        headers(&[("retry-after", "-1")]),
        headers(&[("retry-after-ms", "-250")]),
        headers(&[("retry-after", "-0.001")]),
    ] {
        assert_eq!(first_delay(&h), Some(BACKOFF0), "{h:?}");
    }
}

#[test]
fn garbage_values_fall_back_to_backoff() {
    for v in [
        "",
        " ",
        "soon",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "infinity",
        "3 seconds",
        "0x10",
        "1,5",
        "Tue, 14 Nov 2023",
        "Mon, 32 Foo 2023 25:61:61 GMT",
    ] {
        let h = headers(&[("retry-after", v)]);
        assert_eq!(first_delay(&h), Some(BACKOFF0), "retry-after {v:?}");
        let h = headers(&[("retry-after-ms", v)]);
        assert_eq!(first_delay(&h), Some(BACKOFF0), "retry-after-ms {v:?}");
    }
}

#[test]
fn non_ascii_header_values_are_ignored() {
    let mut h = HeaderMap::new();
    h.insert("retry-after-ms", HeaderValue::from_bytes(b"25\xff0").unwrap());
    assert_eq!(first_delay(&h), Some(BACKOFF0));
    h.insert("retry-after", HeaderValue::from_bytes(b"\xe2\x8f\xb03").unwrap());
    assert_eq!(first_delay(&h), Some(BACKOFF0));
    h.insert("retry-after", HeaderValue::from_static("3"));
    assert_eq!(first_delay(&h), Some(Duration::from_secs(3)));
}

#[test]
fn connection_error_backoff_with_full_jitter() {
    // A connection error has no headers, so it always gets the backoff.
    let p = RetryPolicy::default();
    assert_eq!(
        p.next_delay_at(&AttemptOutcome::ConnectionError, 0, fixed_now(), 1.0),
        Some(Duration::from_millis(375))
    );
}

#[test]
fn no_headers_means_no_server_delay() {
    assert_eq!(server_retry_delay(&HeaderMap::new(), fixed_now(), DEFAULT_MAX_RETRY_AFTER), None);
}

// ---- backoff --------------------------------------------------------

#[test]
fn backoff_without_jitter_doubles_up_to_eight_seconds() {
    let expected = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0];
    for (n, secs) in expected.into_iter().enumerate() {
        assert_eq!(backoff_delay(n as u32, 0.0), Duration::from_secs_f64(secs), "n = {n}");
    }
}

#[test]
fn backoff_with_maximal_jitter_is_three_quarters() {
    let expected = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0];
    let almost_one = 1.0 - f64::EPSILON;
    for (n, secs) in expected.into_iter().enumerate() {
        let want = Duration::from_secs_f64(secs * 0.75);
        assert!(
            approx_eq(backoff_delay(n as u32, almost_one), want),
            "n = {n}: {:?} vs {want:?}",
            backoff_delay(n as u32, almost_one)
        );
        assert_eq!(backoff_delay(n as u32, 1.0), want, "n = {n}");
    }
    assert_eq!(backoff_delay(0, 0.5), Duration::from_secs_f64(0.5 * 0.875));
}

#[test]
fn backoff_for_huge_retry_numbers_does_not_panic() {
    for n in [6, 31, 32, 33, 63, 64, 1000, u32::MAX - 1, u32::MAX] {
        assert_eq!(backoff_delay(n, 0.0), MAX_RETRY_DELAY, "n = {n}");
        assert_eq!(backoff_delay(n, 1.0), Duration::from_secs(6), "n = {n}");
    }
}

#[test]
fn backoff_with_out_of_range_random_is_clamped() {
    assert_eq!(backoff_delay(0, -1.0), Duration::from_millis(500));
    assert_eq!(backoff_delay(0, f64::NAN), Duration::from_millis(500));
    assert_eq!(backoff_delay(0, f64::NEG_INFINITY), Duration::from_millis(500));
    assert_eq!(backoff_delay(0, 2.0), Duration::from_millis(375));
    assert_eq!(backoff_delay(4, f64::INFINITY), Duration::from_secs(6));
    assert_eq!(backoff_delay(4, -5.0), MAX_RETRY_DELAY);
}

#[test]
fn next_delay_uses_real_randomness_within_bounds() {
    let p = RetryPolicy::default();
    for _ in 0..200 {
        let d = p.next_delay(&AttemptOutcome::ConnectionError, 1).unwrap();
        assert!(d >= Duration::from_millis(750) && d <= Duration::from_secs(1), "{d:?}");
    }
}

// ---- configurable backoff bounds -------------------------------------

#[test]
fn default_policy_bounds_equal_the_constants() {
    let p = RetryPolicy::default();
    assert_eq!((p.min_delay, p.max_delay), (INITIAL_RETRY_DELAY, MAX_RETRY_DELAY));
    assert_eq!(p.retry_on, RetryOn::Any);
    for n in 0..10 {
        for r in [0.0, 0.3, 1.0] {
            assert_eq!(p.backoff(n, r), backoff_delay(n, r), "n = {n}, r = {r}");
        }
    }
}

#[test]
fn custom_bounds_double_from_min_up_to_max() {
    let p = RetryPolicy {
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(700),
        ..RetryPolicy::default()
    };
    let expected = [100, 200, 400, 700, 700];
    for (n, ms) in expected.into_iter().enumerate() {
        assert_eq!(p.backoff(n as u32, 0.0), Duration::from_millis(ms), "n = {n}");
        assert_eq!(p.backoff(n as u32, 1.0), Duration::from_micros(ms * 750), "n = {n}");
    }
    // Used by next_delay when the server names no delay.
    let h = HeaderMap::new();
    assert_eq!(p.next_delay_at(&status(500, &h), 1, fixed_now(), 0.0), Some(Duration::from_millis(200)));
    // A server-requested delay still wins over the bounds.
    let h = headers(&[("retry-after", "2")]);
    assert_eq!(p.next_delay_at(&status(429, &h), 0, fixed_now(), 0.0), Some(Duration::from_secs(2)));
}

#[test]
fn zero_min_delay_retries_at_once_and_min_above_max_is_capped() {
    let zero = RetryPolicy { min_delay: Duration::ZERO, ..RetryPolicy::default() };
    for n in [0, 1, 5, 64, u32::MAX] {
        assert_eq!(zero.backoff(n, 0.0), Duration::ZERO, "n = {n}");
    }
    let inverted = RetryPolicy {
        min_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    assert_eq!(inverted.backoff(0, 0.0), Duration::from_secs(1));
    let zero_max = RetryPolicy { max_delay: Duration::ZERO, ..RetryPolicy::default() };
    assert_eq!(zero_max.backoff(3, 0.5), Duration::ZERO);
}

#[test]
fn extreme_bounds_do_not_panic() {
    for n in [0, 1, 63, 64, 65, u32::MAX] {
        for r in [0.0, 0.5, 1.0, f64::NAN] {
            let d = backoff_delay_between(n, r, Duration::MAX, Duration::MAX);
            assert!(d <= Duration::MAX);
            let d = backoff_delay_between(n, r, Duration::from_nanos(1), Duration::MAX);
            assert!(d >= Duration::ZERO);
        }
    }
}

// ---- rate-limit-only ------------------------------------------------

#[test]
fn rate_limit_only_retries_429_and_nothing_else() {
    let p = RetryPolicy { retry_on: RetryOn::RateLimitOnly, ..RetryPolicy::default() };
    let h = HeaderMap::new();
    assert!(p.is_retryable(&status(429, &h)));
    for s in [408, 409, 500, 502, 503, 504, 400, 404] {
        assert!(!p.is_retryable(&status(s, &h)), "status {s}");
        assert_eq!(p.next_delay(&status(s, &h), 0), None, "status {s}");
    }
    assert!(!p.is_retryable(&AttemptOutcome::ConnectionError));
    // x-should-retry: true does not widen it; false still stops a 429.
    let yes = headers(&[("x-should-retry", "true")]);
    assert!(!p.is_retryable(&status(503, &yes)));
    assert!(p.is_retryable(&status(429, &yes)));
    let no = headers(&[("x-should-retry", "false")]);
    assert!(!p.is_retryable(&status(429, &no)));
    // The count and the server delay apply as usual.
    let after = headers(&[("retry-after", "1")]);
    assert_eq!(p.next_delay_at(&status(429, &after), 0, fixed_now(), 0.0), Some(Duration::from_secs(1)));
    assert_eq!(p.next_delay_at(&status(429, &after), 2, fixed_now(), 0.0), None);
}

// ---- idempotency keys -----------------------------------------------

#[test]
fn idempotency_keys_are_well_formed() {
    for _ in 0..100 {
        let key = new_idempotency_key();
        let hex = key.strip_prefix("aiwire-retry-").expect(&key);
        assert_eq!(hex.len(), 32, "{key}");
        assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{key}");
        // Usable as a header value.
        HeaderValue::from_str(&key).unwrap();
    }
}

#[test]
fn idempotency_keys_are_unique() {
    let keys: std::collections::HashSet<String> = (0..10_000).map(|_| new_idempotency_key()).collect();
    assert_eq!(keys.len(), 10_000);
}

// ---- properties -----------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn backoff_is_always_within_bounds(n in any::<u32>(), r in 0.0f64..1.0) {
            let d = backoff_delay(n, r);
            prop_assert!(d >= Duration::from_millis(375), "{:?}", d);
            prop_assert!(d <= MAX_RETRY_DELAY, "{:?}", d);
            // And within [0.75 * base, base] for its own n.
            let base = backoff_delay(n, 0.0);
            prop_assert!(d <= base);
            prop_assert!(d.as_secs_f64() >= base.as_secs_f64() * 0.75 - 1e-9);
        }

        #[test]
        fn backoff_never_panics_for_any_random(n in any::<u32>(), r in any::<f64>()) {
            let d = backoff_delay(n, r);
            prop_assert!(d >= Duration::from_millis(375) && d <= MAX_RETRY_DELAY);
        }

        #[test]
        fn server_delay_never_panics_and_respects_cap(
            v in "\\PC{0,40}",
            ms in any::<bool>(),
            cap_ms in 0u64..120_000,
        ) {
            let name = if ms { "retry-after-ms" } else { "retry-after" };
            let mut h = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&v) {
                h.insert(name, value);
            }
            let cap = Duration::from_millis(cap_ms);
            if let Some(d) = server_retry_delay(&h, fixed_now(), cap) {
                prop_assert!(d <= cap);
            }
        }

        #[test]
        fn numeric_retry_after_within_cap_is_honoured(secs in 0.0f64..=60.0) {
            let h = headers(&[("retry-after", &secs.to_string())]);
            let d = server_retry_delay(&h, fixed_now(), DEFAULT_MAX_RETRY_AFTER);
            prop_assert_eq!(d, Duration::try_from_secs_f64(secs).ok());
        }
    }
}
