/**
 * A batch run's numbers: {@link BatchStats} counts the lines as they are written and gives the
 * {@link BatchProgress} snapshots (for a progress bar) and the final {@link BatchSummary}.
 *
 * Tokens come from each response body's `usage`: OpenAI's `prompt_tokens` / `completion_tokens`
 * (chat, embeddings), or `input_tokens` / `output_tokens` (Anthropic messages, OpenAI Responses).
 * Cost: from the prices the caller gives (`runBatch({ prices })`, see `prices.ts`); aiwire has no
 * price table of its own.
 */
import type { BatchCost, CostTally } from './prices.js';
import type { BatchOutputLine } from './types.js';

/** Tokens used by the run's answered requests, from their `usage`. */
export interface BatchTokens {
  /** Prompt / input tokens. */
  input: number;
  /** Completion / output tokens. */
  output: number;
  /** `total_tokens` where given, else input + output. */
  total: number;
}

/** A snapshot of a running batch (for progress display). */
export interface BatchProgress {
  /** Non-blank input lines, when known (a file is counted while the run starts); null otherwise. */
  total: number | null;
  /** Ids skipped because a previous run already wrote them. */
  skipped: number;
  /** Items answered with a 2xx in this run. */
  succeeded: number;
  /** Items that failed in this run (invalid input lines included). */
  failed: number;
  /** Items handed to the executor and not finished yet. */
  inFlight: number;
  /** Tokens so far (this run). */
  tokens: BatchTokens;
  /** Time since the run started, ms. */
  elapsedMs: number;
  /** Items finished per second in this run (succeeded + failed over elapsed time). */
  ratePerSecond: number;
  /** Estimated time left, ms (remaining lines at the current rate); null when unknown. */
  etaMs: number | null;
  /** Tokens per minute in this run. */
  tokensPerMinute: number;
}

/** What a batch run did: `runBatch`'s resolved value, printed by `aiwire batch` at the end. */
export interface BatchSummary {
  /** The executor that ran the items (`local`, `openai-batch`, …). */
  via: string;
  /** The output file. */
  output: string;
  /** Non-blank input lines read (all of them unless the run was interrupted). */
  total: number;
  /** Ids skipped because the output already had them (resume). */
  skipped: number;
  /** Items answered with a 2xx in this run. */
  succeeded: number;
  /** Items that failed in this run, invalid input lines included. */
  failed: number;
  /** Failures by error code (`invalid_input`, `rate_limit_exceeded`, `connection_error`, `http_500`, …). */
  failedByKind: Record<string, number>;
  /** Of the failures, those worth sending again (`aiwire batch … --retry-failed`). */
  retryable: number;
  /** Input lines that were not valid items (each has an `invalid_input` line in the output). */
  invalid: number;
  /** Earlier retryable failures sent again in this run (`retryFailed`). */
  retried: number;
  /** Ids sent again because their input line changed since their output line was written (`input_hash`). */
  changed: number;
  /** Items taken but left without a line (in flight when the run was stopped); the next run sends them. */
  unfinished: number;
  /** True when the run was stopped (signal / Ctrl-C) before every item was done; run again to resume. */
  interrupted: boolean;
  /** Tokens used, from the responses' `usage`. */
  tokens: BatchTokens;
  /** Per-item latency (taken by the executor → line emitted), ms; null when no item ran. */
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  /** Wall time of the run, ms. */
  wallTimeMs: number;
  /** Items finished per second of wall time. */
  itemsPerSecond: number;
  /** Cost of this run's answered requests, USD, from `prices`; null when no prices were given. */
  cost: BatchCost | null;
}

/** Log-spaced buckets: bucket i holds values up to 1.02^i µs (2 % precision, 0.001 ms to hours). */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 1500;

/** A latency histogram with constant memory (a run of millions of items stays small). */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #max = 0;

  /** Record one latency (ms). */
  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_GROWTH));
    (this.#counts[i] as number) += 1;
    this.#count += 1;
    if (ms > this.#max) this.#max = ms;
  }

  /** The `q` quantile (0–1), ms, within 2 %; null when empty. */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] as number;
      if (seen >= rank) return Math.min(this.#max, GROWTH ** i / 1000);
    }
    return this.#max;
  }

  /** Largest value recorded (ms), null when empty. */
  get max(): number | null {
    return this.#count === 0 ? null : this.#max;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** The counts of one run. */
export class BatchStats {
  readonly started = performance.now();
  total: number | null = null;
  linesRead = 0;
  skipped = 0;
  succeeded = 0;
  failed = 0;
  retryable = 0;
  invalid = 0;
  retried = 0;
  changed = 0;
  unfinished = 0;
  readonly failedByKind: Record<string, number> = {};
  readonly tokens: BatchTokens = { input: 0, output: 0, total: 0 };
  readonly latency = new LatencyHistogram();
  inFlight = 0;
  /** Adds up the cost when the run was given prices. */
  cost: CostTally | undefined;

  /**
   * Count a written line (`latencyMs`: taken → emitted, undefined for invalid input lines; `model`:
   * the request's `model`, to price it by).
   */
  record(line: BatchOutputLine, latencyMs: number | undefined, model?: string | undefined): void {
    if (latencyMs !== undefined) this.latency.record(latencyMs);
    if (line.error) {
      this.failed += 1;
      if (line.error.retryable) this.retryable += 1;
      if (line.error.code === 'invalid_input') this.invalid += 1;
      this.failedByKind[line.error.code] = (this.failedByKind[line.error.code] ?? 0) + 1;
    } else {
      this.succeeded += 1;
    }
    const body = line.response?.body as { usage?: Record<string, unknown> } | null | undefined;
    const usage = body?.usage;
    if (usage && typeof usage === 'object') {
      const input = num(usage.prompt_tokens) || num(usage.input_tokens);
      const output = num(usage.completion_tokens) || num(usage.output_tokens);
      this.tokens.input += input;
      this.tokens.output += output;
      this.tokens.total += num(usage.total_tokens) || input + output;
      const answered = (body as { model?: unknown }).model;
      this.cost?.add([model, typeof answered === 'string' ? answered : undefined], usage);
    }
  }

  /** A progress snapshot now. */
  progress(): BatchProgress {
    const elapsedMs = performance.now() - this.started;
    const finished = this.succeeded + this.failed;
    const ratePerSecond = elapsedMs > 0 ? (finished * 1000) / elapsedMs : 0;
    const remaining = this.total === null ? null : Math.max(0, this.total - this.skipped - finished);
    return {
      total: this.total,
      skipped: this.skipped,
      succeeded: this.succeeded,
      failed: this.failed,
      inFlight: this.inFlight,
      tokens: { ...this.tokens },
      elapsedMs,
      ratePerSecond,
      etaMs: remaining === null || ratePerSecond === 0 ? null : (remaining / ratePerSecond) * 1000,
      tokensPerMinute: elapsedMs > 0 ? (this.tokens.total * 60_000) / elapsedMs : 0,
    };
  }

  /** The final summary. */
  summary(via: string, output: string, interrupted: boolean): BatchSummary {
    const wallTimeMs = performance.now() - this.started;
    const finished = this.succeeded + this.failed;
    return {
      via,
      output,
      total: this.linesRead,
      skipped: this.skipped,
      succeeded: this.succeeded,
      failed: this.failed,
      failedByKind: { ...this.failedByKind },
      retryable: this.retryable,
      invalid: this.invalid,
      retried: this.retried,
      changed: this.changed,
      unfinished: this.unfinished,
      interrupted,
      tokens: { ...this.tokens },
      latencyMs: {
        p50: this.latency.quantile(0.5),
        p99: this.latency.quantile(0.99),
        max: this.latency.max,
      },
      wallTimeMs: Math.round(wallTimeMs),
      itemsPerSecond: wallTimeMs > 0 ? Math.round((finished * 1000 * 10) / wallTimeMs) / 10 : 0,
      cost: this.cost ? this.cost.summary() : null,
    };
  }
}
