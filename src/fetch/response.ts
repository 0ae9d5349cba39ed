/**
 * The engine's answer → a WHATWG `Response`: status, the standard reason phrase, headers (repeated
 * `set-cookie` kept apart), `url`, and a body pulled from the engine's raw stream (one `nextBatch()` per
 * read, so a slow reader holds the engine back: at most ~1 MiB pending natively).
 */
import { STATUS_CODES } from 'node:http';
import { errorFromNative } from '../core/response.js';
import type { NativeStream } from '../native/binding.js';
import type { NativeResult } from '../native/index.js';

/** Statuses whose `Response` has a null body (fetch's "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `Response` from aiwire's fetch: a real `Response` (`instanceof Response` holds) whose `url` is the
 * request URL, `type` is `'basic'` and `redirected` is `false` (the engine does not report whether it
 * followed a redirect, nor where to).
 */
export class FetchResponse extends Response {
  readonly #url: string;

  /**
   * @param body the body (null for HEAD and null-body statuses).
   * @param init status, statusText, headers.
   * @param url the request URL (no fragment).
   */
  constructor(body: BodyInit | null, init: ResponseInit, url: string) {
    super(body, init);
    this.#url = url;
  }

  /** The request URL, without fragment. */
  override get url(): string {
    return this.#url;
  }

  /** Always `false`: the engine follows redirects without reporting them. */
  override get redirected(): boolean {
    return false;
  }

  /** `'basic'`, as for Node's fetch of an http(s) URL. */
  override get type(): ResponseType {
    return 'basic';
  }

  /**
   * A copy whose body is a tee of this one's (both read independently).
   * @throws TypeError when the body was already read or is locked.
   */
  override clone(): FetchResponse {
    const copy = super.clone();
    return new FetchResponse(
      copy.body,
      { status: this.status, statusText: this.statusText, headers: this.headers },
      this.#url,
    );
  }
}

/**
 * Removes the abort listener of a response body that was dropped unread (garbage collected): its
 * native stream is then collected too, which cancels the request and closes the connection.
 */
const DROPPED = new FinalizationRegistry<{ signal: AbortSignal; listener: () => void }>(
  ({ signal, listener }) => signal.removeEventListener('abort', listener),
);

/** An abort listener holding `target` weakly (made here so that it captures nothing else). */
function weakListener(target: WeakRef<{ abort(): void }>): () => void {
  return () => target.deref()?.abort();
}

/** The flat header list → `Headers` (repeated names appended: `set-cookie` stays separate). */
function headersOf(flat: string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) h.append(flat[i] as string, flat[i + 1] as string);
  return h;
}

/** The error a failed body read gives: `TypeError('terminated')` with aiwire's typed error as `cause`. */
function bodyError(res: NativeResult, kind: string, message: string | undefined): TypeError {
  const cause = errorFromNative({
    ok: false,
    status: 0,
    headers: [],
    attempts: res.attempts,
    errorKind: kind,
    errorMessage: message,
  });
  return new TypeError('terminated', { cause });
}

/** How the body of one response is read, and how it ends. */
export interface BodySource {
  /** The native stream (raw mode) of a 2xx answer; absent when the whole body is in `res.body`. */
  readonly handle?: NativeStream | undefined;
  /** The abort signal of the request: aborting errors the body with `signal.reason`. */
  readonly signal?: AbortSignal | null | undefined;
  /** Called once when the body is over (read to the end, failed, cancelled, or aborted). */
  readonly settled: () => void;
}

/**
 * Build the `Response` for a head (2xx, body streamed from `source.handle`) or a status error (any
 * other status, its whole body in `res.body`).
 *
 * @param res the engine's result (`status`, `headers`, and for a status error `body`).
 * @param url the request URL.
 * @param head true for a HEAD request (no body).
 * @param source the body's native stream, the request's signal, and the end callback.
 */
export function buildResponse(
  res: NativeResult,
  url: string,
  head: boolean,
  source: BodySource,
): FetchResponse {
  const status = res.status;
  const init: ResponseInit = {
    status,
    statusText: STATUS_CODES[status] ?? '',
    headers: headersOf(res.headers),
  };
  const handle = source.handle;
  if (head || NULL_BODY.has(status)) {
    handle?.cancel();
    source.settled();
    return new FetchResponse(null, init, url);
  }
  if (handle === undefined) {
    source.settled();
    const bytes = res.body;
    const body =
      bytes === undefined || bytes === null
        ? null
        : typeof bytes === 'string'
          ? // Bytes, never a string: a string body would get a `content-type` the server did not send.
            new Uint8Array(Buffer.from(bytes, 'utf8'))
          : new Uint8Array(bytes);
    return new FetchResponse(body, init, url);
  }
  const signal = source.signal;
  let over = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  // The signal holds its listener only weakly to this body (a long-lived signal must not keep an
  // unread, dropped response, and so its native stream and connection, alive).
  const aborter = { abort: () => {} };
  let listener: (() => void) | undefined;
  const end = () => {
    if (over) return false;
    over = true;
    if (listener) {
      signal?.removeEventListener('abort', listener);
      DROPPED.unregister(aborter);
    }
    source.settled();
    return true;
  };
  aborter.abort = () => {
    handle.cancel();
    if (end()) controller?.error(signal?.reason);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        for (;;) {
          const batch = await handle.nextBatch();
          if (over) return;
          const bytes = batch.bytes;
          if (bytes && bytes.length > 0)
            c.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          if (batch.done) {
            end();
            if (batch.errorKind) c.error(bodyError(res, batch.errorKind, batch.errorMessage));
            else c.close();
            return;
          }
          if (bytes && bytes.length > 0) return;
        }
      },
      cancel() {
        aborter.abort = () => {};
        handle.cancel();
        end();
      },
    },
    { highWaterMark: 0 },
  );
  if (signal) {
    listener = weakListener(new WeakRef(aborter));
    signal.addEventListener('abort', listener, { once: true });
    DROPPED.register(aborter, { signal, listener }, aborter);
  }
  return new FetchResponse(body, init, url);
}
