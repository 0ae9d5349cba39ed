/**
 * `stream()` and `streamPrediction()`: a prediction's server-sent events (`output`, `logs`, `done`,
 * `error`) from its `urls.stream`, read through the engine, as replicate-javascript's
 * `replicate.stream()` yields `ServerSentEvent`s.
 *
 * - `output` and `logs` events are yielded as they come (`data` is text; for a file stream, an `output`
 *   URL is a `FileOutput` unless `useFileOutput: false`).
 * - `done` is yielded, then the iteration ends (the connection is closed).
 * - `error` is thrown as a `ModelError`: the stream's error is the model's (the HTTP request
 *   succeeded), so it is not an `APIError`; its `prediction` has `status: 'failed'`, `error` (the event's
 *   `detail` when its data is JSON, else the text) and the logs streamed so far. replicate-javascript
 *   throws a plain `Error(data)`. HTTP failures opening the stream are the usual `APIError`s.
 * - The stream URL is on another host in production (`stream.replicate.com`): it is reached with the
 *   client's token only under `replicate.com` over https (see origins.ts).
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type { RawEvent, StreamDecoder } from '../../../core/streaming.js';
import { ModelError } from './errors.js';
import { FileOutput } from './file-output.js';
import { replicateForeignOrigin } from './origins.js';
import {
  type CreatePredictionParams,
  cancelPrediction,
  createPrediction,
  parseRef,
  uploadInputs,
} from './run.js';
import type { Prediction, ReplicateClient } from './types.js';

/** One server-sent event of a prediction stream (replicate-javascript's `ServerSentEvent`). */
export class ServerSentEvent {
  /**
   * @param event `output`, `logs`, `done`, `error` (or whatever the server named it).
   * @param data the event's data (a `FileOutput` for a file stream's `output`).
   * @param id the event id, if any.
   * @param retry the reconnection time the server asked for, if any.
   */
  constructor(
    readonly event: 'output' | 'logs' | 'done' | 'error' | (string & {}),
    readonly data: string | FileOutput,
    readonly id?: string | undefined,
    readonly retry?: number | undefined,
  ) {}

  /** An `output` event's data; `''` for the others (as replicate-javascript). */
  toString(): string {
    return this.event === 'output' ? String(this.data) : '';
  }
}

/** Raw events as they come (`{ event, data, id }`). */
const rawEvents: StreamDecoder<RawEvent> = { mode: 'event', decode: (event) => event };

/** Options of {@link streamPrediction}. */
export interface StreamPredictionOptions {
  /** Closes the stream: the loop throws `APIUserAbortError` (the prediction keeps running). */
  signal?: AbortSignal | undefined;
  /** A file stream's `output` URLs as `FileOutput` (default: the client's `useFileOutput`, else true). */
  useFileOutput?: boolean | undefined;
}

/** A stream URL of file outputs (`/v1/files/…`), as replicate-javascript tells them apart. */
function isFileStream(url: string): boolean {
  try {
    return new URL(url).pathname.startsWith('/v1/files/');
  } catch {
    return false;
  }
}

/** The error event's message and error: `detail` of JSON data, else the text. */
function streamError(data: string): { message: string; error: unknown } {
  try {
    const parsed: unknown = JSON.parse(data);
    const detail = (parsed as { detail?: unknown } | null)?.detail;
    return { message: typeof detail === 'string' ? detail : data, error: parsed };
  } catch {
    return { message: data, error: data };
  }
}

/**
 * The events of an existing prediction's stream (`prediction.urls.stream`).
 *
 * @throws AiwireError when the prediction has no stream URL; ModelError for an `error` event;
 *   APIUserAbortError when `signal` aborts; the API's typed errors opening the stream.
 */
export async function* streamPrediction(
  client: ReplicateClient,
  prediction: Prediction,
  options: StreamPredictionOptions = {},
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const url = prediction?.urls?.stream;
  if (!url) throw new AiwireError(`Prediction ${prediction?.id} does not support streaming (no urls.stream)`);
  const { signal } = options;
  const files = (options.useFileOutput ?? client.useFileOutput ?? true) && isFileStream(url);
  const events = await client.streamWith(
    { method: 'get', path: url, foreignOrigin: replicateForeignOrigin, signal },
    rawEvents,
  );
  let logs = prediction.logs ?? '';
  for await (const e of events) {
    if (e.event === 'error') {
      const { message, error } = streamError(e.data);
      const failed: Prediction = { ...prediction, status: 'failed', error: message, logs };
      throw new ModelError(`Prediction ${prediction.id} failed: ${message}`, failed, error);
    }
    if (e.event === 'logs') logs += logs && !logs.endsWith('\n') ? `\n${e.data}` : e.data;
    const data = e.event === 'output' && files ? new FileOutput(client, e.data, { signal }) : e.data;
    yield new ServerSentEvent(e.event, data, e.id);
    if (e.event === 'done') return;
  }
  // The core stream ends quietly on abort (openai-node's way); here an abort is an error, as a fetch's.
  if (signal?.aborted) throw new APIUserAbortError();
}

/** Options of {@link stream}: the prediction's parameters plus the stream's. */
export interface StreamOptions
  extends Omit<CreatePredictionParams, 'stream' | 'wait'>,
    StreamPredictionOptions {}

/**
 * Create a prediction of `ref` with `stream: true` and yield its events (see the module comment), as
 * replicate-javascript's `replicate.stream(ref, options)`. Aborting `signal` closes the stream,
 * cancels the prediction (`POST /predictions/{id}/cancel`) and throws `APIUserAbortError`.
 *
 * @throws AiwireError for an invalid reference or a model without streaming; ModelError for an
 *   `error` event; APIUserAbortError; the API's typed errors.
 */
export async function* stream(
  client: ReplicateClient,
  ref: string,
  options: StreamOptions,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) throw new APIUserAbortError();
  parseRef(ref);
  const input = await uploadInputs(client, options, signal);
  const prediction = await createPrediction(client, ref, {
    ...options,
    input,
    stream: true,
    signal: undefined,
  });
  try {
    yield* streamPrediction(client, prediction, options);
  } catch (e) {
    if (signal?.aborted) await cancelPrediction(client, prediction.id).catch(() => undefined);
    throw e;
  }
}
