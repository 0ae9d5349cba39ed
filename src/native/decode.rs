//! Response body decoders chosen by name (`NativeRequest.decode`), provider-neutral.
//!
//! `float-vectors`: a JSON body whose
//! `data[*].<decodeField>` (default `embedding`) are float arrays or base64 little-endian float32
//! strings; the vectors cross as one Float64Array plus offsets (see `crates/engine/src/float_vectors.rs`).
//! Bodies above 64 KiB are decoded on dedicated `aiwire-decode-N` threads, not on the engine's worker.

use crate::settle::Settled;
use aiwire_engine::float_vectors::{decode_float_vectors, DEFAULT_FIELD};
use napi::bindgen_prelude::*;
use std::sync::{Arc, OnceLock};

/// A decoder named by a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decode {
    /// `data[*].<field>` float vectors.
    FloatVectors { field: String },
}

impl Decode {
    /// The decoder for `decode` / `decodeField`; `None` without a decoder.
    /// Throws `InvalidArg` for an unknown name, or a field given without a decoder.
    pub(crate) fn parse(name: Option<&str>, field: Option<String>) -> Result<Option<Self>> {
        match name {
            None if field.is_some() => {
                Err(Error::new(Status::InvalidArg, "decodeField needs decode: \"float-vectors\""))
            }
            None => Ok(None),
            Some("float-vectors") => {
                let field = field.unwrap_or_else(|| DEFAULT_FIELD.to_owned());
                if field.is_empty() {
                    return Err(Error::new(Status::InvalidArg, "decodeField must not be empty"));
                }
                Ok(Some(Decode::FloatVectors { field }))
            }
            Some(other) => Err(Error::new(
                Status::InvalidArg,
                format!("unknown decode {other:?} (expected \"float-vectors\")"),
            )),
        }
    }
}

/// Bodies above this many bytes are decoded on the decode threads (`decode_on_pool`), not on the
/// engine's worker (a 3.3 MB float body takes ~8 ms, which would stall every other connection of it).
const DECODE_INLINE_MAX: usize = 64 * 1024;

/// Threads that decode large bodies off the engine's worker: the machine's cores, at least 2.
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

/// A 2xx response decoded by `decode` (just the response if the body does not decode). The original
/// body is then handed over as a Buffer (for `asResponse()`), not as text: JS parses the small rest.
pub(crate) async fn decode_response(
    id: u32,
    text: bool,
    r: aiwire_engine::Response,
    decode: Decode,
) -> Settled {
    let Decode::FloatVectors { field } = decode;
    let body = r.body.clone();
    let decoded = if body.len() > DECODE_INLINE_MAX {
        let (tx, rx) = tokio::sync::oneshot::channel();
        decode_on_pool(Box::new(move || {
            let _ = tx.send(decode_float_vectors(&body, &field).ok());
        }));
        // A dropped job (no decode thread could start) hands the body over undecoded.
        rx.await.ok().flatten()
    } else {
        decode_float_vectors(&body, &field).ok()
    };
    match decoded {
        Some(d) => Settled::new(id, false, Ok(r)).with_vectors(d.values, d.offsets, d.json),
        None => Settled::new(id, text, Ok(r)),
    }
}
