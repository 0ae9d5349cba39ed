//! aiwire's engine: pure Rust, knows nothing of Node.
//!
//! - [`transport`]: pooled reqwest client, retry loop, timeouts, cancellation.
//! - [`retry`]: the retry policy (which outcomes retry, how long to wait, idempotency keys).
//! - [`sse`]: WHATWG server-sent-events decoder.
//! - [`error`]: the stable error kinds handed to the boundary.
//! - [`embeddings`]: decodes an embeddings response body into flat f64 values plus the small rest as JSON.
//! - [`json_tape`]: stream events' JSON parsed in Rust into a tape JS replays without `JSON.parse`.
pub mod embeddings;
pub mod error;
pub mod json_tape;
pub mod retry;
pub mod sse;
pub mod transport;

pub use error::{EngineError, ErrorKind, ErrorResponse};
pub use reqwest::header::HeaderMap;
pub use reqwest::Method;
pub use tokio_util::sync::CancellationToken;
pub use transport::{Engine, EngineConfig, EngineStats, Idempotency, RequestSpec, Response, SseStream};
