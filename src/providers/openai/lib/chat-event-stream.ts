/**
 * `EventStream`: the listener and promise plumbing shared by `ChatCompletionStream` and the tool
 * runners, with openai-node's rules: `on/off/once/emitted`, `events(name)` as an async iterator,
 * `done()`, `abort()` / `controller`, nothing emitted after `end`; a failure emits `abort` (an abort:
 * `APIUserAbortError`) or `error` (anything else, wrapped in `OpenAIError` when it is not an aiwire
 * error), then `end`; an error nobody listens to and no promise method awaits surfaces as an
 * unhandled rejection. The work starts on a timer after construction, so listeners added right after
 * `stream()` / `runTools()` returns see every event.
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';

/** A listener map: event name → listener signature (an interface of methods). */
export type EventMap = object;

/** A listener's arguments. */
export type ListenerArgs<L> = L extends (...args: infer A) => unknown ? A : never;

/** What `emitted(event)` resolves to: the listener's one argument, or its arguments as a tuple. */
export type EmittedValue<L> = L extends (...args: infer A) => unknown
  ? A extends []
    ? undefined
    : A extends [infer One]
      ? One
      : A
  : never;

type Listener = { fn: (...args: unknown[]) => void; once: boolean };

/** The listeners, flags and promises of one stream or runner; subclasses call `_run` and `_emit`. */
export class EventStream<Events extends EventMap> {
  /** Aborting it stops the work (as `abort()`). */
  controller: AbortController = new AbortController();

  #listeners: { [event: string]: Listener[] | undefined } = {};
  #abortListeners: { signal: AbortSignal; listener: () => void }[] = [];
  #ended = false;
  #errored = false;
  #aborted = false;
  #catching = false;
  #connected: Promise<void>;
  #resolveConnected: () => void = () => {};
  #rejectConnected: (e: unknown) => void = () => {};
  #end: Promise<void>;
  #resolveEnd: () => void = () => {};
  #rejectEnd: (e: unknown) => void = () => {};

  constructor() {
    this.#connected = new Promise((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#end = new Promise((resolve, reject) => {
      this.#resolveEnd = resolve;
      this.#rejectEnd = reject;
    });
    // Rejections surface through `error` listeners or the promise methods (see _emit).
    this.#connected.catch(() => {});
    this.#end.catch(() => {});
  }

  /** @internal Run `executor` on the next timer tick; then the final events and `end`, or the failure. */
  protected _run(executor: () => Promise<unknown>): void {
    setTimeout(() => {
      Promise.resolve()
        .then(executor)
        .then(() => {
          try {
            this._emitFinal();
          } catch (error) {
            this.#handleError(error);
            return;
          }
          this._emit('end' as keyof Events & string, ...([] as never));
        }, this.#handleError);
    }, 0);
  }

  /** @internal The response head is in: emit `connect`. */
  protected _connected(): void {
    if (this.#ended) return;
    this.#resolveConnected();
    this._emit('connect' as keyof Events & string, ...([] as never));
  }

  /** True once `end` was emitted. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the work failed or was aborted. */
  get errored(): boolean {
    return this.#errored;
  }

  /** True once the work was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Stop: the request is cancelled, `abort` then `end` are emitted. */
  abort(): void {
    this.controller.abort();
  }

  /** @internal Abort this stream when `signal` aborts (at once if it already has). */
  protected _listenForAbort(signal: AbortSignal | null | undefined): void {
    if (!signal || this.#ended) return;
    if (signal.aborted) {
      this.controller.abort();
      return;
    }
    const listener = () => this.controller.abort();
    signal.addEventListener('abort', listener, { once: true });
    this.#abortListeners.push({ signal, listener });
  }

  /** Add a listener (no de-duplication). */
  on<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#add(event, { fn: listener as Listener['fn'], once: false });
    return this;
  }

  // Listener arrays are never changed in place (a new array per on/off/once), so an emit iterates
  // the listeners it started with and copies nothing when no `once` listener is among them.
  #add(event: string, listener: Listener): void {
    const list = this.#listeners[event];
    this.#listeners[event] = list ? [...list, listener] : [listener];
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
    this.#add(event, { fn: listener as Listener['fn'], once: true });
    return this;
  }

  /**
   * The next emission of `event` (its one argument, or the arguments as a tuple); rejects if an
   * error comes first (for `'error'`, resolves with the error).
   */
  emitted<K extends keyof Events & string>(event: K): Promise<EmittedValue<Events[K]>> {
    return new Promise((resolve, reject) => {
      this.#catching = true;
      if (event !== 'error') this.once('error' as K, reject as unknown as Events[K]);
      const listener = (...args: unknown[]) => resolve((args.length > 1 ? args : args[0]) as never);
      this.once(event, listener as Events[K]);
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

  /** Resolves when the work ended; rejects with its error (or `APIUserAbortError`). */
  async done(): Promise<void> {
    this.#catching = true;
    await this.#end;
  }

  /** @internal Call the listeners of `event` (nothing after `end`); `abort` / `error` settle and end. */
  protected _emit<K extends keyof Events & string>(event: K, ...args: ListenerArgs<Events[K]>): void {
    if (this.#ended) return;
    if (event === 'end') {
      for (const { signal, listener } of this.#abortListeners.splice(0)) {
        signal.removeEventListener('abort', listener);
      }
      this.#ended = true;
      this.#resolveEnd();
    }
    const list = this.#listeners[event];
    if (list) {
      if (list.some((l) => l.once)) this.#listeners[event] = list.filter((l) => !l.once);
      for (const { fn } of list) fn(...(args as unknown[]));
    }
    if (event === 'abort' || event === 'error') {
      const error = (args as unknown[])[0];
      // Nobody listens and no promise method was called: an unhandled rejection.
      if (!this.#catching && !list?.length) void Promise.reject(error);
      this.#rejectConnected(error);
      this.#rejectEnd(error);
      this._emit('end' as K, ...([] as unknown as ListenerArgs<Events[K]>));
    }
  }

  /** @internal True when `event` has a listener (payloads nobody receives need not be built). */
  protected _listens(event: string): boolean {
    return !!this.#listeners[event]?.length;
  }

  /** @internal The final events, emitted before `end` when the work succeeded. */
  protected _emitFinal(): void {}

  #handleError = (error: unknown): void => {
    this.#errored = true;
    let err = error;
    if (err instanceof Error && err.name === 'AbortError') err = new APIUserAbortError();
    if (err instanceof APIUserAbortError) {
      this.#aborted = true;
      this._emit('abort' as keyof Events & string, ...([err] as never));
      return;
    }
    if (err instanceof AiwireError) {
      this._emit('error' as keyof Events & string, ...([err] as never));
      return;
    }
    const wrapped = new AiwireError(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) (wrapped as { cause?: unknown }).cause = err;
    this._emit('error' as keyof Events & string, ...([wrapped] as never));
  };
}
