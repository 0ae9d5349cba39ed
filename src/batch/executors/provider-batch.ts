/**
 * The `openai-batch` and `anthropic-batch` executors: the items run through the provider's Batch API
 * (half the price of the same requests one by one; results within 24 h) instead of one request each.
 *
 * `providerBatchExecutor(options).run(items, ctx)`:
 * 1. reads the items, grouping them into chunks under the provider's limits (OpenAI: one endpoint per
 *    batch, 50,000 requests / 200 MB per input file; Anthropic: 100,000 requests / 256 MB per batch);
 *    an item the Batch API cannot run (another endpoint, GET, `stream: true`, too big) is emitted at
 *    once with an `invalid_input` error;
 * 2. creates a batch per full chunk as soon as it is full (the rest when the input ends): an intent
 *    (chunk number, `custom_id`s) is written to the state file before the create, the create tags
 *    the batch with the run and chunk (OpenAI `metadata`), and the batch id replaces the intent right
 *    after; a rerun after a crash in between finds and adopts the batch (`batch-adopt.ts`) instead of
 *    creating it again;
 * 3. polls every batch until it ends (one timer per wait: `pollIntervalMs`, else the server's hint,
 *    else 1 s doubling to 60 s), then reads its results and emits one output line per item, in
 *    aiwire's output shape (see `openai-batch.ts` / `anthropic-batch.ts` for the mapping); an item the
 *    results do not mention gets a retryable `missing_result` error. The batch is then marked
 *    collected in the state file.
 *
 * Resume: a rerun with the same state file re-attaches to the recorded batches that are not collected:
 * items they hold are not submitted again; their results are emitted when the batch ends (only for
 * the items the runner passes, i.e. not in the output yet).
 *
 * Abort (`ctx.signal`): no new batch is created, polling and reading stop, and `run()` resolves; the
 * batches already created keep running on the server (they are paid for, and cancelling loses the
 * requests already done): rerun with the same state file to collect them, or cancel them with the
 * provider's API. The executor says so through `onStatus` (`detached`), or with a process warning
 * (`AIWIRE_BATCH_DETACHED`) when no `onStatus` is given.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiwireError, APIConnectionError, APIError, NotFoundError } from '../../core/errors.js';
import { Anthropic } from '../../providers/anthropic/index.js';
import { OpenAI } from '../../providers/openai/index.js';
import { inputHashOf } from '../input.js';
import { outputLineId, toBatchError } from '../send-item.js';
import type { BatchExecutor, BatchExecutorContext, BatchItem, BatchOutputLine } from '../types.js';
import { anthropicBatchAPI } from './anthropic-batch.js';
import { resolveIntents } from './batch-adopt.js';
import { type Chunk, ChunkBuilder, dropSpool } from './batch-chunks.js';
import { BatchStateFile, type RecordedBatch } from './batch-state.js';
import { openAIBatchAPI } from './openai-batch.js';
import {
  type BatchAPIProvider,
  batchRequestError,
  invalidInput,
  type ProviderBatchAPI,
  type RemoteBatch,
} from './provider-api.js';
import { pollBatch } from './provider-poll.js';

/** What the executor reports through `onStatus`. */
export interface ProviderBatchEvent {
  /**
   * `created` (a batch was created and recorded), `resumed` (a recorded batch is re-attached),
   * `polled` (a batch was retrieved), `ended` (a batch ended, its results are being emitted),
   * `collected` (all its results emitted), `detached` (aborted: batches left running on the server),
   * `adopted` (a batch a killed run created but did not record was found and re-attached),
   * `ambiguous` (such a batch could not be told from others: `batchIds`; its items are sent again).
   */
  type: 'created' | 'resumed' | 'polled' | 'ended' | 'collected' | 'detached' | 'adopted' | 'ambiguous';
  provider: BatchAPIProvider;
  /** The batch (every type but `detached`). */
  batchId?: string | undefined;
  /** The batches left running (`detached`), or that could be the unrecorded one (`ambiguous`). */
  batchIds?: string[] | undefined;
  /** The provider's status (`polled`, `ended`). */
  status?: string | undefined;
  /** Items of this run in the batch. */
  requests?: number | undefined;
  /** The provider's request counts (`polled`, `ended`). */
  requestCounts?: Record<string, number> | undefined;
  /** One line for a person. */
  message: string;
}

/** Options of {@link providerBatchExecutor}. */
export interface ProviderBatchExecutorOptions {
  /** Whose Batch API: `'openai'` (`openai-batch`) or `'anthropic'` (`anthropic-batch`). */
  provider: BatchAPIProvider;
  /**
   * The client to use (an `OpenAI` for `openai`, an `Anthropic` for `anthropic`; not closed by the
   * executor). Default: one built from `clientOptions` and the provider's environment variables
   * (`OPENAI_API_KEY` / `ANTHROPIC_API_KEY`, `…_BASE_URL`), closed when `run()` ends.
   */
  client?: OpenAI | Anthropic | undefined;
  /** Options of the client the executor builds (`apiKey`, `baseURL`, `maxRetries`, …). */
  clientOptions?: Record<string, unknown> | undefined;
  /**
   * Path of the JSON file recording the batches created (see `batch-state.ts`), so a rerun resumes
   * them instead of submitting the items again. Required; created when missing. Use one state file
   * per input/output pair.
   */
  stateFile: string;
  /**
   * Milliseconds between two polls of a batch (a positive number). Default: the server's hint
   * (OpenAI's `openai-poll-after-ms`), else 1,000 ms doubling after each poll up to 60,000 ms.
   */
  pollIntervalMs?: number | undefined;
  /** Most requests per batch (a positive integer). Default: the provider's limit (50,000 / 100,000). */
  maxRequestsPerBatch?: number | undefined;
  /**
   * Most bytes per batch (a positive integer): OpenAI's input file, Anthropic's create body. Default:
   * the provider's limit (200,000,000 / 256,000,000 bytes).
   */
  maxBytesPerBatch?: number | undefined;
  /**
   * Bytes of a batch being built kept in memory; past them its requests are written to a temporary
   * file (in the OS temporary directory, deleted after the create) so memory stays flat whatever the
   * batch size: OpenAI's input file is uploaded from it, Anthropic's create body is written from it
   * to a second temporary file that the engine streams from disk. A positive integer; default 8 MiB.
   */
  spoolAfterBytes?: number | undefined;
  /** Called on each {@link ProviderBatchEvent}. */
  onStatus?: ((event: ProviderBatchEvent) => void) | undefined;
  /**
   * The factor `runBatch({ prices })` multiplies the standard prices by for this executor's items (a
   * number >= 0). Default {@link BATCH_PRICE_MULTIPLIER} (0.5): both providers bill Batch API
   * requests at half the standard price (OpenAI's Batch guide: "50% cost discount"; Anthropic's
   * batch processing docs: "50% of standard API prices"). Change it if the provider's terms change.
   */
  priceMultiplier?: number | undefined;
}

/**
 * The Batch API discount as a factor on standard prices: 0.5, both providers bill batch requests at
 * half price (https://platform.openai.com/docs/guides/batch,
 * https://docs.anthropic.com/en/docs/build-with-claude/batch-processing#pricing).
 */
export const BATCH_PRICE_MULTIPLIER = 0.5;

/** A batch this run waits for. */
interface Tracked {
  record: RecordedBatch;
  /** The id each request has in the batch → its `custom_id`, for the items of this run. */
  pending: Map<string, string>;
  /** Resolves when the items it holds are all known (immediately for batches made by this run). */
  complete: Promise<void>;
}

function checkPositiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
    throw new AiwireError(`providerBatchExecutor: ${name} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * The `openai-batch` / `anthropic-batch` executor; see the file comment.
 * @throws AiwireError when an option is invalid (unknown provider, no `stateFile`, a limit or interval
 *   that is not positive). `run()` rejects with AiwireError when the state file cannot be read, or
 *   records another provider's batches; with the API's error when polling a batch fails for good (its
 *   batches stay recorded: rerun to resume).
 */
export function providerBatchExecutor(options: ProviderBatchExecutorOptions): BatchExecutor {
  const { provider, stateFile, pollIntervalMs, onStatus } = options;
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw new AiwireError(
      `providerBatchExecutor: provider must be 'openai' or 'anthropic', got ${String(provider)}`,
    );
  }
  if (typeof stateFile !== 'string' || stateFile === '') {
    throw new AiwireError(
      'providerBatchExecutor: stateFile is required (a path where the created batches are recorded, for resuming)',
    );
  }
  checkPositiveInt('maxRequestsPerBatch', options.maxRequestsPerBatch);
  checkPositiveInt('maxBytesPerBatch', options.maxBytesPerBatch);
  checkPositiveInt('spoolAfterBytes', options.spoolAfterBytes);
  const priceMultiplier = options.priceMultiplier ?? BATCH_PRICE_MULTIPLIER;
  if (!(typeof priceMultiplier === 'number' && Number.isFinite(priceMultiplier) && priceMultiplier >= 0)) {
    throw new AiwireError(
      `providerBatchExecutor: priceMultiplier must be a number >= 0 (0.5 = half price), got ${String(priceMultiplier)}`,
    );
  }
  if (pollIntervalMs !== undefined && !(typeof pollIntervalMs === 'number' && pollIntervalMs > 0)) {
    throw new AiwireError(
      `providerBatchExecutor: pollIntervalMs must be a positive number, got ${pollIntervalMs}`,
    );
  }
  const report = (event: ProviderBatchEvent) => {
    if (onStatus) onStatus(event);
    else if (event.type === 'detached') process.emitWarning(event.message, { code: 'AIWIRE_BATCH_DETACHED' });
  };

  return {
    name: `${provider}-batch`,
    priceMultiplier,
    async run(items: AsyncIterable<BatchItem>, ctx: BatchExecutorContext): Promise<void> {
      const state = await BatchStateFile.open(stateFile, provider);
      const built =
        options.client === undefined
          ? provider === 'openai'
            ? new OpenAI(options.clientOptions ?? {})
            : new Anthropic(options.clientOptions ?? {})
          : undefined;
      const client = options.client ?? (built as OpenAI | Anthropic);
      if (provider === 'openai' && !(client instanceof OpenAI)) {
        throw new AiwireError("providerBatchExecutor: provider 'openai' needs an OpenAI client");
      }
      if (provider === 'anthropic' && !(client instanceof Anthropic)) {
        throw new AiwireError("providerBatchExecutor: provider 'anthropic' needs an Anthropic client");
      }
      const api =
        provider === 'openai' ? openAIBatchAPI(client as OpenAI) : anthropicBatchAPI(client as Anthropic);
      const spoolDir = api.spools ? await fsp.mkdtemp(join(tmpdir(), 'aiwire-batch-')) : undefined;
      try {
        await runBatches(api, state, items, ctx, { ...options, report, spoolDir });
      } finally {
        built?.close();
        if (spoolDir) await fsp.rm(spoolDir, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
}

type RunOptions = ProviderBatchExecutorOptions & {
  report: (event: ProviderBatchEvent) => void;
  spoolDir: string | undefined;
};

/** Default of `spoolAfterBytes`: 8 MiB. */
const SPOOL_AFTER_BYTES = 8 * 1024 * 1024;

async function runBatches(
  api: ProviderBatchAPI,
  state: BatchStateFile,
  items: AsyncIterable<BatchItem>,
  ctx: BatchExecutorContext,
  o: RunOptions,
): Promise<void> {
  // Aborted with ctx.signal, or when reading the input fails (pollers must not wait for hours then).
  const stop = new AbortController();
  const onAbort = () => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  const signal = stop.signal;
  const inner: BatchExecutorContext = { ...ctx, signal };
  const provider = api.provider;
  const builder = new ChunkBuilder({
    maxRequests: o.maxRequestsPerBatch ?? api.defaultMaxRequests,
    maxBytes: o.maxBytesPerBatch ?? api.defaultMaxBytes,
    overheadBytes: api.overheadBytes,
    separatorBytes: api.separatorBytes,
    acceptsId: api.acceptsId,
    encode: api.encode,
    spoolDir: o.spoolDir,
    spoolAfterBytes: o.spoolAfterBytes ?? SPOOL_AFTER_BYTES,
  });
  let inputDone!: () => void;
  const inputComplete = new Promise<void>((resolve) => {
    inputDone = resolve;
  });
  // A killed run's creates without a record: adopt their batches before reading the records.
  try {
    await resolveIntents(api, state, signal, (e) => o.report({ ...e, provider }));
  } catch (err) {
    ctx.signal.removeEventListener('abort', onAbort);
    await builder.dispose();
    if (signal.aborted) return;
    throw err;
  }
  // Recorded batches, by the custom_id of each request they hold.
  const recorded = new Map<string, { record: RecordedBatch; remoteId: string; hash: string }>();
  for (const record of state.open()) {
    const remoteOf = new Map(
      Object.entries(record.renamed ?? {}).map(([remote, custom]) => [custom, remote]),
    );
    record.custom_ids.forEach((id, i) => {
      recorded.set(id, { record, remoteId: remoteOf.get(id) ?? id, hash: record.input_hashes?.[i] ?? '' });
    });
  }
  const tracked = new Map<string, Tracked>();
  const waits: Promise<void>[] = [];
  const failures: unknown[] = [];

  const follow = (t: Tracked) => {
    waits.push(
      collect(api, state, t, inner, o).catch((err: unknown) => {
        // One batch failing for good (or a failed write) stops the run; every batch stays recorded.
        if (signal.aborted) return;
        failures.push(err);
        stop.abort(err);
      }),
    );
  };

  const submit = async (chunk: Chunk) => {
    let id: string;
    let intent: number | undefined;
    try {
      // Best effort: without it a later search reads up to SEARCH_LIMIT batches (Anthropic: by time too).
      const newest = await api.newestBatchId(signal).catch((err: unknown) => {
        if (signal.aborted) throw err;
        return undefined;
      });
      intent = (
        await state.intend({
          group: chunk.group,
          at: new Date().toISOString(),
          custom_ids: chunk.customIds,
          ...(chunk.hashes.some((h) => h !== '') ? { input_hashes: chunk.hashes } : {}),
          ...(Object.keys(chunk.renamed).length ? { renamed: chunk.renamed } : {}),
          ...(newest !== undefined ? { newest_before: newest } : {}),
        })
      ).chunk;
      id = await api.create(chunk, signal, { run: state.runId, chunk: intent });
    } catch (err) {
      await dropSpool(chunk);
      // Keep the intent when the batch may exist all the same (no answer, or a 5xx): a rerun looks for it.
      const maybeCreated =
        err instanceof APIConnectionError || (err instanceof APIError && (err.status ?? 0) >= 500);
      if (intent !== undefined && !maybeCreated) await state.dropIntent(intent);
      if (signal.aborted) return;
      const error = toBatchError(err);
      for (const custom_id of chunk.customIds) {
        await ctx.emit({ id: outputLineId(), custom_id, response: null, error });
      }
      return;
    }
    await dropSpool(chunk);
    const record: RecordedBatch = {
      id,
      group: chunk.group,
      created_at: new Date().toISOString(),
      custom_ids: chunk.customIds,
      ...(chunk.hashes.some((h) => h !== '') ? { input_hashes: chunk.hashes } : {}),
      collected: false,
      chunk: intent,
      ...(Object.keys(chunk.renamed).length ? { renamed: chunk.renamed } : {}),
    };
    await state.add(record);
    const inverse = new Map(Object.entries(chunk.renamed).map(([r, c]) => [c, r]));
    const pending = new Map(chunk.customIds.map((c) => [inverse.get(c) ?? c, c]));
    o.report({
      type: 'created',
      provider,
      batchId: id,
      requests: pending.size,
      message: `created ${provider} batch ${id} (${pending.size} requests, ${chunk.bytes} bytes)`,
    });
    const t: Tracked = { record, pending, complete: Promise.resolve() };
    tracked.set(id, t);
    follow(t);
  };

  try {
    for await (const item of items) {
      if (signal.aborted) break;
      const found = recorded.get(item.custom_id);
      const hash = inputHashOf(item);
      // An item whose input line changed since its batch was created is sent anew (the old result is ignored).
      const old =
        found && (found.hash === '' || hash === undefined || found.hash === hash) ? found : undefined;
      if (old) {
        let t = tracked.get(old.record.id);
        if (!t) {
          t = { record: old.record, pending: new Map(), complete: inputComplete };
          tracked.set(old.record.id, t);
          o.report({
            type: 'resumed',
            provider,
            batchId: old.record.id,
            message: `resuming ${provider} batch ${old.record.id} (created ${old.record.created_at})`,
          });
          follow(t);
        }
        t.pending.set(old.remoteId, item.custom_id);
        continue;
      }
      const group = api.groupOf(item);
      if (typeof group !== 'string') {
        await ctx.emit({ id: outputLineId(), custom_id: item.custom_id, response: null, error: group });
        continue;
      }
      const added = await builder.add(group, item);
      if (!added.ok) {
        await ctx.emit({
          id: outputLineId(),
          custom_id: item.custom_id,
          response: null,
          error: invalidInput(
            `line ${item.line}: the request takes ${added.bytes} bytes, over the batch limit of ${o.maxBytesPerBatch ?? api.defaultMaxBytes} bytes`,
            item.line,
          ),
        });
        continue;
      }
      if (added.full) await submit(added.full);
    }
    if (!signal.aborted) for (const chunk of builder.drain()) await submit(chunk);
  } catch (err) {
    failures.unshift(err);
    stop.abort(err);
  } finally {
    inputDone();
    await builder.dispose();
    await Promise.all(waits);
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) {
    const left = [...tracked.values()].filter((t) => !t.record.collected).map((t) => t.record.id);
    if (left.length) {
      o.report({
        type: 'detached',
        provider,
        batchIds: left,
        message: `stopped: ${left.length} ${provider} batch(es) left running on the server (${left.join(', ')}); rerun with the same state file (${state.path}) to collect their results`,
      });
    }
  }
  if (failures.length) throw failures[0];
}

/** Wait for one batch to end, then emit its results for the items of this run; mark it collected. */
async function collect(
  api: ProviderBatchAPI,
  state: BatchStateFile,
  t: Tracked,
  ctx: BatchExecutorContext,
  o: RunOptions,
): Promise<void> {
  const { signal } = ctx;
  const id = t.record.id;
  const provider = api.provider;
  let remote: RemoteBatch;
  try {
    remote = await pollBatch(api, id, signal, o.pollIntervalMs, (b) =>
      o.report({
        type: 'polled',
        provider,
        batchId: id,
        status: b.status,
        requestCounts: b.requestCounts,
        message: `${provider} batch ${id}: ${b.status}`,
      }),
    );
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    await t.complete;
    const error = batchRequestError(
      'batch_not_found',
      `${provider} batch ${id} no longer exists (deleted, or another account's key); run again to resubmit its items`,
      true,
    );
    for (const custom_id of t.pending.values())
      await ctx.emit({ id: outputLineId(), custom_id, response: null, error });
    await state.collected(id);
    t.record.collected = true;
    return;
  }
  await t.complete;
  if (signal.aborted) return;
  o.report({
    type: 'ended',
    provider,
    batchId: id,
    status: remote.status,
    requestCounts: remote.requestCounts,
    requests: t.pending.size,
    message: `${provider} batch ${id} ended ${remote.status}`,
  });
  const pending = t.pending;
  if (remote.failure) {
    for (const custom_id of pending.values()) {
      await ctx.emit({ id: outputLineId(), custom_id, response: null, error: remote.failure });
    }
    pending.clear();
  } else {
    for await (const line of api.results(remote, signal)) {
      const custom_id = pending.get(line.custom_id);
      if (custom_id === undefined) continue;
      pending.delete(line.custom_id);
      await ctx.emit({ ...line, custom_id } satisfies BatchOutputLine);
    }
    if (signal.aborted) return;
    const error = batchRequestError(
      'missing_result',
      `${provider} batch ${id} ended ${remote.status} without a result for this request; run again to resubmit it`,
      true,
    );
    for (const custom_id of pending.values())
      await ctx.emit({ id: outputLineId(), custom_id, response: null, error });
  }
  await state.collected(id);
  t.record.collected = true;
  o.report({ type: 'collected', provider, batchId: id, message: `${provider} batch ${id}: results emitted` });
}
