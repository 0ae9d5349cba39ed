//! Token corrections of streamed calls: the `usage` a stream states in its events, read as they pass.
//!
//! A stream's call is reserved at its estimate like any call; its response head carries no usage. The
//! events do: OpenAI chat completions' last chunk with `stream_options: { include_usage: true }`
//! (`"usage": {"prompt_tokens", "completion_tokens", "total_tokens"}`; the chunks before it say
//! `"usage": null`), OpenAI Responses' `response.completed` (`input_tokens`, `output_tokens`,
//! `total_tokens`), Anthropic's `message_start` (`input_tokens`, and `output_tokens` so far) and
//! `message_delta` (the final cumulative `output_tokens`). [`StreamUsage`] looks at every event whose
//! data holds `"usage"` and keeps the latest of each count; when the stream is dropped (read to its end,
//! failed or cancelled) the tokens it saw correct the budget its turn was reserved in, as a buffered
//! response's do. A stream that states no usage keeps its estimate.

use super::{keys, number_after, Limiter};
use crate::sse::SseSink;
use std::sync::Arc;

/// A call whose token estimate is still to be corrected: the budget it was reserved in.
#[derive(Debug)]
pub struct PendingCorrection {
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) origin: Arc<str>,
    /// Tokens the call was reserved at.
    pub(crate) estimate: u64,
    /// Reserved in Redis (`rateLimit.redis`), not in the local buckets.
    pub(crate) shared: bool,
}

impl PendingCorrection {
    /// The call used `actual` tokens: correct its budget ([`Limiter::correct`]).
    pub fn apply(&self, actual: u64) {
        self.limiter.correct(&self.origin, self.estimate, actual, self.shared);
    }
}

/// The usage counts one stream stated so far, and the correction they make when it is dropped.
#[derive(Debug)]
pub struct StreamUsage {
    pending: PendingCorrection,
    input: Option<u64>,
    output: Option<u64>,
    total: Option<u64>,
}

impl StreamUsage {
    /// Watch a stream whose call is `pending`.
    pub fn new(pending: PendingCorrection) -> Self {
        StreamUsage { pending, input: None, output: None, total: None }
    }

    /// Read one event's data: its `usage` counts replace the ones seen before.
    pub fn see(&mut self, data: &str) {
        let data = data.as_bytes();
        if keys::USAGE.0.find(data).is_none() {
            return;
        }
        let total = number_after(data, &keys::TOTAL_TOKENS);
        let input =
            number_after(data, &keys::INPUT_TOKENS).or_else(|| number_after(data, &keys::PROMPT_TOKENS));
        let output =
            number_after(data, &keys::OUTPUT_TOKENS).or_else(|| number_after(data, &keys::COMPLETION_TOKENS));
        self.total = total.or(self.total);
        self.input = input.or(self.input);
        self.output = output.or(self.output);
    }

    /// The tokens the stream stated: its `total_tokens`, else input + output; `None` when it said none.
    pub fn used(&self) -> Option<u64> {
        if self.input.is_none() && self.output.is_none() {
            return self.total;
        }
        let sum = self.input.unwrap_or(0) + self.output.unwrap_or(0);
        // Anthropic's `message_delta` raises the output past a total stated earlier: the larger wins.
        Some(self.total.map_or(sum, |t| t.max(sum)))
    }
}

impl Drop for StreamUsage {
    fn drop(&mut self) {
        if let Some(used) = self.used() {
            self.pending.apply(used);
        }
    }
}

/// A sink that shows every event to a [`StreamUsage`] before handing it on.
pub(crate) struct Watched<'a, S: SseSink + ?Sized> {
    pub(crate) usage: &'a mut StreamUsage,
    pub(crate) inner: &'a mut S,
}

impl<S: SseSink + ?Sized> SseSink for Watched<'_, S> {
    fn event(&mut self, event: &str, data: &str, id: Option<&str>, retry: Option<u64>) {
        self.usage.see(data);
        self.inner.event(event, data, id, retry);
    }
}
