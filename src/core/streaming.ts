/**
 * `Stream<T>`: an async iterable over a native server-sent-events stream, as openai-node's `Stream`.
 *
 * Events cross the boundary in batches (all ready at that moment, one crossing per batch); this class
 * hands them out one by one, parsed by the provider's decoder. Leaving a `for await` loop early
 * (`break`, `return`, a throw) or aborting the request's `AbortSignal` cancels the native stream,
 * which closes the connection.
 */
import type { NativeEvent } from '../native/index.js';
import { AiwireError, APIUserAbortError } from './errors.js';
import { errorFromNative } from './response.js';

/** A decoder's answer for one event: an item, `STREAM_DONE` to end the stream, `STREAM_SKIP` to drop it. */
export const STREAM_DONE: unique symbol = Symbol('aiwire.stream.done');
/** See {@link STREAM_DONE}. */
export const STREAM_SKIP: unique symbol = Symbol('aiwire.stream.skip');

/** Turns one server-sent event into an item; may throw (e.g. an in-stream `error` event as `APIError`). */
export type EventDecoder<Item> = (event: NativeEvent) => Item | typeof STREAM_DONE | typeof STREAM_SKIP;

/** The native stream handle's surface used here (see src/native/stream.rs). */
export interface NativeStreamLike {
  nextBatch(): Promise<{
    events: NativeEvent[];
    done: boolean;
    errorKind?: string | null;
    errorMessage?: string | null;
  }>;
  cancel(): void;
}

/** An async iterable of items, consumable once (use `tee()` for two consumers). */
export class Stream<Item> implements AsyncIterable<Item> {
  /** Aborting this controller stops the stream (as `break` does). */
  readonly controller: AbortController;
  #iteratorFactory: () => AsyncIterator<Item>;
  #consumed = false;

  /**
   * @param iteratorFactory makes the one iterator this stream hands out.
   * @param controller aborting it cancels the stream.
   */
  constructor(iteratorFactory: () => AsyncIterator<Item>, controller: AbortController) {
    this.#iteratorFactory = iteratorFactory;
    this.controller = controller;
  }

  /**
   * A stream over a native handle: pulls batches, decodes each event with `decode`, and cancels the
   * native side when the consumer stops early or `controller` aborts. A failure after events were
   * delivered is thrown from the loop as the typed error (`APIConnectionError`, …), never a clean end.
   * `onEnd` runs exactly once when the stream settles (done, error or early exit).
   */
  static fromNative<Item>(
    handle: NativeStreamLike,
    decode: EventDecoder<Item>,
    controller: AbortController,
    onEnd?: () => void,
  ): Stream<Item> {
    const factory = (): AsyncIterator<Item> => {
      let events: NativeEvent[] = [];
      let index = 0;
      let finished = false;
      let failure: Error | undefined;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        finished = true;
        handle.cancel();
        controller.signal.removeEventListener('abort', onAbort);
        onEnd?.();
      };
      const onAbort = () => handle.cancel();
      controller.signal.addEventListener('abort', onAbort, { once: true });
      const doneResult: IteratorReturnResult<undefined> = { done: true, value: undefined };
      return {
        async next(): Promise<IteratorResult<Item>> {
          for (;;) {
            while (index < events.length) {
              const ev = events[index++] as NativeEvent;
              let item: Item | typeof STREAM_DONE | typeof STREAM_SKIP;
              try {
                item = decode(ev);
              } catch (e) {
                end();
                throw e;
              }
              if (item === STREAM_SKIP) continue;
              if (item === STREAM_DONE) {
                end();
                return doneResult;
              }
              return { done: false, value: item };
            }
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
            events = batch.events;
            index = 0;
            if (batch.done) {
              finished = true;
              if (batch.errorKind) {
                failure =
                  batch.errorKind === 'aborted' || controller.signal.aborted
                    ? new APIUserAbortError()
                    : errorFromNative({
                        ok: false,
                        status: 0,
                        headers: [],
                        errorKind: batch.errorKind,
                        errorMessage: batch.errorMessage ?? undefined,
                        attempts: 1,
                      });
              }
            }
          }
        },
        async return(): Promise<IteratorResult<Item>> {
          end();
          return doneResult;
        },
      };
    };
    return new Stream(factory, controller);
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
