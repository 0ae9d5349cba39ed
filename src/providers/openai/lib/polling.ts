/**
 * Polling helpers with openai-node's names and behaviour (v6): `vectorStores.files.createAndPoll /
 * poll / upload / uploadAndPoll`, `vectorStores.fileBatches.createAndPoll / poll / uploadAndPoll`,
 * `beta.threads.runs.createAndPoll / poll / submitToolOutputsAndPoll`, `beta.threads.createAndRunPoll`,
 * `files.waitForProcessing`.
 *
 * Each poll retrieves the object, returns it in a terminal status, else waits ONE timer (an awaited
 * `setTimeout`, no busy loop) and retrieves again. The wait: `pollIntervalMs` when given, else the
 * `openai-poll-after-ms` response header (integer ms), else 5,000 ms. The request `signal` also
 * stops the wait: the helper rejects with `APIUserAbortError` (the object keeps processing on the
 * server; nothing is cancelled). `pollIntervalMs` is not sent with the requests.
 * A failed status is returned, not thrown (check `status` / `last_error`), as openai-node does.
 * References: https://platform.openai.com/docs/api-reference/vector-stores-files,
 * https://platform.openai.com/docs/api-reference/vector-stores-file-batches,
 * https://platform.openai.com/docs/api-reference/runs, https://platform.openai.com/docs/api-reference/files
 */
import type { APIPromise } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError, APIConnectionTimeoutError, APIUserAbortError } from '../../../core/errors.js';
import type { Uploadable } from '../../../core/uploads.js';
import type * as S from '../generated/schemas.js';

/** Request options of a polling helper: the usual ones plus `pollIntervalMs`. */
export interface PollOptions extends RequestOptions {
  /**
   * Milliseconds between polls (a positive number). Default: the `openai-poll-after-ms` header of the
   * last response, else 5,000.
   */
  pollIntervalMs?: number | undefined;
}

/** Options of `vectorStores.fileBatches.uploadAndPoll`. */
export interface UploadAndPollOptions extends PollOptions {
  /** Files uploaded at the same time (a positive integer). Default 5. */
  maxConcurrency?: number | undefined;
}

const DEFAULT_POLL_MS = 5000;

/**
 * One timer of `ms`; rejects with `APIUserAbortError` (clearing it) when `signal` aborts.
 * @throws (rejects) APIUserAbortError.
 */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Split `pollIntervalMs` off the request options, checking it. */
function splitOptions<O extends PollOptions>(
  options: O | undefined,
  helper: string,
): { interval: number | undefined; request: Omit<O, 'pollIntervalMs'> | undefined } {
  if (!options) return { interval: undefined, request: undefined };
  const { pollIntervalMs, ...request } = options;
  if (pollIntervalMs !== undefined && !(typeof pollIntervalMs === 'number' && pollIntervalMs > 0)) {
    throw new AiwireError(
      `${helper}: pollIntervalMs must be a positive number of milliseconds, got ${String(pollIntervalMs)}`,
    );
  }
  return { interval: pollIntervalMs, request };
}

/** The wait before the next poll: the option, else the header, else 5 s. */
function waitMs(interval: number | undefined, response: Response): number {
  if (interval !== undefined) return interval;
  const header = Number.parseInt(response.headers.get('openai-poll-after-ms') ?? '', 10);
  return Number.isNaN(header) || header < 0 ? DEFAULT_POLL_MS : header;
}

/**
 * Retrieve with `retrieve(request options)` until `pending(value)` is false; returns that value.
 * @throws (rejects) the retrieve's errors, APIUserAbortError when `signal` aborts a wait.
 */
export async function pollUntil<T>(
  retrieve: (options: RequestOptions | undefined) => APIPromise<T>,
  pending: (value: T) => boolean,
  options: PollOptions | undefined,
  helper: string,
): Promise<T> {
  const { interval, request } = splitOptions(options, helper);
  for (;;) {
    const { data, response } = await retrieve(request).withResponse();
    if (!pending(data)) return data;
    await sleep(waitMs(interval, response), request?.signal);
  }
}

// The resources as the helpers use them (structural: the generated classes satisfy these).
type VectorStoreFile = S.VectorStoreFileObject;
type FileBatch = S.VectorStoreFileBatchObject;
type Run = S.RunObject;
interface FilesLike {
  create(body: { file: Uploadable; purpose: string }, options?: RequestOptions): APIPromise<S.OpenAIFile>;
  retrieve(fileID: string, options?: RequestOptions): APIPromise<S.OpenAIFile>;
}
interface VectorStoreFilesLike {
  create(
    vectorStoreID: string,
    body: { file_id: string },
    options?: RequestOptions,
  ): APIPromise<VectorStoreFile>;
  retrieve(
    fileID: string,
    params: { vector_store_id: string },
    options?: RequestOptions,
  ): APIPromise<VectorStoreFile>;
}
interface FileBatchesLike {
  create(
    vectorStoreID: string,
    body: { file_ids?: string[] },
    options?: RequestOptions,
  ): APIPromise<FileBatch>;
  retrieve(
    batchID: string,
    params: { vector_store_id: string },
    options?: RequestOptions,
  ): APIPromise<FileBatch>;
}
interface RunsLike {
  retrieve(runID: string, params: { thread_id: string }, options?: RequestOptions): APIPromise<Run>;
}

/** `vectorStores.files.poll`: until the file is no longer `in_progress`. */
export function pollVectorStoreFile(
  files: VectorStoreFilesLike,
  vectorStoreID: string,
  fileID: string,
  options?: PollOptions,
): Promise<VectorStoreFile> {
  return pollUntil(
    (o) => files.retrieve(fileID, { vector_store_id: vectorStoreID }, o),
    (file) => file.status === 'in_progress',
    options,
    'vectorStores.files.poll',
  );
}

/** `vectorStores.files.upload`: `files.create({ file, purpose: 'assistants' })`, then attach it. */
export async function uploadVectorStoreFile(
  files: FilesLike,
  vectorStoreFiles: VectorStoreFilesLike,
  vectorStoreID: string,
  file: Uploadable,
  options?: RequestOptions,
): Promise<VectorStoreFile> {
  const { pollIntervalMs: _unused, ...request } = (options ?? {}) as PollOptions;
  const uploaded = await files.create({ file, purpose: 'assistants' }, request);
  return vectorStoreFiles.create(vectorStoreID, { file_id: uploaded.id }, request);
}

/** `vectorStores.fileBatches.poll`: until the batch is no longer `in_progress`. */
export function pollFileBatch(
  batches: FileBatchesLike,
  vectorStoreID: string,
  batchID: string,
  options?: PollOptions,
): Promise<FileBatch> {
  return pollUntil(
    (o) => batches.retrieve(batchID, { vector_store_id: vectorStoreID }, o),
    (batch) => batch.status === 'in_progress',
    options,
    'vectorStores.fileBatches.poll',
  );
}

/**
 * `vectorStores.fileBatches.uploadAndPoll`: upload `files` (at most `maxConcurrency` at a time,
 * purpose `assistants`), create a batch of their ids plus `fileIds`, poll it.
 * @throws AiwireError when `files` is empty (use `createAndPoll` with ids) or `maxConcurrency` is bad;
 * the first upload error (the others still finish).
 */
export async function uploadFileBatchAndPoll(
  files: FilesLike,
  batches: FileBatchesLike,
  vectorStoreID: string,
  { files: uploads, fileIds = [] }: { files: Uploadable[]; fileIds?: string[] },
  options?: UploadAndPollOptions,
): Promise<FileBatch> {
  if (!Array.isArray(uploads) || uploads.length === 0) {
    throw new AiwireError(
      'vectorStores.fileBatches.uploadAndPoll: no `files` to upload; for files already uploaded, use createAndPoll(vectorStoreID, { file_ids }) instead',
    );
  }
  const { maxConcurrency = 5, ...pollOptions } = options ?? {};
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new AiwireError(
      `vectorStores.fileBatches.uploadAndPoll: maxConcurrency must be a positive integer, got ${String(maxConcurrency)}`,
    );
  }
  const { pollIntervalMs: _unused, ...request } = pollOptions;
  const ids = [...fileIds];
  const queue = uploads.values();
  const worker = async () => {
    for (const file of queue) ids.push((await files.create({ file, purpose: 'assistants' }, request)).id);
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(maxConcurrency, uploads.length) }, worker),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const batch = await batches.create(vectorStoreID, { file_ids: ids }, request);
  return pollFileBatch(batches, vectorStoreID, batch.id, pollOptions);
}

/** Run statuses that are not final (`requires_action` is returned: the caller must act). */
const RUN_PENDING = new Set(['queued', 'in_progress', 'cancelling']);

/** `beta.threads.runs.poll`: until the run is not `queued`, `in_progress` or `cancelling`. */
export function pollRun(
  runs: RunsLike,
  runID: string,
  threadID: string,
  options?: PollOptions,
): Promise<Run> {
  return pollUntil(
    (o) => runs.retrieve(runID, { thread_id: threadID }, o),
    (run) => RUN_PENDING.has(run.status as string),
    options,
    'beta.threads.runs.poll',
  );
}

/** Strip `pollIntervalMs` for a create call (it is not a request option). */
export function requestOptions(options: PollOptions | undefined): RequestOptions | undefined {
  if (!options) return undefined;
  const { pollIntervalMs: _unused, ...request } = options;
  return request;
}

/** Options of `files.waitForProcessing`. */
export interface WaitForProcessingOptions {
  /** Milliseconds between polls. Default 5,000. */
  pollInterval?: number | undefined;
  /** Give up after this many milliseconds. Default 30 minutes. */
  maxWait?: number | undefined;
  /** Stops waiting (rejects with `APIUserAbortError`); aiwire's addition. */
  signal?: AbortSignal | undefined;
}

/**
 * `files.waitForProcessing(id, { pollInterval, maxWait })`: retrieve the file until its status is
 * `processed`, `error` or `deleted` (returned, not thrown).
 * @throws APIConnectionTimeoutError after `maxWait` ms; APIUserAbortError when `signal` aborts;
 * AiwireError for a non-positive `pollInterval` / negative `maxWait`; the retrieve's errors.
 */
export async function waitForProcessing(
  files: FilesLike,
  id: string,
  { pollInterval = 5000, maxWait = 30 * 60 * 1000, signal }: WaitForProcessingOptions = {},
): Promise<S.OpenAIFile> {
  if (!(typeof pollInterval === 'number' && pollInterval > 0)) {
    throw new AiwireError(
      `files.waitForProcessing: pollInterval must be a positive number of ms, got ${pollInterval}`,
    );
  }
  if (!(typeof maxWait === 'number' && maxWait >= 0)) {
    throw new AiwireError(
      `files.waitForProcessing: maxWait must be a non-negative number of ms, got ${maxWait}`,
    );
  }
  const terminal = new Set(['processed', 'error', 'deleted']);
  const start = Date.now();
  let file = await files.retrieve(id, { signal });
  while (!file.status || !terminal.has(file.status)) {
    await sleep(pollInterval, signal);
    file = await files.retrieve(id, { signal });
    if (Date.now() - start > maxWait) {
      throw new APIConnectionTimeoutError({
        message: `Giving up on waiting for file ${id} to finish processing after ${maxWait} milliseconds.`,
      });
    }
  }
  return file;
}
