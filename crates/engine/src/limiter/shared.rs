//! Rate limits shared by several processes (and machines) through Redis: the `rateLimit.redis` option.
//!
//! The state of each GCRA (its theoretical arrival time, TAT, in microseconds of the Redis server's
//! clock) lives in Redis under `<key>:requests` and `<key>:tokens`. One Lua script ([`SCRIPT`], sent
//! with EVALSHA, falling back to EVAL when the server does not have it yet: `redis::Script`) reads
//! both, reserves the call's cells in both at once and returns the wait, atomically: N processes using
//! the same key hold one budget together. The caller then sleeps that long in tokio, like a local turn.
//! The server's clock (`TIME`) is the only clock, so the processes' clocks need not agree.
//!
//! Slow is not down. A reservation sent to Redis is counted there whether or not its answer arrives in
//! time, so a call that gave up on a late answer and used a local budget would spend the shared budget
//! twice: a loaded Redis would let the processes together exceed it. So a late answer is waited for,
//! up to [`TIMEOUT`] (2 s, connecting included), and then obeyed. Redis is taken as down, and the
//! engine falls back to its local limiter (built with `fallback_share` of each rate), when:
//! - the connection fails: refused, reset, closed, a TLS or protocol error — at once;
//! - no answer came within [`TIMEOUT`] (a stopped or unroutable server): after [`TIMEOUT`].
//!
//! Redis is asked again [`RETRY_AFTER`] (5 s) after an outage, by one call only (the probe); the calls
//! made meanwhile keep the fallback until the probe has its answer. So no call hangs: a call waits on
//! Redis at most [`TIMEOUT`], and on a dead Redis at most one call per [`RETRY_AFTER`] waits at all
//! (beyond the calls already in flight when it went silent). The engine cannot log; each outage and
//! each call admitted by the fallback is counted ([`Shared::outages`], [`Shared::fallback_calls`], in
//! the client's `stats()`).
//!
//! `rediss://` URLs speak TLS through the `redis` crate's rustls support, trusting what the engine's
//! HTTPS trusts (system roots, `NODE_EXTRA_CA_CERTS`, the client's `ca`; see [`crate::tls::roots_pem`]).
//! One server (or a proxy in front of several) only: Redis Cluster's slot routing is not built in.

use redis::aio::MultiplexedConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest time one reservation may go unanswered, connecting included, before Redis is taken as down
/// (2 s). Errors (refused, reset, closed) fall back at once; an answer that is merely late is obeyed.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// How long after an outage the engine tries Redis again (5 s).
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Settings of the shared limits (`rateLimit.redis`).
#[derive(Debug, Clone, PartialEq)]
pub struct RedisLimitConfig {
    /// `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS (rustls; the engine's trust
    /// roots: see [`Shared::with_roots`]). Redis Cluster is not supported.
    pub url: String,
    /// Prefix of the Redis keys; `:requests` / `:tokens` are appended. Default
    /// `aiwire:ratelimit:<origin of the request URL>`.
    pub key: Option<String>,
    /// Fraction (0 < f <= 1) of each rate this process keeps while Redis is unreachable. Default 0.25.
    pub fallback_share: f64,
}

/// The Lua reservation. KEYS: requests TAT, tokens TAT. ARGV: per limit (requests, then tokens)
/// interval (µs per cell), tolerance (µs: burst × interval), cells (0: limit off); then the longest
/// wait allowed in µs (-1: none). Returns `{1, wait_us, requests backlog, tokens backlog}` when reserved
/// (a backlog: how far the new TAT runs ahead of now, in µs; -1 for a limit that is off), `{0, wait_us,
/// -1, -1}` when the wait would exceed the longest allowed (nothing reserved). Each key expires once its TAT is past (+1 s).
pub const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i = 1, 2 do
  local interval = tonumber(ARGV[i * 3 - 2])
  local cells = tonumber(ARGV[i * 3])
  if cells > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or now)
    if tat < now then tat = now end
    local new = tat + interval * cells
    local w = new - tonumber(ARGV[i * 3 - 1]) - now
    if w > wait then wait = w end
    tats[i] = new
  end
end
local max = tonumber(ARGV[7])
if max >= 0 and wait > max then return {0, math.ceil(wait), -1, -1} end
local backlog = {-1, -1}
for i = 1, 2 do
  if tats[i] then
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
    backlog[i] = math.ceil(tats[i] - now)
  end
end
return {1, math.ceil(wait), backlog[1], backlog[2]}
";

/// The correction of one call's tokens once its response stated its `usage`. KEYS: tokens TAT.
/// ARGV: interval (µs per token), tokens to add (negative: to give back). An extra charge is added
/// from now on at the earliest (as a late arrival of cells); what is given back never moves the TAT
/// before now (no burst beyond the tolerance). Returns the new TAT's distance from now in µs.
pub const CORRECT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new = tat + tonumber(ARGV[1]) * tonumber(ARGV[2])
if new <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], string.format('%.3f', new), 'PX', math.ceil((new - now) / 1000) + 1000)
return math.ceil(new - now)
";

/// What Redis answered for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedTurn {
    /// Reserved: wait this long, then send.
    Wait(Duration),
    /// Not reserved: the wait would exceed `maxQueueMs`.
    TooLong(Duration),
    /// Redis is down (a connection error, no answer within [`TIMEOUT`], or the fallback period after
    /// one): use the local fallback.
    Unavailable,
}

/// One GCRA's parameters in µs: interval per cell and tolerance (burst × interval).
#[derive(Debug, Clone, Copy)]
struct Rate {
    interval_us: f64,
    tolerance_us: f64,
}

impl Rate {
    fn per_minute(rate: Option<u32>) -> Option<Rate> {
        let rate = rate?.max(1);
        let interval_us = 60_000_000.0 / f64::from(rate);
        Some(Rate { interval_us, tolerance_us: interval_us * f64::from((rate / 60).max(1)) })
    }
}

/// The Redis side of one engine's limits.
pub struct Shared {
    client: redis::Client,
    key: Option<Box<str>>,
    requests: Option<Rate>,
    tokens: Option<Rate>,
    script: redis::Script,
    correct_script: redis::Script,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// Set after an outage: Redis is not asked again before this instant, then by one call (the probe)
    /// until one answers; cleared by an answer.
    down_until: Mutex<Option<Instant>>,
    /// A call is asking Redis after an outage (the other calls keep the fallback meanwhile).
    probing: AtomicBool,
    outages: AtomicU64,
    fallback_calls: AtomicU64,
    /// The backlogs (µs) the latest reservation left in Redis, and when it was answered.
    seen: Mutex<Option<(Instant, i64, i64)>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Shared {
    /// The shared limits of `requests_per_minute` / `tokens_per_minute` (the full rates, not shares).
    /// A `rediss://` URL trusts the engine's default roots (the system's and `NODE_EXTRA_CA_CERTS`).
    ///
    /// Errors: the URL is not a Redis URL (nothing is connected here: the first call connects).
    pub fn new(
        config: &RedisLimitConfig,
        requests_per_minute: Option<u32>,
        tokens_per_minute: Option<u32>,
    ) -> Result<Self, String> {
        Self::with_roots(config, requests_per_minute, tokens_per_minute, &[])
    }

    /// [`new`](Self::new), a `rediss://` URL also trusting the PEM certificates of `ca` (the client's
    /// `ca` option), as the engine's HTTPS does.
    ///
    /// Errors: the URL is not a Redis URL, or a certificate in `ca` does not parse.
    pub fn with_roots(
        config: &RedisLimitConfig,
        requests_per_minute: Option<u32>,
        tokens_per_minute: Option<u32>,
        ca: &[Vec<u8>],
    ) -> Result<Self, String> {
        let bad_url = |e: redis::RedisError| format!("rateLimit.redis.url is not a Redis URL: {e}");
        let client = if config.url.starts_with("rediss://") {
            let certificates =
                redis::TlsCertificates { client_tls: None, root_cert: Some(crate::tls::roots_pem(ca)) };
            redis::Client::build_with_tls(config.url.as_str(), certificates).map_err(bad_url)?
        } else {
            redis::Client::open(config.url.as_str()).map_err(bad_url)?
        };
        Ok(Shared {
            client,
            key: config.key.as_deref().map(Into::into),
            requests: Rate::per_minute(requests_per_minute),
            tokens: Rate::per_minute(tokens_per_minute),
            script: redis::Script::new(SCRIPT),
            correct_script: redis::Script::new(CORRECT_SCRIPT),
            conn: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
            probing: AtomicBool::new(false),
            outages: AtomicU64::new(0),
            fallback_calls: AtomicU64::new(0),
            seen: Mutex::new(None),
        })
    }

    /// Times Redis was found down: a connection error, or no answer within [`TIMEOUT`] (each followed by
    /// [`RETRY_AFTER`] on the fallback).
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// Calls admitted by the local fallback instead of Redis.
    pub fn fallback_calls(&self) -> u64 {
        self.fallback_calls.load(Ordering::Relaxed)
    }

    /// The requests and tokens that may go at once at `now` per the latest reservation in Redis
    /// (other processes may have taken some since); `None` before one, or while Redis is down.
    pub fn remaining(&self, now: Instant) -> Option<(Option<u64>, Option<u64>)> {
        if self.down_until.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|until| now < until) {
            return None;
        }
        let (at, req_us, tok_us) = (*self.seen.lock().unwrap_or_else(|p| p.into_inner()))?;
        let passed = now.saturating_duration_since(at);
        let free = |rate: Option<Rate>, backlog_us: i64| {
            let r = rate.filter(|_| backlog_us >= 0)?;
            let backlog = Duration::from_micros(backlog_us as u64).saturating_sub(passed);
            let (interval, tolerance) =
                (Duration::from_secs_f64(r.interval_us / 1e6), Duration::from_secs_f64(r.tolerance_us / 1e6));
            Some(super::stats::cells_free(backlog, interval, tolerance))
        };
        Some((free(self.requests, req_us), free(self.tokens, tok_us)))
    }

    /// Reserve one call of `tokens` tokens to `origin` in Redis. A late answer is waited for, up to
    /// [`TIMEOUT`]; an error (refused, reset, closed) or no answer within [`TIMEOUT`] gives
    /// [`SharedTurn::Unavailable`] and the fallback for [`RETRY_AFTER`]. After that, one call asks Redis
    /// again while the others still get [`SharedTurn::Unavailable`] at once.
    pub async fn reserve(&self, origin: &str, tokens: u64, max_queue: Option<Duration>) -> SharedTurn {
        let down = *self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        let _probe = match down {
            None => None,
            Some(until) if Instant::now() < until => return self.fell_back(),
            Some(_) => match Probe::start(&self.probing) {
                Some(probe) => Some(probe),
                None => return self.fell_back(),
            },
        };
        match tokio::time::timeout(TIMEOUT, self.ask(origin, tokens, max_queue)).await {
            Ok(Ok(turn)) => {
                if down.is_some() {
                    *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                turn
            }
            Ok(Err(_)) | Err(_) => {
                let now = Instant::now();
                let before =
                    self.down_until.lock().unwrap_or_else(|p| p.into_inner()).replace(now + RETRY_AFTER);
                if let Ok(mut conn) = self.conn.try_lock() {
                    *conn = None;
                }
                // Calls in flight together when Redis went away count one outage.
                if before.is_none_or(|until| until <= now) {
                    self.outages.fetch_add(1, Ordering::Relaxed);
                }
                self.fell_back()
            }
        }
    }

    /// One call admitted by the fallback.
    fn fell_back(&self) -> SharedTurn {
        self.fallback_calls.fetch_add(1, Ordering::Relaxed);
        SharedTurn::Unavailable
    }

    async fn ask(
        &self,
        origin: &str,
        tokens: u64,
        max_queue: Option<Duration>,
    ) -> redis::RedisResult<SharedTurn> {
        let mut conn = self.connection().await?;
        let prefix = self.prefix(origin);
        let mut inv = self.script.prepare_invoke();
        inv.key(format!("{prefix}:requests")).key(format!("{prefix}:tokens"));
        for (rate, cells) in [(self.requests, 1), (self.tokens, tokens.max(1))] {
            match rate {
                Some(r) => inv.arg(r.interval_us).arg(r.tolerance_us).arg(cells),
                None => inv.arg(0).arg(0).arg(0),
            };
        }
        inv.arg(max_queue.map_or(-1i64, |d| d.as_micros().min(i64::MAX as u128) as i64));
        let (reserved, wait_us, req_us, tok_us): (i64, i64, i64, i64) = inv.invoke_async(&mut conn).await?;
        if reserved == 1 {
            *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), req_us, tok_us));
        }
        let wait = Duration::from_micros(wait_us.max(0) as u64);
        Ok(if reserved == 1 { SharedTurn::Wait(wait) } else { SharedTurn::TooLong(wait) })
    }

    /// The connection, made on first use (and again after an outage).
    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        match &*slot {
            Some(c) => Ok(c.clone()),
            None => {
                let c = self.client.get_multiplexed_async_connection().await?;
                *slot = Some(c.clone());
                Ok(c)
            }
        }
    }

    /// The keys' prefix for calls to `origin`.
    fn prefix(&self, origin: &str) -> String {
        match &self.key {
            Some(k) => k.to_string(),
            None => format!("aiwire:ratelimit:{origin}"),
        }
    }

    /// A call to `origin` reserved in Redis at `estimate` tokens used `actual`: charge (or give back)
    /// the difference in the shared tokens budget, within [`TIMEOUT`]. Returns whether Redis took it:
    /// false when there is no tokens limit, the difference is 0, Redis is down (the correction is
    /// dropped; the budget heals as the TAT passes) or did not answer in time.
    pub async fn correct(&self, origin: &str, estimate: u64, actual: u64) -> bool {
        let Some(rate) = self.tokens else { return false };
        let diff = actual as i128 - estimate as i128;
        if diff == 0 {
            return false;
        }
        {
            let down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
            if down.is_some_and(|until| Instant::now() < until) {
                return false;
            }
        }
        let ask = async {
            let mut conn = self.connection().await?;
            let mut inv = self.correct_script.prepare_invoke();
            inv.key(format!("{}:tokens", self.prefix(origin)));
            inv.arg(rate.interval_us).arg(diff.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
            inv.invoke_async::<i64>(&mut conn).await
        };
        matches!(tokio::time::timeout(TIMEOUT, ask).await, Ok(Ok(_)))
    }
}

/// The one call asking Redis after an outage; the flag is cleared when it ends (or is dropped).
struct Probe<'a>(&'a AtomicBool);

impl<'a> Probe<'a> {
    fn start(flag: &'a AtomicBool) -> Option<Self> {
        (!flag.swap(true, Ordering::AcqRel)).then_some(Probe(flag))
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
