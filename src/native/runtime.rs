//! The one tokio runtime of the process, and what each Node environment (main thread, worker
//! threads) owns of it.
//!
//! The runtime is built on first use and never shut down: its threads live until the process exits.
//! napi-rs' built-in runtime was shut down when the last environment holding the addon went away
//! (terminating the only workers that used it, or `process.exit()` with workers streaming): that
//! joined the runtime's threads from the environment's cleanup hook, and a thread exiting there could
//! spin forever in mimalloc's thread teardown (`_mi_page_free_collect`, seen in gdb), hanging the
//! worker's `terminate()` and the process's exit. Nothing here joins a thread.
//!
//! Each environment has a root [`CancellationToken`] (in its [`crate::settle::Settler`]); its cleanup
//! hook cancels it, which stops that environment's requests and streams at once (connections closed)
//! and rejects its pending promises, so a worker ends promptly and other environments go on.

use napi::bindgen_prelude::*;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use tokio::runtime::{Handle, Runtime};
use tokio_util::sync::CancellationToken;

static RUNTIME: OnceLock<&'static Runtime> = OnceLock::new();
static STARTING: Mutex<()> = Mutex::new(());

/// The process's runtime: `AIWIRE_WORKER_THREADS` workers (default 1: on small boxes one worker beside
/// the JS thread avoids cross-thread wake-ups; HTTP work per request is small).
///
/// Errors (`GenericFailure`, code-free message): the runtime could not start, e.g. no file descriptor
/// was left for its event queue; a later call tries again.
pub(crate) fn handle() -> Result<&'static Handle> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt.handle());
    }
    let _one = STARTING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt.handle());
    }
    let workers =
        std::env::var("AIWIRE_WORKER_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name("aiwire-engine")
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(
                Status::GenericFailure,
                format!(
                    "aiwire: could not start the engine's runtime: {e}{}",
                    if e.raw_os_error() == Some(24) {
                        "; the process is out of file descriptors: raise the limit (ulimit -n) or close unused sockets and files"
                    } else {
                        ""
                    }
                ),
            )
        })?;
    // Threads that outlive an environment run this image's code: keep it loaded until the process exits.
    napi::bindgen_prelude::retain_current_module_for_unload_safety();
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    let _ = RUNTIME.set(rt);
    Ok(rt.handle())
}

/// Run `work` on the runtime until it finishes or `env_root` (the environment's token) is cancelled,
/// whichever comes first; `work` is dropped in the second case.
pub(crate) fn spawn_in_env<F>(env_root: &CancellationToken, work: F) -> Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let root = env_root.clone();
    handle()?.spawn(async move {
        tokio::select! {
            biased;
            _ = root.cancelled() => {}
            _ = work => {}
        }
    });
    Ok(())
}

/// A promise settled by `work` on the runtime: resolved with its value, rejected with its error, or
/// rejected when the environment shuts down first (so no promise is left pending).
pub(crate) fn promise<'env, T, F>(
    env: &'env Env,
    env_root: &CancellationToken,
    work: F,
) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = handle()?;
    let (deferred, promise) = env.create_deferred::<T, Box<dyn FnOnce(Env) -> Result<T> + Send>>()?;
    let root = env_root.clone();
    rt.spawn(async move {
        let outcome = tokio::select! {
            biased;
            _ = root.cancelled() => Err(Error::new(Status::Cancelled, "aiwire: the environment is shutting down")),
            r = work => r,
        };
        match outcome {
            Ok(v) => deferred.resolve(Box::new(move |_| Ok(v))),
            Err(e) => deferred.reject(e),
        }
    });
    Ok(promise)
}
