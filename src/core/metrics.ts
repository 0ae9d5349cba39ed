/**
 * Per-client request metrics (`metrics: true`): counters and latency histograms per operation, a
 * snapshot (`client.metrics()`) and the Prometheus text exposition format (`client.metricsText()`).
 * Only built when the option is on; everything here runs on the JS thread after a request settles.
 */

import type { RateLimitStats } from './options.js';

/**
 * Upper bounds (ms) of the latency histograms' buckets; a last `+Inf` bucket holds the rest. Fixed, so
 * recording is one loop over 14 numbers.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000,
]);

/** Why a call failed: the status class (`4xx`, `5xx`), or how it failed without a usable status. */
export type FailureKind = '4xx' | '5xx' | 'connection' | 'timeout' | 'aborted' | 'other';

/** A latency histogram over {@link LATENCY_BUCKETS_MS}, in ms. */
export interface HistogramSnapshot {
  /** Observations per bucket: `counts[i]` is the count `<= LATENCY_BUCKETS_MS[i]` and above the previous bound (the last: above every bound). */
  counts: number[];
  /** Observations. */
  count: number;
  /** Sum of the observed values (ms). */
  sum: number;
  /** Largest observed value (ms), 0 when none. */
  max: number;
  /** Estimated quantiles (ms) from the buckets (linear within a bucket; the last bucket reports `max`); 0 when empty. */
  p50: number;
  p90: number;
  p99: number;
}

/** One operation's numbers (an operation: the HTTP method and the URL path with ids as `{id}`). */
export interface OperationMetrics {
  /** Calls sent to the engine (a call's retries are counted in `retries`, not here). */
  calls: number;
  /** Calls that ended with a 2xx (for streams: whose head was 2xx). */
  successes: number;
  /** Failed calls by kind (only the kinds seen appear). */
  failures: Partial<Record<FailureKind, number>>;
  /** Retries made by the engine for these calls (each failed attempt that was retried). */
  retries: number;
  /** Time from sending to the outcome (for streams: to the response head), ms. */
  latencyMs: HistogramSnapshot;
  /** Streams only: time from sending to the first batch of events, ms. */
  timeToFirstChunkMs?: HistogramSnapshot | undefined;
  /** Tokens from the `usage` of JSON response bodies (`prompt_tokens`/`input_tokens`, …). */
  tokens: { prompt: number; completion: number; total: number };
}

/** `client.metrics()`: every operation seen since the client was built or `resetMetrics()` ran. */
export interface MetricsSnapshot {
  /** The provider (`openai`, `anthropic`, `replicate`). */
  provider: string;
  /** Per operation, keyed `METHOD /path/{id}`, e.g. `POST /chat/completions`. */
  operations: Record<string, OperationMetrics>;
  /**
   * The `rateLimit` figures (as `client.stats().rateLimit`: since the client was built, not reset by
   * `resetMetrics()`); absent when `rateLimit` is off.
   */
  rateLimit?: RateLimitStats | undefined;
}

class Histogram {
  counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > (LATENCY_BUCKETS_MS[i] as number)) i++;
    (this.counts[i] as number)++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  #quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const n = this.counts[i] as number;
      if (n > 0 && seen + n >= rank) {
        if (i >= LATENCY_BUCKETS_MS.length) return this.max;
        const lo = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] as number);
        const hi = Math.min(LATENCY_BUCKETS_MS[i] as number, this.max);
        return lo + (Math.max(hi, lo) - lo) * ((rank - seen) / n);
      }
      seen += n;
    }
    return this.max;
  }

  snapshot(): HistogramSnapshot {
    return {
      counts: [...this.counts],
      count: this.count,
      sum: this.sum,
      max: this.max,
      p50: this.#quantile(0.5),
      p90: this.#quantile(0.9),
      p99: this.#quantile(0.99),
    };
  }
}

class Operation {
  calls = 0;
  successes = 0;
  failures: Partial<Record<FailureKind, number>> = {};
  retries = 0;
  latency = new Histogram();
  ttfc: Histogram | undefined;
  prompt = 0;
  completion = 0;
  total = 0;
}

/** The numbers of one client. */
export class Metrics {
  readonly #provider: string;
  #ops = new Map<string, Operation>();

  /** @param provider the provider's name, lower case (a label of every series). */
  constructor(provider: string) {
    this.#provider = provider;
  }

  /** The provider's name, lower case. */
  get provider(): string {
    return this.#provider;
  }

  #op(name: string): Operation {
    let op = this.#ops.get(name);
    if (!op) {
      op = new Operation();
      this.#ops.set(name, op);
    }
    return op;
  }

  /**
   * Record a call's outcome.
   * @param failure undefined for a success.
   * @param retries failed attempts the engine retried.
   */
  outcome(operation: string, durationMs: number, failure: FailureKind | undefined, retries: number): void {
    const op = this.#op(operation);
    op.calls++;
    if (failure === undefined) op.successes++;
    else op.failures[failure] = (op.failures[failure] ?? 0) + 1;
    op.retries += retries;
    op.latency.record(durationMs);
  }

  /** Record a stream's time to its first batch of events (ms). */
  firstChunk(operation: string, ms: number): void {
    const op = this.#op(operation);
    op.ttfc ??= new Histogram();
    op.ttfc.record(ms);
  }

  /** Add a response's token counts. */
  tokens(operation: string, prompt: number, completion: number, total: number): void {
    const op = this.#op(operation);
    op.prompt += prompt;
    op.completion += completion;
    op.total += total;
  }

  /** Forget everything recorded. */
  reset(): void {
    this.#ops = new Map();
  }

  /** A copy of the numbers (later calls do not change it). */
  snapshot(): MetricsSnapshot {
    const operations: Record<string, OperationMetrics> = {};
    for (const [name, op] of this.#ops) {
      operations[name] = {
        calls: op.calls,
        successes: op.successes,
        failures: { ...op.failures },
        retries: op.retries,
        latencyMs: op.latency.snapshot(),
        ...(op.ttfc ? { timeToFirstChunkMs: op.ttfc.snapshot() } : {}),
        tokens: { prompt: op.prompt, completion: op.completion, total: op.total },
      };
    }
    return { provider: this.#provider, operations };
  }

  /**
   * The numbers in the Prometheus text exposition format (version 0.0.4): counters
   * `aiwire_requests_total`, `aiwire_request_successes_total`, `aiwire_request_failures_total{kind}`,
   * `aiwire_request_retries_total`, `aiwire_tokens_total{type}`, histograms
   * `aiwire_request_duration_ms` and `aiwire_stream_time_to_first_chunk_ms`; every series labelled
   * `provider` and `operation`.
   */
  text(): string {
    const out: string[] = [];
    const base = (name: string) => `provider="${esc(this.#provider)}",operation="${esc(name)}"`;
    const family = (
      name: string,
      type: string,
      help: string,
      lines: (name: string, op: Operation) => void,
    ) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [opName, op] of this.#ops) lines(opName, op);
    };
    family('aiwire_requests_total', 'counter', 'Calls sent (retries not counted).', (n, op) => {
      out.push(`aiwire_requests_total{${base(n)}} ${op.calls}`);
    });
    family('aiwire_request_successes_total', 'counter', 'Calls that ended with a 2xx.', (n, op) => {
      out.push(`aiwire_request_successes_total{${base(n)}} ${op.successes}`);
    });
    family('aiwire_request_failures_total', 'counter', 'Failed calls by kind.', (n, op) => {
      for (const [kind, count] of Object.entries(op.failures)) {
        out.push(`aiwire_request_failures_total{${base(n)},kind="${kind}"} ${count}`);
      }
    });
    family('aiwire_request_retries_total', 'counter', 'Retried attempts.', (n, op) => {
      out.push(`aiwire_request_retries_total{${base(n)}} ${op.retries}`);
    });
    family('aiwire_tokens_total', 'counter', 'Tokens from response usage.', (n, op) => {
      out.push(`aiwire_tokens_total{${base(n)},type="prompt"} ${op.prompt}`);
      out.push(`aiwire_tokens_total{${base(n)},type="completion"} ${op.completion}`);
    });
    const histogram = (name: string, help: string, pick: (op: Operation) => Histogram | undefined) => {
      family(name, 'histogram', help, (n, op) => {
        const h = pick(op);
        if (!h) return;
        let cumulative = 0;
        for (let i = 0; i < h.counts.length; i++) {
          cumulative += h.counts[i] as number;
          const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]) : '+Inf';
          out.push(`${name}_bucket{${base(n)},le="${le}"} ${cumulative}`);
        }
        out.push(`${name}_sum{${base(n)}} ${h.sum}`, `${name}_count{${base(n)}} ${h.count}`);
      });
    };
    histogram(
      'aiwire_request_duration_ms',
      'Time to the outcome (streams: to the head), ms.',
      (op) => op.latency,
    );
    histogram(
      'aiwire_stream_time_to_first_chunk_ms',
      'Time to the first events of a stream, ms.',
      (op) => op.ttfc,
    );
    return `${out.join('\n')}\n`;
  }
}

/** A Prometheus label value escaped (backslash, double quote, newline). */
function esc(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Path segments that are ids (become `{id}`): a digit in them (but not `v1`-like versions) or 24+ characters. */
const ID_SEGMENT = /^(?!v\d+(?:beta|alpha)?\d*$)(?:.*\d.*|.{24,})$/;

/** Operation names by `method + path`, bounded (paths with ids repeat after collapsing). */
const operationNames = new Map<string, string>();

/**
 * The operation of a request: `METHOD /path` with the query dropped and id-like segments as `{id}`
 * (e.g. `GET /files/{id}/content`). Remembered for the next 1,000 distinct paths.
 *
 * @param method HTTP method, upper case.
 * @param path the path the resource gave (relative to the base URL, or an absolute URL).
 */
export function operationName(method: string, path: string): string {
  const key = method + path;
  let name = operationNames.get(key);
  if (name !== undefined) return name;
  let p = path;
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  if (/^https?:\/\//i.test(p)) p = p.replace(/^https?:\/\/[^/]*/i, '');
  const segments = p.split('/').map((s) => (s && ID_SEGMENT.test(s) ? '{id}' : s));
  name = `${method} ${segments.join('/') || '/'}`;
  if (operationNames.size >= 1_000) operationNames.clear();
  operationNames.set(key, name);
  return name;
}
