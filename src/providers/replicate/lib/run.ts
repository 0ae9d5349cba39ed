/**
 * `run()`, `wait()` and the pieces they share with `stream()`: creating a prediction from a model
 * reference, polling it, progress from its logs, and its output as `FileOutput`s.
 *
 * Prediction creation is retried on 429 only (`retryOn: 'rate-limit-only'`) and sent without an
 * `Idempotency-Key`: Replicate does not deduplicate on that header, so a retry after a 5xx or a lost
 * connection could start (and bill) the same prediction twice, while a 429 is answered before
 * anything is created. Polling (`GET`) and cancelling retry as usual.
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { path } from '../../../core/resource.js';
import { ModelError, PredictionCanceledError } from './errors.js';
import { type FileOutputOptions, transformOutput } from './file-output.js';
import { type FileInputOptions, transformFileInputs } from './files.js';
import { isTerminal, type Prediction, type ReplicateClient } from './types.js';

/** A model reference split: `owner/name`, `owner/name:version`, or a bare version id. */
export interface ModelRef {
  owner?: string | undefined;
  name?: string | undefined;
  version?: string | undefined;
}

/**
 * Parse `owner/name`, `owner/name:version` or a bare version id (64 hex digits, as Replicate's).
 * @throws AiwireError for anything else.
 */
export function parseRef(ref: string): ModelRef {
  if (typeof ref === 'string') {
    const m = /^([^/:\s]+)\/([^/:\s]+)(?::([^/:\s]+))?$/.exec(ref);
    if (m) return { owner: m[1], name: m[2], version: m[3] };
    if (/^[0-9a-f]{64}$/i.test(ref)) return { version: ref };
  }
  throw new AiwireError(
    `Invalid model reference ${JSON.stringify(ref)}: expected "owner/name", "owner/name:version" or a version id.`,
  );
}

/** Progress parsed from a prediction's logs (tqdm-style lines). */
export interface Progress {
  /** Fraction done, 0..1 (`45%` → 0.45), as replicate-javascript. */
  percentage: number;
  /** Steps done. */
  current: number;
  /** Steps in all. */
  total: number;
}

const PROGRESS_LINE = /^\s*(\d+)%\s*\|.*?\|\s*(\d+)\/(\d+)/;

/**
 * The last tqdm-style progress line of a prediction's logs (`  45%|████▌     | 45/100 [00:01<…]`),
 * as replicate-javascript's `parseProgressFromLogs`; null when there is none. Carriage returns
 * (tqdm redraws a line with `\r`) separate lines too.
 */
export function parseProgressFromLogs(
  input: Prediction | { logs?: string | null } | string,
): Progress | null {
  const logs = typeof input === 'string' ? input : input?.logs;
  if (!logs || typeof logs !== 'string') return null;
  const lines = logs.split(/\r\n|\r|\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PROGRESS_LINE.exec(lines[i] as string);
    if (m) {
      return { percentage: Number(m[1]) / 100, current: Number(m[2]), total: Number(m[3]) };
    }
  }
  return null;
}

/** `wait` of `run()` and `createPrediction()`: how long the create request may block. */
export type WaitOption =
  | boolean
  | number
  | { mode: 'block'; timeout?: number | undefined; interval?: number | undefined }
  | { mode: 'poll'; interval?: number | undefined };

/**
 * The `Prefer` header for `wait`: `true` → `wait` (the server's default, 60 s), a whole number of
 * seconds 1..60 → `wait=N`, `false` / `{ mode: 'poll' }` → none.
 * @throws AiwireError for a number that is not a whole number of seconds in 1..60.
 */
export function preferHeader(wait: WaitOption | undefined): string | undefined {
  const w =
    typeof wait === 'object' && wait !== null
      ? wait.mode === 'block'
        ? (wait.timeout ?? true)
        : false
      : wait;
  if (w === undefined || w === true) return 'wait';
  if (w === false) return undefined;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 60) {
    throw new AiwireError(
      `wait must be true, false, or a whole number of seconds from 1 to 60 (Prefer: wait=N), got ${String(w)}`,
    );
  }
  return `wait=${w}`;
}

/** What `createPrediction` sends. */
export interface CreatePredictionParams extends Pick<FileInputOptions, 'maxDataUriBytes' | 'maxUploadBytes'> {
  /** The model's input; files in it are sent per `fileEncodingStrategy` (see files.ts). */
  input: Record<string, unknown>;
  /** Block on the create request (`Prefer: wait`). Default false here (true in `run`). */
  wait?: WaitOption | undefined;
  /** HTTPS URL to call back with prediction updates. */
  webhook?: string | undefined;
  /** Which events call the webhook: `start`, `output`, `logs`, `completed`. */
  webhook_events_filter?: ReadonlyArray<'start' | 'output' | 'logs' | 'completed'> | undefined;
  /** Ask for a stream URL (always given by current models; kept for older ones). */
  stream?: boolean | undefined;
  /** How files in `input` are sent. Default: the client's `fileEncodingStrategy`, else `'default'`. */
  fileEncodingStrategy?: FileInputOptions['strategy'];
  /** Aborts the uploads and the create request. */
  signal?: AbortSignal | undefined;
}

/**
 * Create a prediction of `ref` (`POST /predictions` with `version`, or
 * `POST /models/{owner}/{name}/predictions`), retried on 429 only (see the module comment).
 *
 * @throws AiwireError for an invalid reference, `wait` or webhook URL; the API's typed errors.
 */
export async function createPrediction(
  client: ReplicateClient,
  ref: string,
  params: CreatePredictionParams,
): Promise<Prediction> {
  const { owner, name, version } = parseRef(ref);
  const { input, wait, webhook, webhook_events_filter, stream, signal } = params;
  const prefer = preferHeader(wait ?? false);
  if (webhook !== undefined) {
    try {
      new URL(webhook);
    } catch {
      throw new AiwireError(`Invalid webhook URL: ${JSON.stringify(webhook)}`);
    }
  }
  const files = await transformFileInputs(client, input, {
    strategy: params.fileEncodingStrategy,
    maxDataUriBytes: params.maxDataUriBytes,
    maxUploadBytes: params.maxUploadBytes,
    signal,
  });
  const body: Record<string, unknown> = { input: files, webhook, webhook_events_filter, stream };
  if (version) body.version = version;
  return client.post<Prediction>(version ? '/predictions' : path`/models/${owner}/${name}/predictions`, {
    body,
    headers: prefer ? { prefer } : undefined,
    signal,
    retryOn: 'rate-limit-only',
    idempotencyKey: '',
  });
}

/** The input with its files replaced by URLs (abortable), before a create sent without the signal. */
export async function uploadInputs(
  client: ReplicateClient,
  params: CreatePredictionParams,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown>> {
  return (await transformFileInputs(client, params.input, {
    strategy: params.fileEncodingStrategy,
    maxDataUriBytes: params.maxDataUriBytes,
    maxUploadBytes: params.maxUploadBytes,
    signal,
  })) as Record<string, unknown>;
}

/** `POST /predictions/{id}/cancel`. */
export function cancelPrediction(
  client: ReplicateClient,
  id: string,
  signal?: AbortSignal,
): Promise<Prediction> {
  return client.post<Prediction>(path`/predictions/${id}/cancel`, { signal });
}

/** One timer; rejects with `APIUserAbortError` (and clears it) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
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

/** Options of {@link wait}. */
export interface WaitOptions {
  /** Milliseconds between polls. Default 500. */
  interval?: number | undefined;
  /** Stops polling: `wait` rejects with `APIUserAbortError` (the prediction keeps running). */
  signal?: AbortSignal | undefined;
}

function checkInterval(interval: number | undefined): number {
  if (interval === undefined) return 500;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw new AiwireError(`interval must be a finite number of milliseconds >= 0, got ${String(interval)}`);
  }
  return interval;
}

/**
 * Poll a prediction (`GET /predictions/{id}` every `interval` ms, one timer per poll, the first after
 * one interval) until its status is final, as replicate-javascript's `wait`. `stop(prediction)` is
 * called with each update; returning `true` stops polling (the prediction as last seen is returned).
 *
 * @returns the prediction once `succeeded` or `canceled` (or when `stop` said so).
 * @throws ModelError when it failed (replicate-javascript throws for a failure found while polling;
 *   here also for a prediction already failed when passed in). `APIUserAbortError` when `signal` aborts.
 */
export async function wait(
  client: ReplicateClient,
  prediction: Prediction,
  options: WaitOptions = {},
  stop?: (prediction: Prediction) => boolean | undefined | Promise<boolean | undefined>,
): Promise<Prediction> {
  if (!prediction?.id) throw new AiwireError('wait: invalid prediction (no id)');
  const interval = checkInterval(options.interval);
  const { signal } = options;
  let current = prediction;
  while (!isTerminal(current.status)) {
    await sleep(interval, signal);
    current = await client.get<Prediction>(path`/predictions/${current.id}`, { signal });
    if (stop && (await stop(current)) === true) return current;
  }
  if (current.status === 'failed') throw failure(current);
  return current;
}

function failure(prediction: Prediction): ModelError {
  return new ModelError(
    `Prediction ${prediction.id} failed: ${String(prediction.error ?? 'unknown error')}`,
    prediction,
  );
}

/** Options of {@link run} (replicate-javascript's, plus `progress`, `interval` and the file options). */
export interface RunOptions extends CreatePredictionParams {
  /**
   * How to wait: `true` (default) blocks on the create request (`Prefer: wait`, then polls if the
   * prediction is not done), a number 1..60 blocks that many seconds (`Prefer: wait=N`), `false`
   * polls only. replicate-javascript's `{ mode: 'block', timeout }` / `{ mode: 'poll', interval }` too.
   */
  wait?: WaitOption | undefined;
  /** Milliseconds between polls. Default 500 (or `wait.interval`). */
  interval?: number | undefined;
  /**
   * Aborting cancels the prediction on the server (`POST /predictions/{id}/cancel`) and rejects with
   * `APIUserAbortError`. Aborted during a blocking create, `run` rejects at once and the prediction is
   * canceled as soon as the create request answers with its id.
   */
  signal?: AbortSignal | undefined;
  /**
   * Called with the prediction when created and at each poll, and the progress parsed from its logs
   * (null when none). The third argument of `run` works too (replicate-javascript's place).
   */
  progress?: ((prediction: Prediction, progress: Progress | null) => void) | undefined;
  /** Output file URLs as `FileOutput` (default: the client's `useFileOutput`, else true) or strings. */
  useFileOutput?: boolean | undefined;
}

/** Reject with `APIUserAbortError` when `signal` aborts first; `late` gets the value that came after. */
function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  late: (value: T) => void,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(new APIUserAbortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) late(value);
        else resolve(value);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Run a model and resolve to its output, as replicate-javascript's `replicate.run(ref, options)`:
 * create the prediction (blocking with `Prefer: wait` unless `wait: false`), poll until it is done,
 * and return its output with file URLs as `FileOutput`s (unless `useFileOutput: false`).
 *
 * @param ref `owner/name`, `owner/name:version`, or a version id.
 * @throws ModelError when the prediction failed (with `prediction` and `logs`);
 *   PredictionCanceledError when it was canceled or aborted server-side; APIUserAbortError when
 *   `signal` aborted (the prediction is canceled); AiwireError for an invalid reference, `wait`,
 *   `interval` or file input; the API's typed errors.
 */
export async function run(
  client: ReplicateClient,
  ref: string,
  options: RunOptions,
  progress?: (prediction: Prediction, progress: Progress | null) => void,
): Promise<unknown> {
  const { signal, useFileOutput = client.useFileOutput ?? true } = options;
  const onProgress = options.progress ?? progress;
  const waitOpt = options.wait ?? true;
  const interval = checkInterval(
    options.interval ?? (typeof waitOpt === 'object' && waitOpt !== null ? waitOpt.interval : undefined),
  );
  preferHeader(waitOpt);
  parseRef(ref);
  if (signal?.aborted) throw new APIUserAbortError();
  const cancel = (id: string) => cancelPrediction(client, id).catch(() => undefined);
  const input = await uploadInputs(client, options, signal);
  // The create request runs without the signal: aborting it would lose the prediction's id, and
  // with it the way to cancel it.
  const creating = createPrediction(client, ref, { ...options, input, wait: waitOpt, signal: undefined });
  let prediction = await unlessAborted(creating, signal, (p) => {
    if (p?.id && !isTerminal(p.status)) void cancel(p.id);
  });
  const report = (p: Prediction) => onProgress?.(p, parseProgressFromLogs(p));
  report(prediction);
  if (!isTerminal(prediction.status)) {
    try {
      prediction = await wait(client, prediction, { interval, signal }, (p) => {
        report(p);
        return false;
      });
    } catch (e) {
      if (signal?.aborted) {
        await cancel(prediction.id);
        throw e instanceof APIUserAbortError ? e : new APIUserAbortError();
      }
      throw e;
    }
  }
  if (prediction.status === 'failed') throw failure(prediction);
  if (prediction.status === 'canceled' || prediction.status === 'aborted') {
    throw new PredictionCanceledError(`Prediction ${prediction.id} was ${prediction.status}`, prediction);
  }
  const fileOptions: FileOutputOptions = { signal };
  return useFileOutput ? transformOutput(client, prediction.output, fileOptions) : prediction.output;
}
