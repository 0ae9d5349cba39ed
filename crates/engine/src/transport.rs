//! Transport: one pooled reqwest client per aiwire client, the retry loop, timeouts and cancellation.
//!
//! [`Engine::send`] makes one logical request (buffered body) with retries; [`Engine::open_stream`]
//! (in `transport/stream.rs`) retries until a 2xx response head and the first event arrive and then
//! hands back an [`SseStream`] that decodes server-sent events chunk by chunk. Retries and back-off
//! sleeps run here, never in JavaScript; so do the circuit breaker and the client-side rate limits
//! (`transport/resilience.rs`) when a client turns them on.

use crate::breaker::{BreakerConfig, CircuitState};
use crate::error::{EngineError, ErrorKind};
use crate::limiter::{Limiter, RateLimitConfig};
use crate::pool::{Transport, TransportKey};
use crate::proxy::ProxySetting;
use crate::retry::{new_idempotency_key, RetryOn, RetryPolicy};
use crate::sse::SseDecoder;
use crate::tls::TlsOptions;
use crate::upload::Upload;

mod failover;
mod resilience;
mod retry_loop;
mod stream;
use bytes::Bytes;
pub use failover::{EndpointConfig, EndpointStats, MAX_ENDPOINTS};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use retry_loop::Attempt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
pub use stream::{SseStream, StreamStart};
use tokio_util::sync::CancellationToken;

/// Options of one engine (one per aiwire client). Durations are wall-clock.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// TCP + TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Per-attempt timeout (until the whole body is read for buffered requests, until the response
    /// head for streams). Default 600 s (10 minutes), as the official SDKs.
    pub timeout: Duration,
    /// Retries after the first attempt. Default 2.
    pub max_retries: u32,
    /// Largest server-requested retry delay (`retry-after`, `retry-after-ms`) that is honoured. Default 60 s.
    pub max_retry_after: Duration,
    /// Backoff before the first retry when the server names no delay (doubled for each later retry,
    /// jitter shortens it by up to 25 %). Default 500 ms ([`crate::retry::INITIAL_RETRY_DELAY`]).
    pub retry_min_delay: Duration,
    /// Upper bound of that backoff. Default 8 s ([`crate::retry::MAX_RETRY_DELAY`]).
    pub retry_max_delay: Duration,
    /// Headers sent with every request (e.g. `authorization`, `user-agent`).
    pub default_headers: Vec<(String, String)>,
    /// Query parameters appended to every request URL.
    pub default_query: Vec<(String, String)>,
    /// Idle pooled connections are closed after this long. Default 4 s, shorter than common server
    /// keep-alive timeouts (Node 5 s, nginx 75 s) so a reused socket is rarely one the server closed.
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host. Default 1024.
    pub pool_max_idle_per_host: usize,
    /// Speak HTTP/2 without negotiation (h2c) — for HTTP/2-only plaintext peers. Default false; over
    /// TLS, HTTP/2 is negotiated by ALPN regardless.
    pub http2_prior_knowledge: bool,
    /// Largest single SSE event (bytes of data or of one line). Default 64 MiB.
    pub max_event_bytes: usize,
    /// A stream that delivers no body bytes for this long fails with [`ErrorKind::Timeout`].
    /// Default none (only the per-attempt timeout, which covers the response head, applies).
    pub stream_idle_timeout: Option<Duration>,
    /// Trust and client certificates. Default: the system roots plus `NODE_EXTRA_CA_CERTS`.
    pub tls: TlsOptions,
    /// Proxy: from the environment (default), off, or one URL.
    pub proxy: ProxySetting,
    /// Circuit breaker per origin ([`crate::breaker`]). Default none (off).
    pub circuit_breaker: Option<BreakerConfig>,
    /// Client-side rate limits ([`crate::limiter`]). Default: none (off).
    pub rate_limit: RateLimitConfig,
    /// Failover across endpoints (`transport/failover.rs`): requests under the first one's base URL are
    /// spread over them by weight, each attempt with its endpoint's headers. Default none.
    pub endpoints: Vec<EndpointConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(600),
            max_retries: crate::retry::DEFAULT_MAX_RETRIES,
            max_retry_after: crate::retry::DEFAULT_MAX_RETRY_AFTER,
            retry_min_delay: crate::retry::INITIAL_RETRY_DELAY,
            retry_max_delay: crate::retry::MAX_RETRY_DELAY,
            default_headers: Vec::new(),
            default_query: Vec::new(),
            pool_idle_timeout: Duration::from_secs(4),
            pool_max_idle_per_host: 1024,
            http2_prior_knowledge: false,
            max_event_bytes: SseDecoder::DEFAULT_MAX_EVENT_BYTES,
            stream_idle_timeout: None,
            tls: TlsOptions::default(),
            proxy: ProxySetting::default(),
            circuit_breaker: None,
            rate_limit: RateLimitConfig::default(),
            endpoints: Vec::new(),
        }
    }
}

impl EngineConfig {
    /// The settings that decide which shared pool this engine uses.
    pub fn transport_key(&self) -> TransportKey {
        TransportKey {
            connect_timeout: self.connect_timeout,
            pool_idle_timeout: self.pool_idle_timeout,
            pool_max_idle_per_host: self.pool_max_idle_per_host,
            http2_prior_knowledge: self.http2_prior_knowledge,
            tls: self.tls.clone(),
            proxy: self.proxy.clone(),
        }
    }
}

/// Whether and how a request carries an `Idempotency-Key` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Idempotency {
    /// A fresh key for every logical non-GET/HEAD request, reused by its retries (default).
    #[default]
    Auto,
    /// No key.
    Disabled,
    /// This key (sent for any method).
    Key(String),
}

/// One logical request.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// HTTP method, e.g. `GET`, `POST`.
    pub method: Method,
    /// Absolute URL (`http` or `https`), possibly with a query string.
    pub url: String,
    /// Extra query parameters (appended after the URL's own and the defaults).
    pub query: Vec<(String, String)>,
    /// Per-request headers; they replace default headers of the same name.
    pub headers: Vec<(String, String)>,
    /// Default headers (lower-case names) not to send with this request (openai-node's
    /// `headers: { name: null }`). Headers in `headers` are still sent.
    pub remove_headers: Vec<String>,
    /// Request body bytes, sent as is.
    pub body: Option<Bytes>,
    /// A streamed body (a file, a channel, multipart parts; see [`crate::upload`]). When set it is sent
    /// instead of `body`. A body holding a channel is read once: the request then makes exactly one
    /// attempt (no retry, no resend on a stale connection).
    pub upload: Option<Upload>,
    /// Per-attempt timeout override.
    pub timeout: Option<Duration>,
    /// Retry count override.
    pub max_retries: Option<u32>,
    /// Which failures are retried. Default [`RetryOn::Any`]; [`RetryOn::RateLimitOnly`] retries a 429
    /// only and never resends after a dropped connection (the server may have acted on the request).
    pub retry_on: RetryOn,
    /// Idempotency key handling.
    pub idempotency: Idempotency,
    /// Record every failed attempt and what followed (for debug logs): see [`Response::trace`].
    pub trace: bool,
    /// This request's handling by the client-side rate limits (off, or another `max_queue`). Default
    /// [`RequestLimit::Client`].
    pub rate_limit: crate::limiter::RequestLimit,
    /// Whether the circuit breaker applies. `false`: sent even when the origin's breaker is open, and its
    /// outcome is not recorded (a health check or probe that neither waits for the breaker nor moves it).
    /// Default true.
    pub circuit_breaker: bool,
    /// With `endpoints`: the URL is one a server returned (a `next` page, a resource's URL), so every
    /// attempt goes to the endpoint whose base URL (else origin) it is on, with that endpoint's headers,
    /// even the first endpoint's (not spread over the endpoints: a cursor or resource is that
    /// endpoint's). Ignored without endpoints. Default false.
    pub pin_endpoint: bool,
}

impl RequestSpec {
    /// A request with no body, headers or overrides.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        RequestSpec {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            remove_headers: Vec::new(),
            body: None,
            upload: None,
            timeout: None,
            max_retries: None,
            retry_on: RetryOn::Any,
            idempotency: Idempotency::Auto,
            trace: false,
            rate_limit: crate::limiter::RequestLimit::Client,
            circuit_breaker: true,
            pin_endpoint: false,
        }
    }
}

/// A complete 2xx response.
#[derive(Debug)]
pub struct Response {
    /// HTTP status (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body, decompressed.
    pub body: Bytes,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// With [`RequestSpec::trace`]: one line per failed attempt before this response, tab-separated:
    /// attempt number, status (0: none), duration (ms), `retry` or `resend`, wait before the next
    /// attempt (ms), the error's message when there was no status.
    pub trace: Option<String>,
}

/// The HTTP engine of one client: its defaults and retry policy over a connection pool shared with every
/// engine of the same transport settings ([`crate::pool`]). Cheap to share behind an `Arc`; every
/// method takes `&self`.
pub struct Engine {
    transport: Arc<Transport>,
    config: EngineConfig,
    default_headers: HeaderMap,
    stats: Arc<Counters>,
    /// Recently parsed URLs, most recent first: a client calls a handful of endpoints, and parsing
    /// (with IDNA host processing) was ~3.5% of a request's CPU (perf, C=64).
    urls: std::sync::Mutex<Vec<(Box<str>, reqwest::Url)>>,
    /// The breaker and limits, when the client turned either on.
    resilience: Option<resilience::Resilience>,
    /// The endpoints, when the client listed some.
    failover: Option<failover::Failover>,
}

/// Most URLs kept parsed per engine.
const URL_CACHE_ENTRIES: usize = 16;

/// Live counters of one engine (see [`Engine::stats`]).
#[derive(Debug, Default)]
struct Counters {
    requests_in_flight: AtomicU64,
    streams_open: AtomicU64,
    requests_total: AtomicU64,
    retries_total: AtomicU64,
}

/// A snapshot of an engine's counters, for metrics and for leak checks in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineStats {
    /// Buffered requests started and not yet settled (including their retry back-offs).
    pub requests_in_flight: u64,
    /// Streams opened and not yet dropped (their connection may still be open).
    pub streams_open: u64,
    /// Logical requests and streams started since the engine was built.
    pub requests_total: u64,
    /// Retries made since the engine was built (attempts beyond the first).
    pub retries_total: u64,
    /// Times Redis (`rateLimit.redis`) was found unreachable or slow; 0 without it.
    pub shared_limit_outages: u64,
    /// Calls admitted by the local fallback share while Redis was unreachable; 0 without it.
    pub shared_limit_fallback_calls: u64,
}

/// Decrements a counter when dropped (on every exit path, cancellation included).
struct Gauge(Arc<Counters>, fn(&Counters) -> &AtomicU64);

impl Gauge {
    fn new(counters: &Arc<Counters>, field: fn(&Counters) -> &AtomicU64) -> Self {
        field(counters).fetch_add(1, Ordering::Relaxed);
        counters.requests_total.fetch_add(1, Ordering::Relaxed);
        Gauge(counters.clone(), field)
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::Relaxed);
    }
}

fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, EngineError> {
    let mut map = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            EngineError::new(ErrorKind::InvalidRequest, format!("invalid header name {name:?}"))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            // The value may be a secret: name the header only.
            EngineError::new(
                ErrorKind::InvalidRequest,
                format!("invalid value for header {name:?} (control characters or non-ASCII)"),
            )
        })?;
        map.insert(name, value);
    }
    Ok(map)
}

impl Engine {
    /// Build an engine from `config`, on the shared pool of its transport settings (built on first use).
    ///
    /// Errors: [`ErrorKind::InvalidRequest`] if a default header, a TLS option or the proxy URL is
    /// invalid, [`ErrorKind::Connection`] if the HTTP client can not be built.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let default_headers = header_map(&config.default_headers)?;
        let transport = crate::pool::shared(&config.transport_key())?;
        let resilience = resilience::Resilience::new(
            config.circuit_breaker,
            Limiter::with_roots(config.rate_limit.clone(), &config.tls.ca)
                .map_err(|e| EngineError::new(ErrorKind::InvalidRequest, e))?,
            config.max_retry_after,
        );
        let failover =
            failover::Failover::new(&config.endpoints, resilience.as_ref(), config.rate_limit.max_queue)?;
        Ok(Engine {
            transport,
            config,
            default_headers,
            stats: Arc::default(),
            urls: Default::default(),
            resilience,
            failover,
        })
    }

    /// The proxies this engine's requests may go through (credentials redacted), if any.
    pub fn proxy_label(&self) -> Option<&str> {
        self.transport.proxy_label.as_deref()
    }

    /// The engine's live counters.
    pub fn stats(&self) -> EngineStats {
        let c = &self.stats;
        let (outages, fallback_calls) =
            self.resilience.as_ref().map_or((0, 0), resilience::Resilience::shared_fallbacks);
        EngineStats {
            shared_limit_outages: outages,
            shared_limit_fallback_calls: fallback_calls,
            requests_in_flight: c.requests_in_flight.load(Ordering::Relaxed),
            streams_open: c.streams_open.load(Ordering::Relaxed),
            requests_total: c.requests_total.load(Ordering::Relaxed),
            retries_total: c.retries_total.load(Ordering::Relaxed),
        }
    }

    /// What the client-side rate limits did and where their budgets stand; `None` when they are off.
    pub fn limiter_stats(&self) -> Option<crate::limiter::stats::LimiterStats> {
        self.resilience.as_ref().and_then(resilience::Resilience::limiter_stats)
    }

    /// The circuit breakers of the origins this engine called (`scheme://host[:port]`, state); empty
    /// when the breaker is off.
    pub fn circuits(&self) -> Vec<(String, CircuitState)> {
        let mut out = self.resilience.as_ref().map(resilience::Resilience::circuits).unwrap_or_default();
        for t in self.failover.iter().flat_map(|f| &f.endpoints).filter_map(|e| e.target.as_ref()) {
            if let Some(state) = t.circuit().filter(|_| !out.iter().any(|(o, _)| o == t.origin())) {
                out.push((t.origin().to_owned(), state));
            }
        }
        out
    }

    /// The endpoints' figures (`endpoints` option), in the order given; empty without endpoints.
    pub fn endpoints(&self) -> Vec<EndpointStats> {
        self.failover.as_ref().map(failover::Failover::stats).unwrap_or_default()
    }

    /// The configuration this engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The request of one attempt: to `spec.url`, or, for an attempt routed to an endpoint, to `url`
    /// with the endpoint's headers over the defaults.
    fn build_request(
        &self,
        spec: &RequestSpec,
        endpoint: Option<(&str, &HeaderMap)>,
        extra: &HeaderMap,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::Request, EngineError> {
        let mut url = self.parse_url(endpoint.map_or(&spec.url, |(url, _)| url))?;
        if !self.config.default_query.is_empty() || !spec.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in self.config.default_query.iter().chain(spec.query.iter()) {
                pairs.append_pair(k, v);
            }
        }
        let mut req = reqwest::Request::new(spec.method.clone(), url);
        let headers = req.headers_mut();
        headers.reserve(self.default_headers.len() + extra.len() + 1);
        for (k, v) in self.default_headers.iter() {
            headers.insert(k.clone(), v.clone());
        }
        if let Some((_, endpoint_headers)) = endpoint {
            for (k, v) in endpoint_headers.iter() {
                headers.insert(k.clone(), v.clone());
            }
        }
        for name in &spec.remove_headers {
            headers.remove(name.as_str());
        }
        for (k, v) in extra.iter() {
            headers.insert(k.clone(), v.clone());
        }
        if let Some(key) = idempotency_key {
            if !headers.contains_key("idempotency-key") {
                let value = HeaderValue::from_str(key).map_err(|_| {
                    EngineError::new(
                        ErrorKind::InvalidRequest,
                        "invalid idempotency key (must be visible ASCII)",
                    )
                })?;
                headers.insert(HeaderName::from_static("idempotency-key"), value);
            }
        }
        if let Some(body) = &spec.body {
            *req.body_mut() = Some(reqwest::Body::from(body.clone()));
        }
        Ok(req)
    }

    /// `text` parsed, from the cache of recent URLs when it is there.
    fn parse_url(&self, text: &str) -> Result<reqwest::Url, EngineError> {
        let mut cache = self.urls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = cache.iter().position(|(k, _)| &**k == text) {
            if i > 0 {
                let hit = cache.remove(i);
                cache.insert(0, hit);
            }
            return Ok(cache[0].1.clone());
        }
        let url = reqwest::Url::parse(text).map_err(|e| {
            EngineError::new(ErrorKind::InvalidRequest, format!("invalid URL: {e}; check baseURL"))
        })?;
        cache.truncate(URL_CACHE_ENTRIES - 1);
        cache.insert(0, (text.into(), url.clone()));
        Ok(url)
    }

    fn idempotency_key(spec: &RequestSpec) -> Option<String> {
        match &spec.idempotency {
            Idempotency::Disabled => None,
            Idempotency::Key(k) => Some(k.clone()),
            Idempotency::Auto => {
                if spec.method == Method::GET || spec.method == Method::HEAD {
                    None
                } else {
                    Some(new_idempotency_key())
                }
            }
        }
    }

    fn policy(&self, spec: &RequestSpec) -> RetryPolicy {
        RetryPolicy {
            max_retries: spec.max_retries.unwrap_or(self.config.max_retries),
            max_retry_after: self.config.max_retry_after,
            min_delay: self.config.retry_min_delay,
            max_delay: self.config.retry_max_delay,
            retry_on: spec.retry_on,
        }
    }

    fn attempt_timeout(&self, spec: &RequestSpec) -> Duration {
        spec.timeout.unwrap_or(self.config.timeout)
    }

    /// Send one logical request and read its whole body, retrying per the policy.
    ///
    /// Returns the 2xx response. Errors: [`ErrorKind::Status`] (with status, headers and body) for a
    /// final non-2xx answer; `Connection`, `Timeout`, `Decode`, `Aborted` (when `cancel` fires; the
    /// connection is dropped at once) and `InvalidRequest`.
    pub async fn send(
        &self,
        spec: &RequestSpec,
        cancel: &CancellationToken,
    ) -> Result<Response, EngineError> {
        let _gauge = Gauge::new(&self.stats, |c| &c.requests_in_flight);
        let timeout = self.attempt_timeout(spec);
        let client = &self.transport.client;
        let (resp, attempts, trace) = self
            .with_retries(spec, cancel, |req| async move {
                let fut = async {
                    let resp = client.execute(req).await.map_err(EngineError::from_send)?;
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            // Keep the head so a decode error can say which response it was.
                            let mut e = EngineError::from_reqwest(e);
                            e.response = Some(Box::new(crate::error::ErrorResponse {
                                status,
                                headers,
                                body: Bytes::new(),
                            }));
                            return Err(e);
                        }
                    };
                    Ok::<_, EngineError>((status, headers, body))
                };
                match tokio::time::timeout(timeout, fut).await {
                    Err(_) => Attempt::Failed(EngineError::new(
                        ErrorKind::Timeout,
                        format!("request timed out after {} ms", timeout.as_millis()),
                    )),
                    Ok(Err(e)) => Attempt::Failed(e),
                    Ok(Ok((status, headers, body))) if (200..300).contains(&status) => {
                        Attempt::Done(Response { status, headers, body, attempts: 0, trace: None })
                    }
                    Ok(Ok((status, headers, body))) => {
                        Attempt::Failed(EngineError::status(status, headers, body))
                    }
                }
            })
            .await?;
        Ok(Response { attempts, trace, ..resp })
    }
}

impl retry_loop::AttemptHead for Response {
    fn head(&self) -> (u16, &HeaderMap) {
        (self.status, &self.headers)
    }

    fn body(&self) -> Option<&[u8]> {
        Some(&self.body)
    }
}
