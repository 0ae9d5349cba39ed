/**
 * `client.batches.run(input, options?)`: the Batch API (https://platform.openai.com/docs/api-reference/batch)
 * in one call. aiwire's own helper (openai-node has none):
 *
 * 1. the input, an array of requests (written as JSONL in memory) or the path of a `.jsonl` file
 *    (streamed from disk), is uploaded with `files.create({ purpose: 'batch' })`;
 * 2. `batches.create({ input_file_id, endpoint, completion_window })`;
 * 3. `batches.retrieve` until the batch is `completed`, `failed`, `expired` or `cancelled`, one timer
 *    per wait (`pollIntervalMs`, else the `openai-poll-after-ms` header, else 5,000 ms), calling
 *    `onProgress(batch)` after each retrieve;
 * 4. resolves with a {@link BatchRun}: `batch` (the final object) and `for await` over its results:
 *    the output file then the error file, read line by line as they stream
 *    (`{ id, custom_id, response: { status_code, request_id, body } | null, error }`).
 *
 * Aborting `signal` while waiting cancels the batch on the server (`batches.cancel`, best effort) and
 * rejects with `APIUserAbortError`. A batch that ends `failed` (its input did not validate) rejects
 * with {@link BatchFailedError}; `expired` and `cancelled` batches resolve (their partial results are
 * readable: check `run.batch.status`).
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { decodeJSONL } from '../../../core/jsonl.js';
import type { Uploadable } from '../../../core/uploads.js';
import type * as S from '../generated/schemas.js';
import { type PollOptions, pollUntil } from './polling.js';

/** One request of a batch (a line of the input file). */
export interface BatchRequest<Body = Record<string, unknown>> {
  /** Your id for the request, unique in the batch; results carry it back. */
  custom_id: string;
  /** Always `POST` (the default). */
  method?: 'POST';
  /** The endpoint, e.g. `/v1/chat/completions`. Default: `options.endpoint`. */
  url?: string;
  /** The request body, as for the endpoint's `create` (no `stream`). */
  body: Body;
}

/** One line of a batch's output or error file. */
export interface BatchResult<ResponseBody = unknown> {
  /** The line's id (`batch_req_…`). */
  id: string;
  /** The `custom_id` of the request. */
  custom_id: string;
  /** The HTTP answer of the request; null when it never ran (see `error`). */
  response: { status_code: number; request_id: string; body: ResponseBody } | null;
  /** Why the request did not run; null when it ran (a non-2xx `response` is in the error file too). */
  error: { code: string; message: string } | null;
}

/** Options of `batches.run()`. */
export interface BatchRunOptions extends PollOptions {
  /**
   * The endpoint every request goes to (`/v1/chat/completions`, `/v1/embeddings`, `/v1/responses`,
   * `/v1/completions`, …). Default: the `url` of the first request (array input) or of the first
   * line (file input).
   */
  endpoint?: S.CreateBatchRequest['endpoint'] | undefined;
  /** The time frame the batch runs in. Default `'24h'` (the only value the API accepts today). */
  completionWindow?: S.CreateBatchRequest['completion_window'] | undefined;
  /** Metadata stored on the batch. */
  metadata?: Record<string, string> | undefined;
  /** Called with the batch after each retrieve (status, `request_counts`). */
  onProgress?: ((batch: S.Batch) => void) | undefined;
}

/** The batch ended `failed`: its input did not validate (`batch.errors` says why). */
export class BatchFailedError extends AiwireError {
  /** The failed batch. */
  readonly batch: S.Batch;

  constructor(batch: S.Batch) {
    const reasons = (batch.errors?.data ?? []).map(
      (e) => `${e.line != null ? `line ${e.line}: ` : ''}${e.message}`,
    );
    super(`Batch ${batch.id} failed${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
    this.name = 'BatchFailedError';
    this.batch = batch;
  }
}

/** The result of `batches.run()`: the final batch, and its results with `for await`. */
export interface BatchRun<ResponseBody = unknown> extends AsyncIterable<BatchResult<ResponseBody>> {
  /** The batch in its terminal status. */
  readonly batch: S.Batch;
}

interface ClientLike {
  files: {
    create(body: { file: Uploadable; purpose: 'batch' }, options?: RequestOptions): PromiseLike<S.OpenAIFile>;
    content(fileID: string, options?: RequestOptions): PromiseLike<Response>;
  };
  batches: {
    create(body: S.CreateBatchRequest, options?: RequestOptions): PromiseLike<S.Batch>;
    retrieve(
      batchID: string,
      options?: RequestOptions,
    ): import('../../../core/api-promise.js').APIPromise<S.Batch>;
    cancel(batchID: string, options?: RequestOptions): PromiseLike<S.Batch>;
  };
}

const PENDING = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);

/** Check an array of requests and write it as JSONL; returns the text and the endpoint. */
function toJSONL(requests: BatchRequest[], endpoint: string | undefined): { text: string; endpoint: string } {
  if (requests.length === 0)
    throw new AiwireError('batches.run: no requests: pass at least one { custom_id, body }');
  const url = endpoint ?? requests[0]?.url;
  if (!url)
    throw new AiwireError(
      "batches.run: no endpoint: set options.endpoint (e.g. '/v1/chat/completions') or each request's url",
    );
  const seen = new Set<string>();
  const lines = requests.map((r, i) => {
    if (!r || typeof r.custom_id !== 'string' || r.custom_id === '') {
      throw new AiwireError(`batches.run: request ${i} needs a non-empty string custom_id`);
    }
    if (seen.has(r.custom_id))
      throw new AiwireError(
        `batches.run: custom_id ${JSON.stringify(r.custom_id)} is used twice (request ${i})`,
      );
    seen.add(r.custom_id);
    if (!r.body || typeof r.body !== 'object')
      throw new AiwireError(`batches.run: request ${i} (${r.custom_id}) needs a body object`);
    if (r.url !== undefined && r.url !== url) {
      throw new AiwireError(
        `batches.run: request ${i} (${r.custom_id}) goes to ${r.url}, but the batch endpoint is ${url}; one batch has one endpoint`,
      );
    }
    return JSON.stringify({ custom_id: r.custom_id, method: r.method ?? 'POST', url, body: r.body });
  });
  return { text: `${lines.join('\n')}\n`, endpoint: url };
}

/** The `url` of the first line of a JSONL file (reads at most 1 MiB). */
async function firstLineURL(path: string): Promise<string | undefined> {
  const handle = await fsp.open(path, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const line = text.split('\n').find((l) => l.trim() !== '');
    if (line === undefined) return undefined;
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      return typeof url === 'string' ? url : undefined;
    } catch {
      throw new AiwireError(`batches.run: the first line of ${path} is not JSON`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Run a batch to its end; see the file comment.
 * @throws AiwireError for bad input (no requests, missing/duplicate `custom_id`, mixed endpoints, no
 * endpoint, unreadable file); BatchFailedError; APIUserAbortError (the batch is cancelled); the API's
 * errors (APIError subclasses, APIConnectionError).
 */
export async function runBatch<ResponseBody = unknown>(
  client: ClientLike,
  input: BatchRequest[] | string,
  options: BatchRunOptions = {},
): Promise<BatchRun<ResponseBody>> {
  const { endpoint, completionWindow = '24h', metadata, onProgress, pollIntervalMs, ...request } = options;
  let file: Uploadable;
  let url: string | undefined;
  if (typeof input === 'string') {
    await fsp.stat(input).catch((e: NodeJS.ErrnoException) => {
      throw new AiwireError(`batches.run: cannot read ${JSON.stringify(input)}: ${e.code ?? e.message}`);
    });
    url = endpoint ?? (await firstLineURL(input));
    if (!url)
      throw new AiwireError(
        `batches.run: no endpoint: set options.endpoint or a url on the first line of ${input}`,
      );
    file = createReadStream(input);
  } else if (Array.isArray(input)) {
    const jsonl = toJSONL(input, endpoint);
    url = jsonl.endpoint;
    file = new File([jsonl.text], 'batch-input.jsonl', { type: 'application/jsonl' });
  } else {
    throw new AiwireError(
      'batches.run: input must be an array of { custom_id, body } requests or the path of a .jsonl file',
    );
  }
  const uploaded = await client.files.create({ file, purpose: 'batch' }, request);
  let batch = await client.batches.create(
    {
      input_file_id: uploaded.id,
      endpoint: url as S.CreateBatchRequest['endpoint'],
      completion_window: completionWindow,
      ...(metadata ? { metadata } : {}),
    },
    request,
  );
  try {
    batch = await pollUntil(
      (o) => client.batches.retrieve(batch.id, o),
      (b) => {
        onProgress?.(b);
        return PENDING.has(b.status);
      },
      { ...request, pollIntervalMs },
      'batches.run',
    );
  } catch (err) {
    if (err instanceof APIUserAbortError) {
      await Promise.resolve(client.batches.cancel(batch.id, { ...request, signal: undefined })).catch(
        () => {},
      );
    }
    throw err;
  }
  if (batch.status === 'failed') throw new BatchFailedError(batch);
  const final = batch;
  return {
    batch: final,
    async *[Symbol.asyncIterator]() {
      for (const id of [final.output_file_id, final.error_file_id]) {
        if (!id) continue;
        const response = await client.files.content(id, request);
        yield* decodeJSONL<BatchResult<ResponseBody>>(response, request.signal ?? undefined);
      }
    },
  };
}
