//! `NativeEngine` (one per aiwire client: options, `request()`, `stream()`, stats) and `CancelToken`.

use crate::decode::decode_response;
use crate::request::{ms, pairs, to_spec, NativeRequest};
use crate::settle::{Settled, Settler};
use crate::stream::{NativeStream, StreamOptions};
use aiwire_engine::{
    BreakerConfig, CancellationToken, EndpointConfig, Engine, EngineConfig, ProxySetting, RateLimitConfig,
    RedisLimitConfig,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, OnceLock};

/// Options of one native engine (one per aiwire client). All durations in milliseconds.
#[napi(object)]
pub struct EngineOptions {
    /// Connect timeout (ms). Default 10,000.
    pub connect_timeout_ms: Option<f64>,
    /// Per-attempt timeout (ms). Default 600,000.
    pub timeout_ms: Option<f64>,
    /// Retries after the first attempt. Default 2.
    pub max_retries: Option<u32>,
    /// Largest honoured `retry-after` (ms). Default 60,000.
    pub max_retry_after_ms: Option<f64>,
    /// Backoff before the first retry when the server names no delay (ms; doubled per retry, up to
    /// `retryMaxDelayMs`; jitter shortens it by up to 25 %). Default 500.
    pub retry_min_delay_ms: Option<f64>,
    /// Upper bound of that backoff (ms). Default 8,000. Must not be below `retryMinDelayMs`.
    pub retry_max_delay_ms: Option<f64>,
    /// Headers for every request, as a flat list `[name, value, name, value, ...]`.
    pub default_headers: Option<Vec<String>>,
    /// Query parameters for every request, as a flat list `[name, value, ...]`.
    pub default_query: Option<Vec<String>>,
    /// Idle pooled connections close after this long (ms). Default 4,000.
    pub pool_idle_timeout_ms: Option<f64>,
    /// Most idle connections kept per host. Default 1,024.
    pub pool_max_idle_per_host: Option<u32>,
    /// Use HTTP/2 without negotiation (h2c). Default false.
    pub http2_prior_knowledge: Option<bool>,
    /// Largest SSE event in bytes. Default 64 MiB.
    pub max_event_bytes: Option<f64>,
    /// A stream idle this long (ms, no body bytes) fails with a timeout. Default none.
    pub stream_idle_timeout_ms: Option<f64>,
    /// Extra trusted CA certificates, each a PEM text (may hold several); added to the system roots and
    /// `NODE_EXTRA_CA_CERTS`.
    pub ca: Option<Vec<String>>,
    /// Client certificate chain (PEM) for mutual TLS; needs `key`.
    pub cert: Option<String>,
    /// Client private key (PEM); needs `cert`.
    pub key: Option<String>,
    /// `false` accepts any server certificate (local testing only). Default true.
    pub reject_unauthorized: Option<bool>,
    /// Proxy URL for every request (`http://`, `https://`, `socks5://`, `socks5h://`; credentials in the
    /// URL). Default: from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`; `NO_PROXY` applies either way.
    pub proxy: Option<String>,
    /// `true`: no proxy at all, whatever the environment says. Default false.
    pub proxy_off: Option<bool>,
    /// Circuit breaker per origin; absent: off (default).
    pub circuit_breaker: Option<CircuitBreakerOptions>,
    /// Client-side rate limits; absent: off (default).
    pub rate_limit: Option<RateLimitOptions>,
    /// Failover: requests under the first endpoint's base URL spread over these by weight, each
    /// attempt with its endpoint's headers (see `crates/engine/src/transport/failover.rs`). Default none.
    pub endpoints: Option<Vec<EndpointOptions>>,
}

/// One endpoint of the `endpoints` client option.
#[napi(object)]
pub struct EndpointOptions {
    /// Absolute http(s) base URL (origin and path prefix).
    pub base_url: String,
    /// Its headers (credentials), as a flat list `[name, value, ...]`, over the default headers.
    pub headers: Option<Vec<String>>,
    /// Share of the calls relative to the others' weights. Default 1; at least 1.
    pub weight: Option<u32>,
    /// Its own requests per minute (e.g. its key's quota). Default none.
    pub requests_per_minute: Option<u32>,
    /// Its own estimated tokens per minute. Default none.
    pub tokens_per_minute: Option<u32>,
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

/// The `circuitBreaker` client option (see `crates/engine/src/breaker.rs`).
#[napi(object)]
pub struct CircuitBreakerOptions {
    /// Consecutive failures (connection errors, timeouts, 5xx) that open the breaker. Default 5.
    pub failure_threshold: Option<u32>,
    /// How long an open breaker fails calls at once (ms). Default 30,000.
    pub cooldown_ms: Option<f64>,
    /// Calls let through at once as probes while half-open. Default 1.
    pub half_open_probes: Option<u32>,
    /// Successful probes that close it again. Default 1.
    pub success_threshold: Option<u32>,
}

/// The `rateLimit` client option (see `crates/engine/src/limiter.rs`).
#[napi(object)]
pub struct RateLimitOptions {
    /// Requests (attempts) per minute; burst at most one second's worth. Default none.
    pub requests_per_minute: Option<u32>,
    /// Estimated tokens per minute (body bytes / 4 + `max_tokens`); burst one second's worth. Default none.
    pub tokens_per_minute: Option<u32>,
    /// Longest wait for a turn (ms); longer fails at once with `rate_limited_locally`. Default none: wait.
    pub max_queue_ms: Option<f64>,
    /// Pace calls from the servers' rate-limit headers. Default false.
    pub adaptive: Option<bool>,
    /// Hold the budgets in Redis, shared by every process using the same key. Default none.
    pub redis: Option<RedisLimitOptions>,
}

/// The `rateLimit.redis` client option (see `crates/engine/src/limiter/shared.rs`).
#[napi(object)]
pub struct RedisLimitOptions {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Key prefix (`:requests` / `:tokens` appended). Default `aiwire:ratelimit:<request origin>`.
    pub key: Option<String>,
    /// Fraction (0, 1] of each rate kept while Redis is unreachable. Default 0.25.
    pub fallback_share: Option<f64>,
}

/// One origin's circuit breaker, in stats.
#[napi(object)]
pub struct NativeCircuit {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// `closed`, `open` or `half-open`.
    pub state: String,
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
    /// Times Redis (`rateLimit.redis`) was unreachable or slow (each: 5 s on the local fallback share).
    pub shared_limit_outages: f64,
    /// Calls admitted by the local fallback share instead of Redis.
    pub shared_limit_fallback_calls: f64,
    /// The endpoints (`endpoints` option) in the order given; empty without them.
    pub endpoints: Vec<NativeEndpoint>,
}

/// A cancellation handle passed to `request()`/`stream()`; `cancel()` aborts the request at once and
/// closes its connection. Cancelling twice is harmless.
#[napi]
pub struct CancelToken {
    pub(crate) token: CancellationToken,
}

#[napi]
impl CancelToken {
    /// A new, not yet cancelled token.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken { token: CancellationToken::new() }
    }

    /// Cancel every request this token was given to.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel()` was called.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// The native HTTP engine of one client: its defaults and retry policy over the connection pool it
/// shares with every client of the same transport settings. Its few KiB of native memory are reported
/// to V8 while it lives.
#[napi(custom_finalize)]
pub struct NativeEngine {
    engine: Arc<Engine>,
    /// This environment's settle queue, looked up on the first request.
    settler: OnceLock<Arc<Settler>>,
    /// Cancelled by `close()` (and, as its child, by the environment's cleanup): stops every request
    /// and stream of this engine.
    root: CancellationToken,
    /// Bytes reported with `napi_adjust_external_memory`, given back when collected.
    external: i64,
}

impl ObjectFinalize for NativeEngine {
    fn finalize(self, env: Env) -> Result<()> {
        env.adjust_external_memory(-self.external)?;
        Ok(())
    }
}

/// What an engine's cache of parsed URLs may hold (16 entries of ~200 bytes).
const ENGINE_URL_CACHE_BYTES: usize = 16 * 200;

impl NativeEngine {
    /// Throws once `close()` was called.
    fn check_open(&self) -> Result<()> {
        if self.root.is_cancelled() {
            return Err(Error::new(
                Status::GenericFailure,
                "aiwire: this client was closed (client.close()); create a new client",
            ));
        }
        Ok(())
    }

    /// A token cancelled by `close()` (or the environment's cleanup) and, when given, by `cancel`.
    fn linked_token(&self, cancel: Option<&CancelToken>) -> Result<CancellationToken> {
        let token = self.root.child_token();
        if let Some(user) = cancel {
            let (user, linked) = (user.token.clone(), token.clone());
            crate::runtime::handle()?.spawn(async move {
                tokio::select! {
                    _ = user.cancelled() => linked.cancel(),
                    _ = linked.cancelled() => {}
                }
            });
        }
        Ok(token)
    }

    /// This environment's settle queue (set by `setSettleCallback`), cached after the first call.
    fn settler(&self, env: &Env) -> Result<Arc<Settler>> {
        if let Some(s) = self.settler.get() {
            return Ok(s.clone());
        }
        let s = env.get_instance_data::<Arc<Settler>>()?.map(|s| s.clone()).ok_or_else(|| {
            Error::new(Status::GenericFailure, "aiwire: setSettleCallback() was not called")
        })?;
        Ok(self.settler.get_or_init(|| s).clone())
    }
}

#[napi]
impl NativeEngine {
    /// Build an engine. Throws `InvalidArg` for a negative or non-finite duration or an invalid default
    /// header.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<EngineOptions>) -> Result<Self> {
        let mut config = EngineConfig::default();
        if let Some(o) = options {
            if let Some(d) = ms(o.connect_timeout_ms, "connectTimeout")? {
                config.connect_timeout = d;
            }
            if let Some(d) = ms(o.timeout_ms, "timeout")? {
                config.timeout = d;
            }
            if let Some(n) = o.max_retries {
                config.max_retries = n;
            }
            if let Some(d) = ms(o.max_retry_after_ms, "maxRetryAfter")? {
                config.max_retry_after = d;
            }
            if let Some(d) = ms(o.retry_min_delay_ms, "retryMinDelay")? {
                config.retry_min_delay = d;
            }
            if let Some(d) = ms(o.retry_max_delay_ms, "retryMaxDelay")? {
                config.retry_max_delay = d;
            }
            if config.retry_min_delay > config.retry_max_delay {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!(
                        "retryMinDelay ({} ms) must not be above retryMaxDelay ({} ms)",
                        config.retry_min_delay.as_millis(),
                        config.retry_max_delay.as_millis()
                    ),
                ));
            }
            config.default_headers = pairs(o.default_headers);
            config.default_query = pairs(o.default_query);
            if let Some(d) = ms(o.pool_idle_timeout_ms, "poolIdleTimeout")? {
                config.pool_idle_timeout = d;
            }
            if let Some(n) = o.pool_max_idle_per_host {
                config.pool_max_idle_per_host = n as usize;
            }
            config.http2_prior_knowledge = o.http2_prior_knowledge.unwrap_or(false);
            config.stream_idle_timeout = ms(o.stream_idle_timeout_ms, "streamIdleTimeout")?;
            if let Some(n) = o.max_event_bytes {
                if !(n.is_finite() && n >= 1.0) {
                    return Err(Error::new(
                        Status::InvalidArg,
                        "maxEventBytes must be a positive number of bytes",
                    ));
                }
                config.max_event_bytes = n as usize;
            }
            config.tls.ca = o.ca.unwrap_or_default().into_iter().map(String::into_bytes).collect();
            config.tls.cert = o.cert.map(String::into_bytes);
            config.tls.key = o.key.map(String::into_bytes);
            config.tls.insecure = o.reject_unauthorized == Some(false);
            config.proxy = match (o.proxy_off, o.proxy) {
                (Some(true), _) => ProxySetting::Off,
                (_, Some(url)) => ProxySetting::Url(url),
                _ => ProxySetting::FromEnv,
            };
            if let Some(b) = o.circuit_breaker {
                let d = BreakerConfig::default();
                let positive = |n: Option<u32>, what: &str, default: u32| match n {
                    Some(0) => {
                        Err(Error::new(Status::InvalidArg, format!("circuitBreaker.{what} must be >= 1")))
                    }
                    n => Ok(n.unwrap_or(default)),
                };
                config.circuit_breaker = Some(BreakerConfig {
                    failure_threshold: positive(
                        b.failure_threshold,
                        "failureThreshold",
                        d.failure_threshold,
                    )?,
                    cooldown: ms(b.cooldown_ms, "circuitBreaker.cooldownMs")?.unwrap_or(d.cooldown),
                    half_open_probes: positive(b.half_open_probes, "halfOpenProbes", d.half_open_probes)?,
                    success_threshold: positive(
                        b.success_threshold,
                        "successThreshold",
                        d.success_threshold,
                    )?,
                });
            }
            if let Some(r) = o.rate_limit {
                for (n, what) in
                    [(r.requests_per_minute, "requestsPerMinute"), (r.tokens_per_minute, "tokensPerMinute")]
                {
                    if n == Some(0) {
                        return Err(Error::new(Status::InvalidArg, format!("rateLimit.{what} must be >= 1")));
                    }
                }
                config.rate_limit = RateLimitConfig {
                    requests_per_minute: r.requests_per_minute,
                    tokens_per_minute: r.tokens_per_minute,
                    max_queue: ms(r.max_queue_ms, "rateLimit.maxQueueMs")?,
                    adaptive: r.adaptive.unwrap_or(false),
                    redis: r.redis.map(|x| RedisLimitConfig {
                        url: x.url,
                        key: x.key,
                        fallback_share: x.fallback_share.unwrap_or(0.25),
                    }),
                };
            }
            config.endpoints = o
                .endpoints
                .unwrap_or_default()
                .into_iter()
                .map(|e| EndpointConfig {
                    base_url: e.base_url,
                    headers: pairs(e.headers),
                    weight: e.weight.unwrap_or(1),
                    requests_per_minute: e.requests_per_minute,
                    tokens_per_minute: e.tokens_per_minute,
                })
                .collect();
        }
        let _entered = crate::runtime::handle()?.enter();
        let external = (std::mem::size_of::<Engine>()
            + config
                .default_headers
                .iter()
                .chain(&config.default_query)
                .map(|(k, v)| k.len() + v.len() + 48)
                .sum::<usize>()
            + ENGINE_URL_CACHE_BYTES) as i64;
        let engine = Engine::new(config).map_err(|e| Error::new(Status::InvalidArg, e.message))?;
        let settler = env.get_instance_data::<Arc<Settler>>()?.cloned();
        let root = settler.as_ref().map(|s| s.root.child_token()).unwrap_or_default();
        let cell = OnceLock::new();
        if let Some(s) = settler {
            let _ = cell.set(s);
        }
        env.adjust_external_memory(external)?;
        Ok(NativeEngine { engine: Arc::new(engine), settler: cell, root, external })
    }

    /// Stop every request and stream of this engine now (they fail as aborted; connections closed);
    /// later calls throw. The shared pool stays for other clients. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.root.cancel();
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.root.is_cancelled()
    }

    /// The proxies this engine's requests may go through, credentials redacted (`undefined`: direct).
    #[napi(getter)]
    pub fn proxy_label(&self) -> Option<String> {
        self.engine.proxy_label().map(str::to_owned)
    }

    /// Why `NODE_EXTRA_CA_CERTS` was ignored, if it is set and could not be used (`undefined` otherwise).
    #[napi]
    pub fn extra_ca_certs_problem() -> Option<String> {
        aiwire_engine::tls::extra_ca_certs_problem().map(str::to_owned)
    }

    /// Send one request with retries. Returns at once; the outcome (response or error, never both,
    /// exactly once) reaches the callback given to `setSettleCallback` as the `id`'s slots of a settled
    /// batch. Throws synchronously for an invalid method, timeout, body combination or decoder, or if
    /// no settle callback is set. A streamed body's file that can not be opened settles with errorKind
    /// `invalid_request`.
    #[napi]
    pub fn request(
        &self,
        env: &Env,
        id: u32,
        req: NativeRequest<'_>,
        cancel: Option<&CancelToken>,
    ) -> Result<()> {
        let settler = self.settler(env)?;
        self.check_open()?;
        let converted = to_spec(req)?;
        let (spec, text, decode) = (converted.spec, converted.text, converted.decode);
        let engine = self.engine.clone();
        let linked = cancel.is_some();
        // A child of the engine's root, itself a child of the environment's: `close()` and the
        // environment's cleanup cancel it, and the request ends as aborted (no select per request).
        let token = self.linked_token(cancel)?;
        crate::runtime::handle()?.spawn(async move {
            let outcome = engine.send(&spec, &token).await;
            if linked {
                // Done with the token: ends the task that linked it to the caller's CancelToken.
                token.cancel();
            }
            let settled = match (outcome, decode) {
                (Ok(r), Some(decode)) => decode_response(id, text, r, decode).await,
                (outcome, _) => Settled::new(id, text, outcome),
            };
            settler.push(settled);
        });
        Ok(())
    }

    /// The engine's live counters.
    #[napi]
    pub fn stats(&self) -> NativeEngineStats {
        let s = self.engine.stats();
        NativeEngineStats {
            requests_in_flight: s.requests_in_flight as u32,
            streams_open: s.streams_open as u32,
            requests_total: s.requests_total as f64,
            retries_total: s.retries_total as f64,
            shared_limit_outages: s.shared_limit_outages as f64,
            shared_limit_fallback_calls: s.shared_limit_fallback_calls as f64,
            circuits: self
                .engine
                .circuits()
                .into_iter()
                .map(|(origin, state)| NativeCircuit { origin, state: state.as_str().to_owned() })
                .collect(),
            endpoints: self
                .engine
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
        }
    }

    /// Start a streamed response (server-sent events, or raw bytes with `options.raw`); returns its
    /// stream handle at once. The response head (or the failure to get one, after retries) reaches the
    /// settle callback as `id`'s slots, like a request's outcome, with no body for a 2xx head: then read
    /// the events (or bytes) with `nextBatch()`. Throws synchronously for an invalid method, timeout or
    /// body combination, or if no settle callback is set.
    #[napi]
    pub fn stream(
        &self,
        env: &Env,
        id: u32,
        req: NativeRequest<'_>,
        cancel: Option<&CancelToken>,
        options: Option<StreamOptions>,
    ) -> Result<NativeStream> {
        let settler = self.settler(env)?;
        self.check_open()?;
        let spec = to_spec(req)?.spec;
        let token = self.linked_token(cancel)?;
        NativeStream::spawn(self.engine.clone(), settler, id, spec, token, options.unwrap_or_default())
    }
}
