//! Native side of a stream: a producer task reads the response and hands each SSE event straight to
//! the pending batch (in `jsonData` mode parsed into its tape at once, with no per-event allocation);
//! `nextBatch()` takes the pending batch in one crossing. In `raw` mode (binary bodies: audio, file
//! contents) there is no SSE decoding: the bytes read since the last `nextBatch()` cross as one Buffer,
//! and the producer stops reading while `RAW_PENDING_MAX` (1 MiB) bytes are pending.

use crate::settle::{Settled, Settler};
use aiwire_engine::json_tape::{Tape, TapeEncoder};
use aiwire_engine::sse::SseSink;
use aiwire_engine::{CancellationToken, Engine, EngineError, ErrorKind, RequestSpec, StreamStart};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, Mutex as SyncMutex};
use tokio::sync::{Mutex, Notify};

/// Events pending for the consumer at which the producer stops reading (default; `AIWIRE_MAX_BATCH_EVENTS`
/// overrides it): a batch holds at most this many plus the events of one network read, and a slow
/// consumer holds the producer back (the socket's buffer then holds the server back).
const MAX_BATCH_EVENTS: usize = 256;

fn max_batch_events() -> usize {
    static VALUE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *VALUE.get_or_init(|| {
        std::env::var("AIWIRE_MAX_BATCH_EVENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &usize| *n > 0)
            .unwrap_or(MAX_BATCH_EVENTS)
    })
}
/// Raw mode: bytes pending for the consumer at which the producer stops reading (a batch holds at most
/// this plus one network read, ~16-64 KiB).
const RAW_PENDING_MAX: usize = 1 << 20;

/// After the done marker, how long the rest of the body is read so the connection can go back to the pool.
const DRAIN_AFTER_DONE: std::time::Duration = std::time::Duration::from_millis(100);

/// The batch being filled by the producer and taken whole by `nextBatch()`.
#[derive(Default)]
struct Pending {
    /// `event` mode: the events.
    events: Vec<NativeEvent>,
    /// `jsonData` mode: the events' values as a tape.
    tape: Tape,
    /// `raw` mode: the body bytes read since the last batch.
    raw: Vec<u8>,
    /// `jsonData` mode: every event's type, once one in this batch is not `message`.
    /// `jsonData` mode: each event's type as an index into `type_names`, once one in this batch is not
    /// `message` (interned: no string per event).
    type_ids: Option<Vec<u32>>,
    /// `jsonData` mode: the distinct event types of this batch (`message` first).
    type_names: Vec<String>,
    /// The stream ended (cleanly, at the done marker, or with `error`); nothing more will be added.
    finished: bool,
    error: Option<EngineError>,
    /// `jsonData` mode: the stream's interned strings and shapes.
    encoder: TapeEncoder,
    /// The done marker was seen: later events of the same read are dropped.
    saw_done: bool,
    /// Body bytes read so far.
    received: u64,
}

impl Pending {
    fn len(&self) -> usize {
        self.events.len() + self.tape.count as usize
    }

    /// Something is pending for the consumer.
    fn has_data(&self) -> bool {
        self.len() > 0 || !self.raw.is_empty()
    }

    /// The producer must wait for the consumer.
    fn full(&self, max_batch: usize) -> bool {
        self.len() >= max_batch || self.raw.len() >= RAW_PENDING_MAX
    }
}

/// State shared by the producer task and the `NativeStream` handle.
struct Shared {
    pending: SyncMutex<Pending>,
    /// Signalled when events are added or the stream finishes.
    ready: Notify,
    /// Signalled when the consumer took a batch.
    space: Notify,
    json: bool,
    raw: bool,
    done_data: Option<String>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while holding the lock cannot leave the batch half-written in a way that matters
        // more than losing the stream; keep serving what is there.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn finish(&self, error: Option<EngineError>) {
        let mut p = self.lock();
        p.finished = true;
        if p.error.is_none() {
            p.error = error;
        }
        drop(p);
        self.ready.notify_one();
    }
}

/// Adds events to the pending batch as the SSE decoder hands them over (the batch is locked meanwhile).
struct PendingSink<'a> {
    p: &'a mut Pending,
    json: bool,
    done_data: Option<&'a str>,
}

impl SseSink for PendingSink<'_> {
    fn event(&mut self, event: &str, data: &str, id: Option<&str>, _retry: Option<u64>) {
        let p = &mut *self.p;
        if p.saw_done {
            return;
        }
        if self.done_data == Some(data) {
            p.saw_done = true;
            return;
        }
        if !self.json {
            p.events.push(NativeEvent {
                event: event.to_owned(),
                data: data.to_owned(),
                id: id.map(str::to_owned),
            });
            return;
        }
        let before = p.tape.count as usize;
        p.encoder.encode(data, &mut p.tape);
        if p.type_ids.is_none() && event != "message" {
            p.type_ids = Some(vec![0; before]);
            if p.type_names.is_empty() {
                p.type_names.push(String::from("message"));
            }
        }
        if p.type_ids.is_some() {
            let id = match p.type_names.iter().position(|name| name == event) {
                Some(i) => i,
                None => {
                    p.type_names.push(event.to_owned());
                    p.type_names.len() - 1
                }
            };
            if let Some(ids) = p.type_ids.as_mut() {
                ids.push(id as u32);
            }
        }
    }
}

/// One server-sent event as handed to JavaScript.
#[napi(object)]
pub struct NativeEvent {
    /// Event type (`message` when the stream gave none).
    pub event: String,
    /// Data lines joined by `\n`.
    pub data: String,
    /// Last event ID, if the stream set one.
    pub id: Option<String>,
}

/// How a stream hands its events over.
#[napi(object)]
#[derive(Default, Clone)]
pub struct StreamOptions {
    /// Every event's data is JSON: it is parsed in Rust and a batch crosses as one tape (`text`, `ops`,
    /// `nums`, `defs`; see `crates/engine/src/json_tape.rs`) that JS replays into objects, instead of
    /// one object per event. Default false.
    pub json_data: Option<bool>,
    /// Data that ends the stream (e.g. OpenAI's `[DONE]`): neither it nor anything after it is
    /// delivered, and the stream reports `done`. Default none.
    pub done_data: Option<String>,
    /// The body is not server-sent events but bytes (audio, file contents): no decoding; each
    /// `nextBatch()` hands over the bytes read since the last one as `bytes`. The producer stops
    /// reading while 1 MiB is pending. `jsonData` and `doneData` are ignored. Default false.
    pub raw: Option<bool>,
}

/// What one `nextBatch()` hands over.
#[napi(object)]
pub struct NativeBatch {
    /// Events ready at this moment, in order: at most 256 (`MAX_BATCH_EVENTS`) plus the events of one
    /// network read (empty in `jsonData` mode).
    pub events: Vec<NativeEvent>,
    /// `jsonData` mode: events in this batch.
    pub count: u32,
    /// `jsonData` mode: the tape's new strings (positions in UTF-16 code units).
    pub text: Option<String>,
    /// `jsonData` mode: the tape's instructions, one value per event.
    pub ops: Option<Uint32Array>,
    /// `jsonData` mode: numbers the instructions refer to.
    pub nums: Option<Float64Array>,
    /// `jsonData` mode: shapes first used in this batch (`id, keyCount, (start, end) × keyCount`).
    pub defs: Option<Uint32Array>,
    /// `jsonData` mode, only when some event's type is not `message`: each event's type as an index into
    /// `typeNames`.
    pub type_ids: Option<Uint32Array>,
    /// `jsonData` mode, with `typeIds`: the distinct event types of this batch (`message` first).
    pub type_names: Option<Vec<String>>,
    /// `raw` mode: the body bytes read since the last batch (absent when none).
    pub bytes: Option<Buffer>,
    /// True when the stream has ended (cleanly or with `errorKind`); no later batch has events.
    pub done: bool,
    /// Why the stream failed (`connection`, `timeout`, `aborted`, `decode`), if it did.
    pub error_kind: Option<String>,
    /// A description of that failure, without secrets.
    pub error_message: Option<String>,
    /// A stable code for that failure (`ECONNRESET`, `ETIMEDOUT`, ...), when known.
    pub error_code: Option<String>,
    /// With `done`: body bytes read from the network in all (after decompression).
    pub received_bytes: Option<f64>,
}

/// A running stream. Dropping it (garbage collection) cancels the request.
#[napi]
pub struct NativeStream {
    cancel: CancellationToken,
    shared: Arc<Shared>,
    /// Serialises `nextBatch()` calls (JS never overlaps them; this keeps a misuse harmless).
    taking: Arc<Mutex<()>>,
    /// The environment's token: its shutdown rejects a pending `nextBatch()`.
    env_root: CancellationToken,
}

impl NativeStream {
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        settler: Arc<Settler>,
        id: u32,
        spec: RequestSpec,
        cancel: CancellationToken,
        options: StreamOptions,
    ) -> Result<Self> {
        let shared = Arc::new(Shared {
            pending: SyncMutex::new(Pending::default()),
            ready: Notify::new(),
            space: Notify::new(),
            json: options.json_data.unwrap_or(false),
            raw: options.raw.unwrap_or(false),
            done_data: options.done_data,
        });
        let task_cancel = cancel.clone();
        let task_shared = shared.clone();
        let env_root = settler.root.clone();
        let done_token = cancel.clone();
        let producer = async move {
            let shared = task_shared;
            // Retried until the first event (raw: the first bytes) is in: see `open_stream_with`.
            let start = if shared.raw { StreamStart::Bytes } else { StreamStart::Event };
            let mut stream = match engine.open_stream_with(&spec, &task_cancel, start).await {
                Ok(s) => s,
                Err(e) => {
                    settler.push(Settled::new(id, true, Err(e)));
                    shared.finish(None);
                    return;
                }
            };
            let trace = stream.trace.take();
            settler.push(Settled::head(id, stream.status, stream.attempts, &stream.headers, trace));
            drop(settler);
            let aborted = || EngineError::new(ErrorKind::Aborted, "stream was aborted");
            let max_batch = max_batch_events();
            loop {
                // Wait while a full batch is pending.
                loop {
                    let space = shared.space.notified();
                    if !shared.lock().full(max_batch) {
                        break;
                    }
                    tokio::select! {
                        biased;
                        _ = task_cancel.cancelled() => return shared.finish(Some(aborted())),
                        _ = space => {}
                    }
                }
                let step = tokio::select! {
                    biased;
                    _ = task_cancel.cancelled() => Err(aborted()),
                    r = stream.next_chunk() => r,
                };
                let chunk = match step {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => return shared.finish(None),
                    Err(e) => return shared.finish(Some(e)),
                };
                if shared.raw {
                    if !chunk.is_empty() {
                        let mut p = shared.lock();
                        p.received += chunk.len() as u64;
                        p.raw.extend_from_slice(&chunk);
                        drop(p);
                        shared.ready.notify_one();
                    }
                    continue;
                }
                let (decoded, added, saw_done) = {
                    let mut p = shared.lock();
                    p.received += chunk.len() as u64;
                    let before = p.len();
                    let json = shared.json;
                    let done_data = shared.done_data.as_deref();
                    let decoded = stream.decode(&chunk, &mut PendingSink { p: &mut p, json, done_data });
                    (decoded, p.len() > before, p.saw_done)
                };
                if saw_done {
                    // End for the consumer now; read the rest briefly so the connection can be reused.
                    shared.finish(None);
                    let drain = async {
                        let mut sink = Vec::new();
                        while let Ok(true) = stream.next_events(&mut sink).await {
                            sink.clear();
                        }
                    };
                    let _ = tokio::time::timeout(DRAIN_AFTER_DONE, drain).await;
                    return;
                }
                if let Err(e) = decoded {
                    return shared.finish(Some(e));
                }
                if added {
                    shared.ready.notify_one();
                }
            }
        };
        crate::runtime::spawn_in_env(&env_root, async move {
            producer.await;
            // Done with the token: ends the task that linked it to the caller's CancelToken.
            done_token.cancel();
        })?;
        Ok(NativeStream { cancel, shared, taking: Arc::new(Mutex::new(())), env_root })
    }
}

#[napi]
impl NativeStream {
    /// All events ready now (waits for at least one, or the end). After `done`, returns empty batches.
    #[napi(ts_return_type = "Promise<NativeBatch>")]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let (shared, taking) = (self.shared.clone(), self.taking.clone());
        crate::runtime::promise(env, &self.env_root, next_batch(shared, taking))
    }

    /// Stop the stream now: the request is aborted and its connection closed. Idempotent.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// The body of `nextBatch()`: waits for events (or the end) and takes them all.
async fn next_batch(shared: Arc<Shared>, taking: Arc<Mutex<()>>) -> Result<NativeBatch> {
    {
        let _one_at_a_time = taking.lock().await;
        let mut batch = NativeBatch {
            events: Vec::new(),
            count: 0,
            text: None,
            ops: None,
            nums: None,
            defs: None,
            type_ids: None,
            type_names: None,
            bytes: None,
            done: false,
            error_kind: None,
            error_message: None,
            error_code: None,
            received_bytes: None,
        };
        loop {
            let ready = shared.ready.notified();
            {
                let mut p = shared.lock();
                if p.has_data() || p.finished {
                    if p.finished {
                        batch.done = true;
                        batch.received_bytes = Some(p.received as f64);
                        if let Some(e) = p.error.take() {
                            batch.error_kind = Some(e.kind.as_str().to_owned());
                            batch.error_message = Some(e.message);
                            batch.error_code = e.code.map(str::to_owned);
                        }
                    }
                    if shared.raw {
                        if !p.raw.is_empty() {
                            let next = Vec::new();
                            batch.bytes = Some(Buffer::from(std::mem::replace(&mut p.raw, next)));
                        }
                    } else if shared.json {
                        if p.tape.count > 0 {
                            // The next batch starts with room for as much as this one held.
                            let next = Tape::with_capacity_of(&p.tape);
                            let tape = std::mem::replace(&mut p.tape, next);
                            batch.count = tape.count;
                            batch.text = Some(tape.text);
                            batch.ops = Some(Uint32Array::new(tape.ops));
                            batch.nums = Some(Float64Array::new(tape.nums));
                            batch.defs = Some(Uint32Array::new(tape.defs));
                            if let Some(ids) = p.type_ids.take() {
                                batch.type_ids = Some(Uint32Array::new(ids));
                                batch.type_names = Some(std::mem::take(&mut p.type_names));
                            }
                        }
                    } else {
                        batch.events = std::mem::take(&mut p.events);
                    }
                    break;
                }
            }
            ready.await;
        }
        shared.space.notify_one();
        Ok(batch)
    }
}

impl Drop for NativeStream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
