/**
 * `Stream<T>`: an async iterable over a native server-sent-events stream, as openai-node's `Stream`.
 *
 * Events cross the boundary in batches (all ready at that moment, one crossing per batch); this class
 * hands them out one by one, parsed by the provider's decoder. Leaving a `for await` loop early
 * (`break`, `return`, a throw) or aborting the request's `AbortSignal` cancels the native stream,
 * which closes the connection.
 */
import type { NativeEvent } from '../native/index.js';
import { AiwireError } from './errors.js';
import { errorFromNative } from './response.js';
import { type TapeBatch, TapeDecoder } from './tape.js';

/** One server-sent event as an `event`-mode decoder receives it: `event` (type, `message` when none), `data`, `id`. */
export type RawEvent = NativeEvent;

/** A decoder's answer for one event: an item, `STREAM_DONE` to end the stream, `STREAM_SKIP` to drop it. */
export const STREAM_DONE: unique symbol = Symbol('aiwire.stream.done');
/** See {@link STREAM_DONE}. */
export const STREAM_SKIP: unique symbol = Symbol('aiwire.stream.skip');

/** A decoder's answer for one event. */
export type Decoded<Item> = Item | typeof STREAM_DONE | typeof STREAM_SKIP;

/**
 * How a provider turns server-sent events into items; `decode` may throw (e.g. an in-stream `error`
 * event as `APIError`).
 *
 * - `json`: every event's data is JSON. Batches cross the boundary as one JSON array text and are
 *   parsed with one `JSON.parse`; `decode(value, eventType)` gets each parsed value. `done` is the data
 *   that ends the stream (e.g. `[DONE]`), recognised in the engine.
 * - `event`: `decode(event)` gets each raw event (`event`, `data`, `id`).
 */
export type StreamDecoder<Item> =
  | { mode: 'json'; done?: string; decode: (value: unknown, eventType: string) => Decoded<Item> }
  | { mode: 'event'; decode: (event: NativeEvent) => Decoded<Item> };

/** One batch as the native stream hands it over (see src/native/stream.rs). */
export interface NativeBatchLike extends TapeBatch {
  events: NativeEvent[];
  /** Each event's type as an index into `typeNames`, when some event's type is not `message`. */
  typeIds?: Uint32Array | null;
  /** The batch's distinct event types, with `typeIds`. */
  typeNames?: string[] | null;
  done: boolean;
  errorKind?: string | null;
  errorMessage?: string | null;
  /** A stable code for the failure (`ECONNRESET`, …), when known. */
  errorCode?: string | null;
  /** With `done`: body bytes read in all. */
  receivedBytes?: number | null;
}

/** The native stream handle's surface used here. */
export interface NativeStreamLike {
  nextBatch(): Promise<NativeBatchLike>;
  cancel(): void;
}

/** An async iterable of items, consumable once (use `tee()` for two consumers). */
export class Stream<Item> implements AsyncIterable<Item> {
  #iteratorFactory: () => AsyncIterator<Item>;
  #consumed = false;
  #controller: AbortController | undefined;
  /** What aborting the controller does while the stream runs (cancel the native side). */
  #onAbort: (() => void) | undefined;

  /**
   * @param iteratorFactory makes the one iterator this stream hands out.
   * @param controller aborting it cancels the stream; default: one made when first asked for.
   */
  constructor(iteratorFactory: () => AsyncIterator<Item>, controller?: AbortController) {
    this.#iteratorFactory = iteratorFactory;
    this.#controller = controller;
  }

  /**
   * Aborting this controller stops the stream (as `break` does): the request is cancelled and its
   * connection closed; a loop waiting for the next item ends with `APIUserAbortError`. Made when first
   * read (an `AbortController` and its listener cost ~5-10 µs a stream).
   */
  get controller(): AbortController {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#onAbort) this.#controller.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return this.#controller;
  }

  /** While the stream runs, aborting the controller calls `onAbort` (at once if already aborted). */
  #watchAbort(onAbort: () => void): void {
    this.#onAbort = onAbort;
    const signal = this.#controller?.signal;
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  }

  #unwatchAbort(): void {
    if (this.#onAbort) this.#controller?.signal.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }

  /**
   * A stream over a native handle: pulls batches, decodes each event with `decode`, and cancels the
   * native side when the consumer stops early or `stream.controller` aborts. A failure after events were
   * delivered is thrown from the loop as the typed error (`APIConnectionError`, …), never a clean end.
   * `onEnd` runs exactly once when the stream settles (done, error or early exit).
   *
   * Aborting while the loop runs (`stream.controller.abort()` or the request's `signal`) ends the loop
   * quietly, as openai-node's streams do, and hands out nothing more, not even events already
   * received; the connection is closed. (Aborting before the response head arrives rejects the
   * request's promise with `APIUserAbortError`, as for any request.)
   */
  static fromNative<Item>(
    handle: NativeStreamLike,
    decoder: StreamDecoder<Item>,
    onEnd?: () => void,
    signal?: AbortSignal | null,
  ): Stream<Item> {
    const factory = (): AsyncIterator<Item> => {
      // Current batch: raw events (event mode) or the tape, decoded one value per item (json mode).
      let events: NativeEvent[] = [];
      let typeIds: Uint32Array | null | undefined;
      let typeNames: string[] = [];
      let index = 0;
      let finished = false;
      let failure: Error | undefined;
      let ended = false;
      const json = decoder.mode === 'json';
      const tape = new TapeDecoder();
      // `stream.controller.abort()` or the request's signal: nothing more is handed out, the loop ends.
      let userAborted = false;
      const onUserAbort = () => {
        userAborted = true;
        handle.cancel();
      };
      const end = () => {
        if (ended) return;
        ended = true;
        finished = true;
        handle.cancel();
        tape.close();
        stream.#unwatchAbort();
        signal?.removeEventListener('abort', onUserAbort);
        onEnd?.();
      };
      stream.#watchAbort(onUserAbort);
      if (signal?.aborted) onUserAbort();
      else signal?.addEventListener('abort', onUserAbort, { once: true });
      const doneResult: IteratorReturnResult<undefined> = { done: true, value: undefined };
      const take = (): Decoded<Item> | undefined => {
        if (json) {
          if (tape.remaining > 0) {
            const i = index++;
            return decoder.decode(
              tape.next(),
              typeIds ? (typeNames[typeIds[i] as number] as string) : 'message',
            );
          }
          return undefined;
        }
        if (index < events.length) return decoder.decode(events[index++] as NativeEvent);
        return undefined;
      };
      // The common step, an item ready in the current batch, resolves without an async function.
      const next = (): Promise<IteratorResult<Item>> => {
        if (!userAborted && (json ? tape.remaining > 0 : index < events.length)) {
          let item: Decoded<Item> | undefined;
          try {
            item = take();
          } catch (e) {
            end();
            return Promise.reject(e);
          }
          if (item === STREAM_DONE) {
            end();
            return Promise.resolve(doneResult);
          }
          if (item !== STREAM_SKIP) return Promise.resolve({ done: false, value: item as Item });
        }
        return pull();
      };
      // Everything else: skipped items, the next batch, the end.
      const pull = async (): Promise<IteratorResult<Item>> => {
        for (;;) {
          if (userAborted) {
            end();
            return doneResult;
          }
          let item: Decoded<Item> | undefined;
          try {
            item = take();
          } catch (e) {
            end();
            throw e;
          }
          if (item === STREAM_SKIP) continue;
          if (item === STREAM_DONE) {
            end();
            return doneResult;
          }
          if (item !== undefined) return { done: false, value: item };
          if (finished) {
            end();
            if (failure) {
              const f = failure;
              failure = undefined;
              throw f;
            }
            return doneResult;
          }
          const batch = await handle.nextBatch();
          index = 0;
          if (json) {
            if (batch.count > 0) tape.load(batch);
            typeIds = batch.typeIds;
            typeNames = batch.typeNames ?? [];
          } else {
            events = batch.events;
          }
          if (batch.done) {
            finished = true;
            if (batch.errorKind === 'aborted' || userAborted) {
              // Cancelled (by an abort, or the handle dropped): a quiet end, as openai-node's streams.
              failure = undefined;
            } else if (batch.errorKind) {
              failure = errorFromNative({
                ok: false,
                status: 0,
                headers: [],
                errorKind: batch.errorKind,
                errorMessage: batch.errorMessage ?? undefined,
                errorCode: batch.errorCode ?? undefined,
                attempts: 1,
              });
            }
          }
        }
      };
      return {
        next,
        async return(): Promise<IteratorResult<Item>> {
          end();
          return doneResult;
        },
      };
    };
    const stream = new Stream(factory);
    return stream;
  }

  [Symbol.asyncIterator](): AsyncIterator<Item> {
    if (this.#consumed) {
      throw new AiwireError('Cannot iterate over a consumed stream, use `.tee()` to split the stream.');
    }
    this.#consumed = true;
    return this.#iteratorFactory();
  }

  /**
   * Split into two independent streams that each see every item; the source is read as fast as the
   * faster consumer, items are buffered for the slower one.
   */
  tee(): [Stream<Item>, Stream<Item>] {
    const left: Array<Promise<IteratorResult<Item>>> = [];
    const right: Array<Promise<IteratorResult<Item>>> = [];
    const iterator = this[Symbol.asyncIterator]();
    const teeIterator = (queue: Array<Promise<IteratorResult<Item>>>): AsyncIterator<Item> => ({
      next: () => {
        if (queue.length === 0) {
          const result = iterator.next();
          left.push(result);
          right.push(result);
        }
        return queue.shift() as Promise<IteratorResult<Item>>;
      },
    });
    return [
      new Stream(() => teeIterator(left), this.controller),
      new Stream(() => teeIterator(right), this.controller),
    ];
  }

  /**
   * A `ReadableStream` of bytes: each item as one line of JSON (`JSON.stringify(item) + '\n'`), the
   * format openai-node's `Stream.fromReadableStream` reads back. Cancelling it cancels this stream.
   */
  toReadableStream(): ReadableStream<Uint8Array> {
    let iterator: AsyncIterator<Item> | undefined;
    const encoder = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      start: () => {
        iterator = this[Symbol.asyncIterator]();
      },
      pull: async (ctrl) => {
        try {
          const { value, done } = await (iterator as AsyncIterator<Item>).next();
          if (done) return ctrl.close();
          ctrl.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        } catch (err) {
          ctrl.error(err);
        }
      },
      cancel: async () => {
        await iterator?.return?.();
      },
    });
  }
}
