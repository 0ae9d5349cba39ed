/**
 * `client.getStats()` / `resetStats()` (the seed's `get_stats()` / `reset_stats()`): the client's
 * request numbers, read from core's per-operation metrics (`client.metrics()`) and response cache
 * (`client.cacheStats()`); nothing is counted twice or kept apart from them.
 */
import type { MetricsSnapshot } from '../../../core/metrics.js';
import type { CacheStats } from '../../../core/reuse.js';

/** `client.getStats()`. Rates are fractions in [0, 1]; 0 when nothing was counted. */
export interface CodegenStats {
  /** Calls made: those sent over the network (in flight included) plus those answered from the cache. */
  totalRequests: number;
  /** Calls that ended 2xx (cache hits included). */
  successfulRequests: number;
  /** Calls that failed (status, connection, timeout, abort). */
  failedRequests: number;
  /** `successfulRequests / totalRequests`. */
  successRate: number;
  /** `failedRequests / totalRequests`. */
  errorRate: number;
  /** Mean time from sending to the outcome of the calls sent over the network, ms. */
  meanLatencyMs: number;
  /** Retries the engine made (each failed attempt that was retried). */
  retries: number;
  /** Cache hits / cacheable calls (hits + misses); 0 without a cache. */
  cacheHitRate: number;
  /** The cache's counters since the last `resetStats()` (size: entries held now). */
  cache: CacheStats;
  /** Calls per operation (`GET /v1/organizations/{id}/agent/runs`, …) sent over the network. */
  byOperation: Record<string, { calls: number; successes: number; failures: number }>;
}

/** The stats from a metrics snapshot and cache counters, minus the cache counters at the last reset. */
export function statsFrom(metrics: MetricsSnapshot, cache: CacheStats, cacheBase: CacheStats): CodegenStats {
  let calls = 0;
  let successes = 0;
  let failed = 0;
  let retries = 0;
  let latencySum = 0;
  let latencyCount = 0;
  const byOperation: CodegenStats['byOperation'] = {};
  for (const [name, op] of Object.entries(metrics.operations)) {
    const failures = Object.values(op.failures).reduce((a, b) => a + (b ?? 0), 0);
    byOperation[name] = { calls: op.calls, successes: op.successes, failures };
    calls += op.calls;
    successes += op.successes;
    failed += failures;
    retries += op.retries;
    latencySum += op.latencyMs.sum;
    latencyCount += op.latencyMs.count;
  }
  const hits = cache.hits - cacheBase.hits;
  const misses = cache.misses - cacheBase.misses;
  const total = calls + hits;
  const ok = successes + hits;
  return {
    totalRequests: total,
    successfulRequests: ok,
    failedRequests: failed,
    successRate: total ? ok / total : 0,
    errorRate: total ? failed / total : 0,
    meanLatencyMs: latencyCount ? latencySum / latencyCount : 0,
    retries,
    cacheHitRate: hits + misses ? hits / (hits + misses) : 0,
    cache: { hits, misses, size: cache.size },
    byOperation,
  };
}
