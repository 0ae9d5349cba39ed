//! What stands between the retry loop and the network when a client turns it on: the circuit breaker
//! of the request's origin ([`crate::breaker`]) and the client-side rate limits ([`crate::limiter`]).
//! An engine with neither has no [`Resilience`] at all, so their cost when off is one `None` check
//! per attempt.

use crate::breaker::{Breaker, BreakerConfig, CircuitState, Outcome, Permit};
use crate::error::{EngineError, ErrorKind};
use crate::limiter::shared::SharedTurn;
use crate::limiter::{adaptive, Limiter};
use reqwest::header::HeaderMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// Most request URLs whose origin (and breaker) one engine keeps at hand.
const TARGETS_KEPT: usize = 32;

/// A request URL's origin and its breaker, looked up once per URL (not per request); or an endpoint's
/// (`failover.rs`).
#[derive(Clone)]
pub(crate) struct Target {
    url: Box<str>,
    origin: Arc<str>,
    /// Whose budget the adaptive limits keep: the origin, or one endpoint (two keys at one origin
    /// have two budgets).
    limit_key: Arc<str>,
    breaker: Option<Arc<Breaker>>,
}

impl Target {
    /// The rest of the cooldown when its breaker is open.
    pub(crate) fn open_for(&self) -> Option<Duration> {
        self.breaker.as_ref().and_then(|b| b.check().err())
    }

    /// Its breaker's state (`None` when the breaker is off).
    pub(crate) fn circuit(&self) -> Option<CircuitState> {
        self.breaker.as_ref().map(|b| b.state())
    }

    /// Its origin.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }
}

/// The breaker settings and limits of one engine.
pub(crate) struct Resilience {
    breaker: Option<BreakerConfig>,
    /// The URLs this engine called, most recent first.
    targets: Mutex<Vec<Target>>,
    limiter: Option<Limiter>,
    max_retry_after: Duration,
}

/// How an attempt ended, for [`Resilience::settle`].
pub(crate) struct AttemptEnd<'a> {
    /// Status of its response (0: none).
    pub status: u16,
    /// Its response's headers.
    pub headers: Option<&'a HeaderMap>,
    /// The kind of error it failed with.
    pub kind: Option<ErrorKind>,
    /// How long it ran.
    pub took: Duration,
    /// A buffered 2xx body, whose `usage` corrects the token estimate.
    pub body: Option<&'a [u8]>,
}

/// One admitted attempt: hand it back to [`Resilience::settle`] with the attempt's outcome.
pub(crate) struct Ticket {
    permit: Option<Permit>,
    seq: u64,
    /// The tokens the attempt was estimated at.
    tokens: u64,
}

impl Resilience {
    /// `None` when neither a breaker nor a limit is configured.
    pub(crate) fn new(
        breaker: Option<BreakerConfig>,
        limiter: Option<Limiter>,
        max_retry_after: Duration,
    ) -> Option<Self> {
        if breaker.is_none() && limiter.is_none() {
            return None;
        }
        Some(Resilience { breaker, targets: Mutex::new(Vec::new()), limiter, max_retry_after })
    }

    /// Redis outages and calls admitted by the local fallback share (both 0 without `rateLimit.redis`).
    pub(crate) fn shared_fallbacks(&self) -> (u64, u64) {
        self.limiter
            .as_ref()
            .and_then(|l| l.shared.as_ref())
            .map_or((0, 0), |s| (s.outages(), s.fallback_calls()))
    }

    /// Whether calls need a token estimate.
    pub(crate) fn counts_tokens(&self) -> bool {
        self.limiter.as_ref().is_some_and(Limiter::counts_tokens)
    }

    /// The origin of `url` and its breaker (shared with the process's other engines of the same
    /// settings); `parse` is called for a URL not seen lately.
    pub(crate) fn target(
        &self,
        url: &str,
        parse: impl FnOnce(&str) -> Result<reqwest::Url, EngineError>,
    ) -> Result<Target, EngineError> {
        let mut list = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = list.iter().find(|t| &*t.url == url) {
            return Ok(t.clone());
        }
        let origin: Arc<str> = parse(url)?.origin().ascii_serialization().into();
        let breaker = self.breaker.map(|config| crate::breaker::shared(&origin, config));
        let t = Target { url: url.into(), limit_key: origin.clone(), origin, breaker };
        list.truncate(TARGETS_KEPT - 1);
        list.insert(0, t.clone());
        Ok(t)
    }

    /// The target of one endpoint of `origin` (its breaker is the origin's), its budget kept as `key`'s.
    pub(crate) fn endpoint_target(&self, origin: &str, key: String) -> Target {
        let breaker = self.breaker.map(|config| crate::breaker::shared(origin, config));
        Target { url: Box::default(), origin: origin.into(), limit_key: key.into(), breaker }
    }

    /// How long the servers' budget of `target` (adaptive limits) would make a call arriving `now` wait;
    /// zero without adaptive limits. Nothing is reserved.
    pub(crate) fn limit_wait(&self, target: &Target, now: Instant) -> Duration {
        match self.limiter.as_ref().and_then(|l| l.adaptive.as_ref()) {
            Some(a) => a.peek(&target.limit_key, now),
            None => Duration::ZERO,
        }
    }

    /// The states of the breakers of the origins this engine called lately.
    pub(crate) fn circuits(&self) -> Vec<(String, CircuitState)> {
        let list = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, CircuitState)> = Vec::new();
        for t in list.iter() {
            if let Some(b) = &t.breaker {
                if !out.iter().any(|(o, _)| **o == *t.origin) {
                    out.push((t.origin.to_string(), b.state()));
                }
            }
        }
        out
    }

    /// Admit one attempt to `target`'s origin: fail at once if its breaker is open, wait for the rate limits'
    /// turn (or fail at once past `max_queue`), then take the breaker's permit.
    ///
    /// Errors: [`ErrorKind::CircuitOpen`], [`ErrorKind::RateLimitedLocally`] (both with `retry_after`),
    /// [`ErrorKind::Aborted`] when `cancel` fires during the wait.
    pub(crate) async fn admit(
        &self,
        target: &Target,
        tokens: u64,
        cancel: &CancellationToken,
    ) -> Result<Ticket, EngineError> {
        let (origin, breaker) = (&*target.origin, &target.breaker);
        if let Some(b) = breaker {
            b.check().map_err(circuit_open)?;
        }
        let mut seq = 0;
        if let Some(l) = &self.limiter {
            let reserved = match &l.shared {
                Some(s) => match s.reserve(origin, tokens, l.max_queue()).await {
                    SharedTurn::Wait(wait) => Ok(Some(wait)),
                    SharedTurn::TooLong(wait) => Err(wait),
                    SharedTurn::Unavailable => Ok(None),
                },
                None => Ok(None),
            };
            let now = Instant::now();
            let key = &*target.limit_key;
            let turn = reserved.and_then(|r| l.reserve(key, tokens, now, r)).map_err(|wait| {
                let mut e = EngineError::new(
                    ErrorKind::RateLimitedLocally,
                    format!(
                        "the client's rate limit (rateLimit) would make this call wait {} ms, more than maxQueueMs",
                        wait.as_millis()
                    ),
                );
                e.retry_after = Some(wait);
                e
            })?;
            seq = turn.seq;
            if turn.at > now {
                super::retry_loop::cancellable(cancel, tokio::time::sleep_until(turn.at.into()))
                    .await
                    .map_err(|_| {
                        EngineError::new(ErrorKind::Aborted, "request was aborted while queued by rateLimit")
                    })?;
            }
        }
        let permit = match breaker {
            Some(b) => Some(b.acquire().map_err(circuit_open)?),
            None => None,
        };
        Ok(Ticket { permit, seq, tokens })
    }

    /// Record how an attempt ended (see [`AttemptEnd`]).
    pub(crate) fn settle(&self, target: &Target, ticket: Ticket, end: AttemptEnd<'_>) {
        let AttemptEnd { status, headers, kind, took, body } = end;
        if let Some(permit) = ticket.permit {
            let outcome = match (status, kind) {
                (429, _) => Outcome::Neutral,
                (500.., _) => Outcome::Failure,
                (1.., _) => Outcome::Success,
                (0, Some(ErrorKind::Connection | ErrorKind::Timeout)) => Outcome::Failure,
                _ => Outcome::Neutral,
            };
            permit.record(outcome);
        }
        if let (Some(l), Some(body)) = (self.limiter.as_ref().filter(|l| l.counts_tokens()), body) {
            if let Some(used) = crate::limiter::used_tokens(body) {
                l.correct_tokens(ticket.tokens, used);
            }
        }
        if let (Some(a), Some(h)) = (self.limiter.as_ref().and_then(|l| l.adaptive.as_ref()), headers) {
            let budget = adaptive::read_headers(status, h, SystemTime::now(), self.max_retry_after);
            if budget != adaptive::Budget::default() {
                a.observe(&target.limit_key, ticket.seq, &budget, Instant::now(), took);
            }
        }
    }
}

pub(crate) fn circuit_open(wait: Duration) -> EngineError {
    let mut e = EngineError::new(
        ErrorKind::CircuitOpen,
        format!(
            "the circuit breaker of this origin is open after repeated failures (circuitBreaker); next probe in {} ms",
            wait.as_millis()
        ),
    );
    e.retry_after = Some(wait);
    e
}
