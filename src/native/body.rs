//! `NativeBodySender`: request body chunks pushed from JavaScript into a bounded channel the engine
//! reads as a streamed body (a raw `bodySender`, or a multipart part's `sender`).
//!
//! `write(chunk)` resolves once the chunk is in the channel (at most `CHANNEL_CHUNKS` = 4 pending), so a
//! slow upload slows the JS producer and memory stays flat. A request with a sender is not replayable:
//! it makes exactly one attempt (see `crates/engine/src/upload.rs`).

use aiwire_engine::upload::{body_channel, BodyReceiver, BodySender};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// The producer end of a streamed request body. Give it to a request as `bodySender` or as a multipart
/// part's `sender` (one request only: its chunks can be read once), then `write()` chunks, awaiting
/// each, and `end()`; or `abort(message)` to fail the request.
#[napi]
pub struct NativeBodySender {
    sender: Arc<BodySender>,
    receiver: BodyReceiver,
}

impl NativeBodySender {
    /// The consumer end, for the request that reads this body.
    pub(crate) fn receiver(&self) -> BodyReceiver {
        self.receiver.clone()
    }
}

#[napi]
impl NativeBodySender {
    /// A new sender with an empty bounded channel.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let (sender, receiver) = body_channel();
        NativeBodySender { sender: Arc::new(sender), receiver }
    }

    /// Queue `chunk` (copied); resolves once it is accepted into the channel (waits while 4 chunks are
    /// pending). Rejects after `end()`/`abort()`, or when the request stopped reading its body (it
    /// finished, failed or was cancelled): stop producing then.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<Object<'env>> {
        let bytes = bytes::Bytes::copy_from_slice(&chunk);
        drop(chunk);
        let sender = self.sender.clone();
        let root = env
            .get_instance_data::<Arc<crate::settle::Settler>>()?
            .map(|s| s.root.clone())
            .unwrap_or_default();
        crate::runtime::promise(env, &root, async move {
            sender.send(bytes).await.map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
        })
    }

    /// The body is complete. Idempotent.
    #[napi]
    pub fn end(&self) {
        self.sender.end();
    }

    /// Fail the body: the request stops and settles with errorKind `invalid_request` and a message
    /// containing `message`. Only the first abort's message is kept.
    #[napi]
    pub fn abort(&self, message: String) {
        self.sender.abort(message);
    }
}
