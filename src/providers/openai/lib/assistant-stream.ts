/**
 * `AssistantStream`: what `beta.threads.runs.stream()`, `beta.threads.runs.submitToolOutputsStream()`
 * and `beta.threads.createAndRunStream()` return, with openai-node's surface (v6, `lib/AssistantStream`):
 * the Assistants streaming events (https://platform.openai.com/docs/api-reference/assistants-streaming)
 * as `{ event, data }` (`for await`, and the `event` listener), and the derived events `messageCreated`,
 * `messageDelta`, `messageDone`, `textCreated`, `textDelta`, `textDone`, `imageFileDone`,
 * `toolCallCreated`, `toolCallDelta`, `toolCallDone`, `runStepCreated`, `runStepDelta`, `runStepDone`,
 * plus `connect`, `error`, `abort`, `end`; `finalRun()`, `finalMessages()`, `finalRunSteps()`,
 * `currentRun()`, `currentEvent()`, `currentMessageSnapshot()`, `currentRunStepSnapshot()`.
 *
 * Accumulation follows openai-node: a message's snapshot is the `thread.message.created` data with
 * each delta merged in (`accumulateDelta`: strings and numbers concatenated/added, objects merged,
 * arrays of objects merged by their `index`), and stays the snapshot after `completed`; a run step's
 * snapshot is replaced by each non-delta event's data. An in-stream `error` event rejects as a typed
 * `APIError`. `toReadableStream()` / `fromReadableStream()` relay a stream as JSON lines.
 * Written for aiwire; `__test__/openai-assistant-stream.test.ts` compares every listener call with
 * openai-node's on the same recorded streams.
 */
import type { BaseClient, RequestOptions } from '../../../core/client.js';
import { AiwireError, APIError, APIUserAbortError } from '../../../core/errors.js';
import { path } from '../../../core/resource.js';
import type { Stream, StreamDecoder } from '../../../core/streaming.js';
import type * as S from '../generated/schemas.js';
import { type BaseEvents, EventStream } from './event-stream.js';

/** One Assistants streaming event: `{ event: 'thread.run.created', data: Run }`, … */
export type AssistantStreamEvent = S.AssistantStreamEvent;
type Run = S.RunObject;
type Message = S.MessageObject;
type RunStep = S.RunStepObject;
// biome-ignore lint/suspicious/noExplicitAny: deltas and snapshots are merged field by field
type Obj = Record<string, any>;

/** The listeners of an `AssistantStream` (openai-node's names and arguments). */
export interface AssistantStreamEvents extends BaseEvents {
  messageCreated: (message: Message) => void;
  messageDelta: (delta: S.MessageDeltaObject['delta'], snapshot: Message) => void;
  messageDone: (message: Message) => void;
  runStepCreated: (runStep: RunStep) => void;
  runStepDelta: (delta: S.RunStepDeltaObject['delta'], snapshot: RunStep) => void;
  runStepDone: (runStep: RunStep, snapshot: RunStep) => void;
  toolCallCreated: (toolCall: Obj) => void;
  toolCallDelta: (delta: Obj, snapshot: Obj) => void;
  toolCallDone: (toolCall: Obj) => void;
  textCreated: (content: Obj) => void;
  textDelta: (delta: Obj, snapshot: Obj) => void;
  textDone: (content: Obj, snapshot: Message) => void;
  imageFileDone: (content: Obj, snapshot: Message) => void;
  /** Every event as received, before the events derived from it. */
  event: (event: AssistantStreamEvent) => void;
}

/**
 * The OpenAI stream decoder for Assistants streams: `thread.*` events become `{ event, data }` (as
 * openai-node's `Stream`); `event: error` throws `APIError`; other events (without `thread.`) pass
 * through as data; `[DONE]` (the `done` event) ends the stream.
 */
export const assistantStreamDecoder: StreamDecoder<AssistantStreamEvent> = {
  mode: 'json',
  done: '[DONE]',
  decode(value: unknown, eventType: string) {
    if (eventType === 'error') {
      const v = value as { error?: object; message?: string } | null;
      throw new APIError(undefined, v?.error ?? (value as object), v?.message, undefined);
    }
    if (eventType.startsWith('thread.')) return { event: eventType, data: value } as AssistantStreamEvent;
    const error = (value as { error?: object } | null)?.error;
    if (error) throw new APIError(undefined, error, undefined, undefined);
    return value as AssistantStreamEvent;
  },
};

const RUN_FINAL = new Set([
  'thread.run.requires_action',
  'thread.run.cancelled',
  'thread.run.failed',
  'thread.run.completed',
  'thread.run.expired',
  'thread.run.incomplete',
]);
const STEP_DONE = new Set([
  'thread.run.step.completed',
  'thread.run.step.failed',
  'thread.run.step.cancelled',
  'thread.run.step.expired',
]);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merge `delta` into `acc` (in place; returns `acc`): new keys are set; `index`/`type` replaced;
 * strings concatenated; numbers added; objects merged; arrays of strings/numbers appended; arrays
 * of objects merged by each entry's `index`.
 * @throws AiwireError for values that cannot be merged (e.g. an array entry without a numeric `index`).
 */
export function accumulateDelta(acc: Obj, delta: Obj): Obj {
  for (const [key, d] of Object.entries(delta)) {
    const a = acc[key];
    if (!Object.hasOwn(acc, key) || a === null || a === undefined || key === 'index' || key === 'type') {
      acc[key] = d;
    } else if (typeof a === 'string' && typeof d === 'string') {
      acc[key] = a + d;
    } else if (typeof a === 'number' && typeof d === 'number') {
      acc[key] = a + d;
    } else if (isObj(a) && isObj(d)) {
      acc[key] = accumulateDelta(a, d);
    } else if (Array.isArray(a) && Array.isArray(d)) {
      if (a.every((x) => typeof x === 'string' || typeof x === 'number')) {
        a.push(...d);
        continue;
      }
      for (const entry of d) {
        if (!isObj(entry))
          throw new AiwireError(`Expected array delta entry to be an object but got: ${entry}`);
        const index = entry.index;
        if (typeof index !== 'number') {
          throw new AiwireError(
            `Expected array delta entry \`index\` property to be a number but got ${index}`,
          );
        }
        a[index] = a[index] == null ? entry : accumulateDelta(a[index], entry);
      }
    } else {
      throw new AiwireError(`Unhandled record type: ${key}, deltaValue: ${d}, accValue: ${a}`);
    }
  }
  return acc;
}

/** The stream of the Assistants streaming helpers. */
export class AssistantStream
  extends EventStream<AssistantStreamEvents>
  implements AsyncIterable<AssistantStreamEvent>
{
  #runSteps: { [id: string]: RunStep } = {};
  #messages: { [id: string]: Message } = {};
  #message: Message | undefined;
  #finalRun: Run | undefined;
  #contentIndex: number | undefined;
  #content: Obj | undefined;
  #toolCallIndex: number | undefined;
  #toolCall: Obj | undefined;
  #event: AssistantStreamEvent | undefined;
  #run: Run | undefined;
  #runStep: RunStep | undefined;

  /** @internal Stream `body` from `POST path` (adds `stream: true` and the assistants beta header). */
  static _create(
    client: BaseClient,
    requestPath: string,
    body: Obj,
    query: object | undefined,
    options: RequestOptions | undefined,
  ): AssistantStream {
    const runner = new AssistantStream();
    runner._run(async () => {
      runner._listenForAbort(options?.signal);
      const stream: Stream<AssistantStreamEvent> = await client.streamWith(
        {
          ...options,
          method: 'post',
          path: requestPath,
          body: { ...body, stream: true },
          ...(query ? { query } : {}),
          headers: { 'OpenAI-Beta': 'assistants=v2', ...options?.headers },
          signal: runner.controller.signal,
        },
        assistantStreamDecoder,
      );
      runner._connected();
      for await (const event of stream) runner.#addEvent(event);
      if (runner.controller.signal.aborted) throw new APIUserAbortError();
      runner.#checkEnd();
    });
    return runner;
  }

  /** `beta.threads.runs.stream(threadID, params, options)`: `POST /threads/{thread_id}/runs`. */
  static createAssistantStream(
    client: BaseClient,
    threadID: string,
    params: Obj,
    options?: RequestOptions,
  ): AssistantStream {
    const { 'include[]': include, ...body } = params;
    const query = include === undefined ? undefined : { 'include[]': include };
    return AssistantStream._create(client, path`/threads/${threadID}/runs`, body, query, options);
  }

  /** `beta.threads.runs.submitToolOutputsStream(runID, params, options)`. */
  static createToolAssistantStream(
    client: BaseClient,
    runID: string,
    params: Obj & { thread_id: string },
    options?: RequestOptions,
  ): AssistantStream {
    const { thread_id, ...body } = params;
    const p = path`/threads/${thread_id}/runs/${runID}/submit_tool_outputs`;
    return AssistantStream._create(client, p, body, undefined, options);
  }

  /** `beta.threads.createAndRunStream(body, options)`: `POST /threads/runs`. */
  static createThreadAssistantStream(
    client: BaseClient,
    body: Obj,
    options?: RequestOptions,
  ): AssistantStream {
    return AssistantStream._create(client, '/threads/runs', body, undefined, options);
  }

  /** Read a stream sent by `toReadableStream()` (JSON lines of `{ event, data }`), as openai-node's. */
  static fromReadableStream(stream: ReadableStream<Uint8Array>): AssistantStream {
    const runner = new AssistantStream();
    runner._run(async () => {
      await runner._readJSONL<AssistantStreamEvent>(stream, (event) => runner.#addEvent(event));
      runner.#checkEnd();
    });
    return runner;
  }

  /** The events as a `ReadableStream` of JSON lines (read back with `fromReadableStream`). */
  toReadableStream(): ReadableStream<Uint8Array> {
    return this._toReadableStream(() => this[Symbol.asyncIterator]());
  }

  #checkEnd(): void {
    if (this.ended) throw new AiwireError("stream has ended, this shouldn't happen");
    if (!this.#finalRun) throw new Error('Final run has not been received');
  }

  /** The last event received. */
  currentEvent(): AssistantStreamEvent | undefined {
    return this.#event;
  }

  /** The run as of the last run event. */
  currentRun(): Run | undefined {
    return this.#run;
  }

  /** The message being received (undefined between messages). */
  currentMessageSnapshot(): Message | undefined {
    return this.#message;
  }

  /** The run step being received (undefined after it is done). */
  currentRunStepSnapshot(): RunStep | undefined {
    return this.#runStep;
  }

  /** The run steps of the stream (snapshots, by id in creation order). @throws (rejects) the stream's error. */
  async finalRunSteps(): Promise<RunStep[]> {
    await this.done();
    return Object.values(this.#runSteps);
  }

  /** The messages of the stream (accumulated snapshots). @throws (rejects) the stream's error. */
  async finalMessages(): Promise<Message[]> {
    await this.done();
    return Object.values(this.#messages);
  }

  /**
   * The run of the last terminal run event (`requires_action`, `completed`, `failed`, …).
   * @throws (rejects) the stream's error, or `Error` when no such event arrived.
   */
  async finalRun(): Promise<Run> {
    await this.done();
    if (!this.#finalRun) throw Error('Final run was not received.');
    return this.#finalRun;
  }

  /** The events (each a copy); leaving the loop early aborts the stream. */
  [Symbol.asyncIterator](): AsyncIterator<AssistantStreamEvent> {
    return this._iterate<AssistantStreamEvent>((push) => this.on('event', (e) => push(structuredClone(e))));
  }

  #addEvent(event: AssistantStreamEvent): void {
    if (this.ended) return;
    this.#event = event;
    this._emit('event', event);
    const name = (event as { event: string }).event;
    const data = (event as { data: Obj }).data;
    if (name.startsWith('thread.run.step.')) this.#handleRunStep(name, data);
    else if (name.startsWith('thread.run.')) this.#handleRun(name, data as Run);
    else if (name.startsWith('thread.message.')) this.#handleMessage(name, data);
  }

  #handleRun(name: string, run: Run): void {
    this.#run = run;
    if (!RUN_FINAL.has(name)) return;
    this.#finalRun = run;
    if (this.#toolCall) {
      this._emit('toolCallDone', this.#toolCall);
      this.#toolCall = undefined;
    }
  }

  #handleRunStep(name: string, data: Obj): void {
    let snapshot: RunStep;
    if (name === 'thread.run.step.created') {
      this.#runSteps[data.id] = data as RunStep;
      snapshot = data as RunStep;
    } else if (name === 'thread.run.step.delta') {
      const current = this.#runSteps[data.id];
      if (!current) throw new AiwireError('Received a RunStepDelta before creation of a snapshot');
      if (data.delta) this.#runSteps[data.id] = accumulateDelta(current, data.delta) as RunStep;
      snapshot = this.#runSteps[data.id] as RunStep;
    } else {
      this.#runSteps[data.id] = data as RunStep;
      snapshot = data as RunStep;
    }
    this.#runStep = snapshot;
    if (name === 'thread.run.step.created') {
      this._emit('runStepCreated', data);
    } else if (name === 'thread.run.step.delta') {
      const details = (data.delta as Obj).step_details as Obj | undefined;
      const snapDetails = (snapshot as Obj).step_details as Obj;
      if (details?.type === 'tool_calls' && details.tool_calls && snapDetails.type === 'tool_calls') {
        for (const call of details.tool_calls as Obj[]) {
          if (call.index === this.#toolCallIndex) {
            this._emit('toolCallDelta', call, snapDetails.tool_calls[call.index]);
          } else {
            if (this.#toolCall) this._emit('toolCallDone', this.#toolCall);
            this.#toolCallIndex = call.index;
            this.#toolCall = snapDetails.tool_calls[call.index];
            if (this.#toolCall) this._emit('toolCallCreated', this.#toolCall);
          }
        }
      }
      this._emit('runStepDelta', data.delta, snapshot);
    } else if (STEP_DONE.has(name)) {
      this.#runStep = undefined;
      if ((data.step_details as Obj).type === 'tool_calls' && this.#toolCall) {
        this._emit('toolCallDone', this.#toolCall);
        this.#toolCall = undefined;
      }
      this._emit('runStepDone', data, snapshot);
    }
  }

  #handleMessage(name: string, data: Obj): void {
    const added: Obj[] = [];
    let snapshot = this.#message;
    if (name === 'thread.message.created') snapshot = data as Message;
    else if (!snapshot) {
      throw new AiwireError(
        name === 'thread.message.delta'
          ? 'Received a delta with no existing snapshot (there should be one from message creation)'
          : 'Received thread message event with no existing snapshot',
      );
    } else if (name === 'thread.message.delta') {
      const content = (snapshot as Obj).content as Obj[];
      for (const part of ((data.delta as Obj).content ?? []) as Obj[]) {
        if (part.index in content) content[part.index] = accumulateDelta(content[part.index] as Obj, part);
        else {
          content[part.index] = part;
          added.push(part);
        }
      }
    }
    this.#message = snapshot;
    this.#messages[(snapshot as Message).id] = snapshot as Message;
    const content = (snapshot as Obj).content as Obj[];
    for (const part of added) {
      const created = content[part.index];
      if (created?.type === 'text') this._emit('textCreated', created.text);
    }
    if (name === 'thread.message.created') {
      this._emit('messageCreated', data);
    } else if (name === 'thread.message.delta') {
      this._emit('messageDelta', data.delta, snapshot);
      for (const part of ((data.delta as Obj).content ?? []) as Obj[]) {
        if (part.type === 'text' && part.text) {
          const current = content[part.index];
          if (current?.type !== 'text') {
            throw new AiwireError('The snapshot associated with this text delta is not text or missing');
          }
          this._emit('textDelta', part.text, current.text);
        }
        if (part.index !== this.#contentIndex) {
          this.#emitContentDone(this.#content);
          this.#contentIndex = part.index;
        }
        this.#content = content[part.index];
      }
    } else if (name === 'thread.message.completed' || name === 'thread.message.incomplete') {
      if (this.#contentIndex !== undefined)
        this.#emitContentDone((data.content as Obj[])[this.#contentIndex]);
      if (this.#message) this._emit('messageDone', data);
      this.#message = undefined;
    }
  }

  #emitContentDone(part: Obj | undefined): void {
    if (part?.type === 'text') this._emit('textDone', part.text, this.#message);
    else if (part?.type === 'image_file') this._emit('imageFileDone', part.image_file, this.#message);
  }
}
