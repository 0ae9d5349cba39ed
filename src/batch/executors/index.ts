/**
 * The executors `runBatch({ via })` and `aiwire batch --via` know, by name. Each entry builds its
 * executor from the run's clients and options; a new executor adds one entry here.
 */

import type { Anthropic } from '../../providers/anthropic/index.js';
import type { OpenAI } from '../../providers/openai/index.js';
import type { BatchClients } from '../clients.js';
import type { BatchExecutor } from '../types.js';
import { localExecutor } from './local.js';
import type { BatchAPIProvider } from './provider-api.js';
import { type ProviderBatchExecutorOptions, providerBatchExecutor } from './provider-batch.js';

/** What an executor factory gets. */
export interface ExecutorFactoryContext {
  /** The run's clients (one per provider, built on first use from the run's client options). */
  clients: BatchClients;
  /** Items in flight at once (`concurrency`). */
  concurrency: number;
  /** Executor-specific options (`runBatch({ executorOptions })`, CLI flags of that executor). */
  options: Record<string, unknown>;
  /** The run's output file (absolute path), when there is one: executors keep their state next to it. */
  output?: string | undefined;
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
  'openai-batch': {
    description:
      "OpenAI's Batch API (half price, results within 24 h): split, upload, create, poll, download; resumable",
    create: (ctx) => providerBatchFromOptions('openai', ctx),
  },
  'anthropic-batch': {
    description:
      "Anthropic's Message Batches API (half price, results within 24 h): split, create, poll, download; resumable",
    create: (ctx) => providerBatchFromOptions('anthropic', ctx),
  },
};

/**
 * The `openai-batch` / `anthropic-batch` executor from a run's executor options: `stateFile`
 * (default `<output>.<provider>-batch-state.json`), `pollIntervalMs`, `maxRequestsPerBatch`,
 * `maxBytesPerBatch`, `spoolAfterBytes`, `onStatus` (see `ProviderBatchExecutorOptions`). The run's client for the
 * provider is used (its base URL, key and retries).
 * @throws BatchUsageError when there is no state file (no output, no `stateFile`) or an option is wrong.
 */
function providerBatchFromOptions(provider: BatchAPIProvider, ctx: ExecutorFactoryContext): BatchExecutor {
  const o = ctx.options;
  const stateFile =
    (o.stateFile as string | undefined) ??
    (ctx.output ? `${ctx.output}.${provider}-batch-state.json` : undefined);
  if (!stateFile) {
    throw new BatchUsageError(
      `${provider}-batch needs executorOptions.stateFile (where its batch ids are recorded)`,
    );
  }
  const url = provider === 'openai' ? '/v1/chat/completions' : '/v1/messages';
  const client = ctx.clients.for({ url }) as OpenAI | Anthropic;
  try {
    return providerBatchExecutor({
      provider,
      client,
      stateFile,
      pollIntervalMs: o.pollIntervalMs as number | undefined,
      maxRequestsPerBatch: o.maxRequestsPerBatch as number | undefined,
      maxBytesPerBatch: o.maxBytesPerBatch as number | undefined,
      spoolAfterBytes: o.spoolAfterBytes as number | undefined,
      onStatus: o.onStatus as ProviderBatchExecutorOptions['onStatus'],
    });
  } catch (e) {
    throw new BatchUsageError((e as Error).message);
  }
}

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
