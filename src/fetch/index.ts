/**
 * `aiwire/fetch`: a WHATWG `fetch` whose HTTP is aiwire's Rust engine (connection pool, HTTP/1.1 and
 * HTTP/2, gzip/br/zstd decoding, timeouts), for code and SDKs that take a `fetch`:
 *
 * ```ts
 * import OpenAI from 'openai';
 * import { fetch } from 'aiwire/fetch';
 * const openai = new OpenAI({ fetch });
 * ```
 *
 * Where it differs from Node's fetch (all documented on {@link createFetch}): redirects are always
 * followed (`redirect: 'manual' | 'error'` is refused with a `TypeError`), `response.url` is the request
 * URL and `redirected` is `false`, a decoded (gzip/br/zstd) body comes without `content-encoding` and
 * `content-length`, `statusText` is the standard phrase of the status, only http(s) URLs are fetched.
 */
import { AiwireError } from '../core/errors.js';
import { LevelLogger, type Logger, type LogLevel } from '../core/logger.js';
import { checkMs } from '../core/request.js';
import { errorFromNative } from '../core/response.js';
import { engineTransportOptions, type TransportOptions } from '../core/transport-options.js';
import type { CancelToken, NativeEngine } from '../native/binding.js';
import { loadNative, type NativeBinding, openStream } from '../native/index.js';
import { prepareFetch } from './request.js';
import { buildResponse, FetchResponse } from './response.js';

export { FetchResponse };

/**
 * Options of {@link createFetch}: the engine behind one fetch function. Its connection pool is shared
 * with every aiwire client and fetch of the same transport settings (TLS, proxy, timeouts).
 */
export interface FetchOptions extends TransportOptions {
  /**
   * Per-attempt timeout until the response head arrives, in ms. Default 600,000 (10 minutes, as
   * aiwire's and openai-node's clients). Fails the fetch with `TypeError` whose `cause` is an
   * `APIConnectionTimeoutError`. Pass an `AbortSignal` for a deadline that covers the body too.
   */
  timeout?: number | undefined;
  /** TCP (and TLS) connect timeout in ms. Default 10,000. */
  connectTimeout?: number | undefined;
  /**
   * Retries after the first attempt (on 408, 409, 429, >= 500 and connection errors, honouring
   * `retry-after`), run in the engine; the `Response` is the last attempt's. Default **0**: a fetch
   * makes one request, as fetch users expect, and SDKs that take a `fetch` (openai-node,
   * @anthropic-ai/sdk) already retry around it: retrying here too would multiply the attempts and hide
   * the statuses the SDK reads. A request whose body is a stream is never retried. (A request that died
   * before any response byte on a reused pooled connection is still resent once, as the engine does for
   * every client.)
   */
  maxRetries?: number | undefined;
  /** Back-off before the first retry when the server names no delay, in ms. Default 500. */
  retryMinDelay?: number | undefined;
  /** Upper bound of the back-off, in ms. Default 8,000. */
  retryMaxDelay?: number | undefined;
  /**
   * A response body that receives no bytes for this long (ms) errors its stream (`TypeError`
   * `terminated`, `cause` an `APIConnectionTimeoutError`). Default 300,000 (Node's fetch's `bodyTimeout`).
   * `0` disables it.
   */
  streamIdleTimeout?: number | undefined;
  /** Idle pooled connections close after this long, in ms. Default 4,000. */
  poolIdleTimeout?: number | undefined;
  /** Most idle connections kept per host. Default 1,024. */
  poolMaxIdlePerHost?: number | undefined;
  /**
   * Speak HTTP/2 without negotiation (h2c on http:, no HTTP/1.1 fallback). Default false: HTTP/1.1 on
   * http:, and on https: HTTP/2 when the server offers it (ALPN).
   */
  http2PriorKnowledge?: boolean | undefined;
  /**
   * Headers sent with every request unless the request sets the same name. Default
   * `{ 'user-agent': 'aiwire' }` (Node's fetch sends `node`).
   */
  defaultHeaders?: Record<string, string> | undefined;
  /** Verbosity of the one-time warnings (`rejectUnauthorized: false`). Default `warn`. */
  logLevel?: LogLevel | undefined;
  /** Where those warnings go. Default `console`. */
  logger?: Logger | undefined;
}

/** The signature of `fetch`. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The `TypeError` fetch rejects with for a failed request, with aiwire's typed error as `cause`. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/**
 * Make a `fetch` backed by a new engine (on the connection pool shared by every client and fetch with
 * the same transport settings). TLS and proxy options as aiwire's clients: `ca`, `cert`/`key`,
 * `rejectUnauthorized`, `proxy` (see `TransportOptions`).
 *
 * Requests: `input` is a URL string, `URL` or `Request`; `init.method` (normalised as fetch does),
 * `headers` (`Headers`, record or pairs), `body` (string, ArrayBuffer, typed array, DataView, Blob,
 * URLSearchParams, FormData: sent with `Content-Length` and fetch's `Content-Type`; a `ReadableStream`
 * or async iterable with `duplex: 'half'`: streamed with chunked encoding, never retried), `signal`,
 * `redirect: 'follow'` (the default; the engine follows up to 10 redirects). The engine adds no
 * `Idempotency-Key`; it sends `accept: *\/*` and `accept-encoding: gzip, br, zstd` unless given.
 *
 * Responses: `status`, `statusText` (the standard phrase: the server's own is not available),
 * `headers` (repeated headers as Node's fetch: combined with `, `, `set-cookie` kept apart for
 * `getSetCookie()`), `ok`, `url` (the request URL), `redirected` (`false`), `type` (`'basic'`),
 * `body` (a `ReadableStream` of the bytes, pulled from the engine: backpressure), `text()`, `json()`,
 * `arrayBuffer()`, `blob()`, `clone()`. A 2xx body streams; any other status's body (error pages are
 * small) is read whole before the promise resolves. A gzip, br or zstd body is decoded by the engine,
 * and its `content-encoding` and `content-length` headers are removed (they described the encoded
 * bytes; Node's fetch keeps them while also decoding). A deflate body is not decoded (the engine does
 * not ask for it).
 *
 * Errors: rejects with `TypeError` for bad input (see `prepareFetch`) and with
 * `TypeError('fetch failed')` for network failures, its `cause` aiwire's typed error
 * (`APIConnectionError`, `APIConnectionTimeoutError`, `AiwireError` for a header the engine refuses:
 * non-ASCII values). An aborted `signal` rejects with `signal.reason` (an `AbortError` `DOMException`
 * unless the caller gave a reason), before the request starts, while waiting for the head, or (erroring
 * the body stream) while the body is read; the connection is closed. A body that fails mid-way errors
 * its stream with `TypeError('terminated')`, the typed error as `cause`.
 *
 * @param options engine options (see {@link FetchOptions}).
 * @returns a function with fetch's signature.
 * @throws AiwireError for an invalid option (negative or non-finite duration, `retryMinDelay` above
 *   `retryMaxDelay`, invalid default header), or when the native engine is missing for this platform.
 */
export function createFetch(options: FetchOptions = {}): Fetch {
  const maxRetries = options.maxRetries ?? 0;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new AiwireError(`maxRetries must be a whole number >= 0, got ${String(options.maxRetries)}`);
  }
  const headers: string[] = [];
  for (const [name, value] of Object.entries(options.defaultHeaders ?? { 'user-agent': 'aiwire' })) {
    headers.push(name.toLowerCase(), value);
  }
  const idle = checkMs('streamIdleTimeout', options.streamIdleTimeout) ?? 300_000;
  const native: NativeBinding = loadNative();
  let engine: NativeEngine;
  try {
    engine = new native.NativeEngine({
      timeoutMs: checkMs('timeout', options.timeout) ?? 600_000,
      connectTimeoutMs: checkMs('connectTimeout', options.connectTimeout),
      maxRetries,
      retryMinDelayMs: checkMs('retryMinDelay', options.retryMinDelay),
      retryMaxDelayMs: checkMs('retryMaxDelay', options.retryMaxDelay),
      streamIdleTimeoutMs: idle === 0 ? undefined : idle,
      poolIdleTimeoutMs: checkMs('poolIdleTimeout', options.poolIdleTimeout),
      poolMaxIdlePerHost: options.poolMaxIdlePerHost,
      http2PriorKnowledge: options.http2PriorKnowledge,
      defaultHeaders: headers,
      ...engineTransportOptions(
        options,
        new LevelLogger(options.logLevel ?? 'warn', options.logger ?? console),
      ),
    });
  } catch (e) {
    if (e instanceof AiwireError) throw e;
    throw new AiwireError(`Invalid fetch options: ${(e as Error).message}`);
  }
  return (input, init) => send(native, engine, input, init);
}

async function send(
  native: NativeBinding,
  engine: NativeEngine,
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Response> {
  const earlySignal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
  if (earlySignal?.aborted) throw earlySignal.reason;
  const prepared = await prepareFetch(native, input, init);
  const { req, signal, pump } = prepared;
  if (signal?.aborted) {
    pump?.abort();
    throw signal.reason;
  }
  let token: CancelToken | undefined;
  let onAbort: (() => void) | undefined;
  if (signal) {
    const t = new native.CancelToken();
    token = t;
    onAbort = () => t.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const release = () => {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  };
  let opened: ReturnType<typeof openStream>;
  try {
    opened = openStream(native, engine, req, token, { raw: true });
  } catch (e) {
    release();
    pump?.abort();
    throw new TypeError(`aiwire fetch: ${(e as Error).message}`, { cause: e });
  }
  pump?.start();
  const res = await opened.head;
  release();
  if (signal?.aborted) {
    opened.handle.cancel();
    throw signal.reason;
  }
  if (!res.ok) opened.handle.cancel();
  if (!res.ok && (res.errorKind !== 'status' || res.status === 0)) {
    throw fetchFailed(errorFromNative(res));
  }
  return buildResponse(res, prepared.url, prepared.head, {
    handle: res.ok ? opened.handle : undefined,
    signal,
    settled: () => {},
  });
}

let shared: Fetch | undefined;

/**
 * aiwire's fetch with the default {@link FetchOptions} (no retries, 10 min head timeout, 5 min body
 * idle timeout); its engine is made on the first call and shared by every later one. Same behaviour
 * and errors as a function from {@link createFetch}; the first call also throws (rejects with)
 * `AiwireError` when the native engine is missing.
 *
 * @param input a URL string, `URL` or `Request`.
 * @param init fetch's `RequestInit`.
 * @returns the `Response`, once its head has arrived.
 */
export function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  try {
    shared ??= createFetch();
  } catch (e) {
    return Promise.reject(e);
  }
  return shared(input, init);
}

export default fetch;
