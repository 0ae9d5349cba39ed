/**
 * The provider-neutral client base: options, the native engine, request and stream plumbing.
 * A provider's client (e.g. `OpenAI`) extends it with auth headers and resources.
 */

import type { CancelToken, NativeEngine } from '../native/binding.js';
import {
  loadNative,
  type NativeBinding,
  type NativeRequest,
  type NativeResult,
  openStream,
  sendRequest,
} from '../native/index.js';
import { APIPromise, type RawResponse, rawFromNative } from './api-promise.js';
import { AiwireError } from './errors.js';
import { LevelLogger, type Logger, type LogLevel, parseLogLevel } from './logger.js';
import { errorFromNative, parseJSONBody, toResponse } from './response.js';
import { Stream, type StreamDecoder } from './streaming.js';

/** Options every client takes (names as in openai-node). */
export interface BaseClientOptions {
  /** API base URL, e.g. `https://api.openai.com/v1`. */
  baseURL?: string | null | undefined;
  /** Per-attempt timeout in ms. Default 600,000 (10 minutes). */
  timeout?: number | undefined;
  /** Retries after the first attempt (408, 409, 429, >= 500, connection errors). Default 2. */
  maxRetries?: number | undefined;
  /** Connect timeout in ms. Default 10,000. */
  connectTimeout?: number | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string | null | undefined> | undefined;
  /** Query parameters sent with every request. */
  defaultQuery?: Record<string, string | undefined> | undefined;
  /** Log verbosity; default from `AIWIRE_LOG` (or the provider's variable), else `warn`. */
  logLevel?: LogLevel | undefined;
  /** Log sink; default `console`. */
  logger?: Logger | undefined;
  /** Idle pooled connections close after this long (ms). Default 4,000. */
  poolIdleTimeout?: number | undefined;
  /** Largest single SSE event (bytes); larger ones fail the stream with `APIResponseDecodeError`. Default 64 MiB. */
  maxEventBytes?: number | undefined;
  /**
   * A stream that receives no bytes for this long (ms) fails with `APIConnectionTimeoutError`
   * (servers' keep-alive comments count as bytes). Default none: only `timeout` (until the response head).
   */
  streamIdleTimeout?: number | undefined;
}

/** Live counters of a client's engine (for metrics and leak checks). */
export interface EngineStats {
  /** Buffered requests not yet settled (retry back-offs included). */
  requestsInFlight: number;
  /** Streams whose native side is still open. */
  streamsOpen: number;
  /** Requests and streams started since the client was built. */
  requestsTotal: number;
  /** Retries made since the client was built. */
  retriesTotal: number;
}

/** Per-request options, the second argument of every API method (as openai-node's `RequestOptions`). */
export interface RequestOptions {
  /**
   * Extra headers for this request; they replace client defaults of the same name. `null` removes a
   * client default (e.g. `{ 'openai-organization': null }`) for this request; `undefined` is ignored.
   */
  headers?: Record<string, string | null | undefined> | undefined;
  /** Extra query parameters. */
  query?: Record<string, unknown> | undefined;
  /** Per-attempt timeout in ms for this request. */
  timeout?: number | undefined;
  /** Retries for this request. */
  maxRetries?: number | undefined;
  /** Aborts the request (and a stream mid-way); the promise rejects with `APIUserAbortError`. */
  signal?: AbortSignal | null | undefined;
  /** `Idempotency-Key` for this request (default: a fresh key per non-GET request, reused by its retries). */
  idempotencyKey?: string | undefined;
}

/** A request as a resource method describes it. */
export interface RequestDescription {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Path below `baseURL`, starting with `/`. */
  path: string;
  /** JSON body (serialized with `JSON.stringify`). */
  body?: unknown;
  /** Query parameters (undefined values are dropped). */
  query?: Record<string, unknown> | undefined;
  /** Per-request options. */
  options?: RequestOptions | undefined;
  /** Decode the 2xx body in the engine (`embeddings`: vectors as a Float64Array, see `NativeResult`). */
  decode?: 'embeddings' | undefined;
}

function flatten(record: Record<string, string | null | undefined> | undefined, into: string[]): void {
  if (!record) return;
  for (const key in record) {
    const value = record[key];
    if (value !== null && value !== undefined) into.push(key.toLowerCase(), value);
  }
}

/** Lower-case names of the headers set to `null` (client defaults not to send). */
function removedHeaders(record: Record<string, string | null | undefined> | undefined): string[] | undefined {
  const out: string[] = [];
  for (const key in record) if (record[key] === null) out.push(key.toLowerCase());
  return out.length > 0 ? out : undefined;
}

function appendQuery(url: string, query: Record<string, unknown> | undefined): string {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const key in query) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    params.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const qs = params.toString();
  if (!qs) return url;
  return url + (url.includes('?') ? '&' : '?') + qs;
}

function checkMs(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new AiwireError(`${name} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Base of every provider client. Holds one native engine (one connection pool) for its lifetime.
 *
 * @throws AiwireError for an invalid option (negative timeout, bad baseURL).
 */
export abstract class BaseClient {
  /** The API base URL, without a trailing slash. */
  readonly baseURL: string;
  /** Per-attempt timeout (ms). */
  readonly timeout: number;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** @internal */
  protected readonly engine: NativeEngine;
  /** @internal */
  protected readonly log: LevelLogger;
  readonly #CancelToken: typeof CancelToken;
  readonly #binding: NativeBinding;

  /**
   * @param options client options.
   * @param authHeaders credential headers (sent with every request, never logged).
   * @param envLogVariable the provider's log-level variable (e.g. `OPENAI_LOG`).
   */
  constructor(
    options: BaseClientOptions & { baseURL: string },
    authHeaders: Record<string, string | null | undefined>,
    envLogVariable?: string,
  ) {
    let base: URL;
    try {
      base = new URL(options.baseURL);
    } catch {
      throw new AiwireError(
        `baseURL must be an absolute http(s) URL, got ${JSON.stringify(options.baseURL)}`,
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new AiwireError(`baseURL must use http or https, got ${JSON.stringify(options.baseURL)}`);
    }
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.timeout = checkMs('timeout', options.timeout) ?? 600_000;
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new AiwireError(`maxRetries must be a whole number >= 0, got ${String(options.maxRetries)}`);
    }
    this.maxRetries = maxRetries;
    const level =
      options.logLevel ??
      parseLogLevel(process.env.AIWIRE_LOG) ??
      parseLogLevel(envLogVariable ? process.env[envLogVariable] : undefined) ??
      'warn';
    this.log = new LevelLogger(level, options.logger ?? console);
    const headers: string[] = ['accept', 'application/json'];
    flatten(options.defaultHeaders, headers);
    flatten(authHeaders, headers);
    const query: string[] = [];
    flatten(options.defaultQuery, query);
    const native = loadNative();
    this.#CancelToken = native.CancelToken;
    this.#binding = native;
    try {
      this.engine = new native.NativeEngine({
        timeoutMs: this.timeout,
        maxRetries: this.maxRetries,
        connectTimeoutMs: checkMs('connectTimeout', options.connectTimeout),
        poolIdleTimeoutMs: checkMs('poolIdleTimeout', options.poolIdleTimeout),
        maxEventBytes: options.maxEventBytes,
        streamIdleTimeoutMs: checkMs('streamIdleTimeout', options.streamIdleTimeout),
        defaultHeaders: headers,
        defaultQuery: query,
      });
    } catch (e) {
      throw new AiwireError(`Invalid client options: ${(e as Error).message}`);
    }
  }

  /** The engine's live counters: in-flight requests, open streams, totals. */
  stats(): EngineStats {
    return this.engine.stats();
  }

  #native(req: RequestDescription): NativeRequest {
    const options = req.options;
    const headers: string[] = [];
    if (req.body !== undefined) headers.push('content-type', 'application/json');
    flatten(options?.headers, headers);
    const removeHeaders = removedHeaders(options?.headers);
    let url = this.baseURL + req.path;
    url = appendQuery(url, req.query);
    if (options?.query) url = appendQuery(url, options.query);
    return {
      method: req.method.toUpperCase(),
      url,
      headers,
      removeHeaders,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      timeoutMs: checkMs('timeout', options?.timeout),
      maxRetries: options?.maxRetries,
      idempotencyKey: options?.idempotencyKey,
      textBody: true,
      decode: req.decode,
    };
  }

  /**
   * Wire an AbortSignal to a native cancel token; the listener is removed when `settled` runs, so a
   * long-lived signal shared by many requests holds none once they settle.
   */
  #cancellation(signal: AbortSignal | null | undefined): { token?: CancelToken; settled: () => void } {
    if (!signal) return { settled: () => {} };
    const token = new this.#CancelToken();
    if (signal.aborted) {
      token.cancel();
      return { token, settled: () => {} };
    }
    const onAbort = () => token.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    return { token, settled: () => signal.removeEventListener('abort', onAbort) };
  }

  /**
   * Send a request and parse the 2xx body as JSON into `T`.
   * Rejects with the typed error (`APIError` subclasses, `APIConnectionError`, …).
   */
  request<T>(req: RequestDescription): APIPromise<T> {
    return new APIPromise<T>(this.requestRaw(req), (raw) => parseJSONBody(raw.native) as T);
  }

  /** Send a request and turn the 2xx response into `T` with `parse` (rejects with the typed error). */
  requestWith<T>(req: RequestDescription, parse: (raw: RawResponse) => T): APIPromise<T> {
    return new APIPromise<T>(this.requestRaw(req), parse);
  }

  /** @internal The raw 2xx response, or rejects with the typed error. */
  requestRaw(req: RequestDescription): Promise<RawResponse> {
    let native: NativeRequest;
    try {
      native = this.#native(req);
    } catch (e) {
      return Promise.reject(e);
    }
    const { token, settled } = this.#cancellation(req.options?.signal);
    const debug = this.log.enabled('debug');
    const started = debug ? performance.now() : 0;
    return sendRequest(this.#binding, this.engine, native, token).then((res) => {
      settled();
      if (debug) this.#logResponse(native, res, started);
      if (!res.ok) throw errorFromNative(res);
      return rawFromNative(res);
    });
  }

  #logResponse(req: NativeRequest, res: NativeResult, started: number): void {
    const ms = (performance.now() - started).toFixed(1);
    const target = req.url.split('?')[0];
    this.log.debug(
      `${req.method} ${target} -> ${res.status || res.errorKind} in ${ms} ms (${res.attempts} attempt(s))`,
    );
  }

  /**
   * Open a server-sent-events request and wrap it as a `Stream<Item>`, decoding events with
   * `decoder`. The promise resolves once the response head is in (retries happen before that).
   */
  stream<Item>(req: RequestDescription, decoder: StreamDecoder<Item>): APIPromise<Stream<Item>> {
    let native: NativeRequest;
    try {
      native = this.#native(req);
    } catch (e) {
      return new APIPromise(Promise.reject(e), () => {
        throw e;
      });
    }
    native.headers?.push('accept', 'text/event-stream');
    const { token, settled } = this.#cancellation(req.options?.signal);
    let opened: ReturnType<typeof openStream>;
    try {
      opened = openStream(
        this.#binding,
        this.engine,
        native,
        token,
        decoder.mode === 'json' ? { jsonData: true, doneData: decoder.done } : undefined,
      );
    } catch (e) {
      settled();
      return new APIPromise(Promise.reject(e), () => {
        throw e;
      });
    }
    const { handle } = opened;
    let stream: Stream<Item> | undefined;
    const head = opened.head.then((res: NativeResult): RawResponse => {
      if (!res.ok) {
        settled();
        throw errorFromNative(res);
      }
      return {
        native: res,
        toResponse: () => toResponse(res, (stream ?? makeStream()).toReadableStream()),
      };
    });
    const makeStream = () => {
      stream = Stream.fromNative(handle, decoder, settled);
      return stream;
    };
    return new APIPromise(head, () => stream ?? makeStream());
  }
}
