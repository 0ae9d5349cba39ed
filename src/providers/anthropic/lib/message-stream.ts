/**
 * `MessageStream` / `BetaMessageStream`: what `client.messages.stream()` and
 * `client.beta.messages.stream()` return, with @anthropic-ai/sdk's surface (v1.13): listeners
 * (`on/off/once/emitted`), the events `connect`, `streamEvent`, `text`, `citation`, `inputJson`,
 * `thinking`, `signature`, `message`, `contentBlock`, `finalMessage`, `error`, `abort`, `end` (beta
 * also `compaction`) with the SDK's arguments, the accumulated message (`currentMessage`,
 * `finalMessage()`, `finalText()`), `done()`, `abort()`, `for await` over the raw events,
 * `toReadableStream()` / `fromReadableStream()`, `withResponse()`, `request_id`.
 *
 * The events come from `messages.create({ ...body, stream: true })` (the provider's stream decoder
 * already drops `ping` and throws an in-stream `error` event as the typed `APIError`).
 *
 * Written for aiwire from the SDK's documented behaviour (names and events only);
 * `__test__/anthropic-stream.test.ts` runs both on the same recorded streams and compares every
 * listener call.
 */
import type { APIPromise, RawResponse } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { toHeaders } from '../../../core/response.js';
import { Stream } from '../../../core/streaming.js';
import type * as S from '../generated/schemas.js';
import type { MessageCreateParamsBase as BetaMessageCreateParamsBase } from '../resources/beta/messages.js';
import type { MessageCreateParamsBase } from '../resources/messages.js';
import { decodeJSONL } from './batch-results.js';
import { partialParse } from './partial-json.js';

/** The types a stream is about: the Messages API's, or the beta Messages API's. */
export interface MessageStreamTypes {
  message: object;
  event: { type: string };
  block: { type: string };
  citation: object;
  param: object;
  params: { messages: readonly unknown[] };
}

/** The Messages API's types (`Message`, `RawMessageStreamEvent`, …). */
export interface MessagesTypes extends MessageStreamTypes {
  message: S.Message;
  event: S.MessageStreamEvent;
  block: S.ContentBlock;
  citation: S.CitationsDelta['citation'];
  param: S.InputMessage;
  params: MessageCreateParamsBase;
}

/** The beta Messages API's types (`BetaMessage`, `BetaRawMessageStreamEvent`, …). */
export interface BetaMessagesTypes extends MessageStreamTypes {
  message: S.BetaMessage;
  event: S.BetaMessageStreamEvent;
  block: S.BetaContentBlock;
  citation: S.BetaCitationsDelta['citation'];
  param: S.BetaInputMessage;
  params: BetaMessageCreateParamsBase;
}

/**
 * A message as `message` / `finalMessage` give it: the accumulated message plus `parsed_output`
 * (the structured output parsed by `output_config.format.parse`, else null), as the SDK's
 * `ParsedMessage`. Text blocks carry a non-enumerable `parsed_output` too.
 */
export type ParsedMessage<M, ParsedT = null> = M & { parsed_output: ParsedT | null };

/** The listeners of each event, with the SDK's arguments. */
export interface MessageStreamEvents<T extends MessageStreamTypes = MessagesTypes, ParsedT = null> {
  /** The response head arrived. */
  connect: () => void;
  /** Every event from `message_start` on, with the message accumulated so far (the same object each time). */
  streamEvent: (event: T['event'], snapshot: T['message']) => void;
  /** A `text_delta`: the delta and the block's text so far. */
  text: (textDelta: string, textSnapshot: string) => void;
  /** A `citations_delta`: the citation and the block's citations so far. */
  citation: (citation: T['citation'], citationsSnapshot: T['citation'][]) => void;
  /**
   * An `input_json_delta` of a `tool_use` / `server_tool_use` block (beta: also `mcp_tool_use`): the
   * delta and the input so far, parsed from the partial JSON (see `partial-json.ts`). Only parsed when
   * a listener is registered.
   */
  inputJson: (partialJson: string, jsonSnapshot: unknown) => void;
  /** A `thinking_delta`: the delta and the block's thinking so far. */
  thinking: (thinkingDelta: string, thinkingSnapshot: string) => void;
  /** A `signature_delta`: the thinking block's signature. */
  signature: (signature: string) => void;
  /** Beta only: a `compaction_delta` with content: the block's compacted content. */
  compaction: (compactedContent: string) => void;
  /** `message_stop`: the whole message. */
  message: (message: ParsedMessage<T['message'], ParsedT>) => void;
  /** `content_block_stop`: the finished block. */
  contentBlock: (content: T['block']) => void;
  /** The stream ended normally: the last message. */
  finalMessage: (message: ParsedMessage<T['message'], ParsedT>) => void;
  /** The stream failed (typed `APIError`, connection errors, …; other errors wrapped in `AnthropicError`). */
  error: (error: AiwireError) => void;
  /** `abort()`, the request's `signal`, or leaving a `for await` over the stream early. */
  abort: (error: APIUserAbortError) => void;
  /** Always last, once. */
  end: () => void;
}

/** The one argument of an event's listener, the tuple of several, or void. */
type EmittedValue<F> = F extends (...args: infer A) => unknown
  ? A extends [infer One]
    ? One
    : A extends []
      ? undefined
      : A
  : never;

/** What `messages.create` is to this helper: one streaming request. */
export interface StreamingCreate<T extends MessageStreamTypes = MessagesTypes> {
  create(body: T['params'] & { stream: true }, options?: RequestOptions): APIPromise<Stream<T['event']>>;
}

/** A registered listener. */
type Listener = { fn: (...args: never[]) => void; once: boolean };

/** Loose views of the accumulated objects (the accumulation is written once for both APIs). */
type Block = { type: string; [key: string]: unknown };
type Snapshot = {
  content: Block[];
  usage: Record<string, unknown>;
  [key: string]: unknown;
};
type Delta = { type: string; [key: string]: unknown };
type Event = {
  type: string;
  index: number;
  message: Snapshot;
  content_block: Block;
  delta: Delta;
  usage: Record<string, unknown>;
  [key: string]: unknown;
};

/** The JSON text received so far of each tool block whose input is streaming (the SDK's `__json_buf`). */
const jsonBuffers = new WeakMap<object, string>();

/**
 * A copy of tool block `prev` whose `input` is parsed from `json` when first read (so a stream with
 * many deltas parses only what is looked at).
 */
function withLazyInput(prev: Block, json: string): Block {
  const next: Block = { type: prev.type };
  for (const key of Object.keys(prev)) if (key !== 'input') next[key] = prev[key];
  jsonBuffers.set(next, json);
  let parsed = false;
  let value: unknown;
  Object.defineProperty(next, 'input', {
    enumerable: true,
    configurable: true,
    get() {
      if (!parsed) {
        value = json ? partialParse(json) : {};
        parsed = true;
      }
      return value;
    },
  });
  return next;
}

/** A DOM-style abort (`AbortError`), reported as `APIUserAbortError` as the SDK does. */
function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/** The shared implementation; use {@link MessageStream} or {@link BetaMessageStream}. */
export abstract class MessageStreamBase<T extends MessageStreamTypes, ParsedT = null>
  implements AsyncIterable<T['event']>
{
  /** The conversation: the request's messages, then each message received. */
  messages: T['param'][] = [];
  /** The messages received (one per `message_stop`). */
  receivedMessages: ParsedMessage<T['message'], ParsedT>[] = [];
  /** Aborting it stops the stream (as `abort()`). */
  controller: AbortController = new AbortController();

  #snapshot: Snapshot | undefined;
  #params: T['params'] | null;
  #listeners: { [event: string]: Listener[] | undefined } = {};
  /** `for await` consumers (the SDK's internal `_rawEvent`). */
  #rawListeners: ((event: T['event']) => void)[] = [];
  #ended = false;
  #errored = false;
  #aborted = false;
  #catching = false;
  #response: Response | null | undefined;
  #requestID: string | null | undefined;
  #workspaceID: string | null | undefined;
  readonly #connected: Promise<Response | null>;
  #resolveConnected: (r: Response | null) => void = () => {};
  #rejectConnected: (e: unknown) => void = () => {};
  readonly #endPromise: Promise<void>;
  #resolveEnd: () => void = () => {};
  #rejectEnd: (e: unknown) => void = () => {};

  /** Beta streams: `mcp_tool_use` input, `compaction_delta`, beta `message_delta` fields. */
  protected abstract readonly beta: boolean;

  constructor(params: T['params'] | null) {
    this.#params = params;
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#endPromise = new Promise((resolve, reject) => {
      this.#resolveEnd = resolve;
      this.#rejectEnd = reject;
    });
    // Rejections surface through `error` listeners or the promise-returning methods (see #emit).
    this.#connected.catch(() => {});
    this.#endPromise.catch(() => {});
  }

  /** @internal Start streaming `params` through `messages.create`. */
  protected _start(messages: StreamingCreate<T>, params: T['params'], options?: RequestOptions): void {
    for (const message of params.messages) this.messages.push(message as T['param']);
    this.#params = { ...params, stream: true };
    this.#run(() => this.#createMessage(messages, { ...params, stream: true }, options));
  }

  /** @internal Read events from a `toReadableStream()` body (JSON lines). */
  protected _startFromReadableStream(stream: ReadableStream<Uint8Array>): void {
    this.#run(() => this.#fromReadableStream(stream));
  }

  /** The response (headers and status; its body is the stream this object reads, so it is null here). */
  get response(): Response | null | undefined {
    return this.#response;
  }

  /** The `request-id` response header. */
  get request_id(): string | null | undefined {
    return this.#requestID;
  }

  /** The `anthropic-workspace-id` response header. */
  get workspace_id(): string | null | undefined {
    return this.#workspaceID;
  }

  /** True once `end` was emitted. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the stream failed or was aborted. */
  get errored(): boolean {
    return this.#errored;
  }

  /** True once the stream was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The message being received (undefined before `message_start` and after the stream). */
  get currentMessage(): T['message'] | undefined {
    return this.#snapshot as T['message'] | undefined;
  }

  /**
   * This stream with the response and its request id, once the response head is in.
   * @throws (rejects) the stream's error, or when the stream has no response (`fromReadableStream`).
   */
  async withResponse(): Promise<{
    data: MessageStreamBase<T, ParsedT>;
    response: Response;
    request_id: string | null | undefined;
    workspace_id: string | null | undefined;
  }> {
    this.#catching = true;
    const response = await this.#connected;
    if (!response) throw new AiwireError('Could not resolve a `Response` object');
    return {
      data: this,
      response,
      request_id: response.headers.get('request-id'),
      workspace_id: response.headers.get('anthropic-workspace-id'),
    };
  }

  /** Stop the stream: the connection is closed, `abort` then `end` are emitted. */
  abort(): void {
    this.controller.abort();
  }

  /** Add a listener (no de-duplication). */
  on<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): this {
    const list = this.#listeners[event] ?? [];
    this.#listeners[event] = list;
    list.push({ fn: listener as Listener['fn'], once: false });
    return this;
  }

  /** Remove one registration of a listener. */
  off<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): this {
    const list = this.#listeners[event];
    if (!list) return this;
    const i = list.findIndex((l) => l.fn === listener);
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  /** Add a listener called at most once. */
  once<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): this {
    const list = this.#listeners[event] ?? [];
    this.#listeners[event] = list;
    list.push({ fn: listener as Listener['fn'], once: true });
    return this;
  }

  /**
   * The next emission of `event` (its one argument, or the arguments as a tuple); rejects if the
   * stream errors first (for `'error'`, resolves with the error).
   */
  emitted<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
  ): Promise<EmittedValue<MessageStreamEvents<T, ParsedT>[K]>> {
    return new Promise((resolve, reject) => {
      this.#catching = true;
      if (event !== 'error') this.once('error', reject);
      const listener = (...args: unknown[]) => resolve((args.length > 1 ? args : args[0]) as never);
      this.once(event, listener as MessageStreamEvents<T, ParsedT>[K]);
    });
  }

  /** Resolves when the stream ended; rejects with its error (or `APIUserAbortError`). */
  async done(): Promise<void> {
    this.#catching = true;
    await this.#endPromise;
  }

  /**
   * The last message received.
   * @throws (rejects) the stream's error, or `AnthropicError` when no message was received.
   */
  async finalMessage(): Promise<ParsedMessage<T['message'], ParsedT>> {
    await this.done();
    return this.#finalMessage();
  }

  /**
   * The text blocks of the last message, joined with a space.
   * @throws (rejects) the stream's error, or `AnthropicError` when there is no message or no text block.
   */
  async finalText(): Promise<string> {
    await this.done();
    const message = this.#finalMessage() as unknown as Snapshot;
    const texts = message.content.filter((b) => b.type === 'text').map((b) => b.text as string);
    if (texts.length === 0) {
      throw new AiwireError('stream ended without producing a content block with type=text');
    }
    return texts.join(' ');
  }

  #finalMessage(): ParsedMessage<T['message'], ParsedT> {
    const last = this.receivedMessages.at(-1);
    if (!last) throw new AiwireError('stream ended without producing a Message with role=assistant');
    return last;
  }

  #run(executor: () => Promise<void>): void {
    executor().then(() => {
      const last = this.receivedMessages.at(-1);
      if (last) this.#emit('finalMessage', last);
      this.#emit('end');
    }, this.#handleError);
  }

  #handleError = (error: unknown): void => {
    this.#errored = true;
    let err = error;
    if (isAbortError(err)) err = new APIUserAbortError();
    if (err instanceof APIUserAbortError) {
      this.#aborted = true;
      this.#emit('abort', err);
      return;
    }
    if (err instanceof AiwireError) {
      this.#emit('error', err);
      return;
    }
    const wrapped = new AiwireError(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) (wrapped as { cause?: unknown }).cause = err;
    this.#emit('error', wrapped);
  };

  #emit<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    ...args: Parameters<MessageStreamEvents<T, ParsedT>[K]>
  ): void {
    if (this.#ended) return;
    if (event === 'end') {
      this.#ended = true;
      this.#resolveEnd();
    }
    const list = this.#listeners[event];
    if (list) {
      this.#listeners[event] = list.filter((l) => !l.once);
      for (const l of list) (l.fn as (...a: unknown[]) => void)(...args);
    }
    if (event === 'abort' || event === 'error') {
      const err = args[0];
      // Nobody listens and no promise method was called: surface it as an unhandled rejection.
      if (!this.#catching && !list?.length) void Promise.reject(err);
      this.#rejectConnected(err);
      this.#rejectEnd(err);
      this.#emit('end');
    }
  }

  #connect(response: Response | null): void {
    if (this.#ended) return;
    this.#response = response;
    this.#requestID = response?.headers.get('request-id');
    this.#workspaceID = response?.headers.get('anthropic-workspace-id');
    this.#resolveConnected(response);
    this.#emit('connect');
  }

  async #createMessage(
    messages: StreamingCreate<T>,
    params: T['params'] & { stream: true },
    options?: RequestOptions,
  ): Promise<void> {
    const signal = options?.signal;
    const onAbort = () => this.controller.abort();
    if (signal) {
      if (signal.aborted) this.controller.abort();
      signal.addEventListener('abort', onAbort);
    }
    try {
      if (!this.#ended) this.#snapshot = undefined;
      const { stream, raw } = await messages
        .create(params, { ...options, signal: this.controller.signal })
        ._thenUnwrap((data, rawResponse) => ({ stream: data, raw: rawResponse }));
      try {
        this.#connect(responseOf(raw));
      } catch (e) {
        stream.controller.abort();
        throw e;
      }
      for await (const event of stream) this.#addEvent(event);
      if (this.controller.signal.aborted) throw new APIUserAbortError();
      this.#endRequest();
    } finally {
      if (signal) signal.removeEventListener('abort', onAbort);
    }
  }

  async #fromReadableStream(body: ReadableStream<Uint8Array>): Promise<void> {
    if (!this.#ended) this.#snapshot = undefined;
    this.#connect(null);
    const iterator = decodeJSONL<T['event']>(new Response(body))[Symbol.asyncIterator]();
    const stop = () => void iterator.return?.();
    this.controller.signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        if (this.controller.signal.aborted) break;
        const { value, done } = await iterator.next();
        if (done || this.controller.signal.aborted) break;
        this.#addEvent(value);
      }
    } finally {
      this.controller.signal.removeEventListener('abort', stop);
      await iterator.return?.();
    }
    if (this.controller.signal.aborted) throw new APIUserAbortError();
    this.#endRequest();
  }

  #endRequest(): void {
    if (this.#ended) throw new AiwireError("stream has ended, this shouldn't happen");
    if (!this.#snapshot) throw new AiwireError('request ended without sending any chunks');
    this.#snapshot = undefined;
  }

  #tracksInput(block: Block | undefined): boolean {
    const t = block?.type;
    return t === 'tool_use' || t === 'server_tool_use' || (this.beta && t === 'mcp_tool_use');
  }

  #addEvent(e: T['event']): void {
    if (this.#ended) return;
    const event = e as unknown as Event;
    const snapshot = this.#accumulate(event);
    for (const raw of this.#rawListeners) raw(e);
    if (!snapshot) return;
    this.#emit('streamEvent', e, snapshot as unknown as T['message']);
    switch (event.type) {
      case 'content_block_delta': {
        const block = snapshot.content.at(-1) as Block;
        const delta = event.delta;
        if (delta.type === 'text_delta') {
          if (block.type === 'text') this.#emit('text', delta.text as string, (block.text as string) || '');
        } else if (delta.type === 'citations_delta') {
          if (block.type === 'text') {
            this.#emit(
              'citation',
              delta.citation as T['citation'],
              (block.citations as T['citation'][] | null | undefined) ?? [],
            );
          }
        } else if (delta.type === 'input_json_delta') {
          if (this.#tracksInput(block) && this.#listeners.inputJson?.length) {
            let snapshotJSON: unknown;
            if (this.beta) {
              try {
                snapshotJSON = block.input;
              } catch (err) {
                this.#handleError(
                  new AiwireError(
                    `Unable to parse tool parameter JSON from model. Please retry your request or adjust your prompt. Error: ${err}. JSON: ${jsonBuffers.get(block)}`,
                  ),
                );
                break;
              }
            } else {
              snapshotJSON = block.input;
            }
            this.#emit('inputJson', delta.partial_json as string, snapshotJSON);
          }
        } else if (delta.type === 'thinking_delta') {
          if (block.type === 'thinking')
            this.#emit('thinking', delta.thinking as string, block.thinking as string);
        } else if (delta.type === 'signature_delta') {
          if (block.type === 'thinking') this.#emit('signature', block.signature as string);
        } else if (delta.type === 'compaction_delta' && this.beta) {
          if (block.type === 'compaction' && block.content) this.#emit('compaction', block.content as string);
        }
        break;
      }
      case 'message_stop': {
        this.messages.push(snapshot as unknown as T['param']);
        const parsed = this.#parseMessage(snapshot);
        this.receivedMessages.push(parsed);
        this.#emit('message', parsed);
        break;
      }
      case 'content_block_stop':
        this.#emit('contentBlock', snapshot.content.at(-1) as unknown as T['block']);
        break;
      case 'message_start':
        this.#snapshot = snapshot;
        break;
    }
  }

  /** The message snapshot after `event`, or undefined before `message_start`. Mutates the snapshot. */
  #accumulate(event: Event): Snapshot | undefined {
    const snapshot = this.#snapshot;
    if (event.type === 'message_start') {
      if (snapshot) {
        throw new AiwireError(`Unexpected event order, got ${event.type} before receiving "message_stop"`);
      }
      return event.message;
    }
    if (!snapshot) return undefined;
    switch (event.type) {
      case 'message_delta': {
        const { delta, usage } = event;
        snapshot.stop_reason = delta.stop_reason;
        snapshot.stop_sequence = delta.stop_sequence;
        snapshot.stop_details = delta.stop_details;
        snapshot.usage.output_tokens = usage.output_tokens;
        if (delta.container != null) snapshot.container = delta.container;
        if (this.beta) {
          if (event.context_management != null) snapshot.context_management = event.context_management;
          if (event.input_transformations != null)
            snapshot.input_transformations = event.input_transformations;
        }
        // Cumulative whole-message totals, sent only when they apply: overwrite, never add.
        const totals = [
          'input_tokens',
          'cache_creation_input_tokens',
          'cache_read_input_tokens',
          'server_tool_use',
        ];
        if (this.beta) totals.push('iterations', 'fallback_credit');
        totals.push('output_tokens_details');
        for (const key of totals) if (usage[key] != null) snapshot.usage[key] = usage[key];
        return snapshot;
      }
      case 'content_block_start': {
        const block = event.content_block;
        snapshot.content.push({ ...block });
        if (this.beta && block.type === 'fallback') {
          snapshot.model = (block.to as { model?: unknown } | undefined)?.model;
        }
        return snapshot;
      }
      case 'content_block_delta': {
        const i = event.index;
        const block = snapshot.content.at(i);
        const delta = event.delta;
        if (!block) return snapshot;
        if (delta.type === 'text_delta' && block.type === 'text') {
          snapshot.content[i] = { ...block, text: ((block.text as string) || '') + (delta.text as string) };
        } else if (delta.type === 'citations_delta' && block.type === 'text') {
          const citations = (block.citations as unknown[] | null | undefined) ?? [];
          snapshot.content[i] = { ...block, citations: [...citations, delta.citation] };
        } else if (delta.type === 'input_json_delta' && this.#tracksInput(block)) {
          snapshot.content[i] = withLazyInput(
            block,
            (jsonBuffers.get(block) ?? '') + (delta.partial_json as string),
          );
        } else if (delta.type === 'thinking_delta' && block.type === 'thinking') {
          snapshot.content[i] = {
            ...block,
            thinking: (block.thinking as string) + (delta.thinking as string),
          };
        } else if (delta.type === 'signature_delta' && block.type === 'thinking') {
          snapshot.content[i] = { ...block, signature: delta.signature };
        } else if (this.beta && delta.type === 'compaction_delta' && block.type === 'compaction') {
          const next: Block = { ...block, content: delta.content };
          if ('encrypted_content' in delta) next.encrypted_content = delta.encrypted_content;
          snapshot.content[i] = next;
        }
        return snapshot;
      }
      case 'content_block_stop': {
        const block = snapshot.content.at(event.index);
        if (block && this.#tracksInput(block) && jsonBuffers.has(block)) {
          // The input is final: make it a plain property (parsing it now; a bad JSON text fails the stream).
          Object.defineProperty(block, 'input', {
            value: block.input,
            enumerable: true,
            configurable: true,
            writable: true,
          });
        }
        return snapshot;
      }
      default:
        return snapshot;
    }
  }

  /**
   * The message as `message`/`finalMessage` give it: a copy with `parsed_output` (from
   * `output_config.format.parse` when the request has one, else null); text blocks copied with a
   * non-enumerable `parsed_output`.
   */
  #parseMessage(snapshot: Snapshot): ParsedMessage<T['message'], ParsedT> {
    const format = (this.#params as { output_config?: { format?: unknown } } | null)?.output_config?.format as
      | { type?: unknown; parse?: (text: string) => unknown }
      | null
      | undefined;
    const parses = !!this.#params && !!format && typeof format === 'object' && 'parse' in format;
    let first: unknown = null;
    const content = snapshot.content.map((block) => {
      if (block.type !== 'text') return block;
      let value: unknown = null;
      if (parses && format?.type === 'json_schema') {
        try {
          value = (format.parse as (text: string) => unknown)(block.text as string);
        } catch (error) {
          throw new AiwireError(`Failed to parse structured output: ${error}`);
        }
      }
      if (first === null) first = value;
      return Object.defineProperty({ ...block }, 'parsed_output', { value, enumerable: false });
    });
    return { ...snapshot, content, parsed_output: first } as unknown as ParsedMessage<T['message'], ParsedT>;
  }

  /** The raw events (`message_start` … `message_stop`); leaving the loop early aborts the stream. */
  [Symbol.asyncIterator](): AsyncIterator<T['event']> {
    const pending: T['event'][] = [];
    const waiting: { resolve: (e: T['event'] | undefined) => void; reject: (err: unknown) => void }[] = [];
    let done = false;
    this.#rawListeners.push((event) => {
      const reader = waiting.shift();
      if (reader) reader.resolve(event);
      else pending.push(event);
    });
    const finish = (err?: unknown) => {
      done = true;
      for (const reader of waiting) {
        if (err === undefined) reader.resolve(undefined);
        else reader.reject(err);
      }
      waiting.length = 0;
    };
    this.on('end', () => finish());
    this.on('abort', (err) => finish(err));
    this.on('error', (err) => finish(err));
    return {
      next: async (): Promise<IteratorResult<T['event']>> => {
        if (pending.length > 0) return { value: pending.shift() as T['event'], done: false };
        if (done) return { value: undefined, done: true };
        const event = await new Promise<T['event'] | undefined>((resolve, reject) =>
          waiting.push({ resolve, reject }),
        );
        return event ? { value: event, done: false } : { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<T['event']>> => {
        this.abort();
        return { value: undefined, done: true };
      },
    };
  }

  /** The raw events as a `ReadableStream` of JSON lines (read back with `fromReadableStream`). */
  toReadableStream(): ReadableStream<Uint8Array> {
    return new Stream(() => this[Symbol.asyncIterator](), this.controller).toReadableStream();
  }
}

/** A head-only `Response` for the stream's response (its body is what the stream reads). */
function responseOf(raw: RawResponse): Response {
  const { status, headers } = raw.native;
  return new Response(null, { status: status || 200, headers: toHeaders(headers) });
}

/** The stream of `client.messages.stream(body, options)`. */
export class MessageStream<ParsedT = null> extends MessageStreamBase<MessagesTypes, ParsedT> {
  protected readonly beta = false;

  /**
   * Stream `params` with `messages.create({ ...params, stream: true }, options)`; listeners added
   * right after this call see every event.
   */
  static createMessage<ParsedT = null>(
    messages: StreamingCreate<MessagesTypes>,
    params: MessagesTypes['params'],
    options?: RequestOptions,
  ): MessageStream<ParsedT> {
    const runner = new MessageStream<ParsedT>(params);
    runner._start(messages, params, options);
    return runner;
  }

  /** Read a stream sent by `toReadableStream()` (e.g. from a server to a browser). */
  static fromReadableStream(stream: ReadableStream<Uint8Array>): MessageStream {
    const runner = new MessageStream(null);
    runner._startFromReadableStream(stream);
    return runner;
  }
}

/** The stream of `client.beta.messages.stream(body, options)`. */
export class BetaMessageStream<ParsedT = null> extends MessageStreamBase<BetaMessagesTypes, ParsedT> {
  protected readonly beta = true;

  /** As {@link MessageStream.createMessage}, with the beta Messages API. */
  static createMessage<ParsedT = null>(
    messages: StreamingCreate<BetaMessagesTypes>,
    params: BetaMessagesTypes['params'],
    options?: RequestOptions,
  ): BetaMessageStream<ParsedT> {
    const runner = new BetaMessageStream<ParsedT>(params);
    runner._start(messages, params, options);
    return runner;
  }

  /** Read a stream sent by `toReadableStream()`. */
  static fromReadableStream(stream: ReadableStream<Uint8Array>): BetaMessageStream {
    const runner = new BetaMessageStream(null);
    runner._startFromReadableStream(stream);
    return runner;
  }
}

/**
 * `client.messages.stream(body, options)`: `target` is the `Messages` resource (anything with
 * `create`) or the client (`target.messages.create`).
 */
export function streamMessages(
  target: StreamingCreate<MessagesTypes> | { messages: StreamingCreate<MessagesTypes> },
  body: MessagesTypes['params'],
  options?: RequestOptions,
): MessageStream {
  const messages = 'create' in target ? target : target.messages;
  return MessageStream.createMessage(messages, body, options);
}

/** `client.beta.messages.stream(body, options)`; `target` as for {@link streamMessages}. */
export function streamBetaMessages(
  target: StreamingCreate<BetaMessagesTypes> | { beta: { messages: StreamingCreate<BetaMessagesTypes> } },
  body: BetaMessagesTypes['params'],
  options?: RequestOptions,
): BetaMessageStream {
  const messages = 'create' in target ? target : target.beta.messages;
  return BetaMessageStream.createMessage(messages, body, options);
}
