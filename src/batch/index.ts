/**
 * `aiwire/batch`: run a JSONL batch file (OpenAI's batch input shape, for every provider's
 * operations) through an executor into a JSONL output (OpenAI's batch output shape), resumable and
 * with progress: {@link runBatch}, or `aiwire batch IN -o OUT` on the command line.
 *
 * ```ts
 * import { runBatch } from 'aiwire/batch';
 * const summary = await runBatch({ input: 'requests.jsonl', output: 'results.jsonl', concurrency: 64 });
 * console.log(summary.succeeded, summary.failedByKind, summary.latencyMs.p99);
 * ```
 *
 * @module
 */
export { type BatchClientOptions, BatchClients, providerOf } from './clients.js';
export {
  BatchUsageError,
  createExecutor,
  EXECUTORS,
  type ExecutorEntry,
  type ExecutorFactoryContext,
} from './executors/index.js';
export { localExecutor } from './executors/local.js';
export type { BatchAPIProvider } from './executors/provider-api.js';
export {
  BATCH_PRICE_MULTIPLIER,
  type ProviderBatchEvent,
  type ProviderBatchExecutorOptions,
  providerBatchExecutor,
} from './executors/provider-batch.js';
export { type QueueExecutorOptions, queueExecutor } from './executors/queue.js';
export { BATCH_METHODS, type BatchInput, parseInputLine, syntheticId } from './input.js';
export { BatchLockedError, BatchOutputError } from './output.js';
export {
  type BatchCost,
  type BatchPrices,
  CostTally,
  checkPrices,
  loadPrices,
  type ModelPrice,
  priceKey,
} from './prices.js';
export { COLLECTOR_LOCK_TTL_MS } from './queue-lock.js';
export {
  jobIdOf,
  type QueueConnectionOptions,
  QueueJobError,
  QueueRedisDownError,
  redactRedisUrl,
} from './queue-redis.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_DRAIN_TIMEOUT_MS,
  inputHash,
  type RunBatchOptions,
  runBatch,
} from './run.js';
export { sendItem, toBatchError } from './send-item.js';
export type { BatchProgress, BatchSummary, BatchTokens } from './stats.js';
export type {
  BatchExecutor,
  BatchExecutorContext,
  BatchItem,
  BatchItemError,
  BatchOutputLine,
  BatchProvider,
} from './types.js';
export { runWorker, type WorkerOptions, type WorkerSummary } from './worker.js';
