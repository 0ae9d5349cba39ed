//! Request bodies that are not one buffer in memory: a file streamed from disk, chunks pushed through a
//! bounded channel (from JavaScript, say), and `multipart/form-data` bodies made of such parts.
//!
//! An [`Upload`] is a *description*: [`Upload::open`] turns it into a fresh body stream for one attempt.
//! Byte values are shared (`Bytes`), files are re-opened on every attempt, so a body made only of those
//! is replayable and retries as any other request. A [`BodyReceiver`] (the consumer end of
//! [`body_channel`]) can be read once: a request carrying one makes a single attempt (no retry, no
//! resend on a stale pooled connection; see `Engine::with_retries`).
//!
//! The multipart framing is built here by hand (RFC 7578 / the WHATWG form-data encoding), not with
//! reqwest's `multipart::Form`: a `Form` is consumed by the request it is attached to, so every retry
//! would have to rebuild it from the description anyway; building the frames ourselves lets one
//! description produce any number of bodies, and lets us compute `Content-Length` when every part's
//! length is known (files are `stat`ed when opened) instead of always sending chunked.
//!
//! Memory: a file is read 64 KiB at a time; a channel holds at most [`CHANNEL_CHUNKS`] chunks, so a
//! slow upload holds back its producer instead of buffering.

use crate::error::{EngineError, ErrorKind};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Chunks a body channel holds before `send` waits (the producer's backpressure bound).
pub const CHANNEL_CHUNKS: usize = 4;

/// Bytes read from a file per chunk.
const FILE_CHUNK: usize = 64 * 1024;

/// Where the bytes of a body (or of one multipart part) come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Bytes in memory (replayable).
    Bytes(Bytes),
    /// A file streamed from disk, re-opened on every attempt (replayable). Its length is read when it
    /// is opened.
    File(PathBuf),
    /// Chunks pushed through a [`body_channel`] (read once: not replayable).
    Channel(BodyReceiver),
}

impl Source {
    fn replayable(&self) -> bool {
        !matches!(self, Source::Channel(_))
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct Part {
    /// The form field name (`name=` in `Content-Disposition`).
    pub name: String,
    /// The file name (`filename=`); a part with one is a file part.
    pub filename: Option<String>,
    /// The part's `Content-Type`. Default: `application/octet-stream` for a file part, none otherwise.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub source: Source,
    /// The length of a [`Source::Channel`] part in bytes, when the producer knows it (lets the body
    /// carry a `Content-Length`). Ignored for bytes and files, whose length is known.
    pub length: Option<u64>,
}

impl Part {
    /// A text field.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        Part {
            name: name.into(),
            filename: None,
            content_type: None,
            source: Source::Bytes(Bytes::from(value.into())),
            length: None,
        }
    }

    /// A file part from `source`.
    pub fn file(name: impl Into<String>, filename: impl Into<String>, source: Source) -> Self {
        Part { name: name.into(), filename: Some(filename.into()), content_type: None, source, length: None }
    }
}

/// A request body that is streamed rather than held as one buffer.
#[derive(Debug, Clone)]
pub enum Upload {
    /// The body is this source as is (its `Content-Type` comes from the request's headers).
    Raw {
        /// The bytes.
        source: Source,
        /// Length of a channel source, if known.
        length: Option<u64>,
    },
    /// A `multipart/form-data` body of these parts; the request's `Content-Type` is set to
    /// `multipart/form-data; boundary=…` (replacing any given).
    Multipart {
        /// The boundary between parts (not found in any part, with overwhelming probability: 32 random
        /// hex digits).
        boundary: String,
        /// The parts, in order.
        parts: Vec<Part>,
    },
}

/// One attempt's body: the stream, and its length when known.
pub struct OpenedBody {
    /// The body for reqwest.
    pub body: reqwest::Body,
    /// Its exact length in bytes (sent as `Content-Length`), or `None` (chunked encoding).
    pub length: Option<u64>,
    /// The `Content-Type` to send (multipart), or `None` to keep the request's own.
    pub content_type: Option<String>,
}

type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

impl Upload {
    /// A multipart body of `parts` with a fresh random boundary.
    pub fn multipart(parts: Vec<Part>) -> Self {
        let mut boundary = String::from("----aiwire-");
        for _ in 0..4 {
            boundary.push_str(&format!("{:08x}", fastrand::u32(..)));
        }
        Upload::Multipart { boundary, parts }
    }

    /// Whether the body can be sent again (no channel source): decides whether the request may retry.
    pub fn replayable(&self) -> bool {
        match self {
            Upload::Raw { source, .. } => source.replayable(),
            Upload::Multipart { parts, .. } => parts.iter().all(|p| p.source.replayable()),
        }
    }

    /// The message given to [`BodySender::abort`] of a channel in this body, if one was aborted.
    pub fn aborted(&self) -> Option<String> {
        let aborted = |s: &Source| match s {
            Source::Channel(rx) => rx.aborted(),
            _ => None,
        };
        match self {
            Upload::Raw { source, .. } => aborted(source),
            Upload::Multipart { parts, .. } => parts.iter().find_map(|p| aborted(&p.source)),
        }
    }

    /// Open the body for one attempt: files are opened (and `stat`ed) now, a channel is taken.
    ///
    /// Errors ([`ErrorKind::InvalidRequest`], not retried): a file that can not be opened (the message
    /// names its path), a channel already read by an earlier attempt, a part name, file name or content
    /// type with a line break.
    pub async fn open(&self) -> Result<OpenedBody, EngineError> {
        match self {
            Upload::Raw { source, length } => {
                let (stream, len) = open_source(source, *length).await?;
                let body = match source {
                    Source::Bytes(b) => reqwest::Body::from(b.clone()),
                    _ => reqwest::Body::wrap_stream(stream),
                };
                Ok(OpenedBody { body, length: len, content_type: None })
            }
            Upload::Multipart { boundary, parts } => {
                let mut segments: Vec<ByteStream> = Vec::with_capacity(parts.len() * 3 + 1);
                let mut total = Some(0u64);
                let mut add_len = |n: Option<u64>| {
                    total = match (total, n) {
                        (Some(t), Some(n)) => Some(t + n),
                        _ => None,
                    }
                };
                for part in parts {
                    let head = Bytes::from(part_head(boundary, part)?);
                    add_len(Some(head.len() as u64 + 2));
                    let (body, len) = open_source(&part.source, part.length).await?;
                    add_len(len);
                    segments.push(stream::once(async move { Ok(head) }).boxed());
                    segments.push(body);
                    segments.push(stream::once(async { Ok(Bytes::from_static(b"\r\n")) }).boxed());
                }
                let tail = Bytes::from(format!("--{boundary}--\r\n"));
                add_len(Some(tail.len() as u64));
                segments.push(stream::once(async move { Ok(tail) }).boxed());
                Ok(OpenedBody {
                    body: reqwest::Body::wrap_stream(stream::iter(segments).flatten()),
                    length: total,
                    content_type: Some(format!("multipart/form-data; boundary={boundary}")),
                })
            }
        }
    }
}

fn invalid(message: String) -> EngineError {
    EngineError::new(ErrorKind::InvalidRequest, message)
}

/// A form-data name or file name inside a quoted header parameter (the WHATWG rule: `"`, CR and LF
/// percent-encoded; anything else, UTF-8 included, as is).
fn quoted(value: &str) -> String {
    value.replace('\r', "%0D").replace('\n', "%0A").replace('"', "%22")
}

/// The boundary line and headers of one part, up to and including the empty line.
fn part_head(boundary: &str, part: &Part) -> Result<String, EngineError> {
    let mut head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"", quoted(&part.name));
    if let Some(filename) = &part.filename {
        head.push_str(&format!("; filename=\"{}\"", quoted(filename)));
    }
    head.push_str("\r\n");
    let content_type = match (&part.content_type, &part.filename) {
        (Some(t), _) => Some(t.as_str()),
        (None, Some(_)) => Some("application/octet-stream"),
        (None, None) => None,
    };
    if let Some(t) = content_type {
        if t.contains(['\r', '\n']) {
            return Err(invalid(format!(
                "content type of multipart part {:?} contains a line break",
                part.name
            )));
        }
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head)
}

/// A source as a stream of chunks, and its length when known.
async fn open_source(source: &Source, length: Option<u64>) -> Result<(ByteStream, Option<u64>), EngineError> {
    match source {
        Source::Bytes(b) => {
            let b = b.clone();
            let len = b.len() as u64;
            Ok((stream::once(async move { Ok(b) }).boxed(), Some(len)))
        }
        Source::File(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| invalid(format!("could not open {} for upload: {e}", path.display())))?;
            let meta = file
                .metadata()
                .await
                .map_err(|e| invalid(format!("could not read the size of {}: {e}", path.display())))?;
            if !meta.is_file() {
                return Err(invalid(format!("{} is not a regular file", path.display())));
            }
            let len = meta.len();
            // `take`: a file that grows while it is sent still matches the Content-Length sent.
            let reader = file.take(len);
            Ok((tokio_util::io::ReaderStream::with_capacity(reader, FILE_CHUNK).boxed(), Some(len)))
        }
        Source::Channel(rx) => Ok((rx.take_stream()?, length)),
    }
}

/// State shared by both ends of a body channel.
#[derive(Debug)]
struct ChannelShared {
    /// Fired by [`BodySender::abort`].
    abort: CancellationToken,
    /// The abort message.
    message: Mutex<Option<String>>,
}

/// The producer end of a body channel: push chunks with [`send`](Self::send) (waits while
/// [`CHANNEL_CHUNKS`] are pending), then [`end`](Self::end), or [`abort`](Self::abort).
#[derive(Debug)]
pub struct BodySender {
    tx: Mutex<Option<mpsc::Sender<Bytes>>>,
    shared: Arc<ChannelShared>,
}

/// The consumer end of a body channel (cheap to clone; the chunks can be read once).
#[derive(Debug, Clone)]
pub struct BodyReceiver {
    /// The consumer end, until the (only) attempt takes it. Not shared with the sender: once every
    /// clone of the receiver is dropped (the request ended before reading), `send` fails at once.
    rx: Arc<Mutex<Option<mpsc::Receiver<Bytes>>>>,
    shared: Arc<ChannelShared>,
}

/// Why [`BodySender::send`] refused a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// `end()` or `abort()` was called before.
    Ended,
    /// The request stopped reading the body (it finished, failed or was cancelled).
    Closed,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::Ended => "the body was already ended or aborted",
            SendError::Closed => {
                "the request is no longer reading its body (it finished, failed or was cancelled)"
            }
        })
    }
}

impl std::error::Error for SendError {}

/// A bounded body channel holding at most [`CHANNEL_CHUNKS`] chunks.
pub fn body_channel() -> (BodySender, BodyReceiver) {
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let shared = Arc::new(ChannelShared { abort: CancellationToken::new(), message: Mutex::new(None) });
    let rx = Arc::new(Mutex::new(Some(rx)));
    (BodySender { tx: Mutex::new(Some(tx)), shared: shared.clone() }, BodyReceiver { rx, shared })
}

impl BodySender {
    /// Queue one chunk; waits while the channel is full (that is the backpressure). Empty chunks are
    /// accepted and dropped.
    pub async fn send(&self, chunk: Bytes) -> Result<(), SendError> {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or(SendError::Ended)?;
        if chunk.is_empty() {
            return if tx.is_closed() { Err(SendError::Closed) } else { Ok(()) };
        }
        tokio::select! {
            biased;
            _ = self.shared.abort.cancelled() => Err(SendError::Ended),
            r = tx.send(chunk) => r.map_err(|_| SendError::Closed),
        }
    }

    /// The body is complete: the request sends its end once the pending chunks are sent. Idempotent.
    pub fn end(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Fail the body: the request stops and fails with [`ErrorKind::InvalidRequest`] and a message
    /// naming `message`. Ignored after the first abort.
    pub fn abort(&self, message: impl Into<String>) {
        {
            let mut m = self.shared.message.lock().unwrap_or_else(|p| p.into_inner());
            if m.is_none() {
                *m = Some(message.into());
            }
        }
        self.shared.abort.cancel();
        self.end();
    }
}

impl BodyReceiver {
    /// The abort message, if the sender aborted.
    pub fn aborted(&self) -> Option<String> {
        if !self.shared.abort.is_cancelled() {
            return None;
        }
        self.shared.message.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The chunks as a stream (once); an abort ends it with an error.
    fn take_stream(&self) -> Result<ByteStream, EngineError> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take().ok_or_else(|| {
            invalid("a streamed request body can be sent only once (it was already read)".into())
        })?;
        let shared = self.shared.clone();
        Ok(stream::unfold((rx, shared, false), |(mut rx, shared, failed)| async move {
            if failed {
                return None;
            }
            tokio::select! {
                biased;
                _ = shared.abort.cancelled() => {
                    let msg = shared.message.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let err = std::io::Error::other(format!(
                        "request body aborted: {}",
                        msg.unwrap_or_default()
                    ));
                    Some((Err(err), (rx, shared, true)))
                }
                chunk = rx.recv() => chunk.map(|c| (Ok(c), (rx, shared, false))),
            }
        })
        .boxed())
    }
}

#[cfg(test)]
mod tests;
