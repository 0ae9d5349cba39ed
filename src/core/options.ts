/**
 * The options of clients and requests: `BaseClientOptions` (every provider's client takes them, plus
 * the transport's, observability's and reuse's), `RequestOptions` (the last argument of every API
 * method), `FinalRequestOptions` (what a resource method hands to `get/post/…`), `EngineStats`.
 */
import type { EndpointOptions } from './endpoints.js';
import type { Logger, LogLevel } from './logger.js';
import type { ObservabilityOptions } from './observe.js';
import type { PresetName } from './presets.js';
import type { ForeignOrigin } from './request.js';
import type { CircuitBreakerOptions, RateLimitOptions } from './resilience-options.js';
import type { ReuseOptions } from './reuse.js';
import type { TransportOptions } from './transport-options.js';

/** Options every client takes (names as in openai-node), plus the transport's (TLS, proxy). */
export interface BaseClientOptions extends TransportOptions, ObservabilityOptions, ReuseOptions {
  /**
   * Defaults for timeouts, retries, logging, metrics and request sharing (see `PRESETS` in presets.ts
   * and the README's table); options given here win. Default: `<PREFIX>_PRESET` from the environment
   * (`OPENAI_PRESET`, …), else none.
   */
  preset?: PresetName | undefined;
  /** API base URL, e.g. `https://api.openai.com/v1`. */
  baseURL?: string | null | undefined;
  /** Per-attempt timeout in ms. Default 600,000 (10 minutes). */
  timeout?: number | undefined;
  /** Retries after the first attempt (408, 409, 429, >= 500, connection errors). Default 2. */
  maxRetries?: number | undefined;
  /**
   * Back-off before the first retry when the server names no delay (`retry-after` /
   * `retry-after-ms` win when given), in ms; doubled for each later retry up to `retryMaxDelay`, and
   * shortened by up to 25 % of jitter. Default 500.
   */
  retryMinDelay?: number | undefined;
  /** Upper bound of that back-off, in ms. Default 8,000. Must not be below `retryMinDelay`. */
  retryMaxDelay?: number | undefined;
  /** Connect timeout in ms. Default 10,000. */
  connectTimeout?: number | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string | null | undefined> | undefined;
  /** Query parameters sent with every request. */
  defaultQuery?: Record<string, string | undefined> | undefined;
  /** Log verbosity; default from `AIWIRE_LOG` (or the provider's variable), else `warn`. */
  logLevel?: LogLevel | undefined;
  /** Log sink; default `console`. */
  logger?: Logger | undefined;
  /** Idle pooled connections close after this long (ms). Default 4,000. */
  poolIdleTimeout?: number | undefined;
  /** Largest single SSE event (bytes); larger ones fail the stream with `APIResponseDecodeError`. Default 64 MiB. */
  maxEventBytes?: number | undefined;
  /**
   * A stream that receives no bytes for this long (ms) fails with `APIConnectionTimeoutError`
   * (servers' keep-alive comments count as bytes). Default none: only `timeout` (until the response head).
   */
  streamIdleTimeout?: number | undefined;
  /**
   * Circuit breaker per origin, in the engine: after `failureThreshold` consecutive failures calls fail
   * at once with `CircuitOpenError` for `cooldownMs`. Default off. See `CircuitBreakerOptions`.
   */
  circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /**
   * Client-side limits, in the engine: `requestsPerMinute`, `tokensPerMinute`, `maxQueueMs`,
   * `adaptive` (follow the servers' rate-limit headers). Default off. See `RateLimitOptions`.
   */
  rateLimit?: RateLimitOptions | false | undefined;
  /**
   * Failover: several endpoints of the API (`{ baseURL, apiKey?, weight?, rateLimit? }`, e.g. Azure
   * regions or several keys; see `EndpointOptions`), used instead of `baseURL` (the client's `baseURL` is the first endpoint's; the
   * `baseURL` option and environment variable are then not used) and, for endpoints that give their
   * own `apiKey`, instead of the client's key (a client built from `endpoints` alone needs none). In
   * the engine, each attempt of a call picks an endpoint: open circuit breakers are skipped, a retry
   * goes to an endpoint the call has not tried (at once, without back-off), then the endpoint whose
   * budgets (its own `rateLimit`, and the server's with `rateLimit.adaptive`, kept per endpoint) make
   * it wait least, then by weight
   * (smooth weighted round-robin). With `endpoints` the circuit breaker is on by default
   * (`circuitBreaker: false` turns it off). An absolute URL under another endpoint's base URL or on its
   * origin (a `next` page URL it gave) goes to that endpoint, with its key. Per-endpoint figures in
   * `stats().endpoints`. Default none.
   */
  endpoints?: EndpointOptions[] | undefined;
}

/** Live counters of a client's engine (for metrics and leak checks). */
export interface EngineStats {
  /** Buffered requests not yet settled (retry back-offs included). */
  requestsInFlight: number;
  /** Streams whose native side is still open. */
  streamsOpen: number;
  /** Requests and streams started since the client was built. */
  requestsTotal: number;
  /** Retries made since the client was built. */
  retriesTotal: number;
  /**
   * The circuit breakers of the origins this client called (`scheme://host[:port]`) and their state;
   * empty when `circuitBreaker` is off.
   */
  circuits: { origin: string; state: 'closed' | 'open' | 'half-open' | string }[];
  /** Times Redis (`rateLimit.redis`) was down: a connection error, or no answer within 2 s (each: 5 s on the fallback). */
  sharedLimitOutages: number;
  /** Calls admitted by the local fallback share instead of Redis (`rateLimit.redis`). */
  sharedLimitFallbackCalls: number;
  /**
   * The `endpoints`, in the order given (empty without them): base URL (no credentials, never a key),
   * weight, its origin's breaker `state` (absent when the breaker is off), attempts sent (`requests`),
   * calls it answered with a 2xx (`served`), attempts that failed on it (`failures`), and its own
   * budget's figures (`rateLimit`, absent without `endpoints[i].rateLimit`; see
   * {@link EndpointRateLimitStats}). The client's `rateLimit` figures stay in `rateLimit` below.
   */
  endpoints: {
    baseURL: string;
    weight: number;
    state?: 'closed' | 'open' | 'half-open' | string | undefined;
    requests: number;
    served: number;
    failures: number;
    rateLimit?: EndpointRateLimitStats | undefined;
  }[];
  /** What the client-side rate limits did and where their budgets stand; absent when `rateLimit` is off. */
  rateLimit?: RateLimitStats | undefined;
}

/** One origin's server budget as its rate-limit headers state it (`rateLimit.adaptive`). */
export interface AdaptiveBudget {
  /** `scheme://host[:port]`. */
  origin: string;
  /** Requests the server allows per window (`x-ratelimit-limit-requests`, …), when it said so. */
  limit?: number | undefined;
  /** Requests the client may still send in the current window (0 once calls wait for a later one). */
  remaining?: number | undefined;
  /** Ms until the window's budget is full again (with `remaining` 0: until calls go again). */
  resetMs?: number | undefined;
  /** Ms every call to the origin still waits after a 429's `retry-after` or spent tokens. */
  blockedMs?: number | undefined;
}

/**
 * The figures of the `rateLimit` option (`client.stats().rateLimit`, `client.metrics().rateLimit`).
 * Counts are of attempts (a call's retries each take a turn) since the client was built.
 */
export interface RateLimitStats {
  /** Attempts that were queued for their turn (a wait above 0 ms). */
  waitedCalls: number;
  /** Their waits added up, ms. */
  waitMsTotal: number;
  /** The longest wait, ms. */
  waitMsMax: number;
  /** Attempts refused at once because their turn was more than `maxQueueMs` away (`LocalRateLimitError`). */
  refusedCalls: number;
  /** Requests that may go at once now (absent without `requestsPerMinute`). */
  requestsRemaining?: number | undefined;
  /** Estimated tokens that may go at once now (absent without `tokensPerMinute`). */
  tokensRemaining?: number | undefined;
  /**
   * Where those two are kept: `local` (this client's buckets; with `redis`, the fallback share while
   * Redis is down) or `redis` (as of this client's latest reservation there; other processes may have
   * taken some since).
   */
  budgetSource: 'local' | 'redis' | string;
  /** Per origin that answered with rate-limit headers; empty unless `adaptive`. */
  adaptive: AdaptiveBudget[];
  /** Times Redis was down (`rateLimit.redis`: a connection error, or no answer within 2 s; same as `sharedLimitOutages`). */
  redisOutages: number;
  /** Calls admitted by the local fallback share instead of Redis (same as `sharedLimitFallbackCalls`). */
  redisFallbackCalls: number;
}

/**
 * One endpoint's own budget (`endpoints[i].rateLimit`) in `stats().endpoints[i].rateLimit`: the
 * figures of {@link RateLimitStats} for that budget alone (always local to this client). Counts are of
 * attempts since the client was built. A call refused because every endpoint it may use is past its
 * `maxQueueMs` counts once, in the budget of the endpoint with the shortest wait.
 */
export type EndpointRateLimitStats = Pick<
  RateLimitStats,
  'waitedCalls' | 'waitMsTotal' | 'waitMsMax' | 'refusedCalls' | 'requestsRemaining' | 'tokensRemaining'
>;

/** Per-request options, the last argument of every API method (as openai-node's `RequestOptions`). */
export interface RequestOptions {
  /**
   * Extra headers for this request; they replace client defaults of the same name. `null` removes a
   * client default (e.g. `{ 'openai-organization': null }`) for this request; `undefined` is ignored.
   */
  headers?: Record<string, string | null | undefined> | undefined;
  /** Extra query parameters. */
  query?: object | null | undefined;
  /** Per-attempt timeout in ms for this request. */
  timeout?: number | undefined;
  /** Retries for this request. */
  maxRetries?: number | undefined;
  /** Aborts the request (and a stream mid-way); the promise rejects with `APIUserAbortError`. */
  signal?: AbortSignal | null | undefined;
  /** `Idempotency-Key` for this request (default: a fresh key per non-GET request, reused by its retries). */
  idempotencyKey?: string | undefined;
  /**
   * Which failures this request retries: `'any'` (default: connection errors, 408, 409, 429, 5xx) or
   * `'rate-limit-only'`: a 429 only, and no resend after a dropped connection, for requests that
   * create something on a server that does not deduplicate on `Idempotency-Key` (a 5xx or a lost
   * connection may come after the thing was created; a 429 comes before).
   */
  retryOn?: 'any' | 'rate-limit-only' | undefined;
  /**
   * Allow an absolute URL as the path on another origin than the base URL's (e.g. a stream or file
   * host). The client's auth headers are removed for that origin unless `sendCredentials(url)`
   * says yes for an https URL. See `ForeignOrigin` in request.ts. Default: such URLs are refused.
   */
  foreignOrigin?: ForeignOrigin | undefined;
  /**
   * This request's handling by the client's `rateLimit`: `false` sends it at once, outside the limits
   * (no turn taken locally, in Redis or in the adaptive budget; its response corrects nothing and
   * teaches the adaptive limits nothing), for a health check that must not queue behind the traffic;
   * `{ maxQueueMs }` replaces the client's `maxQueueMs` for this request (e.g. 0 for a call that would
   * rather fail with `LocalRateLimitError` than wait). Both apply to the `endpoints`' own budgets
   * (`endpoints[i].rateLimit`) as well: `false` takes no turn in them (the call still goes to the
   * endpoint with the shortest wait), and `maxQueueMs` bounds their wait (when every endpoint the call
   * may use is further away, it fails at once with `LocalRateLimitError`, `retryAfterMs` the shortest
   * wait). Default: the client's limits. Ignored when the client has neither `rateLimit` nor endpoint
   * budgets.
   */
  rateLimit?: false | { maxQueueMs?: number | undefined } | undefined;
  /**
   * `false`: send this request even when its origin's circuit breaker is open, and do not record its
   * outcome (a probe or health check that neither waits for the breaker nor moves it: the breaker still
   * closes only through its own half-open probes). Default: the client's breaker applies.
   */
  circuitBreaker?: false | undefined;
}

/**
 * What a resource method hands to `get/post/…`: the request options plus the body and how the
 * response is read.
 */
export interface FinalRequestOptions extends RequestOptions {
  /** JSON body (`JSON.stringify`), or a `string`/`Buffer` sent as is. */
  body?: unknown;
  /** Open a server-sent-events stream decoded by the provider's `streamDecoder` (`Stream<Item>`). */
  stream?: boolean | undefined;
  /**
   * Send `body` as multipart/form-data: files (`Uploadable`: File, Blob, fs.ReadStream, Buffer, web or
   * Node streams) stream from where they are, never whole in memory; other fields as form fields.
   */
  multipart?: boolean | undefined;
  /** Resolve to a WHATWG `Response` whose body streams (audio, file contents), not parsed JSON. */
  binaryResponse?: boolean | undefined;
  /**
   * Send this file (a path) as the whole request body, streamed from disk by the engine (re-read on
   * each attempt, so retries work; `Content-Length` from its size), instead of `body`. Set
   * `content-type` in `headers`. Such a call is never deduplicated or cached. A missing file fails
   * the request with the engine's error.
   */
  bodyFile?: string | undefined;
  /**
   * Decode the 2xx body in the engine by name: `float-vectors` gives the numbers of `data[*].<field>`
   * as one Float64Array (see `NativeResult.vectors`). Default none.
   */
  decode?: { kind: 'float-vectors'; field?: string | undefined } | undefined;
}
