//! `NativeEngine` (one per aiwire client: options, `request()`, `stream()`, stats) and `CancelToken`.

use crate::decode::decode_response;
use crate::request::{ms, pairs, to_spec, NativeRequest};
use crate::settle::{Settled, Settler};
use crate::stream::{NativeStream, StreamOptions};
use aiwire_engine::{CancellationToken, Engine, EngineConfig};
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

/// The native HTTP engine of one client: a connection pool plus the retry policy.
#[napi]
pub struct NativeEngine {
    engine: Arc<Engine>,
    /// This environment's settle queue, looked up on the first request.
    settler: OnceLock<Arc<Settler>>,
}

impl NativeEngine {
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
    pub fn new(options: Option<EngineOptions>) -> Result<Self> {
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
        }
        let _entered = crate::runtime::handle()?.enter();
        let engine = Engine::new(config).map_err(|e| Error::new(Status::InvalidArg, e.message))?;
        Ok(NativeEngine { engine: Arc::new(engine), settler: OnceLock::new() })
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
        let converted = to_spec(req)?;
        let (spec, text, decode) = (converted.spec, converted.text, converted.decode);
        let engine = self.engine.clone();
        let token = cancel.map(|c| c.token.clone()).unwrap_or_default();
        let root = settler.root.clone();
        crate::runtime::spawn_in_env(&root, async move {
            let settled = match (engine.send(&spec, &token).await, decode) {
                (Ok(r), Some(decode)) => decode_response(id, text, r, decode).await,
                (outcome, _) => Settled::new(id, text, outcome),
            };
            settler.push(settled);
        })
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
        let spec = to_spec(req)?.spec;
        let token = cancel.map(|c| c.token.child_token()).unwrap_or_default();
        NativeStream::spawn(self.engine.clone(), settler, id, spec, token, options.unwrap_or_default())
    }
}
