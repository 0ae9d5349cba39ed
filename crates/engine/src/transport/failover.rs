//! Failover across several endpoints of one API (the `endpoints` client option: e.g. Azure regions, or
//! several keys of one account). Each endpoint is a base URL (origin and path prefix), its own
//! credential headers and a weight.
//!
//! Where a request goes ([`Failover::route`]):
//! - a URL under the first endpoint's base URL (the client's `baseURL`) is spread: every attempt
//!   (retries included) picks an endpoint and is sent to that endpoint's base URL plus the rest of the
//!   request's URL, with that endpoint's headers over the client's default headers;
//! - a URL under another endpoint's base URL, or else on another endpoint's origin, and a URL a server
//!   returned ([`crate::RequestSpec::pin_endpoint`]: a `next` page URL, e.g. Replicate's) under or on
//!   any endpoint's, is pinned to that endpoint: every attempt goes there as it is, with that
//!   endpoint's headers, breaker and budgets (its cursor or resource is that endpoint's);
//! - any other URL (e.g. a same-API absolute URL elsewhere) goes as it is, with the first endpoint's
//!   headers.
//!
//! The pick, per attempt ([`Failover::choose`]):
//! 1. endpoints whose circuit breaker is open are skipped (the breaker is its origin's: endpoints at
//!    one origin share it); when every one is, the call fails with [`ErrorKind::CircuitOpen`],
//!    `retry_after` the soonest end of a cooldown;
//! 2. endpoints whose wait (see 4.) is within the call's longest wait for a turn (`maxQueueMs`: the
//!    request's own, else the client's) come before those past it;
//! 3. among those, endpoints this call has not tried yet come first (a retry after a connection error,
//!    a timeout, a 5xx or a 429 goes to another endpoint while there is one within `maxQueueMs`);
//! 4. among those, the ones whose budgets would make the call wait least: the endpoint's own
//!    requests / tokens per minute ([`EndpointConfig::requests_per_minute`], a GCRA of its own, as the
//!    client's [`crate::limiter`]) and the servers' budgets read by `rateLimit.adaptive`, kept per
//!    endpoint (two keys at one origin have two budgets);
//! 5. among those, smooth weighted round-robin (nginx's): over any run of calls each endpoint gets its
//!    share `weight / sum of weights` of the picks, interleaved rather than in bursts.
//!
//! A retry that goes to an endpoint the call has not tried yet is sent at once (no back-off: the
//! back-off is for the endpoint that failed); it still counts as one of `max_retries`.
//!
//! The picked endpoint's own budget is then reserved and waited for ([`Failover::take_turn`]), before
//! the client's breaker and limits admit the attempt (`resilience.rs`): both apply. When even the
//! picked endpoint (the one with the least wait) is further away than the call's `maxQueueMs`, the call
//! fails at once with [`ErrorKind::RateLimitedLocally`] (`retry_after`: that wait), as the client's
//! limiter does. A request with its `rate_limit` off ([`RequestLimit::Off`]) takes no turn in any
//! endpoint's budget (still picked by the least wait, never queued or refused by them, its `usage`
//! corrects nothing).
//!
//! An engine without endpoints has no [`Failover`]: one `None` check per attempt.

use super::resilience::{Resilience, Target};
use crate::breaker::CircuitState;
use crate::error::{EngineError, ErrorKind};
use crate::limiter::stats::LimiterStats;
use crate::limiter::{Limiter, RateLimitConfig, RequestLimit};
use reqwest::header::HeaderMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most endpoints one client may list (the attempts of a call are tracked in one `u64`).
pub const MAX_ENDPOINTS: usize = 64;

/// One endpoint of the `endpoints` client option, as the engine takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Absolute `http(s)` base URL (origin and path prefix, e.g. `https://east.example.com/openai`); a
    /// trailing `/` is ignored.
    pub base_url: String,
    /// Headers sent to this endpoint (its credentials), over the engine's default headers.
    pub headers: Vec<(String, String)>,
    /// Share of the calls, relative to the other endpoints' weights. At least 1.
    pub weight: u32,
    /// This endpoint's own requests (attempts) per minute, e.g. its key's quota; burst one second's
    /// worth, as `rateLimit`. Default none.
    pub requests_per_minute: Option<u32>,
    /// This endpoint's own estimated tokens per minute (see [`crate::limiter::estimate_tokens`]),
    /// corrected from buffered responses' `usage`. Default none.
    pub tokens_per_minute: Option<u32>,
}

/// What [`crate::Engine::endpoints`] reports of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStats {
    /// Its base URL, without credentials, query or trailing `/`.
    pub base_url: String,
    /// Its weight.
    pub weight: u32,
    /// Its origin's circuit breaker (`None` when the breaker is off).
    pub circuit: Option<CircuitState>,
    /// Attempts sent to it.
    pub requests: u64,
    /// Calls it answered with a 2xx.
    pub served: u64,
    /// Attempts that failed on it (connection errors, timeouts, error statuses).
    pub failures: u64,
    /// Its own budget's figures (`requests_per_minute` / `tokens_per_minute`; `None` without them):
    /// attempts queued and refused by it, their waits, what may go at once now. Always local; its
    /// `adaptive` list is empty (the servers' budgets per endpoint are in the client's limits' stats).
    pub rate_limit: Option<LimiterStats>,
}

/// Where a request goes, from its URL ([`Failover::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// Under the first endpoint's base URL: each attempt picks an endpoint; this is the URL's rest.
    Spread(&'a str),
    /// Under another endpoint's base URL or on its origin, or a URL a server returned under or on any
    /// endpoint's: every attempt goes to that endpoint, as is.
    Pinned(usize),
}

/// One endpoint, ready to use.
pub(crate) struct Endpoint {
    /// Base URL without a trailing `/`.
    pub(super) base: Box<str>,
    /// What stats show (no userinfo, no query).
    label: Box<str>,
    /// `scheme://host[:port]`.
    origin: Box<str>,
    pub(super) headers: HeaderMap,
    weight: u32,
    /// Its breaker and its key for the limits, when the engine has a breaker or limits.
    pub(super) target: Option<Target>,
    /// Its own requests / tokens per minute, when given.
    budget: Option<Limiter>,
    requests: AtomicU64,
    served: AtomicU64,
    failures: AtomicU64,
}

/// The endpoints of one engine and the round-robin's state.
pub(crate) struct Failover {
    pub(super) endpoints: Vec<Endpoint>,
    /// The client's longest wait for a turn (`rateLimit.maxQueueMs`), for requests without their own.
    max_queue: Option<Duration>,
    /// Smooth weighted round-robin: each endpoint's current weight.
    current: Mutex<Vec<i64>>,
}

impl Failover {
    /// The endpoints of `configs` (`None` when there are none).
    ///
    /// Errors: [`ErrorKind::InvalidRequest`] for more than [`MAX_ENDPOINTS`] endpoints, a weight of 0, a
    /// base URL that is not an absolute `http(s)` URL, or an invalid header.
    /// `max_queue`: the client's longest wait for a turn (`rateLimit.maxQueueMs`).
    pub(super) fn new(
        configs: &[EndpointConfig],
        resilience: Option<&Resilience>,
        max_queue: Option<Duration>,
    ) -> Result<Option<Self>, EngineError> {
        if configs.is_empty() {
            return Ok(None);
        }
        let invalid = |m: String| EngineError::new(ErrorKind::InvalidRequest, m);
        if configs.len() > MAX_ENDPOINTS {
            return Err(invalid(format!(
                "endpoints: at most {MAX_ENDPOINTS} endpoints, got {}",
                configs.len()
            )));
        }
        let mut endpoints = Vec::with_capacity(configs.len());
        for (i, c) in configs.iter().enumerate() {
            if c.weight == 0 {
                return Err(invalid(format!("endpoints[{i}].weight must be >= 1")));
            }
            for (n, what) in
                [(c.requests_per_minute, "requestsPerMinute"), (c.tokens_per_minute, "tokensPerMinute")]
            {
                if n == Some(0) {
                    return Err(invalid(format!("endpoints[{i}].rateLimit.{what} must be >= 1")));
                }
            }
            let budget = Limiter::new(RateLimitConfig {
                requests_per_minute: c.requests_per_minute,
                tokens_per_minute: c.tokens_per_minute,
                max_queue,
                ..RateLimitConfig::default()
            })
            .map_err(invalid)?;
            let base = c.base_url.trim_end_matches('/');
            let url = reqwest::Url::parse(base)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                .ok_or_else(|| invalid(format!("endpoints[{i}].baseURL must be an absolute http(s) URL")))?;
            let origin = url.origin().ascii_serialization();
            let label = format!("{origin}{}", url.path().trim_end_matches('/'));
            let target = resilience.map(|r| r.endpoint_target(&origin, format!("{label}#{i}")));
            endpoints.push(Endpoint {
                base: base.into(),
                label: label.into(),
                origin: origin.into(),
                headers: super::header_map(&c.headers)?,
                weight: c.weight,
                target,
                budget,
                requests: AtomicU64::new(0),
                served: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            });
        }
        let current = Mutex::new(vec![0; endpoints.len()]);
        Ok(Some(Failover { endpoints, max_queue, current }))
    }

    /// Where a request to `url` goes (see the module docs); `pin`: a URL a server returned, never
    /// spread. `None`: as it is, with the first endpoint's headers (not under any endpoint's base URL
    /// nor on another endpoint's origin; or, without `pin`, on the first endpoint's origin).
    pub(super) fn route<'a>(&self, url: &'a str, pin: bool) -> Option<Route<'a>> {
        if !pin {
            if let Some(rest) = under(url, &self.endpoints[0].base) {
                return Some(Route::Spread(rest));
            }
        }
        let all = || self.endpoints.iter().enumerate();
        if let Some((i, _)) = all().find(|(_, e)| under(url, &e.base).is_some()) {
            return Some(Route::Pinned(i));
        }
        // On an endpoint's origin, not under its base URL: that endpoint's (the first's only with `pin`).
        let origin = |e: &Endpoint| {
            url.get(..e.origin.len()).is_some_and(|o| o.eq_ignore_ascii_case(&e.origin))
                && boundary(&url[e.origin.len()..])
        };
        match all().find(|(_, e)| origin(e)) {
            Some((0, _)) if !pin => None,
            found => found.map(|(i, _)| Route::Pinned(i)),
        }
    }

    /// The longest wait for a turn in an endpoint's budget for a request of `limit` (`None`: no bound);
    /// a request with the limits off takes no turn at all.
    fn max_queue(&self, limit: RequestLimit) -> Option<Duration> {
        match limit {
            RequestLimit::MaxQueue(d) => Some(d),
            RequestLimit::Client => self.max_queue,
            RequestLimit::Off => None,
        }
    }

    /// The endpoint for the next attempt of a call on `route` of `tokens` estimated tokens that already
    /// tried `tried` (a bit per endpoint) and whose request's limits are `limit`, its turn in the
    /// endpoint's own budget taken and waited for (not with `limit` off).
    ///
    /// Errors: as [`choose`](Self::choose) and [`take_turn`](Self::take_turn).
    pub(super) async fn pick(
        &self,
        route: Route<'_>,
        tried: u64,
        tokens: u64,
        resilience: Option<&Resilience>,
        limit: RequestLimit,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<usize, EngineError> {
        let i = match route {
            // Its breaker is checked by the client's admit (a request may have it off).
            Route::Pinned(i) => i,
            Route::Spread(_) => self.choose(tried, tokens, resilience, limit)?,
        };
        // Past maxQueueMs by the server's budget (adaptive): the client's limits refuse the call when
        // they admit it, so it takes no turn in the endpoint's own budget.
        let e = &self.endpoints[i];
        let refused = self.max_queue(limit).is_some_and(|m| server_wait(e, resilience, Instant::now()) > m);
        if limit != RequestLimit::Off && !refused {
            self.take_turn(i, tokens, limit, cancel).await?;
        }
        Ok(i)
    }

    /// Whether the next attempt of a call of `tokens` tokens with the request's `limit` would go to an
    /// endpoint not in `tried` (a bit per endpoint): one whose breaker is not open and whose wait is
    /// within the call's `maxQueueMs`.
    pub(super) fn has_untried(
        &self,
        tried: u64,
        tokens: u64,
        resilience: Option<&Resilience>,
        limit: RequestLimit,
    ) -> bool {
        let (now, max_queue) = (Instant::now(), self.max_queue(limit));
        self.endpoints.iter().enumerate().any(|(i, e)| {
            tried & (1 << i) == 0
                && breaker_wait(e).is_none()
                && max_queue.is_none_or(|m| wait(e, tokens, resilience, now) <= m)
        })
    }

    /// Whether some endpoint has a tokens-per-minute budget (calls then need a token estimate).
    pub(super) fn counts_tokens(&self) -> bool {
        self.endpoints.iter().any(|e| e.budget.as_ref().is_some_and(Limiter::counts_tokens))
    }

    /// The endpoint for the next attempt of a call of `tokens` estimated tokens that already tried
    /// `tried`, with the request's `limit` (see the module docs). Nothing is reserved.
    ///
    /// Errors: [`ErrorKind::CircuitOpen`] (with `retry_after`) when every endpoint's breaker is open.
    pub(super) fn choose(
        &self,
        tried: u64,
        tokens: u64,
        resilience: Option<&Resilience>,
        limit: RequestLimit,
    ) -> Result<usize, EngineError> {
        let now = Instant::now();
        let max_queue = self.max_queue(limit);
        let mut soonest = Duration::MAX;
        // The best rank seen (within maxQueueMs first, then untried, then the shortest wait) and the
        // endpoints holding it. Past maxQueueMs, only the wait counts (the call fails with the least).
        let mut best: Option<(bool, bool, Duration)> = None;
        let mut chosen = 0u64;
        for (i, e) in self.endpoints.iter().enumerate() {
            if let Some(wait) = breaker_wait(e) {
                soonest = soonest.min(wait);
                continue;
            }
            let wait = wait(e, tokens, resilience, now);
            let past = max_queue.is_some_and(|m| wait > m);
            let rank = (past, !past && tried & (1 << i) != 0, wait);
            match best {
                Some(b) if b < rank => {}
                Some(b) if b == rank => chosen |= 1 << i,
                _ => {
                    best = Some(rank);
                    chosen = 1 << i;
                }
            }
        }
        if chosen == 0 {
            return Err(super::resilience::circuit_open(soonest));
        }
        if chosen.count_ones() == 1 {
            return Ok(chosen.trailing_zeros() as usize);
        }
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let (mut total, mut pick) = (0i64, None::<usize>);
        for (i, e) in self.endpoints.iter().enumerate().filter(|(i, _)| chosen & (1 << i) != 0) {
            current[i] += i64::from(e.weight);
            total += i64::from(e.weight);
            if pick.is_none_or(|p| current[i] > current[p]) {
                pick = Some(i);
            }
        }
        let pick = pick.unwrap_or(0);
        current[pick] -= total;
        Ok(pick)
    }

    /// Reserve the turn of an attempt of `tokens` tokens in endpoint `i`'s own budget and wait for it,
    /// counted in the budget's figures (queued with its wait, or refused).
    ///
    /// Errors: [`ErrorKind::RateLimitedLocally`] (with `retry_after`) when the turn is further than
    /// the request's `maxQueueMs` (`limit`), else the client's; [`ErrorKind::Aborted`] when `cancel`
    /// fires during the wait.
    pub(super) async fn take_turn(
        &self,
        i: usize,
        tokens: u64,
        limit: RequestLimit,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), EngineError> {
        let Some(budget) = &self.endpoints[i].budget else { return Ok(()) };
        let now = Instant::now();
        let turn = budget.reserve_within("", tokens, now, None, self.max_queue(limit)).map_err(|wait| {
            budget.counters.refused();
            let mut e = EngineError::new(
                ErrorKind::RateLimitedLocally,
                format!(
                    "endpoints[{i}].rateLimit would make this call wait {} ms, more than maxQueueMs (no endpoint it may go to has a turn sooner)",
                    wait.as_millis()
                ),
            );
            e.retry_after = Some(wait);
            e
        })?;
        budget.counters.admitted(turn.at.saturating_duration_since(now));
        if turn.at > now {
            super::retry_loop::cancellable(cancel, tokio::time::sleep_until(turn.at.into())).await.map_err(
                |_| {
                    EngineError::new(
                        ErrorKind::Aborted,
                        "request was aborted while queued by an endpoint's rateLimit",
                    )
                },
            )?;
        }
        Ok(())
    }

    /// Count an attempt sent to endpoint `i`.
    pub(super) fn sent(&self, i: usize) {
        self.endpoints[i].requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Count how an attempt to endpoint `i` estimated at `tokens` ended: `ok`, answered with a 2xx; else
    /// failed. A buffered 2xx `body`'s `usage` corrects the endpoint's token budget when the attempt
    /// took a turn in it (`limited`: the request's limits were not off).
    pub(super) fn ended(&self, i: usize, ok: bool, tokens: u64, body: Option<&[u8]>, limited: bool) {
        let e = &self.endpoints[i];
        if ok { &e.served } else { &e.failures }.fetch_add(1, Ordering::Relaxed);
        let budget = e.budget.as_ref().filter(|b| limited && b.counts_tokens());
        if let (Some(b), Some(body)) = (budget, body) {
            if let Some(used) = crate::limiter::used_tokens(body) {
                b.correct_tokens(tokens, used);
            }
        }
    }

    /// Every endpoint's figures, in the order they were given.
    pub(super) fn stats(&self) -> Vec<EndpointStats> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .map(|e| EndpointStats {
                base_url: e.label.to_string(),
                weight: e.weight,
                circuit: e.target.as_ref().and_then(Target::circuit),
                requests: e.requests.load(Ordering::Relaxed),
                served: e.served.load(Ordering::Relaxed),
                failures: e.failures.load(Ordering::Relaxed),
                rate_limit: e.budget.as_ref().map(|b| b.stats(now)),
            })
            .collect()
    }
}

/// The rest of `url` after `base` (path, query), when `url` is under it.
fn under<'a>(url: &'a str, base: &str) -> Option<&'a str> {
    url.strip_prefix(base).filter(|rest| boundary(rest))
}

/// Whether `rest` starts a URL's path, query or fragment (or is empty).
fn boundary(rest: &str) -> bool {
    matches!(rest.as_bytes().first(), None | Some(b'/' | b'?' | b'#'))
}

/// How long a call of `tokens` tokens arriving `now` would wait for endpoint `e`'s budgets: its own, and
/// the server's (adaptive limits, kept per endpoint). Nothing is reserved.
fn wait(e: &Endpoint, tokens: u64, resilience: Option<&Resilience>, now: Instant) -> Duration {
    let server = server_wait(e, resilience, now);
    server.max(e.budget.as_ref().map_or(Duration::ZERO, |b| b.peek_local(tokens, now)))
}

/// How long a call arriving `now` would wait for the server's budget of endpoint `e` (adaptive limits;
/// zero without them). Nothing is reserved.
fn server_wait(e: &Endpoint, resilience: Option<&Resilience>, now: Instant) -> Duration {
    match (resilience, &e.target) {
        (Some(r), Some(t)) => r.limit_wait(t, now),
        _ => Duration::ZERO,
    }
}

/// The rest of the cooldown when the endpoint's breaker is open.
fn breaker_wait(e: &Endpoint) -> Option<Duration> {
    e.target.as_ref().and_then(Target::open_for)
}
