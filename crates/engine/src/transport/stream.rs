//! Streams ([`Engine::open_stream`]): the retry loop runs until the response head **and** the first
//! event (or, for raw bodies, the first bytes; or a clean end of an empty body) have arrived, so a
//! connection that fails right after the head is retried like a request. The chunks read meanwhile are
//! kept and handed out first by [`SseStream::next_chunk`], in order. Nothing is retried once the stream
//! is handed back: from then on data may have reached the caller. A body that brings no complete event
//! in its first [`PREFETCH_MAX`] bytes is handed back as it is (memory stays bounded).

use super::retry_loop::{Attempt, AttemptHead, UsageSlot};
use super::{Engine, Gauge, RequestSpec};
use crate::error::{EngineError, ErrorKind};
use crate::limiter::usage::{StreamUsage, Watched};
use crate::sse::{SseDecoder, SseEvent, SseSink};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use std::collections::VecDeque;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Bytes read while opening a stream, past which it is handed back even without a complete event.
pub const PREFETCH_MAX: usize = 1 << 20;

/// What must arrive before a stream counts as open (and is no longer retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamStart {
    /// The first complete server-sent event (default).
    #[default]
    Event,
    /// The first body bytes (raw bodies: audio, file contents).
    Bytes,
}

/// One attempt's open stream: the head, the chunks read up to the first event, the rest unread.
pub(super) struct Opened {
    status: u16,
    headers: HeaderMap,
    response: Option<reqwest::Response>,
    prefetched: VecDeque<Bytes>,
    /// The pending token correction, when the client limits tokens.
    usage: UsageSlot,
}

impl AttemptHead for Opened {
    fn head(&self) -> (u16, &HeaderMap) {
        (self.status, &self.headers)
    }

    fn usage_slot(&self) -> Option<&UsageSlot> {
        Some(&self.usage)
    }
}

/// Counts the events a decoder completes.
struct Seen(usize);

impl SseSink for Seen {
    fn event(&mut self, _: &str, _: &str, _: Option<&str>, _: Option<u64>) {
        self.0 += 1;
    }
}

/// The next chunk of `resp`, failing after `idle` without a byte.
async fn read_chunk(
    resp: &mut reqwest::Response,
    idle: Option<Duration>,
) -> Result<Option<Bytes>, EngineError> {
    let next = match idle {
        None => resp.chunk().await,
        Some(idle) => match tokio::time::timeout(idle, resp.chunk()).await {
            Ok(r) => r,
            Err(_) => {
                return Err(EngineError::new(
                    ErrorKind::Timeout,
                    format!("no stream data for {} ms (streamIdleTimeout)", idle.as_millis()),
                ))
            }
        },
    };
    next.map_err(EngineError::from_reqwest)
}

impl Engine {
    /// Open a server-sent-events stream: retries (per the policy) until a 2xx response head and its
    /// first complete event (or the end of an empty body) arrive, then returns the stream; nothing is
    /// retried after that, since events may reach the caller. The per-attempt timeout covers the head
    /// and the first event.
    ///
    /// Errors: as [`Engine::send`]; a non-2xx answer carries its complete body.
    pub async fn open_stream(
        &self,
        spec: &RequestSpec,
        cancel: &CancellationToken,
    ) -> Result<SseStream, EngineError> {
        self.open_stream_with(spec, cancel, StreamStart::Event).await
    }

    /// [`open_stream`](Self::open_stream), with `start` saying what must arrive before the stream is
    /// handed back (and no longer retried).
    pub async fn open_stream_with(
        &self,
        spec: &RequestSpec,
        cancel: &CancellationToken,
        start: StreamStart,
    ) -> Result<SseStream, EngineError> {
        let gauge = Gauge::new(&self.stats, |c| &c.streams_open);
        let timeout = self.attempt_timeout(spec);
        let client = &self.transport.client;
        let (idle, max_event) = (self.config.stream_idle_timeout, self.config.max_event_bytes);
        let (opened, attempts, trace) = self
            .with_retries(spec, cancel, |req| async move {
                let fut = async {
                    let mut resp = client.execute(req).await.map_err(EngineError::from_send)?;
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    if !(200..300).contains(&status) {
                        let body = resp.bytes().await.map_err(EngineError::from_reqwest)?;
                        return Err(EngineError::status(status, headers, body));
                    }
                    let mut probe = SseDecoder::with_max_event_bytes(max_event);
                    let mut prefetched = VecDeque::new();
                    let mut read = 0;
                    loop {
                        let Some(chunk) = read_chunk(&mut resp, idle).await? else {
                            return Ok(Opened {
                                status,
                                headers,
                                response: None,
                                prefetched,
                                usage: UsageSlot::new(),
                            });
                        };
                        let first = match start {
                            StreamStart::Bytes => !chunk.is_empty(),
                            StreamStart::Event => {
                                let mut seen = Seen(0);
                                // A decode error is the stream's to report, in order: stop probing.
                                probe.feed_into(&chunk, &mut seen).map_or(true, |()| seen.0 > 0)
                            }
                        };
                        read += chunk.len();
                        prefetched.push_back(chunk);
                        if first || read >= PREFETCH_MAX {
                            let (response, usage) = (Some(resp), UsageSlot::new());
                            return Ok(Opened { status, headers, response, prefetched, usage });
                        }
                    }
                };
                match tokio::time::timeout(timeout, fut).await {
                    Err(_) => Attempt::Failed(EngineError::new(
                        ErrorKind::Timeout,
                        format!("request timed out after {} ms", timeout.as_millis()),
                    )),
                    Ok(Err(e)) => Attempt::Failed(e),
                    Ok(Ok(opened)) => Attempt::Done(opened),
                }
            })
            .await?;
        Ok(SseStream {
            status: opened.status,
            headers: opened.headers,
            attempts,
            trace,
            response: opened.response,
            prefetched: opened.prefetched,
            usage: opened.usage.into_inner().map(StreamUsage::new),
            decoder: SseDecoder::with_max_event_bytes(self.config.max_event_bytes),
            idle_timeout: self.config.stream_idle_timeout,
            _gauge: gauge,
        })
    }
}

/// An open event stream: the response head, and events decoded as body chunks arrive.
pub struct SseStream {
    /// HTTP status of the response (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Attempts it took to open (1 = no retry).
    pub attempts: u32,
    /// With [`RequestSpec::trace`]: the failed attempts before the head (see [`super::Response::trace`]).
    pub trace: Option<String>,
    response: Option<reqwest::Response>,
    /// Chunks read while opening, handed out before anything else.
    prefetched: VecDeque<Bytes>,
    /// The usage its events state, correcting its call's token estimate when dropped (token limits on).
    usage: Option<StreamUsage>,
    decoder: SseDecoder,
    idle_timeout: Option<Duration>,
    _gauge: Gauge,
}

impl SseStream {
    /// Read the next body chunk and append the events it completes to `out`.
    ///
    /// Returns `Ok(true)` while the stream goes on, `Ok(false)` at its end (the decoder's pending
    /// incomplete event is discarded, per the WHATWG rules). Errors: `Connection` if the body breaks
    /// off, `Decode` for a corrupt body or an event past `max_event_bytes`, `Timeout` when
    /// `stream_idle_timeout` passes without a byte.
    pub async fn next_events(&mut self, out: &mut Vec<SseEvent>) -> Result<bool, EngineError> {
        self.next_events_into(out).await
    }

    /// [`next_events`](Self::next_events), handing events to `sink` as borrowed views (see [`SseSink`]):
    /// nothing is allocated per event.
    pub async fn next_events_into<S: SseSink + ?Sized>(&mut self, out: &mut S) -> Result<bool, EngineError> {
        match self.next_chunk().await? {
            Some(chunk) => {
                self.decode(&chunk, out)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The next body chunk, undecoded (`None` at the end of the body; the decoder's pending incomplete
    /// event is then discarded). Pass it to [`decode`](Self::decode). Same errors as
    /// [`next_events`](Self::next_events) except `Decode`. Lets a caller lock what its sink writes to
    /// only while decoding, not while waiting for bytes.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, EngineError> {
        if let Some(chunk) = self.prefetched.pop_front() {
            return Ok(Some(chunk));
        }
        let Some(resp) = self.response.as_mut() else { return Ok(None) };
        match read_chunk(resp, self.idle_timeout).await {
            Ok(Some(chunk)) => Ok(Some(chunk)),
            Ok(None) => {
                self.decoder.finish(&mut Vec::new());
                self.response = None;
                Ok(None)
            }
            Err(e) => {
                self.response = None;
                Err(e)
            }
        }
    }

    /// Decode a chunk from [`next_chunk`](Self::next_chunk), handing its events to `sink`. Errors:
    /// `Decode` for an event past `max_event_bytes`.
    pub fn decode<S: SseSink + ?Sized>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), EngineError> {
        let fed = match &mut self.usage {
            Some(usage) => self.decoder.feed_into(chunk, &mut Watched { usage, inner: sink }),
            None => self.decoder.feed_into(chunk, sink),
        };
        fed.map_err(|e| EngineError::new(ErrorKind::Decode, e.to_string()))
    }
}
