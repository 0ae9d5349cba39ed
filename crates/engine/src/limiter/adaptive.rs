//! Adaptive limits (`rateLimit: { adaptive: true }`): the servers' rate-limit headers, read from every
//! response (429s included), pace new calls to that origin so they wait for the reset instead of
//! collecting 429s.
//!
//! Headers read:
//! - OpenAI: `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
//!   `x-ratelimit-reset-requests` (a duration such as `6m0s`, `1s`, `20ms`, `1.5s`), and
//!   `x-ratelimit-remaining-tokens` / `x-ratelimit-reset-tokens`;
//! - Anthropic: `anthropic-ratelimit-requests-limit`, `-requests-remaining`, `-requests-reset` (an
//!   RFC 3339 time), and `anthropic-ratelimit-tokens-remaining` / `-tokens-reset` (also the
//!   `input-tokens` and `output-tokens` variants);
//! - `retry-after-ms` / `retry-after` (seconds or an HTTP date) on a 429.
//!
//! Per origin, the engine keeps the server's request budget of the current window: `remaining` minus
//! the calls this engine sent after the one whose response said so in the last half round trip
//! before that response arrived (the server had not seen them when it answered). Each new call takes one from the budget; when it is spent, calls
//! wait for the window's reset, and the next window allows `limit` (when the server said it) calls,
//! its length guessed as the longest reset seen (at most 60 s). No remaining tokens, or a 429 with a
//! delay, make every call to that origin wait that long. With no header, nothing is paced.

use reqwest::header::HeaderMap;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Responses whose reset is this close to the known window's end are of that window.
const SAME_WINDOW: Duration = Duration::from_millis(50);
/// Longest window length guessed from the resets seen.
const MAX_WINDOW: Duration = Duration::from_secs(60);

/// What one response said about the server's budget.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Budget {
    /// Requests allowed per window.
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// Time until the request budget is full again.
    pub reset: Option<Duration>,
    /// Time until calls may go again: tokens spent (their reset) or a 429's `retry-after`.
    pub blocked_for: Option<Duration>,
}

/// One origin's view of its server's budget: the window calls are placed in.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    /// When the window calls are placed in starts (a later window than now's once now's is spent).
    window_start: Option<Instant>,
    window_end: Option<Instant>,
    budget: u64,
    limit: Option<u64>,
    window_len: Duration,
    blocked_until: Option<Instant>,
}

/// Calls whose send times an origin keeps (to tell which ones a response had not counted yet).
const SENT_KEPT: usize = 4096;

/// One origin: its window, and the send times of the latest calls (the last one has `next_seq - 1`).
#[derive(Debug, Default)]
struct Origin {
    w: Window,
    next_seq: u64,
    sent: VecDeque<Instant>,
}

impl Window {
    /// The time a call arriving at `t` may go, taking its place in the budget.
    fn reserve(&mut self, t: Instant) -> Instant {
        let mut t = self.blocked_until.map_or(t, |b| b.max(t));
        t = self.window_start.map_or(t, |s| s.max(t));
        loop {
            let Some(end) = self.window_end else { return t };
            if t >= end {
                match self.limit.filter(|_| !self.window_len.is_zero()) {
                    Some(limit) => {
                        let mut next = end + self.window_len;
                        while next <= t {
                            next += self.window_len;
                        }
                        self.window_start = Some(next - self.window_len);
                        self.window_end = Some(next);
                        self.budget = limit;
                    }
                    None => {
                        self.window_end = None;
                        self.window_start = None;
                        return t;
                    }
                }
            } else if self.budget > 0 {
                self.budget -= 1;
                return t;
            } else {
                t = end;
            }
        }
    }
}

/// The adaptive state of one engine: one entry per origin called.
#[derive(Debug, Default)]
pub struct Adaptive {
    origins: Mutex<HashMap<String, Origin>>,
}

impl Adaptive {
    fn with<R>(&self, origin: &str, f: impl FnOnce(&mut Origin) -> R) -> R {
        let mut map = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = map.get_mut(origin) {
            return f(o);
        }
        f(map.entry(origin.to_owned()).or_default())
    }

    /// Every origin's budget at `now`, for stats (origins that never sent a rate-limit header left out).
    pub fn views(&self, now: Instant) -> Vec<super::stats::AdaptiveView> {
        let map = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = map
            .iter()
            .filter(|(_, o)| o.w.window_end.is_some() || o.w.blocked_until.is_some() || o.w.limit.is_some())
            .map(|(origin, o)| {
                let w = &o.w;
                let later = w.window_start.filter(|s| *s > now);
                let (remaining, reset) = match (later, w.window_end.filter(|e| *e > now)) {
                    (Some(start), _) => (Some(0), Some(start - now)),
                    (None, Some(end)) => (Some(w.budget), Some(end - now)),
                    // The window ended: the next one is full (when the limit is known).
                    (None, None) => (w.window_end.and(w.limit), None),
                };
                super::stats::AdaptiveView {
                    origin: origin.clone(),
                    limit: w.limit,
                    remaining,
                    reset,
                    blocked: w.blocked_until.filter(|b| *b > now).map(|b| b - now),
                }
            })
            .collect();
        out.sort_by(|a, b| a.origin.cmp(&b.origin));
        out
    }

    /// How long a call arriving at `t` would wait past `t` (nothing is reserved).
    pub fn peek(&self, origin: &str, t: Instant) -> Duration {
        self.with(origin, |o| o.w.clone().reserve(t)).saturating_duration_since(t)
    }

    /// Reserve a call arriving at `t`: when it may go, and its sequence number for [`Adaptive::observe`].
    pub fn reserve(&self, origin: &str, t: Instant) -> (Instant, u64) {
        self.with(origin, |o| {
            let seq = o.next_seq;
            o.next_seq += 1;
            let at = o.w.reserve(t);
            if o.sent.len() == SENT_KEPT {
                o.sent.pop_front();
            }
            o.sent.push_back(at);
            (at, seq)
        })
    }

    /// Learn from the response (at `now`, `rtt` after its call was sent) to the call numbered `seq`.
    /// Calls sent after it in the last `rtt / 2` (the response was on its way back meanwhile) are
    /// taken as not counted in its `remaining`.
    pub fn observe(&self, origin: &str, seq: u64, budget: &Budget, now: Instant, rtt: Duration) {
        self.with(origin, |o| {
            let uncounted = {
                let cutoff = now.checked_sub(rtt / 2).unwrap_or(now);
                let first = o.next_seq - o.sent.len() as u64;
                o.sent
                    .iter()
                    .enumerate()
                    .rev()
                    .take_while(|(i, _)| first + *i as u64 > seq)
                    .filter(|(_, at)| **at > cutoff && **at <= now)
                    .count() as u64
            };
            let w = &mut o.w;
            if let Some(d) = budget.blocked_for {
                let until = now + d;
                w.blocked_until = Some(w.blocked_until.map_or(until, |b| b.max(until)));
            }
            w.limit = budget.limit.or(w.limit);
            let (Some(remaining), Some(reset)) = (budget.remaining, budget.reset) else { return };
            w.window_len = w.window_len.max(reset.min(MAX_WINDOW));
            let left = remaining.saturating_sub(uncounted);
            let end = now + reset;
            match w.window_end {
                Some(known) if end > known + SAME_WINDOW => {
                    w.window_start = None;
                    w.window_end = Some(end);
                    w.budget = left;
                }
                Some(known) if end + SAME_WINDOW >= known => {
                    // Every response's `now + reset` is at or after the true end (the response took
                    // time to arrive): the latest one keeps a guessed end from falling short of it.
                    w.window_end = Some(known.max(end));
                    w.budget = w.budget.min(left);
                }
                Some(_) => {} // an older window than the one calls are already placed in
                None => {
                    // The first word on this origin's budget: every call sent before it went unpaced,
                    // many over connections still opening, so any of them (but this one) may reach the
                    // server after it. All are taken as not counted in `remaining` (a lower bound: at
                    // worst part of this window goes unused, never a 429).
                    let since = now.checked_sub(MAX_WINDOW).unwrap_or(now);
                    let sent = o.sent.iter().filter(|at| **at > since && **at <= now).count() as u64;
                    w.window_end = Some(end);
                    w.budget = remaining.saturating_sub(sent.saturating_sub(1).max(uncounted));
                }
            }
        });
    }
}

/// The budget a response states (`status` 429 also reads `retry-after-ms` / `retry-after`, capped
/// at `max_retry_after`), at wall-clock `now` (for Anthropic's reset times).
pub fn read_headers(status: u16, headers: &HeaderMap, now: SystemTime, max_retry_after: Duration) -> Budget {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let int = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok());
    let mut b = Budget::default();
    if let Some(r) = int("x-ratelimit-remaining-requests") {
        b.remaining = Some(r);
        b.limit = int("x-ratelimit-limit-requests");
        b.reset = get("x-ratelimit-reset-requests").and_then(parse_duration);
    } else if let Some(r) = int("anthropic-ratelimit-requests-remaining") {
        b.remaining = Some(r);
        b.limit = int("anthropic-ratelimit-requests-limit");
        b.reset = get("anthropic-ratelimit-requests-reset").and_then(|t| until_rfc3339(t, now));
    }
    let token_pairs = [
        ("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", false),
        ("anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", true),
        ("anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset", true),
        ("anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset", true),
    ];
    for (remaining, reset, rfc3339) in token_pairs {
        if int(remaining) == Some(0) {
            let wait =
                get(reset).and_then(|v| if rfc3339 { until_rfc3339(v, now) } else { parse_duration(v) });
            b.blocked_for = b.blocked_for.max(wait);
        }
    }
    if status == 429 {
        let after = crate::retry::server_retry_delay(headers, now, max_retry_after);
        b.blocked_for = b.blocked_for.max(after.or(b.reset));
    }
    b
}

/// A duration as OpenAI writes it: number-unit pairs with units `h`, `m`, `s`, `ms` (`6m0s`, `1s`,
/// `20ms`, `1.5s`, `1h2m3s`); a bare number is seconds. `None` for anything else.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        total += value * unit;
        rest = &rest[len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// Time from `now` until an RFC 3339 time (`2026-11-30T16:21:00Z`, fractions and `±hh:mm` offsets
/// allowed); zero for a past time, `None` when it does not parse.
pub fn until_rfc3339(text: &str, now: SystemTime) -> Option<Duration> {
    let t = parse_rfc3339(text)?;
    Some(t.duration_since(now).unwrap_or(Duration::ZERO))
}

fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(r)?).ok()?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let mut i = 19;
    let mut frac = 0f64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        frac = format!("0.{}", std::str::from_utf8(&b[start..i]).ok()?).parse().ok()?;
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
            let m = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::try_from_secs_f64(frac).ok()?)
}
