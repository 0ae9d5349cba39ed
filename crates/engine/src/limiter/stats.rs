//! What the limits did and where their budgets stand, for `client.stats()` and metrics
//! ([`Limiter::stats`]): calls that waited for their turn and how long, calls refused past `max_queue`,
//! the requests and tokens that may go at once now, the adaptive state per origin, and Redis outages.
//! The counters are relaxed atomics bumped once per admitted (or refused) attempt.

use super::Limiter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The counters of one engine's limits.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    waited: AtomicU64,
    wait_us_total: AtomicU64,
    wait_us_max: AtomicU64,
    refused: AtomicU64,
}

impl Counters {
    /// An attempt was admitted after waiting `wait` (zero: it went at once).
    pub(crate) fn admitted(&self, wait: Duration) {
        if wait.is_zero() {
            return;
        }
        let us = wait.as_micros().min(u64::MAX as u128) as u64;
        self.waited.fetch_add(1, Ordering::Relaxed);
        self.wait_us_total.fetch_add(us, Ordering::Relaxed);
        self.wait_us_max.fetch_max(us, Ordering::Relaxed);
    }

    /// An attempt was refused: its turn was further than `max_queue` away.
    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where the budgets reported in [`LimiterStats`] are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSource {
    /// This engine's own buckets (no `redis`, or Redis is down and the fallback share is in use).
    Local,
    /// Redis, as of this engine's latest reservation there.
    Redis,
}

impl BudgetSource {
    /// `local` or `redis`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetSource::Local => "local",
            BudgetSource::Redis => "redis",
        }
    }
}

/// One origin's server budget as its rate-limit headers told it (adaptive limits).
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveView {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// Requests the server allows per window, when it said so.
    pub limit: Option<u64>,
    /// Requests this engine may still send in the current window (0 once calls are placed in a later
    /// window); `None` before a response said anything.
    pub remaining: Option<u64>,
    /// Time until the current window's budget is full again; with `remaining` 0, until calls go again.
    pub reset: Option<Duration>,
    /// Time every call to the origin still waits after a 429's `retry-after` or spent tokens.
    pub blocked: Option<Duration>,
}

/// A snapshot of one engine's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct LimiterStats {
    /// Attempts that waited for their turn (a wait of zero not counted).
    pub waited_calls: u64,
    /// Their waits added up.
    pub wait_total: Duration,
    /// The longest of them.
    pub wait_max: Duration,
    /// Attempts refused at once (`max_queue`; `LocalRateLimitError` in JS).
    pub refused_calls: u64,
    /// Requests that may go at once now (`None` without `requests_per_minute`).
    pub requests_remaining: Option<u64>,
    /// Estimated tokens that may go at once now (`None` without `tokens_per_minute`).
    pub tokens_remaining: Option<u64>,
    /// Where those two are kept.
    pub budget_source: BudgetSource,
    /// Per origin that answered with rate-limit headers (empty when `adaptive` is off).
    pub adaptive: Vec<AdaptiveView>,
    /// Times Redis was found unreachable or slow (0 without `redis`).
    pub shared_outages: u64,
    /// Calls admitted by the local fallback share instead of Redis (0 without `redis`).
    pub shared_fallback_calls: u64,
}

/// Cells that may go at once: the tolerance not taken by the backlog, in whole intervals.
pub(crate) fn cells_free(backlog: Duration, interval: Duration, tolerance: Duration) -> u64 {
    if interval.is_zero() {
        return 0;
    }
    (tolerance.saturating_sub(backlog).as_nanos() / interval.as_nanos()) as u64
}

impl Limiter {
    /// What the limits did since the engine was built, and their budgets at `now`.
    pub fn stats(&self, now: Instant) -> LimiterStats {
        let c = &self.counters;
        let (mut requests_remaining, mut tokens_remaining) = {
            let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            (b.requests.as_ref().map(|g| g.available(now)), b.tokens.as_ref().map(|g| g.available(now)))
        };
        let mut budget_source = BudgetSource::Local;
        if let Some((req, tok)) = self.shared.as_ref().and_then(|s| s.remaining(now)) {
            (requests_remaining, tokens_remaining) = (req, tok);
            budget_source = BudgetSource::Redis;
        }
        LimiterStats {
            waited_calls: c.waited.load(Ordering::Relaxed),
            wait_total: Duration::from_micros(c.wait_us_total.load(Ordering::Relaxed)),
            wait_max: Duration::from_micros(c.wait_us_max.load(Ordering::Relaxed)),
            refused_calls: c.refused.load(Ordering::Relaxed),
            requests_remaining,
            tokens_remaining,
            budget_source,
            adaptive: self.adaptive.as_ref().map(|a| a.views(now)).unwrap_or_default(),
            shared_outages: self.shared.as_ref().map_or(0, |s| s.outages()),
            shared_fallback_calls: self.shared.as_ref().map_or(0, |s| s.fallback_calls()),
        }
    }
}
