//! Client-side rate limits of one engine (the `rateLimit` client option): requests and tokens per
//! minute, each a GCRA (generic cell rate algorithm) with a burst of one second's worth, plus the
//! adaptive limits read from the servers' headers ([`adaptive`]).
//!
//! Every attempt (retries included: the server counts them) reserves its place before it is sent:
//! the reservation is made at once, in arrival order, and the call then sleeps (in tokio, cancellable)
//! until its turn. A call whose turn is further than `max_queue` away reserves nothing and fails at once
//! with [`crate::ErrorKind::RateLimitedLocally`], carrying the wait it would have had.
//!
//! Why not the `governor` crate: it builds here and implements GCRA well, but it only answers "allowed
//! now, or not before t" and does not reserve a future slot. Waiters then wake together and race for the
//! next cell (no order), and the wait a call will really have behind the ones already queued is unknown,
//! so `maxQueueMs` could not be decided at arrival. Reservation GCRA is a few lines of arithmetic on one
//! timestamp under a lock.
//!
//! Tokens of a call are estimated from its body: `bytes / 4` plus the `max_tokens` /
//! `max_completion_tokens` / `max_output_tokens` value it asks for ([`estimate_tokens`]), and corrected
//! once a buffered response states its `usage` ([`used_tokens`], [`Limiter::correct_tokens`]): the
//! difference is added to (or given back from) the token budget. Streams are not corrected.

pub mod adaptive;
mod peek;
pub mod shared;

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Settings of the client-side limits (the `rateLimit` client option).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimitConfig {
    /// Requests (attempts) per minute; burst at most `max(1, rpm / 60)` at once. Default none.
    pub requests_per_minute: Option<u32>,
    /// Estimated tokens per minute; burst at most `max(1, tpm / 60)` tokens at once. A call of more
    /// tokens than the burst waits for them. Default none.
    pub tokens_per_minute: Option<u32>,
    /// Longest wait for a turn; a call that would wait longer fails at once. Default none: wait as long
    /// as needed (the request's AbortSignal still cancels the wait).
    pub max_queue: Option<Duration>,
    /// Follow the servers' rate-limit headers (see [`adaptive`]). Default false.
    pub adaptive: bool,
    /// Hold the requests and tokens budgets in Redis, shared with every process using the same key
    /// (see [`shared`]). Default none: the budgets are this engine's own.
    pub redis: Option<shared::RedisLimitConfig>,
}

/// One GCRA: cells of `interval` each, `burst` cells allowed at once.
#[derive(Debug)]
struct Gcra {
    interval: Duration,
    /// `burst * interval`: how far ahead of now the theoretical arrival time may run.
    tolerance: Duration,
    /// Theoretical arrival time of the next cell.
    tat: Option<Instant>,
}

impl Gcra {
    fn per_minute(rate: u32) -> Self {
        let rate = rate.max(1);
        let interval = Duration::from_secs(60) / rate;
        let burst = (rate / 60).max(1);
        Gcra { interval, tolerance: interval * burst, tat: None }
    }

    /// The wait of `cells` cells arriving `now`, and the new arrival time if they are reserved.
    fn peek(&self, now: Instant, cells: u64) -> (Duration, Instant) {
        let start = self.tat.map_or(now, |t| t.max(now));
        let cost = self.interval.saturating_mul(cells.min(u32::MAX as u64) as u32);
        let tat = start + cost;
        let conforms = tat.checked_sub(self.tolerance).unwrap_or(now);
        (conforms.saturating_duration_since(now), tat)
    }
}

#[derive(Debug)]
struct Buckets {
    requests: Option<Gcra>,
    tokens: Option<Gcra>,
}

/// The limits of one engine.
#[derive(Debug)]
pub struct Limiter {
    config: RateLimitConfig,
    buckets: Mutex<Buckets>,
    /// Per-origin state of the adaptive limits, when on.
    pub(crate) adaptive: Option<adaptive::Adaptive>,
    /// The budgets in Redis, when `redis` is set (the local buckets are then the fallback share).
    pub(crate) shared: Option<shared::Shared>,
}

/// A reserved turn: sleep until `at`; `seq` identifies the call to the adaptive limits.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// When the call may be sent.
    pub at: Instant,
    /// The call's sequence number in its origin's adaptive state (0 when adaptive is off).
    pub seq: u64,
}

impl Limiter {
    /// Limits per `config`; `Ok(None)` when it limits nothing (no rate and not adaptive). With
    /// `redis`, the local buckets run at `fallback_share` of each rate (at least 1 per minute).
    ///
    /// Errors: `redis.url` is not a Redis URL, or `fallback_share` is not in (0, 1].
    pub fn new(config: RateLimitConfig) -> Result<Option<Self>, String> {
        if config.requests_per_minute.is_none() && config.tokens_per_minute.is_none() && !config.adaptive {
            return Ok(None);
        }
        let (mut rpm, mut tpm) = (config.requests_per_minute, config.tokens_per_minute);
        let shared = match &config.redis {
            Some(r) if rpm.is_some() || tpm.is_some() => {
                if !(r.fallback_share > 0.0 && r.fallback_share <= 1.0) {
                    return Err(format!(
                        "rateLimit.redis.fallbackShare must be in (0, 1], got {}",
                        r.fallback_share
                    ));
                }
                let share = |n: u32| ((f64::from(n) * r.fallback_share).floor() as u32).max(1);
                let s = shared::Shared::new(r, rpm, tpm)?;
                (rpm, tpm) = (rpm.map(share), tpm.map(share));
                Some(s)
            }
            _ => None,
        };
        Ok(Some(Limiter {
            buckets: Mutex::new(Buckets {
                requests: rpm.map(Gcra::per_minute),
                tokens: tpm.map(Gcra::per_minute),
            }),
            adaptive: config.adaptive.then(adaptive::Adaptive::default),
            shared,
            config,
        }))
    }

    /// The longest wait for a turn (`maxQueueMs`).
    pub fn max_queue(&self) -> Option<std::time::Duration> {
        self.config.max_queue
    }

    /// Whether token counts are needed ([`estimate_tokens`] is worth calling).
    pub fn counts_tokens(&self) -> bool {
        self.config.tokens_per_minute.is_some()
    }

    /// Reserve a turn for one attempt of `tokens` estimated tokens to `origin`. `reserved`: the wait
    /// Redis already reserved ([`shared`]); the local buckets are then left alone.
    ///
    /// Errors: `Err(wait)` when the turn is more than `max_queue` away (nothing is reserved locally).
    pub fn reserve(
        &self,
        origin: &str,
        tokens: u64,
        now: Instant,
        reserved: Option<Duration>,
    ) -> Result<Turn, Duration> {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let local_ok = reserved.is_none();
        let req = b.requests.as_ref().filter(|_| local_ok).map(|g| g.peek(now, 1));
        let tok = b.tokens.as_ref().filter(|_| local_ok).map(|g| g.peek(now, tokens.max(1)));
        let local = req.map_or(Duration::ZERO, |r| r.0).max(tok.map_or(Duration::ZERO, |t| t.0));
        let local = local.max(reserved.unwrap_or(Duration::ZERO));
        let server = self.adaptive.as_ref().map_or(Duration::ZERO, |a| a.peek(origin, now + local));
        let wait = local + server;
        if let Some(max) = self.config.max_queue {
            if wait > max {
                return Err(wait);
            }
        }
        if let (Some(g), Some((_, tat))) = (b.requests.as_mut(), req) {
            g.tat = Some(tat);
        }
        if let (Some(g), Some((_, tat))) = (b.tokens.as_mut(), tok) {
            g.tat = Some(tat);
        }
        drop(b);
        match &self.adaptive {
            Some(a) => {
                let (at, seq) = a.reserve(origin, now + local);
                Ok(Turn { at, seq })
            }
            None => Ok(Turn { at: now + local, seq: 0 }),
        }
    }
}

impl Limiter {
    /// A call estimated at `estimate` tokens used `actual`: charge (or give back) the difference.
    /// What is given back never makes room before now (no burst beyond one second's worth).
    pub fn correct_tokens(&self, estimate: u64, actual: u64) {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(g) = b.tokens.as_mut() else { return };
        let Some(tat) = g.tat else { return };
        let diff = |n: u64| g.interval.saturating_mul(n.min(u32::MAX as u64) as u32);
        g.tat = Some(if actual >= estimate {
            tat + diff(actual - estimate)
        } else {
            let now = Instant::now();
            tat.checked_sub(diff(estimate - actual)).map_or(now, |t| t.max(now))
        });
    }
}

/// The tokens a response body says it used: `"total_tokens"` (OpenAI), else `"input_tokens"` +
/// `"output_tokens"` (Anthropic, OpenAI Responses); `None` when it says neither.
pub fn used_tokens(body: &[u8]) -> Option<u64> {
    if let Some(n) = number_after(body, b"\"total_tokens\"") {
        return Some(n);
    }
    let input = number_after(body, b"\"input_tokens\"");
    let output = number_after(body, b"\"output_tokens\"");
    (input.is_some() || output.is_some()).then(|| input.unwrap_or(0) + output.unwrap_or(0))
}

/// Tokens a request body will cost, roughly: its length in bytes / 4 (about 4 bytes per token of
/// English text and JSON), plus the number after the first `"max_tokens"`, `"max_completion_tokens"`
/// or `"max_output_tokens"` key (the output it may produce). At least 1.
pub fn estimate_tokens(body: Option<&[u8]>) -> u64 {
    let Some(body) = body else { return 1 };
    let mut total = body.len() as u64 / 4;
    for key in [&b"\"max_tokens\""[..], b"\"max_completion_tokens\"", b"\"max_output_tokens\""] {
        if let Some(n) = number_after(body, key) {
            total += n;
            break;
        }
    }
    total.max(1)
}

/// The unsigned integer after `key` and a colon (whitespace allowed), if any.
fn number_after(body: &[u8], key: &[u8]) -> Option<u64> {
    let at = memchr::memmem::find(body, key)? + key.len();
    let rest = body[at..].iter().skip_while(|b| b.is_ascii_whitespace());
    let mut rest = rest.skip_while(|b| **b == b':').skip_while(|b| b.is_ascii_whitespace()).peekable();
    let mut n: Option<u64> = None;
    while let Some(d) = rest.peek().filter(|b| b.is_ascii_digit()) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(u64::from(**d - b'0')));
        rest.next();
    }
    n
}

#[cfg(test)]
mod tests;
