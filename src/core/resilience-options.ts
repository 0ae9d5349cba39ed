/**
 * The `circuitBreaker` and `rateLimit` client options, checked and turned into the engine's. Both run
 * in the engine (crates/engine/src/breaker.rs, limiter.rs): the waits are tokio sleeps, not JS timers.
 * Both are off unless given.
 */
import { AiwireError } from './errors.js';
import { checkMs } from './request.js';

/**
 * Circuit breaker per origin (scheme + host + port), shared by every client of the process with the
 * same settings that calls that origin. Closed: calls go through; `failureThreshold` consecutive
 * failures (connection errors, timeouts, 5xx; a 4xx is a success, a 429 neither) open it. Open: calls
 * fail at once with `CircuitOpenError` (no request is sent; retries inside the engine too) for
 * `cooldownMs`. Half-open: `halfOpenProbes` calls at once go through; `successThreshold` successes
 * close it, a failed probe opens it again.
 */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls (attempts) that open the breaker. Default 5. */
  failureThreshold?: number | undefined;
  /** How long an open breaker refuses calls before probing, in ms. Default 30,000. */
  cooldownMs?: number | undefined;
  /** Calls let through at once while half-open. Default 1. */
  halfOpenProbes?: number | undefined;
  /** Successful probes that close the breaker. Default 1. */
  successThreshold?: number | undefined;
}

/**
 * Client-side rate limits of one client (each client counts its own calls). Every attempt (retries
 * included) takes its turn in arrival order and waits for it in the engine.
 */
export interface RateLimitOptions {
  /**
   * Requests per minute (GCRA); at most one second's worth (`rpm / 60`, at least 1) go at once, then
   * one every `60,000 / rpm` ms. Default none.
   */
  requestsPerMinute?: number | undefined;
  /**
   * Tokens per minute, estimated from each request: body bytes / 4 plus its `max_tokens` /
   * `max_completion_tokens` / `max_output_tokens`, corrected from the response's `usage` (`total_tokens`,
   * else `input_tokens` + `output_tokens`), in the budget the call was reserved in (local or Redis). A
   * stream is corrected when it ends from the usage its events stated (OpenAI's last chunk with
   * `stream_options: { include_usage: true }`, Responses' `response.completed`, Anthropic's
   * `message_start` + `message_delta`); one that stated none keeps its estimate. Burst: one second's
   * worth. Default none.
   */
  tokensPerMinute?: number | undefined;
  /**
   * Longest wait for a turn, in ms: a call whose turn is further away fails at once with
   * `LocalRateLimitError` (`retryAfterMs`: the wait it would have had). Default none: wait as long as
   * needed (the request's `signal` cancels the wait).
   */
  maxQueueMs?: number | undefined;
  /**
   * Pace calls from the servers' rate-limit headers (OpenAI `x-ratelimit-*`, Anthropic
   * `anthropic-ratelimit-*`, `retry-after` on a 429): when an origin's budget is spent, new calls to
   * it wait for the reset instead of collecting 429s. Works with or without the limits above.
   * Default false.
   */
  adaptive?: boolean | undefined;
  /**
   * Share `requestsPerMinute` / `tokensPerMinute` with every process (on any machine) using the same
   * Redis key: the budgets live in Redis, reserved atomically by a Lua script. See `RedisLimitOptions`.
   * Default none: each client counts its own calls.
   */
  redis?: RedisLimitOptions | undefined;
}

/**
 * Where the shared budgets live. A reservation counts in Redis once sent, so a slow answer is waited
 * for (up to 2 s, connecting included) and obeyed: a loaded Redis never lets the processes exceed the
 * budget. On a connection error (refused, reset, closed, TLS) at once, or after 2 s without an answer,
 * the client falls back for 5 s to a local limiter of `fallbackShare` of each rate; then one call asks
 * Redis again while the others keep the fallback until it answers. No call waits on Redis more than 2 s. Each fallback is counted in
 * `client.stats()` (`sharedLimitOutages`, `sharedLimitFallbackCalls`); the first time `stats()` shows an
 * outage, the client emits one `process.emitWarning` (code `AIWIRE_SHARED_LIMIT_FALLBACK`).
 */
export interface RedisLimitOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS (trusting what the client's HTTPS
   * trusts: system roots, `NODE_EXTRA_CA_CERTS`, the client's `ca`). One server or a proxy in front of
   * several: Redis Cluster is not supported. Required.
   */
  url: string;
  /** Key prefix; `:requests` and `:tokens` are appended. Default `aiwire:ratelimit:<request origin>`. */
  key?: string | undefined;
  /**
   * Fraction (0 < f <= 1) of each rate this process keeps while Redis is unreachable: with N processes,
   * `1 / N` keeps the total budget. Default 0.25.
   */
  fallbackShare?: number | undefined;
}

/** What the engine takes for these options. */
export interface EngineResilienceOptions {
  circuitBreaker?: {
    failureThreshold?: number;
    cooldownMs?: number;
    halfOpenProbes?: number;
    successThreshold?: number;
  };
  rateLimit?: {
    requestsPerMinute?: number;
    tokensPerMinute?: number;
    maxQueueMs?: number;
    adaptive?: boolean;
    redis?: { url: string; key?: string; fallbackShare?: number };
  };
}

function whole(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0xffff_ffff) {
    throw new AiwireError(`${name} must be a whole number >= 1, got ${String(value)}`);
  }
  return value;
}

/**
 * The engine's options for `circuitBreaker` and `rateLimit` (absent when off).
 * @throws AiwireError for a threshold or rate that is not a whole number >= 1, a negative duration, or a
 *   `rateLimit.redis` without a `redis://` or `rediss://` URL or with a `fallbackShare` outside (0, 1].
 */
export function engineResilienceOptions(options: {
  circuitBreaker?: CircuitBreakerOptions | false | undefined;
  rateLimit?: RateLimitOptions | false | undefined;
}): EngineResilienceOptions {
  const out: EngineResilienceOptions = {};
  const b = options.circuitBreaker;
  if (b) {
    out.circuitBreaker = {};
    const failures = whole('circuitBreaker.failureThreshold', b.failureThreshold);
    const cooldown = checkMs('circuitBreaker.cooldownMs', b.cooldownMs);
    const probes = whole('circuitBreaker.halfOpenProbes', b.halfOpenProbes);
    const successes = whole('circuitBreaker.successThreshold', b.successThreshold);
    if (failures !== undefined) out.circuitBreaker.failureThreshold = failures;
    if (cooldown !== undefined) out.circuitBreaker.cooldownMs = cooldown;
    if (probes !== undefined) out.circuitBreaker.halfOpenProbes = probes;
    if (successes !== undefined) out.circuitBreaker.successThreshold = successes;
  }
  const r = options.rateLimit;
  if (r) {
    const rpm = whole('rateLimit.requestsPerMinute', r.requestsPerMinute);
    const tpm = whole('rateLimit.tokensPerMinute', r.tokensPerMinute);
    const maxQueue = checkMs('rateLimit.maxQueueMs', r.maxQueueMs);
    // `maxQueueMs` alone bounds the waits of the endpoints' own budgets (`endpoints[i].rateLimit`).
    if (rpm !== undefined || tpm !== undefined || r.adaptive || maxQueue !== undefined) {
      out.rateLimit = {};
      if (rpm !== undefined) out.rateLimit.requestsPerMinute = rpm;
      if (tpm !== undefined) out.rateLimit.tokensPerMinute = tpm;
      if (maxQueue !== undefined) out.rateLimit.maxQueueMs = maxQueue;
      if (r.adaptive) out.rateLimit.adaptive = true;
      if (r.redis) out.rateLimit.redis = redisOptions(r.redis);
    }
  }
  return out;
}

function redisOptions(r: RedisLimitOptions): { url: string; key?: string; fallbackShare?: number } {
  if (typeof r.url !== 'string' || !/^rediss?:\/\//.test(r.url)) {
    throw new AiwireError(`rateLimit.redis.url must be a redis:// or rediss:// URL, got ${String(r.url)}`);
  }
  const out: { url: string; key?: string; fallbackShare?: number } = { url: r.url };
  if (r.key !== undefined) {
    if (typeof r.key !== 'string' || r.key === '')
      throw new AiwireError('rateLimit.redis.key must be a non-empty string');
    out.key = r.key;
  }
  const f = r.fallbackShare;
  if (f !== undefined) {
    if (typeof f !== 'number' || !(f > 0 && f <= 1)) {
      throw new AiwireError(`rateLimit.redis.fallbackShare must be in (0, 1], got ${String(f)}`);
    }
    out.fallbackShare = f;
  }
  return out;
}
