/**
 * {@link runBatch}: a JSONL batch file through an executor into a JSONL output, resumable.
 *
 * The run: scan the output a previous run left (cut a torn last line; with `retryFailed`, remove the
 * retryable failures atomically so they are sent again), stream the input line by line (invalid
 * lines get an `invalid_input` output line; ids already in the output are skipped), hand the items to
 * the executor, append each emitted line (whole lines, batched, fsync at the end), and resolve with a
 * {@link BatchSummary}. Stopping (`signal`): no new items; in-flight ones get `drainTimeoutMs` to
 * finish, then are aborted; aborted items are not written, so running again with the same output
 * sends exactly the items that have no line.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaseClientOptions } from '../core/options.js';
import type { RateLimitOptions } from '../core/resilience-options.js';
import { type BatchClientOptions, BatchClients } from './clients.js';
import { BatchUsageError, createExecutor } from './executors/index.js';
import {
  type BatchInput,
  countLines,
  INPUT_HASH,
  parseInputLine,
  rawLineBatches,
  syntheticId,
} from './input.js';
import { LineWriter, lockOutput, type OutputScan, rewriteOutput, scanOutput } from './output.js';
import { type BatchPrices, CostTally, checkPrices } from './prices.js';
import { serializeLine } from './send-item.js';
import { type BatchProgress, BatchStats, type BatchSummary } from './stats.js';
import type { BatchExecutor, BatchItem, BatchOutputLine, BatchProvider } from './types.js';

/** Default items in flight at once. */
export const DEFAULT_CONCURRENCY = 64;
/** Default time in-flight items get to finish after a stop, ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** Options of {@link runBatch}. */
export interface RunBatchOptions extends BatchClientOptions {
  /**
   * The input: a JSONL file (path or `file:` URL) in OpenAI's batch input shape, one
   * `{"custom_id", "method", "url", "body"}` per line, or an (async) iterable of such lines (JSON text
   * or objects). Read as a stream.
   */
  input: BatchInput;
  /** The output JSONL file (path or `file:` URL): appended to, and read first to resume. Required. */
  output: string | URL;
  /** The executor by name (`local`, or one registered in `EXECUTORS`). Default `'local'`. */
  via?: string | undefined;
  /** A ready executor (overrides `via`). */
  executor?: BatchExecutor | undefined;
  /** Options for the executor named by `via` (see its documentation). */
  executorOptions?: Record<string, unknown> | undefined;
  /** Items in flight at once, 1–100,000. Default {@link DEFAULT_CONCURRENCY} (64). */
  concurrency?: number | undefined;
  /**
   * Send again the ids whose line in the output is a retryable failure (429, 408, 409, 5xx,
   * connection errors, timeouts); their old lines are removed first (atomic rewrite). Default false:
   * every id with a line is skipped.
   */
  retryFailed?: boolean | undefined;
  /** Client-side limits for every client the run builds (`requestsPerMinute`, `tokensPerMinute`, `adaptive`, `maxQueueMs`). */
  rateLimit?: RateLimitOptions | undefined;
  /** Retries per item for the clients the run builds (the engine's default when absent). */
  maxRetries?: number | undefined;
  /** Per-request timeout for the clients the run builds, ms. */
  timeout?: number | undefined;
  /** Base URL for every client the run builds (a proxy or a mock serving every provider). */
  baseURL?: string | undefined;
  /** Stop: take no new items, let in-flight ones finish (up to `drainTimeoutMs`), flush, resolve. */
  signal?: AbortSignal | undefined;
  /** Abort in-flight requests at once (a second Ctrl-C). Their items stay unwritten. */
  forceSignal?: AbortSignal | undefined;
  /** After a stop, how long in-flight items may take before they are aborted, ms. Default 30,000. */
  drainTimeoutMs?: number | undefined;
  /** Called every `progressIntervalMs` and once at the end with the run's numbers so far. */
  onProgress?: ((progress: BatchProgress) => void) | undefined;
  /** Interval of `onProgress`, ms. Default 500. */
  progressIntervalMs?: number | undefined;
  /**
   * Prices to report the run's cost with (`BatchSummary.cost`): model → `{ input, output,
   * cached_input?, cache_write? }` in USD per 1M tokens, the provider's standard prices (the batch
   * executors apply their 50% discount, `priceMultiplier`). aiwire has no built-in price table.
   * Absent: `cost` is null. See `prices.ts` for how a model is matched and tokens are counted.
   */
  prices?: BatchPrices | undefined;
}

const PROVIDERS: BatchProvider[] = ['openai', 'anthropic', 'replicate', 'codegen', 'aivillage'];

function checkNumber(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BatchUsageError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
}

function clientOptionsOf(options: RunBatchOptions): BatchClientOptions['clientOptions'] {
  const common: BaseClientOptions = {};
  if (options.rateLimit) common.rateLimit = options.rateLimit;
  if (options.maxRetries !== undefined) common.maxRetries = options.maxRetries;
  if (options.timeout !== undefined) common.timeout = options.timeout;
  if (options.baseURL !== undefined) common.baseURL = options.baseURL;
  const out: NonNullable<BatchClientOptions['clientOptions']> = {};
  for (const p of PROVIDERS) out[p] = { ...common, ...options.clientOptions?.[p] };
  return out;
}

/**
 * Run a batch file: every input line ends up as exactly one output line (OpenAI's batch output shape:
 * `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`), with a typed
 * `error` for failures and invalid lines. Rerunning with the same `output` resumes: ids with a line are
 * skipped (with `retryFailed`, retryable failures are sent again and their old line removed).
 *
 * @returns the run's {@link BatchSummary} (also when stopped by `signal`: `interrupted: true`).
 * @throws BatchUsageError for wrong options (unknown `via`, `concurrency` out of range, output = input);
 *   BatchOutputError when the output file holds a line that is not a batch output line;
 *   BatchLockedError when another live run holds `<output>.lock` (a killed run's lock is taken over); the input
 *   file's read error (ENOENT, …); a missing API key's error from the client; a write error (ENOSPC).
 *   Lines written before a throw stay written and whole.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  if (options.output === undefined || options.output === '') {
    throw new BatchUsageError('output is required: the JSONL file the results are appended to');
  }
  const output = resolvePath(options.output instanceof URL ? fileURLToPath(options.output) : options.output);
  const input = options.input;
  if (input === undefined || input === null)
    throw new BatchUsageError('input is required: a JSONL file or an iterable of items');
  if (
    (typeof input === 'string' || input instanceof URL) &&
    resolvePath(input instanceof URL ? fileURLToPath(input) : input) === output
  ) {
    throw new BatchUsageError('output must be another file than input');
  }
  if (typeof input === 'string' || input instanceof URL) {
    // A missing input fails before anything is created (the output, its lock).
    await stat(input instanceof URL ? fileURLToPath(input) : input);
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  checkNumber('concurrency', concurrency, 1, 100_000);
  checkNumber('drainTimeoutMs', options.drainTimeoutMs, 0, 2 ** 31 - 1);
  checkNumber('progressIntervalMs', options.progressIntervalMs, 1, 2 ** 31 - 1);
  if (options.prices !== undefined) checkPrices(options.prices, 'prices');

  const clients = new BatchClients({ ...options, clientOptions: clientOptionsOf(options) });
  try {
    const via = options.executor?.name ?? options.via ?? 'local';
    const executor =
      options.executor ??
      (await createExecutor(via, { clients, concurrency, options: options.executorOptions ?? {}, output }));

    const unlock = await lockOutput(output);
    try {
      return await resume(options, { output, via, executor, concurrency });
    } finally {
      await unlock();
    }
  } finally {
    clients.close();
  }
}

/** Read what the output already has (resume), drop what will be redone, then run. */
async function resume(options: RunBatchOptions, plan: Omit<Plan, 'scan' | 'redo'>): Promise<BatchSummary> {
  const scan = await scanOutput(plan.output);
  const redo = new Set<string>();
  const drop = new Set(scan.superseded);
  if (options.retryFailed) {
    for (const [id, s] of scan.ids) {
      if (s.retryable) {
        redo.add(id);
        drop.add(s.line);
      }
    }
  }
  if (drop.size > 0) await rewriteOutput(plan.output, drop);
  return execute(options, { ...plan, scan: scan.ids, redo });
}

interface Plan {
  output: string;
  via: string;
  executor: BatchExecutor;
  concurrency: number;
  scan: OutputScan['ids'];
  redo: ReadonlySet<string>;
}

/**
 * The short hash of an input line recorded in its output line (`input_hash`): the first 16 hex digits
 * of the SHA-256 of the line's text as read (an object input: of its JSON text). A resumed run sends
 * again an id whose line no longer has this hash.
 */
export function inputHash(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? '');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The request's `model` (to price it by), if its body names one. */
function modelOf(body: unknown): string | undefined {
  const m = (body as { model?: unknown } | null | undefined)?.model;
  return typeof m === 'string' ? m : undefined;
}

/**
 * After a run that sent changed lines again: drop every line superseded by a later one of the same id
 * and the `invalid_input` lines of ids that no longer exist (`stale`), atomically (temp file + rename;
 * a kill before leaves the later line winning, and the next run's start drops the earlier one).
 */
async function compact(output: string, stale: ReadonlySet<string>): Promise<void> {
  const scan = await scanOutput(output);
  const drop = new Set(scan.superseded);
  for (const id of stale) {
    const s = scan.ids.get(id);
    if (s?.invalidLine !== undefined) drop.add(s.line);
  }
  if (drop.size > 0) await rewriteOutput(output, drop);
}

async function execute(options: RunBatchOptions, plan: Plan): Promise<BatchSummary> {
  const stats = new BatchStats();
  void countLines(options.input).then((n) => {
    stats.total = n;
  });
  const writer = await LineWriter.append(plan.output);
  const stop = new AbortController();
  const hard = new AbortController();
  // Every in-flight request listens on these.
  setMaxListeners(0, stop.signal, hard.signal);
  let drainTimer: NodeJS.Timeout | undefined;
  const onStop = (): void => {
    if (stop.signal.aborted) return;
    stop.abort();
    const ms = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    drainTimer = setTimeout(() => hard.abort(), ms);
  };
  const onForce = (): void => {
    stop.abort();
    hard.abort();
  };
  if (options.signal?.aborted) onStop();
  options.signal?.addEventListener('abort', onStop, { once: true });
  if (options.forceSignal?.aborted) onForce();
  options.forceSignal?.addEventListener('abort', onForce, { once: true });
  const progressTimer = options.onProgress
    ? setInterval(() => options.onProgress?.(stats.progress()), options.progressIntervalMs ?? 500)
    : undefined;

  if (options.prices) stats.cost = new CostTally(options.prices, plan.executor.priceMultiplier ?? 1);
  /** Items taken: when, their input line's hash, the request's model. */
  const pending = new Map<string, { at: number; hash: string; model: string | undefined }>();
  /** `invalid_input` ids of lines that now have another id (removed by the compaction). */
  const stale = new Set<string>();
  let inputDone = false;
  const write = (
    line: BatchOutputLine,
    latencyMs: number | undefined,
    hash: string,
    model: string | undefined,
  ): Promise<void> => {
    stats.record(line, latencyMs, model);
    line.input_hash = hash;
    return writer.push(`${serializeLine(line)}\n`);
  };

  async function* items(): AsyncGenerator<BatchItem> {
    const seen = new Map<string, number>();
    for await (const batch of rawLineBatches(options.input)) {
      for (const [raw, n] of batch) {
        if (stop.signal.aborted) return;
        stats.linesRead += 1;
        const parsed = parseInputLine(raw, n, seen);
        const id = parsed.item ? parsed.item.custom_id : parsed.invalid.custom_id;
        const hash = inputHash(raw);
        const before = plan.scan.get(id);
        if (id !== syntheticId(n) && plan.scan.get(syntheticId(n))?.invalidLine === n) {
          stale.add(syntheticId(n));
        }
        if (before && !plan.redo.has(id)) {
          // Written by an earlier run: skipped unless its line changed since (lines without a hash: kept).
          if (before.hash === undefined || before.hash === hash) {
            stats.skipped += 1;
            continue;
          }
          stats.changed += 1;
        }
        if (plan.redo.has(id)) stats.retried += 1;
        if (parsed.invalid) {
          await write(parsed.invalid, undefined, hash, undefined);
          continue;
        }
        pending.set(id, { at: performance.now(), hash, model: modelOf(parsed.item.body) });
        Object.defineProperty(parsed.item, INPUT_HASH, { value: hash, enumerable: false });
        stats.inFlight += 1;
        yield parsed.item;
      }
    }
    inputDone = true;
  }

  let finished = false;
  const emit = async (line: BatchOutputLine): Promise<void> => {
    // After the executor returned (in-flight requests abandoned on abortInFlight): nothing more is written.
    if (finished) return;
    const taken = pending.get(line.custom_id);
    // Not taken in this run, or already written: dropped, so that no id is written twice.
    if (taken === undefined) return;
    pending.delete(line.custom_id);
    stats.inFlight -= 1;
    // Cancelled, not answered: left unwritten so that the next run sends it again.
    if (line.error?.code === 'aborted') {
      stats.unfinished += 1;
      return;
    }
    await write(line, performance.now() - taken.at, taken.hash, taken.model);
  };

  const source = items();
  let failed = false;
  try {
    await plan.executor.run(source, {
      signal: stop.signal,
      concurrency: plan.concurrency,
      emit,
      abortInFlight: hard.signal,
    });
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    finished = true;
    if (progressTimer) clearInterval(progressTimer);
    if (drainTimer) clearTimeout(drainTimer);
    options.signal?.removeEventListener('abort', onStop);
    options.forceSignal?.removeEventListener('abort', onForce);
    await source.return(undefined).catch(() => {});
    if (failed) await writer.close().catch(() => {});
    else await writer.close();
  }
  if (stats.changed > 0 || stale.size > 0) await compact(plan.output, stale);
  stats.unfinished += pending.size;
  const interrupted = !inputDone || stats.unfinished > 0;
  stats.inFlight = 0;
  options.onProgress?.(stats.progress());
  return stats.summary(plan.via, plan.output, interrupted);
}
