//! The Node-API boundary of aiwire (napi-rs). Glue only: converts JS values to engine types and back.
//!
//! Rules (see ARCHITECTURE.md): one crossing per request, one per batch of stream events; every method
//! takes `&self`; cancellation fires a `CancellationToken`; streams are bounded channels.
//!
//! Files, by concept:
//! - this file: the allocator and the settle-callback registration (with the environment's cleanup hook);
//! - [`runtime`]: the process's one tokio runtime (never shut down) and per-environment cancellation;
//! - [`engine`]: `NativeEngine` (options, `request()`, `stream()`, stats) and `CancelToken`;
//! - [`request`]: a JS request description (`NativeRequest`, `NativePart`) → the engine's `RequestSpec`;
//! - [`decode`]: body decoders chosen by name (`float-vectors`), large bodies decoded off the worker;
//! - [`body`]: `NativeBodySender`, request body chunks pushed from JS through a bounded channel;
//! - [`settle`]: the settle queue; [`stream`]: event and raw-byte streams.
#![deny(clippy::all)]

mod body;
mod decode;
mod engine;
mod request;
mod runtime;
pub mod settle;
mod stats;
mod stream;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

use settle::Settler;

pub use body::NativeBodySender;
pub use engine::{CancelToken, EngineOptions, NativeEngine};
pub use request::{NativePart, NativeRequest};
pub use stats::NativeEngineStats;
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

/// Allocator options only: the runtime starts on first use (`runtime::handle`), so loading the addon
/// never fails, even with no file descriptor left.
#[napi_derive::module_init]
fn init() {
    set_allocator_options();
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
    // When this environment goes (a worker terminated, the process exiting), stop its requests and
    // streams at once; nothing waits for them.
    env.add_env_cleanup_hook(settler.root.clone(), |root| root.cancel())?;
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
