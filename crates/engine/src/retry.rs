//! Retry policy: which failed attempts are retried, and how long to wait first.
//!
//! Everything here is a pure function of its inputs (the clock and the random
//! source can be passed in explicitly), so the transport stays simple and the
//! rules can be tested exhaustively. The behaviour mirrors openai-node:
//!
//! * up to [`DEFAULT_MAX_RETRIES`] retries (so up to three attempts);
//! * connection errors, timeouts and HTTP 408, 409, 429 and 5xx are retryable;
//! * the `x-should-retry` response header (`true` / `false`) overrides the
//!   status rule when present;
//! * the delay is the server's `retry-after-ms` / `retry-after` when that is
//!   within `[0, max_retry_after]`, else exponential backoff with jitter
//!   between [`RetryPolicy::min_delay`] and [`RetryPolicy::max_delay`]
//!   (defaults 500 ms and 8 s);
//! * a request marked [`RetryOn::RateLimitOnly`] retries a 429 only (for
//!   APIs that do not deduplicate on `Idempotency-Key`, where a 5xx or a
//!   dropped connection may have created the resource already).

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};

/// Default number of retries after the first attempt: 2, i.e. up to 3 attempts.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// Default cap on a server-requested delay (`retry-after-ms` / `retry-after`): 60 s.
///
/// A server-requested delay longer than this (or negative) is ignored and the
/// exponential backoff is used instead.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Backoff base delay before the first retry: 500 ms (doubled for each later retry).
pub const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Upper bound of the exponential backoff: 8 s (jitter only ever shortens it).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);

/// Maximum fraction by which jitter shortens the backoff (25 %).
const JITTER_FRACTION: f64 = 0.25;

/// Response header that, when `true` or `false`, overrides the status rule.
const X_SHOULD_RETRY: &str = "x-should-retry";
/// Response header with the requested delay in (float) milliseconds.
const RETRY_AFTER_MS: &str = "retry-after-ms";
/// Standard response header with the requested delay in (float) seconds or as an HTTP date.
const RETRY_AFTER: &str = "retry-after";

/// What went wrong in one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
pub enum AttemptOutcome<'a> {
    /// No response: connect failure, reset, timeout, body read failure.
    ConnectionError,
    /// A complete response with this status and headers (2xx never reaches the policy).
    Status {
        /// The HTTP status code, e.g. `429`.
        status: u16,
        /// The response headers (looked up case-insensitively).
        headers: &'a HeaderMap,
    },
}

/// Which failed attempts a request may retry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RetryOn {
    /// Connection errors, timeouts, 408, 409, 429, 5xx, and `x-should-retry: true` (default).
    #[default]
    Any,
    /// Only a 429 response (unless it says `x-should-retry: false`): nothing else, no connection
    /// error, no `x-should-retry: true` on another status. For creating requests on an API that does
    /// not honour `Idempotency-Key` (Replicate's predictions): a 429 is answered before anything is
    /// created, while a 5xx or a lost connection may come after the resource exists.
    RateLimitOnly,
}

/// Retry settings of one client or request.
///
/// The default is [`DEFAULT_MAX_RETRIES`] (2) retries, a
/// [`DEFAULT_MAX_RETRY_AFTER`] (60 s) cap on server-requested delays, a
/// backoff from [`INITIAL_RETRY_DELAY`] (500 ms) up to [`MAX_RETRY_DELAY`]
/// (8 s), and every retryable outcome ([`RetryOn::Any`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many retries are allowed after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The longest server-requested delay (`retry-after-ms` / `retry-after`)
    /// that is honoured; longer ones fall back to the exponential backoff.
    pub max_retry_after: Duration,
    /// Backoff before the first retry (doubled for each later one). Default 500 ms.
    pub min_delay: Duration,
    /// Upper bound of the backoff. Default 8 s. A `min_delay` above it is capped to it.
    pub max_delay: Duration,
    /// Which outcomes are retried at all.
    pub retry_on: RetryOn,
}

impl Default for RetryPolicy {
    /// 2 retries, server-requested delays honoured up to 60 s, backoff 500 ms .. 8 s, any outcome.
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            min_delay: INITIAL_RETRY_DELAY,
            max_delay: MAX_RETRY_DELAY,
            retry_on: RetryOn::Any,
        }
    }
}

impl RetryPolicy {
    /// Is this outcome retryable at all (ignoring the retry count)?
    ///
    /// Connection errors (including timeouts) are retryable. For a response,
    /// an `x-should-retry` header whose value is exactly `true` or `false`
    /// decides; any other value (or a missing header) is ignored and the
    /// status decides: 408, 409, 429 and every status >= 500 are retryable,
    /// all others are not.
    ///
    /// With [`RetryOn::RateLimitOnly`] only a 429 is retryable (and not when
    /// it carries `x-should-retry: false`).
    #[must_use]
    pub fn is_retryable(&self, outcome: &AttemptOutcome<'_>) -> bool {
        let should_retry = |headers: &HeaderMap| match headers.get(X_SHOULD_RETRY).map(HeaderValue::as_bytes)
        {
            Some(b"true") => Some(true),
            Some(b"false") => Some(false),
            _ => None,
        };
        match (*outcome, self.retry_on) {
            (AttemptOutcome::ConnectionError, RetryOn::Any) => true,
            (AttemptOutcome::ConnectionError, RetryOn::RateLimitOnly) => false,
            (AttemptOutcome::Status { status, headers }, RetryOn::Any) => {
                should_retry(headers).unwrap_or(matches!(status, 408 | 409 | 429) || status >= 500)
            }
            (AttemptOutcome::Status { status, headers }, RetryOn::RateLimitOnly) => {
                status == 429 && should_retry(headers) != Some(false)
            }
        }
    }

    /// This policy's backoff for retry number `retries_done` (0 for the
    /// first retry): `min(min_delay * 2^n, max_delay) * (1 - rand01 * 0.25)`;
    /// see [`backoff_delay_between`].
    #[must_use]
    pub fn backoff(&self, retries_done: u32, rand01: f64) -> Duration {
        backoff_delay_between(retries_done, rand01, self.min_delay, self.max_delay)
    }

    /// Decides whether to retry after a failed attempt, using the system
    /// clock and a fresh random number for the jitter.
    ///
    /// `retries_done` is how many retries already happened (0 before the
    /// first retry). Returns `Some(delay)` to sleep before the next attempt,
    /// or `None` to give up (not retryable, or `max_retries` reached).
    #[must_use]
    pub fn next_delay(&self, outcome: &AttemptOutcome<'_>, retries_done: u32) -> Option<Duration> {
        self.next_delay_at(outcome, retries_done, SystemTime::now(), fastrand::f64())
    }

    /// Same as [`RetryPolicy::next_delay`], with an explicit clock (`now`,
    /// used for an HTTP-date `retry-after`) and random value `rand01` in
    /// `[0, 1)` (used for the jitter), for deterministic behaviour.
    ///
    /// The delay is the server-requested one (see [`server_retry_delay`],
    /// capped by `max_retry_after`) when present and valid, else
    /// [`RetryPolicy::backoff`]`(retries_done, rand01)`.
    #[must_use]
    pub fn next_delay_at(
        &self,
        outcome: &AttemptOutcome<'_>,
        retries_done: u32,
        now: SystemTime,
        rand01: f64,
    ) -> Option<Duration> {
        if retries_done >= self.max_retries || !self.is_retryable(outcome) {
            return None;
        }
        let server = match *outcome {
            AttemptOutcome::ConnectionError => None,
            AttemptOutcome::Status { headers, .. } => server_retry_delay(headers, now, self.max_retry_after),
        };
        Some(server.unwrap_or_else(|| self.backoff(retries_done, rand01)))
    }
}

/// The server-requested delay, if present, parseable and within `[0, cap]`.
///
/// `retry-after-ms` (float milliseconds) is preferred; if it is missing or
/// unparseable, `retry-after` is read as float seconds or, failing that, as an
/// HTTP date (delay = date - `now`). A value that parses but is negative,
/// above `cap`, not finite, or a date in the past yields `None` (the caller
/// then uses the backoff). Values that are not visible ASCII are ignored.
#[must_use]
pub fn server_retry_delay(headers: &HeaderMap, now: SystemTime, cap: Duration) -> Option<Duration> {
    let delay = if let Some(ms) = header_str(headers, RETRY_AFTER_MS).and_then(parse_number) {
        non_negative_duration(ms / 1000.0)?
    } else {
        let value = header_str(headers, RETRY_AFTER)?;
        match parse_number(value) {
            Some(secs) => non_negative_duration(secs)?,
            None => httpdate::parse_http_date(value).ok()?.duration_since(now).ok()?,
        }
    };
    (delay <= cap).then_some(delay)
}

/// Exponential backoff with jitter for retry number `retries_done` (0 for the
/// first retry) with the default bounds: `min(0.5 s * 2^n, 8 s) * (1 - rand01 * 0.25)`.
///
/// The result is always within `[0.75 * base, base]`, so within
/// `[375 ms, 8 s]`. `rand01` is clamped to `[0, 1]` (NaN counts as 0); any
/// `retries_done` is accepted without overflow.
#[must_use]
pub fn backoff_delay(retries_done: u32, rand01: f64) -> Duration {
    backoff_delay_between(retries_done, rand01, INITIAL_RETRY_DELAY, MAX_RETRY_DELAY)
}

/// Exponential backoff with jitter between `min` and `max`:
/// `min(min * 2^n, max) * (1 - rand01 * 0.25)` for retry number `n = retries_done`.
///
/// The result is within `[0.75 * base, base]` and never above `max` (a `min`
/// above `max` is capped to `max`; `min` zero gives zero). `rand01` is clamped
/// to `[0, 1]` (NaN counts as 0); any `retries_done` and any durations are
/// accepted without overflow.
#[must_use]
pub fn backoff_delay_between(retries_done: u32, rand01: f64, min: Duration, max: Duration) -> Duration {
    // Any delay times 2^64 is past every cap (and still finite), so larger exponents are moot.
    let exp = 2f64.powi(retries_done.min(64) as i32);
    let base = (min.as_secs_f64() * exp).min(max.as_secs_f64());
    let rand01 = if rand01 >= 0.0 { rand01.min(1.0) } else { 0.0 };
    let jitter = 1.0 - rand01 * JITTER_FRACTION;
    // `base * jitter` is finite and within [0, max], so the conversion cannot fail.
    Duration::try_from_secs_f64(base * jitter).unwrap_or(max).min(max)
}

/// A fresh idempotency key for the `Idempotency-Key` header:
/// `"aiwire-retry-"` followed by 32 lowercase hex digits (a random `u128`).
///
/// The same key must be sent on every attempt of one logical request.
#[must_use]
pub fn new_idempotency_key() -> String {
    format!("aiwire-retry-{:032x}", fastrand::u128(..))
}

/// The header's value as a trimmed string, or `None` if absent or not visible ASCII.
fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// A finite decimal number (e.g. `"3"`, `"0.5"`, `"-1"`, `"1e3"`); `NaN`,
/// infinities and anything else are rejected.
fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `secs` as a `Duration` if it is `>= 0` and representable (`-0` counts as 0).
fn non_negative_duration(secs: f64) -> Option<Duration> {
    if secs >= 0.0 {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
