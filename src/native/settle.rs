//! The settle queue: how buffered requests hand their results back to JavaScript.
//!
//! napi-rs' `async fn`/`spawn_future` creates a promise *and a thread-safe function* per call and wakes
//! the JS thread once per call (perf: tsfn create/teardown, global handles, cleanup hooks and one
//! `uv_async` wake-up each). Here every request of one Node environment settles through one queue and
//! one weak thread-safe function: the engine pushes the finished request and wakes the JS thread only if
//! no wake-up is pending, and the JS callback receives everything finished since, as one flat array
//! (`SETTLED_FIELDS` slots per request). The JS side (`src/native/index.ts`) owns the promises.
//!
//! The thread-safe function is weak (does not keep Node alive) except while requests are in flight:
//! the JS side calls `keep_alive(true)` on 0 → 1 requests in flight and `keep_alive(false)` on → 0.

use crate::request::flat_headers_text;
use aiwire_engine::{EngineError, Response};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Slots per settled request in the array handed to JS:
/// `[id, status, attempts, headers, body, errorKind, errorMessage, vectors, vectorOffsets, decodedBody,
/// errorCode, trace]`.
pub const SETTLED_FIELDS: u32 = 12;

/// One finished request, converted to JS values on the JS thread.
pub(crate) struct Settled {
    id: u32,
    status: u32,
    attempts: u32,
    /// Headers as `name\nvalue\nname\nvalue` (names lower case; values never contain `\n`).
    headers: String,
    body: Option<bytes::Bytes>,
    /// Hand the body over as a JS string (JSON/text) instead of a Buffer.
    body_text: bool,
    error: Option<(&'static str, String)>,
    /// A stable code for the error (`ECONNREFUSED`, TLS codes, `ERR_PROXY_AUTH`), when known.
    code: Option<&'static str>,
    /// The failed attempts before this outcome (`RequestSpec::trace`).
    trace: Option<String>,
    /// Decoded embedding vectors: all values, where each vector starts (`len + 1` offsets), and the body
    /// without them (JSON text, each `embedding` replaced by `0`). `body` then stays the original.
    vectors: Option<(Vec<f64>, Vec<u32>, String)>,
}

impl Settled {
    pub(crate) fn new(id: u32, body_text: bool, outcome: std::result::Result<Response, EngineError>) -> Self {
        match outcome {
            Ok(r) => Settled {
                id,
                status: u32::from(r.status),
                attempts: r.attempts,
                headers: flat_headers_text(&r.headers),
                body: Some(r.body),
                body_text,
                error: None,
                code: None,
                trace: r.trace,
                vectors: None,
            },
            Err(e) => {
                let (status, headers, body) = match e.response {
                    Some(r) => (u32::from(r.status), flat_headers_text(&r.headers), Some(r.body)),
                    // `circuit_open` / `rate_limited_locally`: when to try again, as a header (ms).
                    None => match e.retry_after {
                        Some(d) => (0, format!("retry-after-ms\n{}", d.as_millis()), None),
                        None => (0, String::new(), None),
                    },
                };
                Settled {
                    id,
                    status,
                    attempts: e.attempts,
                    headers,
                    body,
                    body_text,
                    error: Some((e.kind.as_str(), e.message)),
                    code: e.code,
                    trace: e.trace,
                    vectors: None,
                }
            }
        }
    }
}

impl Settled {
    /// A stream's response head (2xx; its body is the stream, read through `nextBatch()`).
    pub(crate) fn head(
        id: u32,
        status: u16,
        attempts: u32,
        headers: &aiwire_engine::HeaderMap,
        trace: Option<String>,
    ) -> Self {
        Settled {
            id,
            status: u32::from(status),
            attempts,
            headers: flat_headers_text(headers),
            body: None,
            body_text: false,
            error: None,
            code: None,
            trace,
            vectors: None,
        }
    }

    /// Attach decoded embedding vectors.
    pub(crate) fn with_vectors(mut self, values: Vec<f64>, offsets: Vec<u32>, rest: String) -> Self {
        self.vectors = Some((values, offsets, rest));
        self
    }
}

/// A body as a JS value: a string when `text` and valid UTF-8 (pure ASCII takes V8's one-byte copy,
/// no decoding), else a Buffer.
unsafe fn body_value(env: sys::napi_env, body: bytes::Bytes, text: bool) -> Result<sys::napi_value> {
    if text {
        type CreateString = unsafe extern "C" fn(
            sys::napi_env,
            *const std::ffi::c_char,
            isize,
            *mut sys::napi_value,
        ) -> sys::napi_status;
        let create: Option<CreateString> = if body.is_ascii() {
            Some(sys::napi_create_string_latin1)
        } else if std::str::from_utf8(&body).is_ok() {
            Some(sys::napi_create_string_utf8)
        } else {
            None
        };
        if let Some(create) = create {
            let mut out = std::ptr::null_mut();
            check_status!(create(env, body.as_ptr().cast(), body.len() as isize, &mut out))?;
            return Ok(out);
        }
    }
    Buffer::to_napi_value(env, Buffer::from(Vec::from(body)))
}

/// Everything settled since the last wake-up; becomes one flat JS array.
pub struct SettledBatch(Vec<Settled>);

impl ToNapiValue for SettledBatch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> Result<sys::napi_value> {
        let mut arr = std::ptr::null_mut();
        check_status!(sys::napi_create_array_with_length(
            env,
            batch.0.len() * SETTLED_FIELDS as usize,
            &mut arr
        ))?;
        let mut undefined = std::ptr::null_mut();
        check_status!(sys::napi_get_undefined(env, &mut undefined))?;
        let mut i = 0u32;
        let mut set = |v: sys::napi_value| -> Result<()> {
            check_status!(sys::napi_set_element(env, arr, i, v))?;
            i += 1;
            Ok(())
        };
        for s in batch.0 {
            set(u32::to_napi_value(env, s.id)?)?;
            set(u32::to_napi_value(env, s.status)?)?;
            set(u32::to_napi_value(env, s.attempts)?)?;
            set(String::to_napi_value(env, s.headers)?)?;
            set(match s.body {
                Some(b) => body_value(env, b, s.body_text)?,
                None => undefined,
            })?;
            match s.error {
                Some((kind, message)) => {
                    set(<&str>::to_napi_value(env, kind)?)?;
                    set(String::to_napi_value(env, message)?)?;
                }
                None => {
                    set(undefined)?;
                    set(undefined)?;
                }
            }
            match s.vectors {
                Some((values, offsets, rest)) => {
                    set(Float64Array::to_napi_value(env, Float64Array::new(values))?)?;
                    set(Uint32Array::to_napi_value(env, Uint32Array::new(offsets))?)?;
                    set(String::to_napi_value(env, rest)?)?;
                }
                None => {
                    set(undefined)?;
                    set(undefined)?;
                    set(undefined)?;
                }
            }
            set(match s.code {
                Some(c) => <&str>::to_napi_value(env, c)?,
                None => undefined,
            })?;
            set(match s.trace.filter(|t| !t.is_empty()) {
                Some(t) => String::to_napi_value(env, t)?,
                None => undefined,
            })?;
        }
        Ok(arr)
    }
}

type SettleFn = ThreadsafeFunction<(), (), SettledBatch, Status, false, true>;

/// The per-environment settle queue (stored as the addon's instance data).
pub(crate) struct Settler {
    /// Cancelled by the environment's cleanup hook: every request and stream of this environment stops.
    pub(crate) root: tokio_util::sync::CancellationToken,
    queue: Arc<Mutex<Vec<Settled>>>,
    scheduled: Arc<AtomicBool>,
    tsfn: SettleFn,
}

impl Settler {
    /// Create the queue for this environment; `callback(settled: Array)` is called on the JS thread.
    pub(crate) fn new(callback: Function<'_, SettledBatch, ()>) -> Result<Self> {
        let queue: Arc<Mutex<Vec<Settled>>> = Arc::default();
        let scheduled: Arc<AtomicBool> = Arc::default();
        let (q, s) = (queue.clone(), scheduled.clone());
        let tsfn: SettleFn = callback
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(move |_ctx| {
                // Clear first: anything pushed after this schedules a new wake-up.
                s.store(false, Ordering::Release);
                let items = std::mem::take(&mut *q.lock().unwrap_or_else(|p| p.into_inner()));
                Ok(SettledBatch(items))
            })?;
        Ok(Settler { root: Default::default(), queue, scheduled, tsfn })
    }

    /// Keep Node alive (requests in flight) or not (JS thread; JS calls it on 0 -> 1 and 1 -> 0).
    pub(crate) fn keep_alive(&self, env: &Env, on: bool) -> Result<()> {
        let raw = self.tsfn.raw();
        check_status!(unsafe {
            if on {
                sys::napi_ref_threadsafe_function(env.raw(), raw)
            } else {
                sys::napi_unref_threadsafe_function(env.raw(), raw)
            }
        })
    }

    /// A request finished (any thread): queue it and wake the JS thread unless a wake-up is pending.
    pub(crate) fn push(&self, item: Settled) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(item);
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            self.tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
