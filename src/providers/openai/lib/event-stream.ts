/**
 * `EventStream`: the listener and promise plumbing shared by OpenAI's stream helpers and runners
 * (`ChatCompletionStream`, the tool runners, `ResponseStream`, `AssistantStream`), with openai-node's
 * surface and rules (v6, `lib/EventStream`): `on/off/once`, `emitted(event)`, `events(event)` as an
 * async iterator, `done()`, `abort()`, `controller`, `ended/errored/aborted`, and the base events
 * `connect`, `error`, `abort`, `end`. The work starts on a timer after construction, so listeners
 * added right after `stream()` / `runTools()` returns see every event.
 *
 * Rules (as openai-node): nothing is emitted after `end`; an abort (the `controller`, the request's
 * `signal`, or a DOM `AbortError`) is reported as `APIUserAbortError` through `abort`, any other
 * failure through `error` (what is not an `AiwireError` is wrapped in one, with `cause`); both are
 * followed by `end`. When an error happens and nobody listens to it and no promise-returning method
 * (`done()`, `emitted()`, `final…()`) was called, it surfaces as an unhandled rejection.
 * Written for aiwire from openai-node's documented behaviour; never imports it.
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import { decodeJSONL } from '../../../core/jsonl.js';
import { Stream } from '../../../core/streaming.js';

/** The events every stream helper emits. */
export interface BaseEvents {
  /** The response head arrived. */
  connect: () => void;
  /** The stream failed (not by abort); `end` follows. */
  error: (error: AiwireError) => void;
  /** The stream was aborted; `end` follows. */
  abort: (error: APIUserAbortError) => void;
  /** The stream is over (always the last event). */
  end: () => void;
}

/** A listener map: event name → listener signature (an interface of methods). */
export type EventMap = object;

/** A listener's arguments. */
export type ListenerArgs<L> = L extends (...args: infer A) => unknown ? A : never;

// biome-ignore lint/suspicious/noExplicitAny: listener signatures vary per event
type AnyFn = (...args: any[]) => void;
type Listener = { fn: AnyFn; once: boolean };

/** What `emitted(event)` resolves with: the one argument, nothing, or the arguments as a tuple. */
export type EmittedValue<F> = F extends (...args: infer P) => unknown
  ? P extends [infer One]
    ? One
    : P extends []
      ? undefined
      : P
  : never;

/** Listener/promise machinery of a stream helper; `Events` maps event names to listener types. */
export class EventStream<Events extends EventMap> {
  /** Aborting it stops the stream (as `abort()`). */
  controller: AbortController = new AbortController();

  #listeners: { [event: string]: Listener[] | undefined } = {};
  #abortCleanups: (() => void)[] = [];
  #ended = false;
  #errored = false;
  #aborted = false;
  #catching = false;
  #connected: Promise<void>;
  #resolveConnected: () => void = () => {};
  #rejectConnected: (e: unknown) => void = () => {};
  #finished: Promise<void>;
  #resolveEnd: () => void = () => {};
  #rejectEnd: (e: unknown) => void = () => {};

  constructor() {
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#finished = new Promise((resolve, reject) => {
      this.#resolveEnd = resolve;
      this.#rejectEnd = reject;
    });
    // Rejections surface through `error`/`abort` listeners or the promise-returning methods.
    this.#connected.catch(() => {});
    this.#finished.catch(() => {});
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

  /** Stop the stream: the connection is closed, then `abort` and `end` are emitted. */
  abort(): void {
    this.controller.abort();
  }

  /** Add a listener (no de-duplication). */
  on<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#add(event, { fn: listener as AnyFn, once: false });
    return this;
  }

  /** Remove one registration of a listener. */
  off<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    const list = this.#listeners[event];
    if (!list) return this;
    const i = list.findIndex((l) => l.fn === listener);
    if (i >= 0) this.#listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)];
    return this;
  }

  /** Add a listener called at most once. */
  once<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#add(event, { fn: listener as AnyFn, once: true });
    return this;
  }

  // Listener arrays are never changed in place (a new array per on/off/once), so an emit iterates
  // the listeners it started with and copies nothing when no `once` listener is among them.
  #add(event: string, listener: Listener): void {
    const list = this.#listeners[event];
    this.#listeners[event] = list ? [...list, listener] : [listener];
  }

  /**
   * The next emission of `event` (its one argument, or the arguments as a tuple); rejects if the
   * stream fails first (for `'error'`, resolves with the error).
   */
  emitted<K extends keyof Events & string>(event: K): Promise<EmittedValue<Events[K]>> {
    return new Promise((resolve, reject) => {
      this.#catching = true;
      if (event !== 'error') this.once('error' as K, reject as unknown as Events[K]);
      const fn = (...args: unknown[]) => resolve((args.length > 1 ? args : args[0]) as never);
      this.once(event, fn as Events[K]);
    });
  }
  /**
   * Every later emission of `event` as an async iterator of argument tuples; it ends with the stream
   * and rejects once with the stream's error or abort (unless `event` is `'error'` / `'abort'`).
   */
  events<K extends keyof Events & string>(event: K): AsyncIterableIterator<ListenerArgs<Events[K]>> {
    type Args = ListenerArgs<Events[K]>;
    const pushQueue: Args[] = [];
    const readQueue: { resolve: (r: IteratorResult<Args>) => void; reject: (e: unknown) => void }[] = [];
    let ended = this.#ended;
    let failure: unknown;
    let failureDelivered = false;
    const doneResult = (): IteratorResult<Args> => ({ value: undefined, done: true });
    const finishReaders = () => {
      while (readQueue.length) readQueue.shift()?.resolve(doneResult());
    };
    const rejectReader = () => {
      if (!failure || failureDelivered || !readQueue.length) return;
      failureDelivered = true;
      readQueue.shift()?.reject(failure);
    };
    const onEvent = ((...args: unknown[]) => {
      if (ended) return;
      const reader = readQueue.shift();
      if (reader) reader.resolve({ value: args as Args, done: false });
      else pushQueue.push(args as Args);
    }) as unknown as Events[K];
    const onFailure = ((error: unknown) => {
      failure = error;
      if (!pushQueue.length) rejectReader();
    }) as unknown as Events[K];
    const onEnd = (() => {
      ended = true;
      cleanup();
      if (!pushQueue.length) {
        rejectReader();
        finishReaders();
      }
    }) as unknown as Events[K];
    const cleanup = () => {
      this.off(event, onEvent);
      this.off('end' as K, onEnd);
      if (event !== 'error') this.off('error' as K, onFailure);
      if (event !== 'abort') this.off('abort' as K, onFailure);
    };
    if (!ended) {
      this.on(event, onEvent);
      this.on('end' as K, onEnd);
      if (event !== 'error') this.on('error' as K, onFailure);
      if (event !== 'abort') this.on('abort' as K, onFailure);
    }
    return {
      next: () => {
        const value = pushQueue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (failure && !failureDelivered) {
          failureDelivered = true;
          return Promise.reject(failure);
        }
        if (ended) return Promise.resolve(doneResult());
        return new Promise((resolve, reject) => readQueue.push({ resolve, reject }));
      },
      return: () => {
        ended = true;
        pushQueue.length = 0;
        cleanup();
        finishReaders();
        return Promise.resolve(doneResult());
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Resolves when the stream ended; rejects with its error (or `APIUserAbortError`). */
  async done(): Promise<void> {
    this.#catching = true;
    await this.#finished;
  }

  /** @internal Mark that a promise-returning method was called (errors are then not unhandled). */
  protected _catching(): void {
    this.#catching = true;
  }

  /**
   * @internal Run `executor` on a later tick (listeners added right after the constructor see
   * everything); its success runs `_emitFinal()` then emits `end`, its failure goes to `error`/`abort`.
   */
  protected _run(executor: () => Promise<unknown>): void {
    setTimeout(() => {
      Promise.resolve()
        .then(executor)
        .then(() => {
          try {
            this._emitFinal();
          } catch (err) {
            this._handleError(err);
            return;
          }
          this._emit('end');
        }, this._handleError);
    }, 0);
  }

  /** @internal True when `event` has a listener (payloads nobody receives need not be built). */
  protected _listens(event: string): boolean {
    return !!this.#listeners[event]?.length;
  }

  /** @internal Called after a successful run, before `end` (subclasses emit their final events). */
  protected _emitFinal(): void {}

  /** @internal The response head is in: resolve the connected promise, emit `connect`. */
  protected _connected(): void {
    if (this.#ended) return;
    this.#resolveConnected();
    this._emit('connect');
  }

  /** @internal Make an abort of `signal` abort this stream's `controller` (until `end`). */
  protected _listenForAbort(signal: AbortSignal | null | undefined): void {
    if (!signal || this.#ended) return;
    if (signal.aborted) {
      this.controller.abort();
      return;
    }
    const onAbort = () => this.controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#abortCleanups.push(() => signal.removeEventListener('abort', onAbort));
  }

  /** @internal A failure: an abort becomes `abort`, anything else `error` (wrapped in `AiwireError`). */
  protected _handleError = (error: unknown): void => {
    this.#errored = true;
    let err = error;
    if (err instanceof Error && err.name === 'AbortError') err = new APIUserAbortError();
    if (err instanceof APIUserAbortError) {
      this.#aborted = true;
      this._emit('abort', err);
      return;
    }
    if (err instanceof AiwireError) {
      this._emit('error', err);
      return;
    }
    const wrapped = new AiwireError(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) (wrapped as { cause?: unknown }).cause = err;
    this._emit('error', wrapped);
  };

  /** @internal Call the listeners of `event` (nothing after `end`); `abort`/`error` settle and end. */
  protected _emit(event: string, ...args: unknown[]): void {
    if (this.#ended) return;
    if (event === 'end') {
      for (const cleanup of this.#abortCleanups.splice(0)) cleanup();
      this.#ended = true;
      this.#resolveEnd();
    }
    const list = this.#listeners[event];
    if (list) {
      if (list.some((l) => l.once)) this.#listeners[event] = list.filter((l) => !l.once);
      for (const l of list) l.fn(...args);
    }
    if (event === 'abort' || event === 'error') {
      const err = args[0];
      // Nobody listens and no promise method was called: surface it as an unhandled rejection.
      if (!this.#catching && !list?.length) void Promise.reject(err);
      this.#rejectConnected(err);
      this.#rejectEnd(err);
      this._emit('end');
    }
  }

  /**
   * @internal An iterator over the values `subscribe` pushes (the raw events of `for await`): ends at
   * `end`, rejects a waiting `next()` on `error`/`abort`; `return()` (leaving the loop) aborts.
   */
  protected _iterate<T>(subscribe: (push: (value: T) => void) => void): AsyncIterator<T> {
    const pending: T[] = [];
    const waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
    let done = false;
    subscribe((value) => {
      const reader = waiting.shift();
      if (reader) reader.resolve({ value, done: false });
      else pending.push(value);
    });
    const finish = (err?: unknown) => {
      done = true;
      for (const reader of waiting.splice(0)) {
        if (err === undefined) reader.resolve({ value: undefined, done: true });
        else reader.reject(err);
      }
    };
    type K = keyof Events & string;
    this.on('end' as K, (() => finish()) as unknown as Events[K]);
    this.on('abort' as K, ((err: unknown) => finish(err)) as unknown as Events[K]);
    this.on('error' as K, ((err: unknown) => finish(err)) as unknown as Events[K]);
    return {
      next: async () => {
        if (pending.length > 0) return { value: pending.shift() as T, done: false };
        if (done) return { value: undefined, done: true };
        return new Promise<IteratorResult<T>>((resolve, reject) => waiting.push({ resolve, reject }));
      },
      return: async () => {
        this.abort();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * @internal Read the JSON lines of `body` (a `toReadableStream()` output), handing each value to
   * `onValue`; emits `connect` first. Aborting the stream cancels the body.
   * @throws (rejects) APIUserAbortError when aborted; JSONLDecodeError for a line that is not JSON.
   */
  protected async _readJSONL<T>(
    body: ReadableStream<Uint8Array>,
    onValue: (value: T) => void,
  ): Promise<void> {
    this._connected();
    const iterator = decodeJSONL<T>(new Response(body), this.controller.signal)[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (this.controller.signal.aborted) break;
        const { value, done } = await iterator.next();
        if (done || this.controller.signal.aborted) break;
        onValue(value);
      }
    } finally {
      await iterator.return?.();
    }
    if (this.controller.signal.aborted) throw new APIUserAbortError();
  }

  /**
   * @internal The values `iterate()` yields as a `ReadableStream` of JSON lines (what
   * `fromReadableStream` reads back, e.g. on the other side of an HTTP response).
   */
  protected _toReadableStream<T>(iterate: () => AsyncIterator<T>): ReadableStream<Uint8Array> {
    return new Stream<T>(iterate, this.controller).toReadableStream();
  }
}
