/**
 * `ResponseStream`: what `client.responses.stream(params, options?)` returns, with openai-node's
 * surface (v6, `lib/responses/ResponseStream`): `for await` over the Responses streaming events
 * (https://platform.openai.com/docs/api-reference/responses-streaming), listeners by event type
 * (`stream.on('response.output_text.delta', (e) => e.snapshot)`), `event` for every event, the base
 * events `connect`, `error`, `abort`, `end`, `finalResponse()` (the accumulated response with
 * `output_text`), `done()`, `abort()`, `emitted()`.
 *
 * Two ways in (as openai-node): `responses.stream({ model, input, … })` creates a response
 * (`POST /responses`, `stream: true`); `responses.stream({ response_id, starting_after? })` streams
 * an existing (background) response (`GET /responses/{id}?stream=true`): every event is replayed
 * from the start to build the snapshot, and only events whose `sequence_number` is above
 * `starting_after` reach the listeners and the loop.
 *
 * aiwire's additions and deliberate differences (tested in `__test__/openai-response-stream.test.ts`):
 * - Resumption after a dropped connection, automatic (`maxResumes`, default 3; 0 turns it off):
 *   when the connection fails mid-stream (`APIConnectionError`, including the idle timeout) on a
 *   background response (`background: true` in the snapshot) after at least one event, the stream
 *   reconnects with `GET /responses/{id}?stream=true&starting_after=<last sequence_number>` and
 *   continues the same snapshot; listeners see each event once and no second `connect`. Other
 *   failures (HTTP errors, aborts, non-background responses, resumes used up) end the stream with
 *   `error` as openai-node does. openai-node has no resumption.
 * - An in-stream `error` event (`event: error`) is reported as a typed `APIError` (its `error` is the
 *   event's body, `code`/`message` from it) through `error`, and `finalResponse()` rejects with it;
 *   openai-node hands the raw event object to `error` listeners. The event is not given to `event`
 *   listeners or the loop.
 * - `finalResponse()` does not parse structured output (`output_parsed` is always null); that is
 *   `responses.parse()`'s job.
 */
import type { APIPromise } from '../../../core/api-promise.js';
import type { BaseClient, RequestOptions } from '../../../core/client.js';
import { AiwireError, APIConnectionError, APIUserAbortError } from '../../../core/errors.js';
import { path } from '../../../core/resource.js';
import type { Stream } from '../../../core/streaming.js';
import type * as S from '../generated/schemas.js';
import { type BaseEvents, EventStream } from './event-stream.js';
import { accumulateResponse, type Snapshot } from './response-accumulate.js';
import { addOutputText } from './responses.js';

/** Parameters that create a response and stream it (`stream` is always sent as `true`). */
export type ResponseCreateAndStreamParams = Omit<S.CreateResponse, 'stream'> & { stream?: true };

/** Parameters that stream an existing (background) response. */
export interface ResponseStreamByIdParams {
  /** The id of the response to stream (`resp_…`). */
  response_id: string;
  /**
   * Events with a `sequence_number` at or below this are not emitted (they are still read, to build
   * the snapshot that later events and `finalResponse()` need).
   */
  starting_after?: number;
  /** The text configuration of the original request (kept for `responses.parse`-style helpers). */
  text?: S.ResponseTextParam;
  /** The tools of the original request. */
  tools?: S.Tool[];
}

/** What `responses.stream()` accepts. */
export type ResponseStreamParams = ResponseCreateAndStreamParams | ResponseStreamByIdParams;

/** Request options of `responses.stream()`: the usual ones plus `maxResumes`. */
export interface ResponseStreamOptions extends RequestOptions {
  /**
   * How many times a background response's stream is resumed after a dropped connection (see the
   * file comment). Default 3; 0 disables resumption.
   */
  maxResumes?: number | undefined;
}

/** A streaming event with openai-node's `snapshot` (the text or arguments so far) added. */
export type ResponseTextDeltaEvent = S.ResponseTextDeltaEvent & { snapshot: string };
/** A function-call arguments delta with the arguments so far in `snapshot`. */
export type ResponseFunctionCallArgumentsDeltaEvent = S.ResponseFunctionCallArgumentsDeltaEvent & {
  snapshot: string;
};

type StreamEvent = S.ResponseStreamEvent;

/** The listeners of a `ResponseStream`: one per event type, plus `event` and the base events. */
export type ResponseEvents = BaseEvents &
  Omit<
    { [K in StreamEvent['type']]: (event: Extract<StreamEvent, { type: K }>) => void },
    'response.output_text.delta' | 'response.function_call_arguments.delta'
  > & {
    /** Every event, before its own listener. */
    event: (event: StreamEvent) => void;
    'response.output_text.delta': (event: ResponseTextDeltaEvent) => void;
    'response.function_call_arguments.delta': (event: ResponseFunctionCallArgumentsDeltaEvent) => void;
  };

/** The final response: the API's `Response` with `output_text` and openai-node's `parsed*` fields (null). */
export type ParsedResponse<ParsedT = null> = S.Response & {
  output_text: string;
  output_parsed: ParsedT | null;
};

const DEFAULT_MAX_RESUMES = 3;

/** The stream of `client.responses.stream(params, options)`. */
export class ResponseStream<ParsedT = null>
  extends EventStream<ResponseEvents>
  implements AsyncIterable<StreamEvent>
{
  #params: ResponseStreamParams | null;
  #snapshot: Snapshot | undefined;
  #final: ParsedResponse<ParsedT> | undefined;
  /** `sequence_number` of the last event read (resumption starts after it). */
  #lastSequence: number | null = null;
  /** Listeners see only events above this (`starting_after`). */
  #startingAfter: number | null = null;

  constructor(params: ResponseStreamParams | null) {
    super();
    this.#params = params;
  }

  /**
   * Start streaming `params` through `client` (see the file comment); listeners added right after
   * this call see every event.
   * @throws AiwireError (synchronously) for params that are not an object, an empty `response_id`, a
   * negative or fractional `starting_after`, or a bad `maxResumes`.
   */
  static createResponse<ParsedT = null>(
    client: BaseClient,
    params: ResponseStreamParams,
    options?: ResponseStreamOptions,
  ): ResponseStream<ParsedT> {
    checkParams(params);
    const maxResumes = options?.maxResumes;
    if (maxResumes !== undefined && !(Number.isInteger(maxResumes) && maxResumes >= 0)) {
      throw new AiwireError(
        `responses.stream(params, { maxResumes }): expected a non-negative integer (0 disables resumption), got ${String(maxResumes)}`,
      );
    }
    const runner = new ResponseStream<ParsedT>(params);
    runner._run(() => runner.#createOrRetrieve(client, params, options));
    return runner;
  }

  /**
   * Read a stream sent by `toReadableStream()` (JSON lines of events, e.g. relayed by a server to a
   * browser); as openai-node's.
   */
  static fromReadableStream(stream: ReadableStream<Uint8Array>): ResponseStream {
    const runner = new ResponseStream(null);
    runner._run(async () => {
      runner.#snapshot = undefined;
      await runner._readJSONL<StreamEvent>(stream, (event) => runner.#addEvent(event));
      runner.#endRequest();
    });
    return runner;
  }

  /** The events as a `ReadableStream` of JSON lines (read back with `fromReadableStream`). */
  toReadableStream(): ReadableStream<Uint8Array> {
    return this._toReadableStream(() => this[Symbol.asyncIterator]());
  }

  /** The response being built (undefined before `response.created` and after the stream ended). */
  get currentResponse(): S.Response | undefined {
    return this.#snapshot as S.Response | undefined;
  }

  async #createOrRetrieve(
    client: BaseClient,
    params: ResponseStreamParams,
    options: ResponseStreamOptions | undefined,
  ): Promise<void> {
    const { maxResumes = DEFAULT_MAX_RESUMES, ...requestOptions } = options ?? {};
    this._listenForAbort(options?.signal);
    this.#snapshot = undefined;
    const signal = this.controller.signal;
    let stream: Stream<StreamEvent>;
    if ('response_id' in params) {
      // The whole replay, so the snapshot is complete; `starting_after` filters locally.
      this.#startingAfter = params.starting_after ?? null;
      stream = await openById(client, params.response_id, null, { ...requestOptions, signal });
    } else {
      stream = await (client.post('/responses', {
        ...requestOptions,
        body: { ...params, stream: true },
        stream: true,
        signal,
      }) as APIPromise<Stream<StreamEvent>>);
    }
    this._connected();
    let resumes = 0;
    for (;;) {
      try {
        for await (const event of stream) this.#addEvent(event);
        break;
      } catch (err) {
        const snapshot = this.#snapshot as Snapshot | undefined;
        const id = snapshot?.id;
        const resumable =
          err instanceof APIConnectionError &&
          !(err instanceof APIUserAbortError) &&
          !signal.aborted &&
          snapshot?.background === true &&
          typeof id === 'string' &&
          this.#lastSequence !== null &&
          resumes < maxResumes;
        if (!resumable) throw err;
        resumes++;
        stream = await openById(client, id, this.#lastSequence, { ...requestOptions, signal });
      }
    }
    if (signal.aborted) throw new APIUserAbortError();
    this.#endRequest();
  }

  #addEvent(event: StreamEvent): void {
    if (this.ended) return;
    const e = event as {
      type: string;
      sequence_number?: number;
      output_index: number;
      content_index: number;
    };
    // A resumed stream may repeat what was read already.
    if (typeof e.sequence_number === 'number') {
      if (this.#lastSequence !== null && e.sequence_number <= this.#lastSequence) return;
      this.#lastSequence = e.sequence_number;
    }
    const snapshot = accumulateResponse(e, this.#snapshot);
    this.#snapshot = snapshot;
    const after = this.#startingAfter;
    const emit = (name: string, value: unknown) => {
      if (after === null || (e.sequence_number ?? 0) > after) {
        this._emit(name as keyof ResponseEvents & string, value);
      }
    };
    emit('event', event);
    if (e.type === 'response.output_text.delta') {
      const item = snapshot.output[e.output_index];
      if (!item) throw new AiwireError(`missing output at index ${e.output_index}`);
      if (item.type === 'message') {
        const part = item.content?.[e.content_index];
        if (!part) throw new AiwireError(`missing content at index ${e.content_index}`);
        if (part.type !== 'output_text') {
          throw new AiwireError(`expected content to be 'output_text', got ${part.type}`);
        }
        emit(e.type, { ...event, snapshot: part.text });
      }
    } else if (e.type === 'response.function_call_arguments.delta') {
      const item = snapshot.output[e.output_index];
      if (!item) throw new AiwireError(`missing output at index ${e.output_index}`);
      if (item.type === 'function_call') emit(e.type, { ...event, snapshot: item.arguments });
    } else {
      emit(e.type, event);
    }
  }

  #endRequest(): void {
    if (this.ended) throw new AiwireError("stream has ended, this shouldn't happen");
    const snapshot = this.#snapshot;
    if (!snapshot) throw new AiwireError('request ended without sending any events');
    this.#snapshot = undefined;
    this.#final = finalizeResponse<ParsedT>(snapshot);
  }

  /** The events (above `starting_after`); leaving the loop early aborts the stream. */
  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return this._iterate<StreamEvent>((push) => this.on('event', push));
  }

  /**
   * The final response (the last lifecycle event's `response` with the streamed output), with
   * `output_text`.
   * @throws (rejects) the stream's error (`APIError` subclasses, `APIConnectionError`,
   * `APIUserAbortError`), or `AiwireError` when the stream produced no response.
   */
  async finalResponse(): Promise<ParsedResponse<ParsedT>> {
    await this.done();
    const response = this.#final;
    if (!response) throw new AiwireError('stream ended without producing a Response');
    return response;
  }

  /** The parameters the stream was started with. */
  get params(): ResponseStreamParams | null {
    return this.#params;
  }
}

/** `GET /responses/{id}?stream=true[&starting_after=N]` as a stream. */
function openById(
  client: BaseClient,
  id: string,
  startingAfter: number | null,
  options: RequestOptions,
): APIPromise<Stream<StreamEvent>> {
  const query: Record<string, unknown> = { ...(options.query ?? {}), stream: true };
  if (startingAfter !== null) query.starting_after = startingAfter;
  return client.get(path`/responses/${id}`, { ...options, query, stream: true });
}

/** openai-node's final shape without a parser: `parsed: null` on message parts, `parsed_arguments: null`. */
function finalizeResponse<ParsedT>(snapshot: Snapshot): ParsedResponse<ParsedT> {
  const output = snapshot.output.map((item) => {
    if (item.type === 'function_call') return { ...item, parsed_arguments: null };
    if (item.type === 'message') {
      return { ...item, content: item.content.map((part: object) => ({ ...part, parsed: null })) };
    }
    return item;
  });
  const parsed = { ...snapshot, output_parsed: null, output };
  if (typeof parsed.output_text !== 'string') addOutputText(parsed);
  return parsed as unknown as ParsedResponse<ParsedT>;
}

/** Refuse parameters that cannot start a stream, saying what to pass instead. */
function checkParams(params: ResponseStreamParams): void {
  if (!params || typeof params !== 'object') {
    throw new AiwireError(
      'responses.stream(params): params must be an object: { model, input, … } to create a response, or { response_id } to stream an existing one',
    );
  }
  if ('response_id' in params) {
    if (typeof params.response_id !== 'string' || params.response_id === '') {
      throw new AiwireError(
        'responses.stream({ response_id }): response_id must be a non-empty string (resp_…)',
      );
    }
    const after = params.starting_after;
    if (after !== undefined && (!Number.isInteger(after) || after < 0)) {
      throw new AiwireError(
        `responses.stream({ starting_after }): expected a non-negative integer sequence number, got ${String(after)}`,
      );
    }
  }
}
