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
 * This file holds the public classes, `streamMessages` / `streamBetaMessages` and the request
 * driving; the types are in `message-stream-types.ts`, the listeners and promises in
 * `message-stream-events.ts`, the message accumulation in `message-accumulate.ts`.
 *
 * Written for aiwire from the SDK's documented behaviour (names and events only);
 * `__test__/anthropic-stream.test.ts` runs both on the same recorded streams and compares every
 * listener call.
 */
import type { RawResponse } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { toHeaders } from '../../../core/response.js';
import { Stream } from '../../../core/streaming.js';
import { decodeJSONL } from './batch-results.js';
import {
  accumulate,
  type Block,
  bufferedJson,
  type Event,
  parseMessage,
  type Snapshot,
  tracksInput,
} from './message-accumulate.js';
import { followSignal, StreamEvents } from './message-stream-events.js';
import type {
  BetaMessagesTypes,
  EmittedValue,
  MessageStreamEvents,
  MessageStreamTypes,
  MessagesTypes,
  ParsedMessage,
  StreamingCreate,
} from './message-stream-types.js';

export type * from './message-stream-types.js';

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
  readonly #events = new StreamEvents<T, ParsedT>();
  #response: Response | null | undefined;
  #requestID: string | null | undefined;
  #workspaceID: string | null | undefined;

  /** Beta streams: `mcp_tool_use` input, `compaction_delta`, beta `message_delta` fields. */
  protected abstract readonly beta: boolean;

  constructor(params: T['params'] | null) {
    this.#params = params;
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
    return this.#events.ended;
  }

  /** True once the stream failed or was aborted. */
  get errored(): boolean {
    return this.#events.errored;
  }

  /** True once the stream was aborted. */
  get aborted(): boolean {
    return this.#events.aborted;
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
    this.#events.catching = true;
    const response = await this.#events.connected;
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
    this.#events.on(event, listener);
    return this;
  }

  /** Remove one registration of a listener. */
  off<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Add a listener called at most once. */
  once<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): this {
    this.#events.once(event, listener);
    return this;
  }

  /**
   * The next emission of `event` (its one argument, or the arguments as a tuple); rejects if the
   * stream errors first (for `'error'`, resolves with the error).
   */
  emitted<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
  ): Promise<EmittedValue<MessageStreamEvents<T, ParsedT>[K]>> {
    return this.#events.emitted(event);
  }

  /** Resolves when the stream ended; rejects with its error (or `APIUserAbortError`). */
  async done(): Promise<void> {
    this.#events.catching = true;
    await this.#events.finished;
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
      if (last) this.#events.emit('finalMessage', last);
      this.#events.emit('end');
    }, this.#events.handleError);
  }

  #connect(response: Response | null): void {
    if (this.#events.ended) return;
    this.#response = response;
    this.#requestID = response?.headers.get('request-id');
    this.#workspaceID = response?.headers.get('anthropic-workspace-id');
    this.#events.connect(response);
  }

  async #createMessage(
    messages: StreamingCreate<T>,
    params: T['params'] & { stream: true },
    options?: RequestOptions,
  ): Promise<void> {
    const unfollow = followSignal(options?.signal, this.controller);
    try {
      if (!this.#events.ended) this.#snapshot = undefined;
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
      unfollow();
    }
  }

  async #fromReadableStream(body: ReadableStream<Uint8Array>): Promise<void> {
    if (!this.#events.ended) this.#snapshot = undefined;
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
    if (this.#events.ended) throw new AiwireError("stream has ended, this shouldn't happen");
    if (!this.#snapshot) throw new AiwireError('request ended without sending any chunks');
    this.#snapshot = undefined;
  }

  #addEvent(e: T['event']): void {
    const events = this.#events;
    if (events.ended) return;
    const event = e as unknown as Event;
    const snapshot = accumulate(this.#snapshot, event, this.beta);
    events.emitRaw(e);
    if (!snapshot) return;
    events.emit('streamEvent', e, snapshot as unknown as T['message']);
    switch (event.type) {
      case 'content_block_delta': {
        const block = snapshot.content.at(-1) as Block;
        const delta = event.delta;
        if (delta.type === 'text_delta') {
          if (block.type === 'text') events.emit('text', delta.text as string, (block.text as string) || '');
        } else if (delta.type === 'citations_delta') {
          if (block.type === 'text') {
            events.emit(
              'citation',
              delta.citation as T['citation'],
              (block.citations as T['citation'][] | null | undefined) ?? [],
            );
          }
        } else if (delta.type === 'input_json_delta') {
          if (tracksInput(block, this.beta) && events.listens('inputJson')) {
            let snapshotJSON: unknown;
            if (this.beta) {
              try {
                snapshotJSON = block.input;
              } catch (err) {
                events.handleError(
                  new AiwireError(
                    `Unable to parse tool parameter JSON from model. Please retry your request or adjust your prompt. Error: ${err}. JSON: ${bufferedJson(block)}`,
                  ),
                );
                break;
              }
            } else {
              snapshotJSON = block.input;
            }
            events.emit('inputJson', delta.partial_json as string, snapshotJSON);
          }
        } else if (delta.type === 'thinking_delta') {
          if (block.type === 'thinking')
            events.emit('thinking', delta.thinking as string, block.thinking as string);
        } else if (delta.type === 'signature_delta') {
          if (block.type === 'thinking') events.emit('signature', block.signature as string);
        } else if (delta.type === 'compaction_delta' && this.beta) {
          if (block.type === 'compaction' && block.content)
            events.emit('compaction', block.content as string);
        }
        break;
      }
      case 'message_stop': {
        this.messages.push(snapshot as unknown as T['param']);
        const parsed = parseMessage<T['message'], ParsedT>(snapshot, this.#params);
        this.receivedMessages.push(parsed);
        events.emit('message', parsed);
        break;
      }
      case 'content_block_stop':
        events.emit('contentBlock', snapshot.content.at(-1) as unknown as T['block']);
        break;
      case 'message_start':
        this.#snapshot = snapshot;
        break;
    }
  }

  /** The raw events (`message_start` … `message_stop`); leaving the loop early aborts the stream. */
  [Symbol.asyncIterator](): AsyncIterator<T['event']> {
    return this.#events.iterate(() => this.abort());
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
