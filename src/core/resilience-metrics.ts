/**
 * The engine's resilience figures in the Prometheus text exposition format (version 0.0.4), appended
 * to `client.metricsText()`: the `rateLimit` counters and budgets (`client.stats().rateLimit`) and the
 * circuit breakers' states. Every series is labelled `provider`; per-origin ones also `origin`.
 */
import type { AdaptiveBudget, EngineStats } from './options.js';

/** A Prometheus label value escaped (backslash, double quote, newline). */
function esc(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/**
 * The one process warning (code `AIWIRE_SHARED_LIMIT_FALLBACK`) of a client whose `stats()` first shows
 * a Redis outage of `rateLimit.redis`.
 * @returns whether it warned (then the client never calls this again).
 */
export function warnSharedLimitFallback(stats: EngineStats): boolean {
  if (!(stats.sharedLimitOutages > 0)) return false;
  const p = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  p?.emitWarning?.(
    'aiwire: Redis of rateLimit.redis was unreachable; this client used its local fallbackShare of the limits',
    { code: 'AIWIRE_SHARED_LIMIT_FALLBACK' },
  );
  return true;
}

/** The circuit breaker states, each a series of `aiwire_circuit_state` (1 for the current one). */
const STATES = ['closed', 'open', 'half-open'] as const;

/**
 * Families (only those with something to say: none without `rateLimit` and `circuitBreaker`):
 * - counters `aiwire_ratelimit_waited_total` (attempts queued for their turn),
 *   `aiwire_ratelimit_wait_ms_total` (their waits added up, ms), `aiwire_ratelimit_refused_total`
 *   (refused past `maxQueueMs`), `aiwire_ratelimit_redis_outages_total`,
 *   `aiwire_ratelimit_redis_fallback_calls_total`;
 * - gauges `aiwire_ratelimit_wait_ms_max`, `aiwire_ratelimit_remaining{budget="requests"|"tokens",source}`,
 *   and per origin `aiwire_ratelimit_server_limit`, `aiwire_ratelimit_server_remaining`,
 *   `aiwire_ratelimit_server_reset_ms`, `aiwire_ratelimit_server_blocked_ms` (adaptive; a series is left
 *   out while its value is unknown), `aiwire_circuit_state{origin,state}` (1 for the breaker's state, 0 for
 *   the others).
 * @param provider the client's provider, lower case.
 * @param stats `client.stats()`.
 * @returns the text, each line ending in `\n`; empty when there is nothing to report.
 */
export function resilienceText(provider: string, stats: EngineStats): string {
  const out: string[] = [];
  const p = `provider="${esc(provider)}"`;
  const family = (name: string, type: string, help: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  const r = stats.rateLimit;
  if (r) {
    family('aiwire_ratelimit_waited_total', 'counter', 'Attempts queued by rateLimit for their turn.', [
      `aiwire_ratelimit_waited_total{${p}} ${r.waitedCalls}`,
    ]);
    family('aiwire_ratelimit_wait_ms_total', 'counter', 'Time attempts waited for their turn, ms.', [
      `aiwire_ratelimit_wait_ms_total{${p}} ${r.waitMsTotal}`,
    ]);
    family('aiwire_ratelimit_wait_ms_max', 'gauge', 'Longest wait for a turn, ms.', [
      `aiwire_ratelimit_wait_ms_max{${p}} ${r.waitMsMax}`,
    ]);
    family('aiwire_ratelimit_refused_total', 'counter', 'Attempts refused past maxQueueMs.', [
      `aiwire_ratelimit_refused_total{${p}} ${r.refusedCalls}`,
    ]);
    const remaining: string[] = [];
    const source = `source="${esc(r.budgetSource)}"`;
    if (r.requestsRemaining !== undefined && r.requestsRemaining !== null) {
      remaining.push(`aiwire_ratelimit_remaining{${p},budget="requests",${source}} ${r.requestsRemaining}`);
    }
    if (r.tokensRemaining !== undefined && r.tokensRemaining !== null) {
      remaining.push(`aiwire_ratelimit_remaining{${p},budget="tokens",${source}} ${r.tokensRemaining}`);
    }
    family('aiwire_ratelimit_remaining', 'gauge', 'Requests or tokens that may go at once now.', remaining);
    const perOrigin = (name: string, help: string, pick: (a: AdaptiveBudget) => unknown) => {
      const lines: string[] = [];
      for (const a of r.adaptive) {
        const v = pick(a);
        if (typeof v === 'number') lines.push(`${name}{${p},origin="${esc(a.origin)}"} ${v}`);
      }
      family(name, 'gauge', help, lines);
    };
    perOrigin('aiwire_ratelimit_server_limit', 'Requests per window the server allows.', (a) => a.limit);
    perOrigin('aiwire_ratelimit_server_remaining', 'Requests left in the window.', (a) => a.remaining);
    perOrigin('aiwire_ratelimit_server_reset_ms', 'Ms until the window resets.', (a) => a.resetMs);
    perOrigin('aiwire_ratelimit_server_blocked_ms', 'Ms calls still wait after a 429.', (a) => a.blockedMs);
    if (r.redisOutages > 0 || r.redisFallbackCalls > 0 || r.budgetSource === 'redis') {
      family(
        'aiwire_ratelimit_redis_outages_total',
        'counter',
        'Times Redis was down (a connection error, or no answer within 2 s).',
        [`aiwire_ratelimit_redis_outages_total{${p}} ${r.redisOutages}`],
      );
      family(
        'aiwire_ratelimit_redis_fallback_calls_total',
        'counter',
        'Calls admitted by the local fallback share.',
        [`aiwire_ratelimit_redis_fallback_calls_total{${p}} ${r.redisFallbackCalls}`],
      );
    }
  }
  const circuits: string[] = [];
  for (const c of stats.circuits) {
    for (const state of STATES) {
      const v = c.state === state ? 1 : 0;
      circuits.push(`aiwire_circuit_state{${p},origin="${esc(c.origin)}",state="${state}"} ${v}`);
    }
  }
  family('aiwire_circuit_state', 'gauge', 'Circuit breaker state per origin (1: current).', circuits);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
