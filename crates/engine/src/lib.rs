//! aiwire's engine: pure Rust, knows nothing of Node.
//!
//! - [`transport`]: pooled reqwest client, retry loop, timeouts, cancellation.
//! - [`breaker`]: circuit breaker per origin (closed / open / half-open), shared across the process.
//! - [`limiter`]: client-side rate limits (requests and tokens per minute, GCRA with reservations) and
//!   adaptive limits from the servers' rate-limit headers.
//! - [`retry`]: the retry policy (which outcomes retry, how long to wait, idempotency keys).
//! - [`sse`]: WHATWG server-sent-events decoder.
//! - [`error`]: the stable error kinds handed to the boundary.
//! - [`float_vectors`]: decodes a body of `data[*].<field>` float vectors (e.g. embeddings) into flat f64
//!   values plus the small rest as JSON.
//! - [`upload`]: request bodies streamed from disk or from a bounded channel, and multipart framing.
//! - [`pool`]: pooled clients shared by every engine with the same transport settings.
//! - [`proxy`]: the `proxy` option and the proxy environment variables, `NO_PROXY` as curl reads it.
//! - [`tls`]: roots (system + `NODE_EXTRA_CA_CERTS` + `ca`), client certificates, error codes.
//! - [`json_tape`]: stream events' JSON parsed in Rust into a tape JS replays without `JSON.parse`.
pub mod breaker;
pub mod error;
pub mod float_vectors;
pub mod json_tape;
pub mod limiter;
pub mod pool;
pub mod proxy;
pub mod retry;
pub mod sse;
pub mod tls;
pub mod transport;
pub mod upload;

pub use breaker::{BreakerConfig, CircuitState};
pub use error::{EngineError, ErrorKind, ErrorResponse};
pub use limiter::shared::RedisLimitConfig;
pub use limiter::RateLimitConfig;
pub use pool::TransportKey;
pub use proxy::ProxySetting;
pub use reqwest::header::HeaderMap;
pub use reqwest::Method;
pub use retry::RetryOn;
pub use tls::TlsOptions;
pub use tokio_util::sync::CancellationToken;
pub use transport::{
    EndpointConfig, EndpointStats, Engine, EngineConfig, EngineStats, Idempotency, RequestSpec, Response,
    SseStream, StreamStart,
};
