/**
 * The executors `runBatch({ via })` and `aiwire batch --via` know, by name. Each entry builds its
 * executor from the run's clients and options; a new executor adds one entry here.
 */
import type { BatchClients } from '../clients.js';
import type { BatchExecutor } from '../types.js';
import { localExecutor } from './local.js';

/** What an executor factory gets. */
export interface ExecutorFactoryContext {
  /** The run's clients (one per provider, built on first use from the run's client options). */
  clients: BatchClients;
  /** Items in flight at once (`concurrency`). */
  concurrency: number;
  /** Executor-specific options (`runBatch({ executorOptions })`, CLI flags of that executor). */
  options: Record<string, unknown>;
}

/** One known executor. */
export interface ExecutorEntry {
  /** One line for `aiwire batch --help`. */
  description: string;
  /** Build the executor. @throws a `BatchUsageError` when its options are wrong. */
  create(ctx: ExecutorFactoryContext): BatchExecutor | Promise<BatchExecutor>;
}

/** The executors by `via` name. */
export const EXECUTORS: Record<string, ExecutorEntry> = {
  local: {
    description: 'send from this process at --concurrency, with the clients retries and limits (default)',
    create: ({ clients }) => localExecutor(clients),
  },
};

/** Wrong `via` or executor options: a setup mistake (the CLI exits 2). */
export class BatchUsageError extends Error {
  override name = 'BatchUsageError';
}

/**
 * The executor named `via`.
 *
 * @throws BatchUsageError when no executor has that name (the message lists the known ones).
 */
export async function createExecutor(via: string, ctx: ExecutorFactoryContext): Promise<BatchExecutor> {
  const entry = Object.hasOwn(EXECUTORS, via) ? EXECUTORS[via] : undefined;
  if (!entry) {
    throw new BatchUsageError(`unknown executor '${via}'; use one of: ${Object.keys(EXECUTORS).join(', ')}`);
  }
  return entry.create(ctx);
}
