/**
 * What `providerBatchExecutor` needs from a provider's Batch API ({@link ProviderBatchAPI}): which
 * items it can take, how one request is written into a batch, create / retrieve / results, and the
 * provider's limits. `openai-batch.ts` and `anthropic-batch.ts` implement it; this file also holds
 * the mapping of an answer the provider stored (status + body) to the output line's typed error, the
 * same one `sendItem` gives for that answer over HTTP, so a batch run and a `local` run of the same
 * input produce the same lines.
 */
import { APIError } from '../../core/errors.js';
import { defaultErrorBody, type ProviderSpec } from '../../core/provider.js';
import { toBatchError } from '../send-item.js';
import type { BatchItem, BatchItemError, BatchOutputLine } from '../types.js';
import type { Chunk } from './batch-chunks.js';
import type { BatchIntent } from './batch-state.js';

/**
 * What identifies a batch of a run: the state file's `run_id` and the chunk number. OpenAI's batches
 * carry it as `metadata` (`aiwire_run`, `aiwire_chunk`); Anthropic's message batches have no metadata.
 */
export interface BatchTag {
  /** The state file's `run_id`. */
  run: string;
  /** The chunk number, unique in the run. */
  chunk: number;
}

/** What {@link ProviderBatchAPI.findCreated} found. */
export interface FoundBatch {
  /** The batch made for the intent, or null when none was found (or several could be it). */
  id: string | null;
  /** The batches that could be it but could not be told apart (when `id` is null and some matched). */
  ambiguous: string[];
}

/** Most batches a search for an intent's batch reads (newest first) before it gives up. */
export const SEARCH_LIMIT = 1000;

/** The providers with a Batch API aiwire drives. */
export type BatchAPIProvider = 'openai' | 'anthropic';

/** A provider batch as last retrieved. */
export interface RemoteBatch {
  /** The batch id (`batch_…`, `msgbatch_…`). */
  id: string;
  /** The provider's status (`validating`, `in_progress`, `completed`, `ended`, …). */
  status: string;
  /** Whether processing is over (its results can be read). */
  ended: boolean;
  /** The provider's request counts (`{ total, completed, failed }` / `{ processing, succeeded, … }`). */
  requestCounts: Record<string, number> | undefined;
  /** Set when the whole batch failed (OpenAI `failed`): every item of it gets this error. */
  failure?: BatchItemError | undefined;
  /** The wait before the next poll the server asked for (OpenAI's `openai-poll-after-ms`), in ms. */
  pollAfterMs?: number | undefined;
  /** The provider's batch object. */
  raw: unknown;
}

/** One provider's Batch API as the executor drives it. */
export interface ProviderBatchAPI {
  readonly provider: BatchAPIProvider;
  /** The provider's limit of requests per batch (OpenAI 50,000; Anthropic 100,000). */
  readonly defaultMaxRequests: number;
  /** The provider's limit of bytes per batch, in bytes (OpenAI 200 MB input file; Anthropic 256 MB body). */
  readonly defaultMaxBytes: number;
  /** Bytes a batch takes besides its requests, and between two requests. */
  readonly overheadBytes: number;
  readonly separatorBytes: number;
  /**
   * The group an item's batch is made in (one endpoint per OpenAI batch), or the typed error
   * (`invalid_input`) when this Batch API cannot run the item.
   */
  groupOf(item: BatchItem): string | BatchItemError;
  /** Whether `id` can be the request's id in the provider's batch as is (else the executor renames it). */
  acceptsId(id: string): boolean;
  /** The request as written into the batch (an input file line / a `requests[]` entry), with `remoteId`. */
  encode(item: BatchItem, remoteId: string): string;
  /** Whether chunks can be spooled to a temporary file (one encoded request per line). */
  readonly spools: boolean;
  /**
   * Upload (when the API needs a file) and create the batch of the chunk's requests; resolves to the
   * batch id. `signal` stops an upload; the create itself is not aborted (a batch created while
   * aborting is still recorded). The chunk's temporary file, if any, is the caller's to drop.
   */
  create(chunk: Chunk, signal: AbortSignal, tag: BatchTag): Promise<string>;
  /** The id of the newest batch on the account (null when there is none), recorded with an intent. */
  newestBatchId(signal: AbortSignal): Promise<string | null>;
  /**
   * Look for the batch an interrupted run created for `intent` (tagged `tag`) but did not record:
   * among the account's batches newer than `intent.newest_before` (at most {@link SEARCH_LIMIT}),
   * skipping the ids in `known` (batches the state file records).
   */
  findCreated(
    intent: BatchIntent,
    tag: BatchTag,
    known: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<FoundBatch>;
  /** Retrieve the batch. */
  retrieve(id: string, signal: AbortSignal): Promise<RemoteBatch>;
  /** The output lines of an ended batch, keyed by the ids the requests had in the batch (`custom_id`). */
  results(batch: RemoteBatch, signal: AbortSignal): AsyncIterable<BatchOutputLine>;
}

/** The typed error of an item the executor could not give to the provider's Batch API (input `line`). */
export function invalidInput(message: string, line: number): BatchItemError {
  return { code: 'invalid_input', message, type: 'BatchInputError', status: null, retryable: false, line };
}

/**
 * The error of a request the batch did not run: canceled, expired, failed, or without a result.
 * `type` is `ProviderBatchError`; `retryable` when running it again may succeed.
 */
export function batchRequestError(code: string, message: string, retryable: boolean): BatchItemError {
  return { code, message, type: 'ProviderBatchError', status: null, retryable };
}

/**
 * The output line of a non-2xx answer the provider stored for a request (`status`, `body`, request
 * id), read with the provider's error envelope (`spec.errorBody`) into the same `APIError` subclass
 * the client would throw, so `response` and `error` are those `sendItem` gives for that answer.
 */
export function errorLine(
  spec: ProviderSpec,
  id: string,
  customId: string,
  status: number,
  body: unknown,
  requestId: string | null,
): BatchOutputLine {
  const headerName = spec.requestIdHeaders?.[0] ?? 'x-request-id';
  const headers = new Headers(requestId ? { [headerName]: requestId } : {});
  let err: APIError;
  if (body && typeof body === 'object') {
    const read = spec.errorBody ? spec.errorBody(body, status) : defaultErrorBody(body);
    err = APIError.generate(status, read.error, read.message, headers);
    if (read.type !== undefined) (err as { type: string | undefined }).type = read.type;
  } else {
    err = APIError.generate(status, undefined, typeof body === 'string' ? body : undefined, headers);
  }
  return {
    id,
    custom_id: customId,
    response: { status_code: status, request_id: requestId, body: { error: err.error ?? null } },
    error: toBatchError(err),
  };
}
