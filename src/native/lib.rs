//! The Node-API boundary of aiwire (napi-rs). Glue only: converts JS values to engine types and back.
//!
//! Rules (see ARCHITECTURE.md): one crossing per request, one per batch of stream events; every method
//! takes `&self`; cancellation fires a `CancellationToken`; streams are bounded channels.
#![deny(clippy::all)]

pub mod settle;
mod stream;

use aiwire_engine::{CancellationToken, Engine, EngineConfig, HeaderMap, Idempotency, Method, RequestSpec};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use settle::{Settled, Settler};

pub use stream::{NativeBatch, NativeEvent, NativeStream, StreamOptions};

/// mimalloc instead of glibc malloc: the engine allocates per request and per event chunk on two
/// threads, where glibc's arenas spent ~10% of CPU (perf, non-streaming C=64).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay` (the enum is append-only: deprecated entries keep their slots).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS after 1 s instead of mimalloc's 10 ms: embeddings responses
/// (3.3 MB bodies, 1.2 MB of decoded values) otherwise fault fresh pages in on every request
/// (200 requests at C=8: 135-140 -> 149-155 req/s, system CPU 2.6-3.0 -> ~1.5 ms per request).
/// `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn set_allocator_options() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; mimalloc reads options atomically.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
}

/// The tokio runtime the engine runs on: `AIWIRE_WORKER_THREADS` workers (default 1: on small boxes one
/// worker beside the JS thread avoids cross-thread wake-ups; HTTP work per request is small).
#[napi_derive::module_init]
fn init() {
    set_allocator_options();
    let workers =
        std::env::var("AIWIRE_WORKER_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name("aiwire-engine")
        .enable_all()
        .build()
        .expect("aiwire: could not start the tokio runtime");
    napi::bindgen_prelude::create_custom_tokio_runtime(rt);
}

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

/// One request as described by the TypeScript layer.
#[napi(object)]
pub struct NativeRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Per-request headers, flat `[name, value, ...]`.
    pub headers: Option<Vec<String>>,
    /// Client default headers (lower-case names) not to send with this request.
    pub remove_headers: Option<Vec<String>>,
    /// Body: a string (JSON) or a Buffer (binary).
    pub body: Option<Either<String, Buffer>>,
    /// Per-attempt timeout override (ms).
    pub timeout_ms: Option<f64>,
    /// Retry count override.
    pub max_retries: Option<u32>,
    /// `undefined`: automatic key for non-GET requests; `""`: no key; any other string: that key.
    pub idempotency_key: Option<String>,
    /// Hand the response body over as a string (UTF-8 text such as JSON) instead of a Buffer.
    /// Default false. A body that is not valid UTF-8 still comes as a Buffer.
    pub text_body: Option<bool>,
    /// `"embeddings"`: decode an OpenAI embeddings body in the engine: the vectors come as one
    /// Float64Array plus offsets, the body without them as text (each `embedding` replaced by `0`) and
    /// the original body as a Buffer. A body that does not decode is handed over as usual. Default: no
    /// decoding.
    pub decode: Option<String>,
}

fn ms(v: Option<f64>, what: &str) -> Result<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(Duration::from_secs_f64(x / 1000.0))),
        Some(x) => Err(Error::new(
            Status::InvalidArg,
            format!("{what} must be a finite number of milliseconds >= 0, got {x}"),
        )),
    }
}

fn pairs(flat: Option<Vec<String>>) -> Vec<(String, String)> {
    let mut it = flat.unwrap_or_default().into_iter();
    let mut out = Vec::with_capacity(it.len() / 2);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// Headers as one string `name\nvalue\nname\nvalue` (one crossing instead of two strings per header;
/// `HeaderValue`s never contain `\n`, so JS splits it back into the flat list).
pub(crate) fn flat_headers_text(map: &HeaderMap) -> String {
    let mut out = String::with_capacity(map.len() * 32);
    for (k, v) in map.iter() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(k.as_str());
        out.push('\n');
        match std::str::from_utf8(v.as_bytes()) {
            Ok(text) => out.push_str(text),
            Err(_) => out.push_str(&String::from_utf8_lossy(v.as_bytes())),
        }
    }
    out
}

fn to_spec(req: NativeRequest) -> Result<RequestSpec> {
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|_| Error::new(Status::InvalidArg, format!("invalid HTTP method {:?}", req.method)))?;
    let mut spec = RequestSpec::new(method, req.url);
    spec.headers = pairs(req.headers);
    spec.remove_headers = req.remove_headers.unwrap_or_default();
    spec.body = req.body.map(|b| match b {
        Either::A(s) => bytes::Bytes::from(s.into_bytes()),
        Either::B(buf) => bytes::Bytes::copy_from_slice(&buf),
    });
    spec.timeout = ms(req.timeout_ms, "timeout")?;
    spec.max_retries = req.max_retries;
    spec.idempotency = match req.idempotency_key {
        None => Idempotency::Auto,
        Some(k) if k.is_empty() => Idempotency::Disabled,
        Some(k) => Idempotency::Key(k),
    };
    Ok(spec)
}

/// Bodies above this many bytes are decoded on the decode threads (`decode_on_pool`), not on the
/// engine's worker (a 3.3 MB float body takes ~8 ms, which would stall every other connection of it).
const DECODE_INLINE_MAX: usize = 64 * 1024;

/// Threads that decode large embeddings bodies off the engine's worker: the machine's cores, at least 2.
/// Dedicated rather than tokio's blocking pool, because every thread keeps its own allocator heap:
/// letting each concurrent decode take a pool thread left ~20 heaps holding freed multi-megabyte buffers
/// (peak RSS 540-640 MB at C=8 and still growing over 800 requests, against ~330 with two threads).
fn decode_on_pool(job: Box<dyn FnOnce() + Send>) {
    type Jobs = std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>;
    static POOL: OnceLock<Jobs> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned =
                std::thread::Builder::new().name(format!("aiwire-decode-{i}")).spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the sender is gone
                    }
                });
            if spawned.is_err() {
                break; // fewer threads; with none, jobs are dropped and decoding falls back (see caller)
            }
        }
        tx
    });
    let _ = pool.send(job);
}

/// A 2xx embeddings response with its vectors decoded (just the response if the body does not decode).
/// The original body is handed over as a Buffer (for `asResponse()`), not as text: JS parses the small
/// rest instead.
async fn decode_embeddings(id: u32, text: bool, r: aiwire_engine::Response) -> Settled {
    let body = r.body.clone();
    let decoded = if body.len() > DECODE_INLINE_MAX {
        let (tx, rx) = tokio::sync::oneshot::channel();
        decode_on_pool(Box::new(move || {
            let _ = tx.send(aiwire_engine::embeddings::decode_embeddings(&body).ok());
        }));
        // A dropped job (no decode thread could start) hands the body over undecoded.
        rx.await.ok().flatten()
    } else {
        aiwire_engine::embeddings::decode_embeddings(&body).ok()
    };
    match decoded {
        Some(d) => Settled::new(id, false, Ok(r)).with_vectors(d.values, d.offsets, d.json),
        None => Settled::new(id, text, Ok(r)),
    }
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
        let engine = napi::bindgen_prelude::within_runtime_if_available(|| Engine::new(config))
            .map_err(|e| Error::new(Status::InvalidArg, e.message))?;
        Ok(NativeEngine { engine: Arc::new(engine), settler: OnceLock::new() })
    }

    /// Send one request with retries. Returns at once; the outcome (response or error, never both,
    /// exactly once) reaches the callback given to `setSettleCallback` as the `id`'s slots of a settled
    /// batch. Throws synchronously for an invalid method or timeout, or if no settle callback is set.
    #[napi]
    pub fn request(
        &self,
        env: &Env,
        id: u32,
        req: NativeRequest,
        cancel: Option<&CancelToken>,
    ) -> Result<()> {
        let settler = self.settler(env)?;
        let text = req.text_body.unwrap_or(false);
        let embeddings = match req.decode.as_deref() {
            None => false,
            Some("embeddings") => true,
            Some(other) => {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!("unknown decode {other:?} (expected \"embeddings\")"),
                ))
            }
        };
        let spec = to_spec(req)?;
        let engine = self.engine.clone();
        let token = cancel.map(|c| c.token.clone()).unwrap_or_default();
        napi::bindgen_prelude::spawn(async move {
            let settled = match engine.send(&spec, &token).await {
                Ok(r) if embeddings => decode_embeddings(id, text, r).await,
                outcome => Settled::new(id, text, outcome),
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
        }
    }

    /// Start a server-sent-events request; returns its stream handle at once. The response head (or
    /// the failure to get one, after retries) reaches the settle callback as `id`'s slots, like a
    /// request's outcome, with no body for a 2xx head: then read the events with `nextBatch()`. Throws
    /// synchronously for an invalid method or timeout, or if no settle callback is set.
    #[napi]
    pub fn stream(
        &self,
        env: &Env,
        id: u32,
        req: NativeRequest,
        cancel: Option<&CancelToken>,
        options: Option<StreamOptions>,
    ) -> Result<NativeStream> {
        let settler = self.settler(env)?;
        let spec = to_spec(req)?;
        let token = cancel.map(|c| c.token.child_token()).unwrap_or_default();
        Ok(NativeStream::spawn(self.engine.clone(), settler, id, spec, token, options.unwrap_or_default()))
    }
}

/// Register this environment's settle callback (once, by the loader): `callback(settled)` receives
/// every buffered request finished since its last call, as a flat array of `SETTLED_FIELDS` (10) slots
/// per request: `id, status, attempts, headers (names and values joined by line feeds), body (string
/// | Buffer | undefined), errorKind (string | undefined), errorMessage (string | undefined), vectors
/// (Float64Array | undefined), vectorOffsets (Uint32Array | undefined), decodedBody (string |
/// undefined)`. Calling it again replaces the callback for requests started afterwards.
#[napi(
    ts_args_type = "callback: (settled: Array<number | string | Buffer | Float64Array | Uint32Array | undefined>) => void"
)]
pub fn set_settle_callback(env: &Env, callback: Function<'_, settle::SettledBatch, ()>) -> Result<()> {
    let settler = Arc::new(Settler::new(callback)?);
    env.set_instance_data(settler, (), |_| {})
}

/// Keep Node's event loop alive while requests are in flight (`true` on 0 → 1, `false` on → 0).
#[napi]
pub fn settle_keep_alive(env: &Env, on: bool) -> Result<()> {
    match env.get_instance_data::<Arc<Settler>>()? {
        Some(s) => s.keep_alive(env, on),
        None => Err(Error::new(Status::GenericFailure, "aiwire: setSettleCallback() was not called")),
    }
}
