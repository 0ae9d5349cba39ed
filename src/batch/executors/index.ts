/**
 * The executors `runBatch({ via })` and `aiwire batch --via` know, by name. Each entry builds its
 * executor from the run's clients and options; a new executor adds one entry here.
 */

import { createHash } from 'node:crypto';
import { AiwireError } from '../../core/errors.js';
import type { Anthropic } from '../../providers/anthropic/index.js';
import type { OpenAI } from '../../providers/openai/index.js';
import type { BatchClients } from '../clients.js';
import type { BatchExecutor } from '../types.js';
import { localExecutor } from './local.js';
import type { BatchAPIProvider } from './provider-api.js';
import { type ProviderBatchExecutorOptions, providerBatchExecutor } from './provider-batch.js';
import { queueExecutor } from './queue.js';

/** What an executor factory gets. */
export interface ExecutorFactoryContext {
  /** The run's clients (one per provider, built on first use from the run's client options). */
  clients: BatchClients;
  /** Items in flight at once (`concurrency`). */
  concurrency: number;
  /** Executor-specific options (`runBatch({ executorOptions })`, CLI flags of that executor). */
  options: Record<string, unknown>;
  /** The output file's absolute path (executors that resume from state of their own key it by this). */
  output?: string | undefined;
}

/** A string option of an executor, if given. @throws BatchUsageError when it is not a string. */
function stringOpt(via: string, options: Record<string, unknown>, name: string): string | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new BatchUsageError(`--via ${via}: ${name} must be a string, got ${typeof v}`);
  return v;
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
  queue: {
    description:
      "enqueue on a BullMQ queue on Redis (--redis URL [--queue NAME] [--redis-down-timeout MS]) for 'aiwire worker' processes, collect their lines",
    create: ({ options, output }) => {
      const redis = stringOpt('queue', options, 'redis');
      if (!redis)
        throw new BatchUsageError(
          '--via queue needs --redis URL (redis://host:port), the Redis the workers use',
        );
      // The run id keys the jobs and the results stream: derived from the output file, a rerun with the
      // same output finds the lines the workers published meanwhile.
      const runId =
        stringOpt('queue', options, 'runId') ??
        (output ? `o${createHash('sha256').update(output).digest('hex').slice(0, 20)}` : undefined);
      const num = (name: string): number | undefined => {
        const v = options[name];
        if (v !== undefined && typeof v !== 'number') {
          throw new BatchUsageError(`--via queue: ${name} must be a number, got ${typeof v}`);
        }
        return v;
      };
      const maxPending = num('maxPending');
      const redisDownTimeoutMs = num('redisDownTimeoutMs');
      try {
        return queueExecutor({
          redis,
          queue: stringOpt('queue', options, 'queue'),
          prefix: stringOpt('queue', options, 'prefix'),
          runId,
          maxPending,
          redisDownTimeoutMs,
        });
      } catch (e) {
        if (e instanceof AiwireError || e instanceof TypeError) throw new BatchUsageError(e.message);
        throw e;
      }
    },
  },
};

/**
 * The `openai-batch` / `anthropic-batch` executor from a run's executor options: `stateFile`
 * (default `<output>.<provider>-batch-state.json`), `pollIntervalMs`, `maxRequestsPerBatch`,
 * `maxBytesPerBatch`, `spoolAfterBytes`, `onStatus`, `priceMultiplier` (see `ProviderBatchExecutorOptions`). The run's client for the
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
      priceMultiplier: o.priceMultiplier as number | undefined,
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
