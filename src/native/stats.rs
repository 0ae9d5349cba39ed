//! `NativeEngine.stats()`: the engine's counters, its breakers' states and its rate limits' figures.

use aiwire_engine::limiter::stats::LimiterStats;
use aiwire_engine::Engine;
use napi_derive::napi;

/// One origin's circuit breaker, in stats.
#[napi(object)]
pub struct NativeCircuit {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// `closed`, `open` or `half-open`.
    pub state: String,
}

/// One endpoint's figures, in stats.
#[napi(object)]
pub struct NativeEndpoint {
    /// Its base URL (no credentials, no query).
    #[napi(js_name = "baseURL")]
    pub base_url: String,
    /// Its weight.
    pub weight: u32,
    /// Its origin's circuit breaker: `closed`, `open`, `half-open`; absent when the breaker is off.
    pub state: Option<String>,
    /// Attempts sent to it.
    pub requests: f64,
    /// Calls it answered with a 2xx.
    pub served: f64,
    /// Attempts that failed on it (connection errors, timeouts, error statuses).
    pub failures: f64,
}

/// One origin's server budget from its rate-limit headers (`rateLimit.adaptive`).
#[napi(object)]
pub struct NativeAdaptiveBudget {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// Requests the server allows per window, when it said so.
    pub limit: Option<f64>,
    /// Requests the client may still send in the current window (0 once calls wait for a later one).
    pub remaining: Option<f64>,
    /// Ms until the window's budget is full again (with `remaining` 0: until calls go again).
    pub reset_ms: Option<f64>,
    /// Ms every call to the origin still waits after a 429's `retry-after` or spent tokens.
    pub blocked_ms: Option<f64>,
}

/// The client-side rate limits' figures (`rateLimit`).
#[napi(object)]
pub struct NativeRateLimitStats {
    /// Attempts that were queued for their turn (a wait above 0).
    pub waited_calls: f64,
    /// Their waits added up, in ms.
    pub wait_ms_total: f64,
    /// The longest wait, in ms.
    pub wait_ms_max: f64,
    /// Attempts refused at once past `maxQueueMs` (`LocalRateLimitError`).
    pub refused_calls: f64,
    /// Requests that may go at once now (absent without `requestsPerMinute`).
    pub requests_remaining: Option<f64>,
    /// Estimated tokens that may go at once now (absent without `tokensPerMinute`).
    pub tokens_remaining: Option<f64>,
    /// `local` (this client's buckets) or `redis` (as of this client's latest reservation in Redis).
    pub budget_source: String,
    /// Per origin that sent rate-limit headers (empty when `adaptive` is off).
    pub adaptive: Vec<NativeAdaptiveBudget>,
    /// Times Redis was down (`rateLimit.redis`: a connection error, or no answer within 2 s).
    pub redis_outages: f64,
    /// Calls admitted by the local fallback share instead of Redis.
    pub redis_fallback_calls: f64,
}

/// Live counters of an engine (for metrics and leak checks).
#[napi(object)]
pub struct NativeEngineStats {
    /// Buffered requests not yet settled.
    pub requests_in_flight: u32,
    /// Streams whose native side is still open.
    pub streams_open: u32,
    /// Requests and streams started.
    pub requests_total: f64,
    /// Retries made.
    pub retries_total: f64,
    /// The circuit breakers of the origins called (empty when the breaker is off).
    pub circuits: Vec<NativeCircuit>,
    /// Times Redis (`rateLimit.redis`) was down: a connection error, or no answer within 2 s (each: 5 s on the fallback).
    pub shared_limit_outages: f64,
    /// Calls admitted by the local fallback share instead of Redis.
    pub shared_limit_fallback_calls: f64,
    /// The endpoints (`endpoints` option) in the order given; empty without them.
    pub endpoints: Vec<NativeEndpoint>,
    /// The rate limits' figures; absent when `rateLimit` is off.
    pub rate_limit: Option<NativeRateLimitStats>,
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rate_limit(s: LimiterStats) -> NativeRateLimitStats {
    NativeRateLimitStats {
        waited_calls: s.waited_calls as f64,
        wait_ms_total: ms(s.wait_total),
        wait_ms_max: ms(s.wait_max),
        refused_calls: s.refused_calls as f64,
        requests_remaining: s.requests_remaining.map(|n| n as f64),
        tokens_remaining: s.tokens_remaining.map(|n| n as f64),
        budget_source: s.budget_source.as_str().to_owned(),
        adaptive: s
            .adaptive
            .into_iter()
            .map(|a| NativeAdaptiveBudget {
                origin: a.origin,
                limit: a.limit.map(|n| n as f64),
                remaining: a.remaining.map(|n| n as f64),
                reset_ms: a.reset.map(ms),
                blocked_ms: a.blocked.map(ms),
            })
            .collect(),
        redis_outages: s.shared_outages as f64,
        redis_fallback_calls: s.shared_fallback_calls as f64,
    }
}

/// The stats of `engine`.
pub(crate) fn stats_of(engine: &Engine) -> NativeEngineStats {
    let s = engine.stats();
    NativeEngineStats {
        requests_in_flight: s.requests_in_flight as u32,
        streams_open: s.streams_open as u32,
        requests_total: s.requests_total as f64,
        retries_total: s.retries_total as f64,
        shared_limit_outages: s.shared_limit_outages as f64,
        shared_limit_fallback_calls: s.shared_limit_fallback_calls as f64,
        circuits: engine
            .circuits()
            .into_iter()
            .map(|(origin, state)| NativeCircuit { origin, state: state.as_str().to_owned() })
            .collect(),
        endpoints: engine
            .endpoints()
            .into_iter()
            .map(|e| NativeEndpoint {
                base_url: e.base_url,
                weight: e.weight,
                state: e.circuit.map(|c| c.as_str().to_owned()),
                requests: e.requests as f64,
                served: e.served as f64,
                failures: e.failures as f64,
            })
            .collect(),
        rate_limit: engine.limiter_stats().map(rate_limit),
    }
}
