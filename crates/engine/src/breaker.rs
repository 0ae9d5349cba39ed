//! Circuit breaker per origin (scheme + host + port).
//!
//! States: **closed** (calls go through; `failure_threshold` consecutive failures open it), **open**
//! (calls fail at once with [`crate::ErrorKind::CircuitOpen`] until `cooldown` has passed), **half-open**
//! (at most `half_open_probes` calls at once go through as probes; `success_threshold` successful probes
//! close it, one failed probe opens it again for another `cooldown`).
//!
//! A failure is a connection error, a timeout or a 5xx status; a success is a 2xx or a 4xx other than
//! 429 (the server answered); a 429, a cancelled call or a request the engine refused to send count as
//! neither. Outcomes of calls let through in an earlier state (e.g. slow calls started before the
//! breaker opened) are ignored, so only probes decide in half-open.
//!
//! Sharing: one breaker per (origin, settings) for the whole process ([`shared`]): every client of the
//! process with the same `circuitBreaker` settings that calls the same origin sees the same state, as
//! they share the server's health (and, with the same transport settings, the same pool). Clients
//! with other settings keep their own. A breaker lives while some engine holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Settings of a breaker (the `circuitBreaker` client option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakerConfig {
    /// Consecutive failures (calls) that open a closed breaker. Default 5; at least 1.
    pub failure_threshold: u32,
    /// How long an open breaker fails calls at once before it lets probes through. Default 30 s.
    pub cooldown: Duration,
    /// Probes (calls) let through at once while half-open. Default 1; at least 1.
    pub half_open_probes: u32,
    /// Successful probes that close a half-open breaker. Default 1; at least 1.
    pub success_threshold: u32,
}

impl Default for BreakerConfig {
    /// 5 failures, 30 s cooldown, 1 probe, 1 success.
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
            half_open_probes: 1,
            success_threshold: 1,
        }
    }
}

/// A breaker's state, as reported in stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls fail at once.
    Open,
    /// A bounded number of probes go through.
    HalfOpen,
}

impl CircuitState {
    /// `closed`, `open` or `half-open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }
}

/// How an attempt ended, as far as the breaker is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered (2xx, or 4xx other than 429).
    Success,
    /// Connection error, timeout, 5xx.
    Failure,
    /// Neither (429, cancelled, refused before sending).
    Neutral,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probes: u32, successes: u32 },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Bumped on every transition: permits of an older generation are ignored.
    generation: u64,
}

/// One origin's breaker. Cheap: one uncontended lock per call start and end.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// Permission for one attempt; hand it back with [`Breaker::record`]. Dropping it unrecorded counts
/// as [`Outcome::Neutral`].
#[derive(Debug)]
pub struct Permit {
    breaker: Arc<Breaker>,
    generation: u64,
    probe: bool,
    recorded: bool,
}

impl Permit {
    /// Record how the attempt ended.
    pub fn record(mut self, outcome: Outcome) {
        self.recorded = true;
        self.breaker.finish(self.generation, self.probe, outcome, Instant::now());
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker.finish(self.generation, self.probe, Outcome::Neutral, Instant::now());
        }
    }
}

impl Breaker {
    /// A closed breaker with `config` (thresholds below 1 are raised to 1).
    pub fn new(config: BreakerConfig) -> Self {
        let config = BreakerConfig {
            failure_threshold: config.failure_threshold.max(1),
            half_open_probes: config.half_open_probes.max(1),
            success_threshold: config.success_threshold.max(1),
            ..config
        };
        Breaker { config, inner: Mutex::new(Inner { state: State::Closed { failures: 0 }, generation: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state now (an open breaker whose cooldown has passed reports half-open).
    pub fn state(&self) -> CircuitState {
        self.state_at(Instant::now())
    }

    fn state_at(&self, now: Instant) -> CircuitState {
        match self.lock().state {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { until } if now < until => CircuitState::Open,
            State::Open { .. } | State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// Without taking a permit: `Err(wait)` if a call now would be refused (open, cooldown not over),
    /// `wait` being the rest of the cooldown.
    pub fn check(&self) -> Result<(), Duration> {
        match self.lock().state {
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    Err(until - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Permission for one attempt now, or `Err(retry_after)`: the rest of the cooldown when open, the
    /// whole cooldown when half-open with every probe slot taken.
    pub fn acquire(self: &Arc<Self>) -> Result<Permit, Duration> {
        self.acquire_at(Instant::now())
    }

    fn acquire_at(self: &Arc<Self>, now: Instant) -> Result<Permit, Duration> {
        let mut inner = self.lock();
        let probe = match inner.state {
            State::Closed { .. } => false,
            State::Open { until } if now < until => return Err(until - now),
            State::Open { .. } => {
                inner.state = State::HalfOpen { probes: 1, successes: 0 };
                inner.generation += 1;
                true
            }
            State::HalfOpen { ref mut probes, .. } => {
                if *probes >= self.config.half_open_probes {
                    return Err(self.config.cooldown);
                }
                *probes += 1;
                true
            }
        };
        Ok(Permit { breaker: self.clone(), generation: inner.generation, probe, recorded: false })
    }

    fn finish(&self, generation: u64, probe: bool, outcome: Outcome, now: Instant) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let open = |inner: &mut Inner| {
            inner.state = State::Open { until: now + self.config.cooldown };
            inner.generation += 1;
        };
        match (&mut inner.state, outcome) {
            (State::Closed { failures }, Outcome::Failure) => {
                *failures += 1;
                if *failures >= self.config.failure_threshold {
                    open(&mut inner);
                }
            }
            (State::Closed { failures }, Outcome::Success) => *failures = 0,
            (State::HalfOpen { probes, .. }, Outcome::Neutral) if probe => *probes = probes.saturating_sub(1),
            (State::HalfOpen { .. }, Outcome::Failure) if probe => open(&mut inner),
            (State::HalfOpen { probes, successes }, Outcome::Success) if probe => {
                *probes = probes.saturating_sub(1);
                *successes += 1;
                if *successes >= self.config.success_threshold {
                    inner.state = State::Closed { failures: 0 };
                    inner.generation += 1;
                }
            }
            _ => {}
        }
    }
}

type Registry = Mutex<HashMap<(String, BreakerConfig), Weak<Breaker>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The process-wide breaker of `origin` (`scheme://host:port`) for `config`, made on first use.
pub fn shared(origin: &str, config: BreakerConfig) -> Arc<Breaker> {
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    let key = (origin.to_owned(), config);
    if let Some(b) = map.get(&key).and_then(Weak::upgrade) {
        return b;
    }
    let b = Arc::new(Breaker::new(config));
    if map.len() >= 256 {
        map.retain(|_, w| w.strong_count() > 0);
    }
    map.insert(key, Arc::downgrade(&b));
    b
}

#[cfg(test)]
mod tests;
