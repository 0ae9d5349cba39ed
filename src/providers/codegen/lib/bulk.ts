/**
 * `client.bulk.createAgentRuns(configs, { concurrency, onProgress, signal })` (the seed's
 * `bulk_create_agent_runs`): many calls at bounded concurrency, one result per input in input order,
 * each `{ success: true, data }` or `{ success: false, error }`: a failure never rejects the batch
 * and never drops another item's result. The pool is a few lines over an index (workers take the next
 * item when one finishes), so no dependency: rate limits and retries stay in the engine.
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type { Codegen } from '../client.js';
import type { AgentRun, AgentRunCreateParams } from '../resources/agent-runs.js';

/** One item's outcome, at the item's input position (`index`). */
export type BulkResult<T> =
  | { success: true; index: number; data: T; error?: undefined }
  | { success: false; index: number; error: Error; data?: undefined };

/** Progress after each item ends. */
export interface BulkProgress {
  /** Items ended so far (successes + failures). */
  completed: number;
  /** Items in the batch. */
  total: number;
  succeeded: number;
  failed: number;
}

/** Options of the bulk helpers. */
export interface BulkOptions {
  /** Items in flight at once (a whole number >= 1). Default 5 (the seed's `max_concurrent`). */
  concurrency?: number | undefined;
  /**
   * Called after each item ends, with the counts and that item's result. A listener that throws is
   * reported with `process.emitWarning`; the batch goes on.
   */
  onProgress?: ((progress: BulkProgress, result: BulkResult<unknown>) => void) | undefined;
  /**
   * Stop starting items when aborted: calls in flight are cancelled, and every item not done ends as
   * `{ success: false, error: APIUserAbortError }` (the results stay complete).
   */
  signal?: AbortSignal | undefined;
}

/**
 * Run `fn` over `items` with at most `concurrency` in flight; resolves to one result per item, in
 * input order. Never rejects for an item's failure.
 * @throws AiwireError (as a rejection) for a bad `concurrency` or a non-array `items`.
 */
export async function runBulk<I, T>(
  items: readonly I[],
  fn: (item: I, index: number, signal: AbortSignal | undefined) => Promise<T>,
  options: BulkOptions = {},
): Promise<BulkResult<T>[]> {
  if (!Array.isArray(items)) {
    throw new AiwireError(`bulk items must be an array, got ${items === null ? 'null' : typeof items}`);
  }
  const concurrency = options.concurrency ?? 5;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new AiwireError(`concurrency must be a whole number >= 1, got ${String(options.concurrency)}`);
  }
  const total = items.length;
  const results = new Array<BulkResult<T>>(total);
  const progress: BulkProgress = { completed: 0, total, succeeded: 0, failed: 0 };
  const { signal, onProgress } = options;
  let next = 0;
  const settle = (result: BulkResult<T>) => {
    results[result.index] = result;
    progress.completed++;
    if (result.success) progress.succeeded++;
    else progress.failed++;
    if (!onProgress) return;
    try {
      onProgress({ ...progress }, result);
    } catch (e) {
      process.emitWarning(`aiwire: a bulk onProgress listener threw: ${String(e)}`, {
        code: 'AIWIRE_BULK_LISTENER',
      });
    }
  };
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= total) return;
      if (signal?.aborted) {
        settle({ success: false, index, error: new APIUserAbortError() });
        continue;
      }
      try {
        settle({ success: true, index, data: await fn(items[index] as I, index, signal) });
      } catch (e) {
        settle({ success: false, index, error: e instanceof Error ? e : new AiwireError(String(e)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

/** `client.bulk`: the bulk helpers of one client. */
export class Bulk {
  readonly #client: Codegen;

  /** @internal */
  constructor(client: Codegen) {
    this.#client = client;
  }

  /**
   * Create one agent run per config (`POST …/agent/run`; each config is `agentRuns.create`'s params,
   * `org_id` included when it differs from the client's), at most `concurrency` at once.
   * Resolves to one `{ success, data | error }` per config, in config order.
   * @throws AiwireError (as a rejection) for a bad `concurrency`; item failures are results, not throws.
   */
  createAgentRuns(
    configs: readonly AgentRunCreateParams[],
    options: BulkOptions = {},
  ): Promise<BulkResult<AgentRun>[]> {
    return runBulk(
      configs,
      (config, _i, signal) => this.#client.agentRuns.create(config, signal ? { signal } : undefined),
      options,
    );
  }

  /**
   * Any calls in bulk: `fn(item, index, signal)` per item (pass `signal` to the call so an abort cancels
   * it), with the same ordering, results and progress as `createAgentRuns`.
   */
  run<I, T>(
    items: readonly I[],
    fn: (item: I, index: number, signal: AbortSignal | undefined) => Promise<T>,
    options: BulkOptions = {},
  ): Promise<BulkResult<T>[]> {
    return runBulk(items, fn, options);
  }
}
