//! Native side of a stream: a task reads the response and decodes SSE into a bounded channel;
//! `nextBatch()` takes everything ready at that moment in one crossing.

use crate::{error_response, flat_headers, NativeResponse};
use aiwire_engine::json_tape::{Tape, TapeEncoder};
use aiwire_engine::sse::SseEvent;
use aiwire_engine::{CancellationToken, Engine, EngineError, ErrorKind, RequestSpec};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Chunks of events buffered ahead of the consumer; a slow consumer holds the producer back.
const CHANNEL_CHUNKS: usize = 16;
/// Most events handed over in one `nextBatch()` (default; `AIWIRE_MAX_BATCH_EVENTS` overrides it).
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
/// After the done marker, how long the rest of the body is read so the connection can go back to the pool.
const DRAIN_AFTER_DONE: std::time::Duration = std::time::Duration::from_millis(100);

enum Msg {
    Events(Vec<SseEvent>),
    Error(EngineError),
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
}

/// What one `nextBatch()` hands over.
#[napi(object)]
pub struct NativeBatch {
    /// Events ready at this moment (up to 256), in order (empty in `jsonData` mode).
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
    /// `jsonData` mode: the event types, only when some event's type is not `message`.
    pub types: Option<Vec<String>>,
    /// True when the stream has ended (cleanly or with `errorKind`); no later batch has events.
    pub done: bool,
    /// Why the stream failed (`connection`, `timeout`, `aborted`, `decode`), if it did.
    pub error_kind: Option<String>,
    /// A description of that failure, without secrets.
    pub error_message: Option<String>,
}

/// A running stream. Dropping it (garbage collection) cancels the request.
#[napi]
pub struct NativeStream {
    cancel: CancellationToken,
    head: Mutex<Option<oneshot::Receiver<NativeResponse>>>,
    /// The event channel, and the tape encoder's per-stream state (`jsonData` mode).
    rx: Mutex<(mpsc::Receiver<Msg>, TapeEncoder)>,
    json: bool,
}

impl NativeStream {
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        spec: RequestSpec,
        cancel: CancellationToken,
        options: StreamOptions,
    ) -> Self {
        let json = options.json_data.unwrap_or(false);
        let done_data = options.done_data;
        let (head_tx, head_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let task_cancel = cancel.clone();
        napi::bindgen_prelude::spawn(async move {
            let mut stream = match engine.open_stream(&spec, &task_cancel).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = head_tx.send(error_response(e));
                    return;
                }
            };
            let _ = head_tx.send(NativeResponse {
                ok: true,
                status: stream.status as u32,
                headers: flat_headers(&stream.headers),
                body: None,
                error_kind: None,
                error_message: None,
                attempts: stream.attempts,
            });
            loop {
                let mut events = Vec::new();
                let step = tokio::select! {
                    biased;
                    _ = task_cancel.cancelled() => Err(EngineError::new(ErrorKind::Aborted, "stream was aborted")),
                    r = stream.next_events(&mut events) => r,
                };
                let mut saw_done = false;
                if let Some(done) = &done_data {
                    if let Some(at) = events.iter().position(|e| e.data == *done) {
                        events.truncate(at);
                        saw_done = true;
                    }
                }
                if !events.is_empty() && tx.send(Msg::Events(events)).await.is_err() {
                    return; // consumer gone
                }
                if saw_done {
                    // End for the consumer now; read the rest briefly so the connection can be reused.
                    drop(tx);
                    let drain = async {
                        let mut sink = Vec::new();
                        while let Ok(true) = stream.next_events(&mut sink).await {
                            sink.clear();
                        }
                    };
                    let _ = tokio::time::timeout(DRAIN_AFTER_DONE, drain).await;
                    return;
                }
                match step {
                    Ok(true) => {}
                    Ok(false) => return, // dropping tx ends the channel
                    Err(e) => {
                        let _ = tx.send(Msg::Error(e)).await;
                        return;
                    }
                }
            }
        });
        NativeStream {
            cancel,
            head: Mutex::new(Some(head_rx)),
            rx: Mutex::new((rx, TapeEncoder::new())),
            json,
        }
    }
}

/// The events' data (JSON) as one tape, and the event types when any is not `message`.
fn tape_batch(encoder: &mut TapeEncoder, events: Vec<SseEvent>) -> (Tape, Option<Vec<String>>) {
    let len: usize = events.iter().map(|e| e.data.len()).sum();
    let mut tape = Tape::default();
    tape.ops.reserve(len / 8);
    let typed = events.iter().any(|e| e.event != "message");
    let mut types = if typed { Some(Vec::with_capacity(events.len())) } else { None };
    for ev in events {
        encoder.encode(&ev.data, &mut tape);
        if let Some(t) = types.as_mut() {
            t.push(ev.event);
        }
    }
    (tape, types)
}

fn to_js(ev: SseEvent) -> NativeEvent {
    NativeEvent { event: ev.event, data: ev.data, id: ev.id }
}

#[napi]
impl NativeStream {
    /// Resolves once the response head is in (ok, status, headers) or the request failed (errorKind,
    /// status and body for a status error). Call it once, before `nextBatch()`.
    #[napi]
    pub async fn head(&self) -> Result<NativeResponse> {
        let rx = self.head.lock().await.take();
        let Some(rx) = rx else {
            return Err(Error::new(Status::GenericFailure, "head() was already called on this stream"));
        };
        Ok(rx.await.unwrap_or_else(|_| NativeResponse {
            ok: false,
            status: 0,
            headers: Vec::new(),
            body: None,
            error_kind: Some("aborted".into()),
            error_message: Some("stream task ended before a response head".into()),
            attempts: 0,
        }))
    }

    /// All events ready now (waits for at least one, or the end). After `done`, returns empty batches.
    #[napi]
    pub async fn next_batch(&self) -> Result<NativeBatch> {
        let max_batch = max_batch_events();
        let mut guard = self.rx.lock().await;
        let (rx, encoder) = &mut *guard;
        let mut events = Vec::new();
        let mut batch = NativeBatch {
            events: Vec::new(),
            count: 0,
            text: None,
            ops: None,
            nums: None,
            defs: None,
            types: None,
            done: false,
            error_kind: None,
            error_message: None,
        };
        let mut next = rx.recv().await;
        loop {
            match next {
                None => {
                    batch.done = true;
                    break;
                }
                Some(Msg::Error(e)) => {
                    batch.done = true;
                    batch.error_kind = Some(e.kind.as_str().to_owned());
                    batch.error_message = Some(e.message);
                    break;
                }
                Some(Msg::Events(evs)) => {
                    events.extend(evs);
                    if events.len() >= max_batch {
                        break;
                    }
                }
            }
            next = match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
        }
        if self.json {
            if !events.is_empty() {
                let (tape, types) = tape_batch(encoder, events);
                batch.count = tape.count;
                batch.text = Some(tape.text);
                batch.ops = Some(Uint32Array::new(tape.ops));
                batch.nums = Some(Float64Array::new(tape.nums));
                batch.defs = Some(Uint32Array::new(tape.defs));
                batch.types = types;
            }
        } else {
            batch.events = events.into_iter().map(to_js).collect();
        }
        Ok(batch)
    }

    /// Stop the stream now: the request is aborted and its connection closed. Idempotent.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for NativeStream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
