//! The wait a call would have for its turn in the local buckets, without reserving it: failover
//! (`transport/failover.rs`) compares the endpoints' own budgets before picking one.

use super::Limiter;
use std::time::{Duration, Instant};

impl Limiter {
    /// How long a call of `tokens` estimated tokens arriving `now` would wait for the requests and
    /// tokens buckets (the adaptive and shared limits are left out). Nothing is reserved.
    pub fn peek_local(&self, tokens: u64, now: Instant) -> Duration {
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let requests = b.requests.as_ref().map_or(Duration::ZERO, |g| g.peek(now, 1).0);
        let tokens = b.tokens.as_ref().map_or(Duration::ZERO, |g| g.peek(now, tokens.max(1)).0);
        requests.max(tokens)
    }
}
