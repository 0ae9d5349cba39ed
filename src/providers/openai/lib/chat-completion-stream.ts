/**
 * `ChatCompletionStream` (what `client.chat.completions.stream()` returns) and
 * `ChatCompletionStreamingRunner` (`runTools({ …, stream: true })`), with openai-node's surface:
 * the events `connect`, `chunk` (chunk, snapshot), `content` (delta, snapshot), `content.delta`,
 * `content.done`, `refusal.delta`, `refusal.done`, `tool_calls.function.arguments.delta` / `.done`,
 * `logprobs.content.delta` / `.done`, `logprobs.refusal.delta` / `.done`, `chatCompletion`, `message`,
 * `functionToolCall`, then `finalChatCompletion`, `finalMessage`, `finalContent`,
 * `finalFunctionToolCall`, `totalUsage` and `end` (or `error` / `abort`, then `end`); `for await` over
 * the chunks; `currentChatCompletionSnapshot`; `toReadableStream()` / `fromReadableStream()`.
 *
 * The chunks come from `chat.completions.create({ ...params, stream: true })`: aiwire's `Stream`,
 * decoded in Rust; the snapshot is accumulated in plain JS (`chat-accumulate.ts`). `stream_options` is
 * sent as given (openai-node adds nothing). An auto-parseable `response_format` (`zodResponseFormat`)
 * gives `parsed` on the content events and the final message.
 *
 * Reference: https://platform.openai.com/docs/api-reference/chat/streaming
 *
 * Written for aiwire from openai-node's documented behaviour; `__test__/openai-chat-stream.test.ts`
 * runs both on the same recorded streams and compares every listener call.
 */
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { Stream } from '../../../core/streaming.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
} from '../resources/chat/completions.js';
import {
  type Accumulator,
  accumulateChunk,
  finalizeChatCompletion,
  newAccumulator,
} from './chat-accumulate.js';
import { AbstractChatCompletionRunner, type ChatCompletionsCreate } from './chat-runner-base.js';
import type {
  ChatCompletionSnapshot,
  ChatCompletionSnapshotChoice,
  ChatCompletionStreamEvents,
  ChatCompletionStreamingToolRunnerParams,
  ChatCompletionStreamParams,
  ParsedChatCompletion,
  RunnerOptions,
} from './chat-types.js';
import { isAutoParsableResponseFormat, type ParseParams, parseToolArguments } from './parser.js';

/** Per choice: which `*.done` events were emitted and which tool call is being streamed. */
interface ChoiceEventState {
  content_done: boolean;
  refusal_done: boolean;
  logprobs_content_done: boolean;
  logprobs_refusal_done: boolean;
  done_tool_calls: Set<number>;
  current_tool_call_index: number | null;
}

/** `_emit` with any event name (the events' payloads are built here, typed by the events map). */
type Emitter = { _emit(event: string, ...args: unknown[]): void; _listens(event: string): boolean };

/** `toReadableStream()` lines that carry a tool message (runners): an empty chunk whose `object` holds it. */
const MESSAGE_PREFIX = 'chat.completion.chunk.message:';

interface MessageRecord {
  type: 'message';
  message: ChatCompletionMessageParam;
  tool_call_ids?: (string | undefined)[];
}

/** @internal A tool message as a `toReadableStream()` item (readable as an empty chunk by older readers). */
export function messageChunk(
  chunk: ChatCompletionChunk,
  message: ChatCompletionMessageParam,
  toolCallIds?: (string | undefined)[],
): ChatCompletionChunk {
  const payload: MessageRecord = {
    type: 'message',
    message,
    ...(toolCallIds ? { tool_call_ids: toolCallIds } : {}),
  };
  return {
    id: chunk.id,
    choices: [],
    created: chunk.created,
    model: chunk.model,
    object: `${MESSAGE_PREFIX}${JSON.stringify(payload)}`,
  } as unknown as ChatCompletionChunk;
}

function asMessageRecord(item: object): MessageRecord | undefined {
  if ('type' in item && item.type === 'message' && 'message' in item) return item as MessageRecord;
  const object = (item as { object?: unknown }).object;
  if (typeof object === 'string' && object.startsWith(MESSAGE_PREFIX)) {
    return JSON.parse(object.slice(MESSAGE_PREFIX.length)) as MessageRecord;
  }
  return undefined;
}

/** The JSON lines of a `toReadableStream()` body, one parsed value each. */
async function* jsonLines(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<object> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
    .getReader();
  let buffer = '';
  try {
    for (;;) {
      if (signal.aborted) return;
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) yield JSON.parse(line) as object;
        if (signal.aborted) return;
        nl = buffer.indexOf('\n');
      }
    }
    if (buffer.trim()) yield JSON.parse(buffer) as object;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The stream of `client.chat.completions.stream(params, options)`. */
export class ChatCompletionStream<ParsedT = null>
  extends AbstractChatCompletionRunner<ChatCompletionStreamEvents<ParsedT>, ParsedT>
  implements AsyncIterable<ChatCompletionChunk>
{
  #params: ParseParams | null;
  #acc: Accumulator = newAccumulator();
  #choiceEventStates: ChoiceEventState[] = [];

  constructor(params: ChatCompletionCreateParamsBase | null) {
    super();
    this.#params = params as ParseParams | null;
  }

  /** The completion accumulated so far (undefined before the first chunk and after each request). */
  get currentChatCompletionSnapshot(): ChatCompletionSnapshot | undefined {
    return this.#acc.snapshot;
  }

  /**
   * Read a stream written by `toReadableStream()` (e.g. on a server, read in a browser). Messages sent
   * to the model are not in `message` events here.
   */
  static fromReadableStream(stream: ReadableStream<Uint8Array>): ChatCompletionStream<null> {
    const runner = new ChatCompletionStream(null);
    runner._run(() => runner._fromReadableStream(stream));
    return runner;
  }

  /**
   * Stream `params` with `completions.create({ ...params, stream: true }, options)`; listeners added
   * right after this call see every event.
   */
  static createChatCompletion<ParsedT>(
    completions: ChatCompletionsCreate,
    params: ChatCompletionStreamParams,
    options?: RequestOptions,
  ): ChatCompletionStream<ParsedT> {
    const runner = new ChatCompletionStream<ParsedT>(params);
    runner._run(() => runner._runChatCompletion(completions, { ...params, stream: true }, options));
    return runner;
  }

  /** @internal One streamed completion: `connect`, the chunks' events, then the completion's. */
  protected override async _createChatCompletion(
    completions: ChatCompletionsCreate,
    params: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): Promise<ChatCompletion> {
    this._listenForAbort(options?.signal);
    this.#beginRequest();
    const stream = (await completions.create(
      { ...params, stream: true },
      { ...options, signal: this.controller.signal },
    )) as Stream<ChatCompletionChunk>;
    this._connected();
    for await (const chunk of stream) this.#addChunk(chunk);
    if (this.controller.signal.aborted) throw new APIUserAbortError();
    return this._addChatCompletion(this.#endRequest() as unknown as ChatCompletion);
  }

  /** @internal Chunks (and runners' tool messages) from a `toReadableStream()` body. */
  protected async _fromReadableStream(
    body: ReadableStream<Uint8Array>,
    options?: RequestOptions,
  ): Promise<ChatCompletion> {
    this._listenForAbort(options?.signal);
    this.#beginRequest();
    this._connected();
    let chatId: string | undefined;
    for await (const item of jsonLines(body, this.controller.signal)) {
      const record = asMessageRecord(item);
      if (record) {
        const snapshot = this.#acc.snapshot;
        if (snapshot) {
          const toolCalls = snapshot.choices[0]?.message.tool_calls;
          for (const [index, id] of record.tool_call_ids?.entries() ?? []) {
            const call = toolCalls?.[index];
            if (call && id) call.id = id;
          }
          this._addChatCompletion(this.#endRequest() as unknown as ChatCompletion);
          chatId = undefined;
        }
        this._addMessage(record.message);
        continue;
      }
      const chunk = item as ChatCompletionChunk;
      // a new request of a runner
      if (chatId && chunk.id && chatId !== chunk.id)
        this._addChatCompletion(this.#endRequest() as unknown as ChatCompletion);
      this.#addChunk(chunk);
      if (chunk.id) chatId = chunk.id;
    }
    if (this.controller.signal.aborted) throw new APIUserAbortError();
    if (this.#acc.snapshot) return this._addChatCompletion(this.#endRequest() as unknown as ChatCompletion);
    const last = this._chatCompletions[this._chatCompletions.length - 1];
    if (last) return last;
    throw new AiwireError('request ended without sending any chunks');
  }

  #beginRequest(): void {
    if (this.ended) return;
    this.#acc = newAccumulator();
  }

  #choiceState(index: number): ChoiceEventState {
    let state = this.#choiceEventStates[index];
    if (state) return state;
    state = {
      content_done: false,
      refusal_done: false,
      logprobs_content_done: false,
      logprobs_refusal_done: false,
      done_tool_calls: new Set(),
      current_tool_call_index: null,
    };
    this.#choiceEventStates[index] = state;
    return state;
  }

  #addChunk(chunk: ChatCompletionChunk): void {
    if (this.ended) return;
    const completion = accumulateChunk(this.#acc, chunk, this.#params);
    const self = this as unknown as Emitter;
    self._emit('chunk', chunk, completion);
    for (const choice of chunk.choices) {
      const choiceSnapshot = completion.choices[choice.index] as ChatCompletionSnapshotChoice;
      const { delta } = choice;
      const message = choiceSnapshot.message;
      const assistant = message?.role === 'assistant';
      if (delta?.content != null && assistant && message?.content) {
        self._emit('content', delta.content, message.content);
        if (this._listens('content.delta')) {
          self._emit('content.delta', {
            delta: delta.content,
            snapshot: message.content,
            parsed: message.parsed,
          });
        }
      }
      if (delta?.refusal != null && assistant && message?.refusal) {
        self._emit('refusal.delta', { delta: delta.refusal, snapshot: message.refusal });
      }
      const logprobs = choice.logprobs;
      if (logprobs?.content != null && assistant) {
        self._emit('logprobs.content.delta', {
          content: logprobs.content,
          snapshot: choiceSnapshot.logprobs?.content ?? [],
        });
      }
      if (logprobs?.refusal != null && assistant) {
        self._emit('logprobs.refusal.delta', {
          refusal: logprobs.refusal,
          snapshot: choiceSnapshot.logprobs?.refusal ?? [],
        });
      }
      const state = this.#choiceState(choiceSnapshot.index);
      if (choiceSnapshot.finish_reason) {
        this.#emitContentDoneEvents(choiceSnapshot);
        if (state.current_tool_call_index != null)
          this.#emitToolCallDoneEvent(choiceSnapshot, state.current_tool_call_index);
      }
      const toolCalls = delta?.tool_calls;
      if (!toolCalls) continue;
      for (const call of toolCalls) {
        if (state.current_tool_call_index !== call.index) {
          this.#emitContentDoneEvents(choiceSnapshot);
          // a new tool call started: the previous one is done
          if (state.current_tool_call_index != null)
            this.#emitToolCallDoneEvent(choiceSnapshot, state.current_tool_call_index);
        }
        state.current_tool_call_index = call.index;
      }
      for (const callDelta of toolCalls) {
        const callSnapshot = message.tool_calls?.[callDelta.index];
        if (!callSnapshot?.type) continue;
        if (callSnapshot.type === 'function') {
          self._emit('tool_calls.function.arguments.delta', {
            name: callSnapshot.function?.name,
            index: callDelta.index,
            arguments: callSnapshot.function?.arguments,
            parsed_arguments: callSnapshot.function?.parsed_arguments,
            arguments_delta: callDelta.function?.arguments ?? '',
          });
        }
      }
    }
  }

  #emitToolCallDoneEvent(choiceSnapshot: ChatCompletionSnapshotChoice, toolCallIndex: number): void {
    const state = this.#choiceState(choiceSnapshot.index);
    if (state.done_tool_calls.has(toolCallIndex)) return;
    const callSnapshot = choiceSnapshot.message.tool_calls?.[toolCallIndex];
    if (!callSnapshot) throw new Error('no tool call snapshot');
    if (!callSnapshot.type) throw new Error('tool call snapshot missing `type`');
    if (callSnapshot.type === 'function') {
      const fn = callSnapshot.function as { name: string; arguments: string };
      (this._emit as (event: string, ...args: unknown[]) => void)('tool_calls.function.arguments.done', {
        name: fn.name,
        index: toolCallIndex,
        arguments: fn.arguments,
        parsed_arguments: parseToolArguments(this.#params, fn.name, fn.arguments),
      });
    }
  }

  #emitContentDoneEvents(choiceSnapshot: ChatCompletionSnapshotChoice): void {
    const state = this.#choiceState(choiceSnapshot.index);
    const message = choiceSnapshot.message;
    const emit = (event: string, payload: unknown) => (this as unknown as Emitter)._emit(event, payload);
    if (message.content && !state.content_done) {
      state.content_done = true;
      const format = this.#params?.response_format;
      emit('content.done', {
        content: message.content,
        parsed: isAutoParsableResponseFormat(format) ? format.$parseRaw(message.content) : null,
      });
    }
    if (message.refusal && !state.refusal_done) {
      state.refusal_done = true;
      emit('refusal.done', { refusal: message.refusal });
    }
    const logprobs = choiceSnapshot.logprobs;
    if (logprobs?.content && !state.logprobs_content_done) {
      state.logprobs_content_done = true;
      emit('logprobs.content.done', { content: logprobs.content });
    }
    if (logprobs?.refusal && !state.logprobs_refusal_done) {
      state.logprobs_refusal_done = true;
      emit('logprobs.refusal.done', { refusal: logprobs.refusal });
    }
  }

  #endRequest(): ParsedChatCompletion<ParsedT> {
    if (this.ended) throw new AiwireError("stream has ended, this shouldn't happen");
    const { snapshot, audioDone } = this.#acc;
    if (!snapshot) throw new AiwireError('request ended without sending any chunks');
    this.#acc = newAccumulator();
    this.#choiceEventStates = [];
    return finalizeChatCompletion<ParsedT>(snapshot, this.#params, audioDone);
  }

  /** The chunks as they arrive; leaving the loop early aborts the stream. */
  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    const pushQueue: ChatCompletionChunk[] = [];
    const readQueue: {
      resolve: (c: ChatCompletionChunk | undefined) => void;
      reject: (e: unknown) => void;
    }[] = [];
    let done = false;
    this.on('chunk', (chunk) => {
      const reader = readQueue.shift();
      if (reader) reader.resolve(chunk);
      else pushQueue.push(chunk);
    });
    const finish = (err?: unknown) => {
      done = true;
      for (const reader of readQueue) {
        if (err === undefined) reader.resolve(undefined);
        else reader.reject(err);
      }
      readQueue.length = 0;
    };
    this.on('end', () => finish());
    this.on('abort', (err) => finish(err));
    this.on('error', (err) => finish(err));
    return {
      next: async (): Promise<IteratorResult<ChatCompletionChunk>> => {
        if (!pushQueue.length) {
          if (done) return { value: undefined, done: true };
          const chunk = await new Promise<ChatCompletionChunk | undefined>((resolve, reject) =>
            readQueue.push({ resolve, reject }),
          );
          return chunk ? { value: chunk, done: false } : { value: undefined, done: true };
        }
        return { value: pushQueue.shift() as ChatCompletionChunk, done: false };
      },
      return: async (): Promise<IteratorResult<ChatCompletionChunk>> => {
        this.abort();
        return { value: undefined, done: true };
      },
    };
  }

  /** The chunks as a `ReadableStream` of JSON lines (read back with `fromReadableStream`). */
  toReadableStream(): ReadableStream<Uint8Array> {
    return new Stream(() => this[Symbol.asyncIterator](), this.controller).toReadableStream();
  }
}

/** The runner of `client.chat.completions.runTools({ …, stream: true })`. */
export class ChatCompletionStreamingRunner<ParsedT = null> extends ChatCompletionStream<ParsedT> {
  /** Read a runner's `toReadableStream()` (chunks and tool messages). */
  static override fromReadableStream(
    stream: ReadableStream<Uint8Array>,
  ): ChatCompletionStreamingRunner<null> {
    const runner = new ChatCompletionStreamingRunner(null);
    runner._run(() => runner._fromReadableStream(stream));
    return runner;
  }

  /** Run the tool loop with streamed completions; listeners added right after this call see every event. */
  static runTools<ParsedT = null>(
    completions: ChatCompletionsCreate,
    params: ChatCompletionStreamingToolRunnerParams,
    options?: RunnerOptions,
  ): ChatCompletionStreamingRunner<ParsedT> {
    const runner = new ChatCompletionStreamingRunner<ParsedT>(
      params as unknown as ChatCompletionCreateParamsBase,
    );
    runner._run(() => runner._runTools(completions, params as never, runner, options));
    return runner;
  }

  /** The chunks and the tool messages, as JSON lines (tool messages as empty chunks carrying them). */
  override toReadableStream(): ReadableStream<Uint8Array> {
    const pushQueue: ChatCompletionChunk[] = [];
    const readQueue: {
      resolve: (c: ChatCompletionChunk | undefined) => void;
      reject: (e: unknown) => void;
    }[] = [];
    let done = false;
    let lastChunk: ChatCompletionChunk | undefined;
    let toolCallIds: (string | undefined)[] | undefined;
    const push = (event: ChatCompletionChunk) => {
      const reader = readQueue.shift();
      if (reader) reader.resolve(event);
      else pushQueue.push(event);
    };
    this.on('chunk', (chunk) => {
      lastChunk = chunk;
      push(chunk);
    });
    this.on('message', (message) => {
      if (message.role === 'assistant') {
        toolCallIds = (message.tool_calls as { id?: string }[] | undefined)?.map((c) => c.id);
        return;
      }
      if (message.role === 'tool') {
        if (!lastChunk) throw new AiwireError('cannot serialize a tool message before receiving any chunks');
        push(messageChunk(lastChunk, message, toolCallIds));
      }
    });
    const finish = (err?: unknown) => {
      done = true;
      for (const reader of readQueue) {
        if (err === undefined) reader.resolve(undefined);
        else reader.reject(err);
      }
      readQueue.length = 0;
    };
    this.on('end', () => finish());
    this.on('abort', (err) => finish(err));
    this.on('error', (err) => finish(err));
    const iterator = (): AsyncIterator<ChatCompletionChunk> => ({
      next: async () => {
        if (!pushQueue.length) {
          if (done) return { value: undefined, done: true };
          const event = await new Promise<ChatCompletionChunk | undefined>((resolve, reject) =>
            readQueue.push({ resolve, reject }),
          );
          return event ? { value: event, done: false } : { value: undefined, done: true };
        }
        return { value: pushQueue.shift() as ChatCompletionChunk, done: false };
      },
      return: async () => {
        this.abort();
        return { value: undefined, done: true };
      },
    });
    return new Stream(iterator, this.controller).toReadableStream();
  }
}
