/**
 * The event and promise plumbing of a `MessageStream` (see `message-stream.ts`): listeners
 * (`on/off/once/emitted`), emitting with the SDK's end/error rules, the `connect` and end promises,
 * the raw-event iterator behind `for await`, and abort handling (a DOM `AbortError` or the request's
 * `signal` reported as `APIUserAbortError` and the `abort` event; other errors wrapped in
 * `AnthropicError`).
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type { EmittedValue, MessageStreamEvents, MessageStreamTypes } from './message-stream-types.js';

/** A registered listener. */
type Listener = { fn: (...args: never[]) => void; once: boolean };

/** A DOM-style abort (`AbortError`), reported as `APIUserAbortError` as the SDK does. */
function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/**
 * Make an abort of the request's `signal` abort `controller` too (at once if it already is);
 * returns the function that stops following it.
 */
export function followSignal(
  signal: AbortSignal | null | undefined,
  controller: AbortController,
): () => void {
  const onAbort = () => controller.abort();
  if (signal) {
    if (signal.aborted) controller.abort();
    signal.addEventListener('abort', onAbort);
  }
  return () => {
    if (signal) signal.removeEventListener('abort', onAbort);
  };
}

/** The listeners, state flags and promises of one stream. */
export class StreamEvents<T extends MessageStreamTypes, ParsedT = null> {
  #listeners: { [event: string]: Listener[] | undefined } = {};
  /** `for await` consumers (the SDK's internal `_rawEvent`). */
  #rawListeners: ((event: T['event']) => void)[] = [];
  #ended = false;
  #errored = false;
  #aborted = false;
  /** Set once a promise-returning method was called: an error then is not an unhandled rejection. */
  catching = false;
  /** Resolves with the response (null for `fromReadableStream`) at `connect`; rejects with the stream's error. */
  readonly connected: Promise<Response | null>;
  #resolveConnected: (r: Response | null) => void = () => {};
  #rejectConnected: (e: unknown) => void = () => {};
  /** Resolves at `end`; rejects with the stream's error (or `APIUserAbortError`). */
  readonly finished: Promise<void>;
  #resolveEnd: () => void = () => {};
  #rejectEnd: (e: unknown) => void = () => {};

  constructor() {
    this.connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.finished = new Promise((resolve, reject) => {
      this.#resolveEnd = resolve;
      this.#rejectEnd = reject;
    });
    // Rejections surface through `error` listeners or the promise-returning methods (see emit).
    this.connected.catch(() => {});
    this.finished.catch(() => {});
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

  /** True when `event` has a listener. */
  listens(event: keyof MessageStreamEvents<T, ParsedT>): boolean {
    return !!this.#listeners[event]?.length;
  }

  /** Add a listener (no de-duplication). */
  on<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): void {
    this.#add(event, listener as Listener['fn'], false);
  }

  /** Remove one registration of a listener. */
  off<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): void {
    const list = this.#listeners[event];
    if (!list) return;
    const i = list.findIndex((l) => l.fn === listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Add a listener called at most once. */
  once<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
    listener: MessageStreamEvents<T, ParsedT>[K],
  ): void {
    this.#add(event, listener as Listener['fn'], true);
  }

  #add(event: string, fn: Listener['fn'], once: boolean): void {
    const list = this.#listeners[event] ?? [];
    this.#listeners[event] = list;
    list.push({ fn, once });
  }

  /**
   * The next emission of `event` (its one argument, or the arguments as a tuple); rejects if the
   * stream errors first (for `'error'`, resolves with the error).
   */
  emitted<K extends keyof MessageStreamEvents<T, ParsedT>>(
    event: K,
  ): Promise<EmittedValue<MessageStreamEvents<T, ParsedT>[K]>> {
    return new Promise((resolve, reject) => {
      this.catching = true;
      if (event !== 'error') this.once('error', reject);
      const listener = (...args: unknown[]) => resolve((args.length > 1 ? args : args[0]) as never);
      this.once(event, listener as MessageStreamEvents<T, ParsedT>[K]);
    });
  }

  /** The stream failed: `abort` for an abort, else `error` (wrapping what is not an `AiwireError`). */
  handleError = (error: unknown): void => {
    this.#errored = true;
    let err = error;
    if (isAbortError(err)) err = new APIUserAbortError();
    if (err instanceof APIUserAbortError) {
      this.#aborted = true;
      this.emit('abort', err);
      return;
    }
    if (err instanceof AiwireError) {
      this.emit('error', err);
      return;
    }
    const wrapped = new AiwireError(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) (wrapped as { cause?: unknown }).cause = err;
    this.emit('error', wrapped);
  };

  /** Call the listeners of `event` (nothing after `end`); `abort` and `error` settle the promises and end. */
  emit<K extends keyof MessageStreamEvents<T, ParsedT>>(
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
      if (!this.catching && !list?.length) void Promise.reject(err);
      this.#rejectConnected(err);
      this.#rejectEnd(err);
      this.emit('end');
    }
  }

  /** The response head is in: resolve `connected`, emit `connect`. */
  connect(response: Response | null): void {
    this.#resolveConnected(response);
    this.emit('connect');
  }

  /** Hand a raw event to the `for await` consumers. */
  emitRaw(event: T['event']): void {
    for (const raw of this.#rawListeners) raw(event);
  }

  /** The raw events (`message_start` … `message_stop`); `onReturn` runs when the loop is left early. */
  iterate(onReturn: () => void): AsyncIterator<T['event']> {
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
        onReturn();
        return { value: undefined, done: true };
      },
    };
  }
}
