//! The retry loop shared by buffered requests and streams ([`Engine::with_retries`]): attempts,
//! the free resend after a stale pooled connection, back-off sleeps (cancellable), and, when the
//! request asks for it (`RequestSpec::trace`), a record of every failed attempt for debug logs. Each
//! attempt (retries included) first passes the client's breaker and rate limits when it has them
//! (`resilience.rs`), and reports its outcome to them. With `endpoints`, each attempt of a request under
//! the first endpoint's base URL first picks its endpoint, and a request under (or on the origin of)
//! another endpoint goes to that one (`failover.rs`).

use super::failover::Route;
use super::resilience::AttemptEnd;
use super::{header_map, Engine, RequestSpec};
use crate::error::{EngineError, ErrorKind};
use crate::retry::{AttemptOutcome, RetryOn};
use crate::upload::Upload;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Set `upload`'s freshly opened body (and its `Content-Length`, multipart `Content-Type`) on `req`.
pub(super) async fn attach_upload(req: &mut reqwest::Request, upload: &Upload) -> Result<(), EngineError> {
    let opened = upload.open().await?;
    let headers = req.headers_mut();
    if let Some(t) = opened.content_type {
        let value = HeaderValue::from_str(&t)
            .map_err(|_| EngineError::new(ErrorKind::InvalidRequest, "invalid multipart content type"))?;
        headers.insert(reqwest::header::CONTENT_TYPE, value);
    }
    if let Some(n) = opened.length {
        headers.insert(reqwest::header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    *req.body_mut() = Some(opened.body);
    Ok(())
}

pub(super) async fn cancellable<T>(
    cancel: &CancellationToken,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, EngineError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(EngineError::new(ErrorKind::Aborted, "request was aborted")),
        v = fut => Ok(v),
    }
}

/// The status and headers of a successful attempt's response (for the breaker and adaptive limits).
pub(super) trait AttemptHead {
    fn head(&self) -> (u16, &HeaderMap);
    /// The whole body, when the attempt read it (buffered requests).
    fn body(&self) -> Option<&[u8]> {
        None
    }
    /// Where a stream takes its token correction, to be made from the usage its events state.
    fn usage_slot(&self) -> Option<&UsageSlot> {
        None
    }
}

/// Filled by the limits' settle with a stream's pending token correction (see `limiter::usage`).
pub(super) type UsageSlot = std::sync::OnceLock<crate::limiter::usage::PendingCorrection>;

/// What one attempt produced, before the retry decision.
pub(super) enum Attempt<T> {
    Done(T),
    Failed(EngineError),
}

impl Engine {
    /// The retry loop shared by buffered requests and streams. `attempt` runs one attempt and returns
    /// either the final value or a failure; a failure carrying a status is retried per the policy.
    /// Returns the value, the attempts made, and the attempt record when `spec.trace`.
    pub(super) async fn with_retries<T, F, Fut>(
        &self,
        spec: &RequestSpec,
        cancel: &CancellationToken,
        mut attempt: F,
    ) -> Result<(T, u32, Option<String>), EngineError>
    where
        F: FnMut(reqwest::Request) -> Fut,
        Fut: std::future::Future<Output = Attempt<T>>,
        T: AttemptHead,
    {
        let policy = self.policy(spec);
        let extra = header_map(&spec.headers)?;
        let key = Self::idempotency_key(spec);
        let mut attempts = 0u32;
        let mut retries_done = 0u32;
        let mut resent_stale = false;
        let mut trace = spec.trace.then(String::new);
        // A rate-limit-only request goes to a server that does not deduplicate on the key: no resend.
        let resend_safe = (spec.retry_on == RetryOn::Any && key.is_some())
            || spec.method == Method::GET
            || spec.method == Method::HEAD
            || spec.method == Method::OPTIONS;
        // With endpoints: the failover state and where the request goes (spread or pinned).
        let route =
            self.failover.as_ref().and_then(|f| f.route(&spec.url, spec.pin_endpoint).map(|r| (f, r)));
        // Spread over the endpoints: a retry may move to one the call has not tried.
        let spread = |route: Option<(&super::failover::Failover, Route)>| {
            route.is_some_and(|(_, r)| matches!(r, Route::Spread(_)))
        };
        let guard = match &self.resilience {
            Some(r) => {
                // A routed request's target is its endpoint's, per attempt.
                let origin = match route {
                    Some(_) => None,
                    None => Some(r.target(&spec.url, |url| self.parse_url(url))?),
                };
                let tokens =
                    if r.counts_tokens() { crate::limiter::estimate_tokens(spec.body.as_deref()) } else { 1 };
                Some((r, origin, tokens))
            }
            None => None,
        };
        // The endpoints this call tried (a bit each), and its token estimate for their own budgets.
        let mut tried = 0u64;
        let endpoint_tokens = match route {
            Some((f, _)) if f.counts_tokens() => crate::limiter::estimate_tokens(spec.body.as_deref()),
            _ => 1,
        };
        loop {
            if cancel.is_cancelled() {
                let mut e = EngineError::new(ErrorKind::Aborted, "request was aborted");
                e.attempts = attempts;
                return Err(e);
            }
            let endpoint = match route {
                Some((f, r)) => {
                    let resilience = self.resilience.as_ref();
                    match f.pick(r, tried, endpoint_tokens, resilience, spec.rate_limit, cancel).await {
                        Ok(i) => Some(i),
                        Err(mut e) => {
                            e.attempts = attempts;
                            e.trace = trace;
                            return Err(e);
                        }
                    }
                }
                None => None,
            };
            let target = match (route, endpoint) {
                (Some((f, _)), Some(i)) => f.endpoints[i].target.as_ref(),
                _ => guard.as_ref().and_then(|(_, t, _)| t.as_ref()),
            };
            let ticket = match (&guard, target) {
                (Some((r, _, tokens)), Some(target)) => match r.admit(target, *tokens, spec, cancel).await {
                    Ok(t) => Some(t),
                    Err(mut e) => {
                        if let (ErrorKind::CircuitOpen, Some((f, _)), Some(i)) = (e.kind, route, endpoint) {
                            // Its half-open breaker's probes are all out: another endpoint, if any.
                            tried |= 1 << i;
                            let (r, limit) = (self.resilience.as_ref(), spec.rate_limit);
                            if spread(route) && f.has_untried(tried, endpoint_tokens, r, limit) {
                                continue;
                            }
                        }
                        e.attempts = attempts;
                        e.trace = trace;
                        return Err(e);
                    }
                },
                _ => None,
            };
            attempts += 1;
            let started = Instant::now();
            let routed_url;
            let at = match (route, endpoint) {
                (Some((f, r)), Some(i)) => {
                    f.sent(i);
                    let e = &f.endpoints[i];
                    let url = match r {
                        Route::Spread(rest) => {
                            routed_url = [&*e.base, rest].concat();
                            routed_url.as_str()
                        }
                        Route::Pinned(_) => spec.url.as_str(),
                    };
                    Some((url, &e.headers))
                }
                // Not under the first endpoint's base URL: as it is, with the first endpoint's headers.
                _ => self.failover.as_ref().map(|f| (spec.url.as_str(), &f.endpoints[0].headers)),
            };
            let mut req = self.build_request(spec, at, &extra, key.as_deref())?;
            if let Some(upload) = &spec.upload {
                if let Err(mut e) = attach_upload(&mut req, upload).await {
                    e.attempts = attempts;
                    return Err(e);
                }
            }
            let outcome = match cancellable(cancel, attempt(req)).await {
                Ok(o) => o,
                Err(mut e) => {
                    e.attempts = attempts;
                    return Err(e);
                }
            };
            if let (Some((r, _, _)), Some(target), Some(ticket)) = (&guard, target, ticket) {
                let took = started.elapsed();
                let end = match &outcome {
                    Attempt::Done(v) => {
                        let (status, headers) = v.head();
                        let (body, usage_slot) = (v.body(), v.usage_slot());
                        AttemptEnd { status, headers: Some(headers), kind: None, took, body, usage_slot }
                    }
                    Attempt::Failed(e) => AttemptEnd {
                        status: e.http_status().unwrap_or(0),
                        headers: e.response.as_ref().map(|r| &r.headers),
                        kind: Some(e.kind),
                        took,
                        body: None,
                        usage_slot: None,
                    },
                };
                r.settle(target, ticket, end);
            }
            if let (Some((f, _)), Some(i)) = (route, endpoint) {
                let (ok, body) = match &outcome {
                    Attempt::Done(v) => (true, v.body()),
                    Attempt::Failed(_) => (false, None),
                };
                f.ended(i, ok, endpoint_tokens, body, spec.rate_limit != crate::limiter::RequestLimit::Off);
                tried |= 1 << i;
            }
            let mut err = match outcome {
                Attempt::Done(v) => {
                    served_by(&mut trace, attempts, endpoint);
                    return Ok((v, attempts, trace));
                }
                Attempt::Failed(e) => e,
            };
            err.attempts = attempts;
            let took = started.elapsed();
            if let Some(upload) = spec.upload.as_ref().filter(|u| !u.replayable()) {
                // A streamed body was consumed by this attempt: it can not be sent again.
                if let Some(message) = upload.aborted() {
                    let mut e = EngineError::new(
                        ErrorKind::InvalidRequest,
                        format!("request body aborted by its producer: {message}"),
                    );
                    e.attempts = attempts;
                    return Err(e);
                }
                return Err(err);
            }
            if err.before_response && !resent_stale && resend_safe {
                // Most likely a pooled connection the server had closed while idle (the server never
                // read the request): resend once at once on a fresh connection, as curl and undici do.
                // This resend is not one of the `max_retries` retries. As the engine can not yet tell a
                // reused connection from a fresh one (where the server may have read the request), it
                // only does this when the server can deduplicate: an Idempotency-Key, or a safe method.
                resent_stale = true;
                record(&mut trace, attempts, &err, took, "resend", None, endpoint);
                continue;
            }
            let delay = match (&err.kind, &err.response) {
                (ErrorKind::Status, Some(r)) => policy.next_delay(
                    &AttemptOutcome::Status { status: r.status, headers: &r.headers },
                    retries_done,
                ),
                (ErrorKind::Connection | ErrorKind::Timeout, _) => {
                    policy.next_delay(&AttemptOutcome::ConnectionError, retries_done)
                }
                _ => None,
            };
            let Some(mut delay) = delay else {
                served_by(&mut trace, attempts, endpoint);
                err.trace = trace;
                return Err(err);
            };
            let untried = |f: &super::failover::Failover| {
                f.has_untried(tried, endpoint_tokens, self.resilience.as_ref(), spec.rate_limit)
            };
            if spread(route) && route.is_some_and(|(f, _)| untried(f)) {
                // The next attempt goes to an endpoint this call has not tried: the back-off (and a
                // `retry-after`) was the failed endpoint's.
                delay = std::time::Duration::ZERO;
            }
            record(&mut trace, attempts, &err, took, "retry", Some(delay), endpoint);
            retries_done += 1;
            self.stats.retries_total.fetch_add(1, Ordering::Relaxed);
            if cancellable(cancel, tokio::time::sleep(delay)).await.is_err() {
                let mut e = EngineError::new(ErrorKind::Aborted, "request was aborted during retry back-off");
                e.attempts = attempts;
                return Err(e);
            }
        }
    }
}

/// One line of a request's attempt record (`RequestSpec::trace`): `attempt`, status (0: none), how long
/// the attempt took (ms), what follows (`retry` after `wait` ms, or `resend` at once on a fresh
/// connection), the wait (ms), the error's message when there was no status, and, for a call routed
/// over `endpoints`, the index of the attempt's endpoint; tab-separated.
fn record(
    trace: &mut Option<String>,
    attempt: u32,
    err: &EngineError,
    took: std::time::Duration,
    action: &str,
    wait: Option<std::time::Duration>,
    endpoint: Option<usize>,
) {
    use std::fmt::Write;
    if let Some(t) = trace {
        let status = err.http_status().unwrap_or(0);
        let detail = if status == 0 { err.message.replace(['\t', '\n'], " ") } else { String::new() };
        let _ = write!(
            t,
            "{attempt}\t{status}\t{}\t{action}\t{}\t{detail}",
            took.as_millis(),
            wait.map_or(0, |w| w.as_millis())
        );
        let _ = match endpoint {
            Some(i) => writeln!(t, "\t{i}"),
            None => writeln!(t),
        };
    }
}

/// The last line of the attempt record of a call routed over `endpoints`: its last attempt's endpoint,
/// as `attempt`, `0`, `0`, `endpoint`, `0`, ``, index (the columns of [`record`]).
fn served_by(trace: &mut Option<String>, attempt: u32, endpoint: Option<usize>) {
    use std::fmt::Write;
    if let (Some(t), Some(i)) = (trace, endpoint) {
        let _ = writeln!(t, "{attempt}\t0\t0\tendpoint\t0\t\t{i}");
    }
}
