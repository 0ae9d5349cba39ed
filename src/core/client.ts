/**
 * The provider-neutral client base: options, the native engine, and the request methods resources
 * call (`get/post/put/patch/delete`, `getAPIList`). A provider's client (e.g. `OpenAI`) extends it
 * with its `ProviderSpec` (error envelope, stream decoding, request-id headers), auth headers and
 * resource tree. Nothing here knows a provider.
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
import { openBinaryResponse } from './binary.js';
import { type EndpointAuth, withEndpoints } from './endpoints.js';
import { AiwireError, APIUserAbortError } from './errors.js';
import { LevelLogger, parseLogLevel } from './logger.js';
import type { MetricsSnapshot } from './metrics.js';
import { Observer } from './observe.js';
import type { BaseClientOptions, EngineStats, FinalRequestOptions } from './options.js';
import type { PageConstructor, PageRequest } from './pagination/page.js';
import { type AbstractPage, PagePromise } from './pagination/page.js';
import { withPreset } from './presets.js';
import { DEFAULT_REQUEST_ID_HEADERS, type ProviderSpec } from './provider.js';
import {
  appendQuery,
  checkMs,
  flatten,
  nativeRequest,
  resolveTarget,
  withoutCredentials,
} from './request.js';
import { RequestLog } from './request-log.js';
import { resilienceText, warnSharedLimitFallback } from './resilience-metrics.js';
import { engineResilienceOptions } from './resilience-options.js';
import { errorFromNative, flatHeader, parseJSONBody, toResponse } from './response.js';
import { type CacheStats, Reuse } from './reuse.js';
import { Stream, type StreamDecoder } from './streaming.js';
import { engineTransportOptions, warnExtraCACerts, warnUnsupportedOptions } from './transport-options.js';
import { multipartParts } from './uploads.js';

export type { BaseClientOptions, EngineStats, FinalRequestOptions, RequestOptions } from './options.js';

/** An HTTP method as resources name it. */
type Method = PageRequest['method'];

/** The options of a call that passed none (shared, never written to). */
const NO_OPTIONS: FinalRequestOptions = Object.freeze({});

declare global {
  // `Symbol.asyncDispose` (below) without lib `esnext.disposable` or @types/node in the consumer's
  // project: the same declaration as @types/node's compatibility/disposable.d.ts (they merge).
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
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
  /** @internal The provider's wire conventions. */
  protected readonly _spec: ProviderSpec;
  /** @internal (private: the addon's types stay out of the public typings) */
  private readonly engine: NativeEngine;
  /** @internal */
  protected readonly log: LevelLogger;
  readonly #CancelToken: typeof CancelToken;
  readonly #binding: NativeBinding;
  /** Lower-case names of the credential headers, removed for foreign origins (see `foreignOrigin`). */
  readonly #credentialHeaders: string[];
  /** The `endpoints`' origins: absolute URLs on them (`next` pages) go to that endpoint, not refused. */
  readonly #origins: string[] | undefined;
  /** `close()` was called. */
  #closed = false;
  /** Whether `stats()` already warned of a Redis outage (`rateLimit.redis`). */
  #warnedSharedLimit = false;
  /** Hooks, metrics, telemetry: undefined when none is on (the hot path checks only that). */
  readonly #observer: Observer | undefined;
  /** Deduplication and cache: undefined when neither is on. */
  readonly #reuse: Reuse | undefined;

  /**
   * @param options client options (`baseURL` resolved by the provider from its option, env and default).
   * @param spec the provider's wire conventions.
   * @param authHeaders credential headers (sent with every request, never logged).
   * @param endpointAuth the credential headers of another key, for the `endpoints` option.
   */
  constructor(
    given: BaseClientOptions & { baseURL: string },
    spec: ProviderSpec,
    authHeaders: Record<string, string | null | undefined>,
    endpointAuth?: EndpointAuth,
  ) {
    const envPrefix = spec.logEnvVariable?.replace(/LOG$/, '') ?? `${spec.name.toUpperCase()}_`;
    // With endpoints, each endpoint's headers carry the credentials (see endpoints.ts).
    const [options, endpoints] = withEndpoints(withPreset(given, envPrefix), authHeaders, endpointAuth);
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
    this._spec = spec;
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.timeout = checkMs('timeout', options.timeout) ?? 600_000;
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new AiwireError(`maxRetries must be a whole number >= 0, got ${String(options.maxRetries)}`);
    }
    this.maxRetries = maxRetries;
    const envLog = spec.logEnvVariable;
    const level =
      options.logLevel ??
      parseLogLevel(process.env.AIWIRE_LOG) ??
      parseLogLevel(envLog ? process.env[envLog] : undefined) ??
      'warn';
    this.log = new LevelLogger(level, options.logger ?? console);
    warnUnsupportedOptions(options, this.log);
    this.#observer = Observer.for(options, spec.telemetryName ?? spec.name.toLowerCase(), this.baseURL, (m) =>
      this.log.warn(m),
    );
    this.#reuse = Reuse.for(options);
    const transport = engineTransportOptions(options, this.log);
    const headers: string[] = ['accept', 'application/json'];
    flatten(options.defaultHeaders, headers);
    if (!endpoints) flatten(authHeaders, headers);
    this.#origins = endpoints?.map((e) => new URL(e.baseUrl).origin);
    const credentials = new Set(['authorization']);
    for (const name in authHeaders) credentials.add(name.toLowerCase());
    this.#credentialHeaders = [...credentials];
    const retryMinDelay = checkMs('retryMinDelay', options.retryMinDelay);
    const retryMaxDelay = checkMs('retryMaxDelay', options.retryMaxDelay);
    if ((retryMinDelay ?? 500) > (retryMaxDelay ?? 8_000)) {
      throw new AiwireError(
        `retryMinDelay (${retryMinDelay ?? 500} ms) must not be above retryMaxDelay (${retryMaxDelay ?? 8_000} ms)`,
      );
    }
    const query: string[] = [];
    flatten(options.defaultQuery, query);
    const resilience = engineResilienceOptions(options);
    let native: NativeBinding;
    try {
      native = loadNative();
    } catch (e) {
      const err = new AiwireError((e as Error).message);
      err.cause = e;
      throw err;
    }
    this.#CancelToken = native.CancelToken;
    this.#binding = native;
    try {
      this.engine = new native.NativeEngine({
        timeoutMs: this.timeout,
        maxRetries: this.maxRetries,
        retryMinDelayMs: retryMinDelay,
        retryMaxDelayMs: retryMaxDelay,
        connectTimeoutMs: checkMs('connectTimeout', options.connectTimeout),
        poolIdleTimeoutMs: checkMs('poolIdleTimeout', options.poolIdleTimeout),
        maxEventBytes: options.maxEventBytes,
        streamIdleTimeoutMs: checkMs('streamIdleTimeout', options.streamIdleTimeout),
        defaultHeaders: headers,
        defaultQuery: query,
        ...transport,
        ...resilience,
        endpoints,
      });
    } catch (e) {
      const message = (e as Error).message;
      // The runtime failing to start (no file descriptor left) is not the options' fault.
      throw new AiwireError(message.includes('runtime') ? message : `Invalid client options: ${message}`);
    }
    warnExtraCACerts(native.NativeEngine.extraCaCertsProblem(), this.log);
  }

  /**
   * Stop this client now: its requests and streams in flight fail with `APIUserAbortError` (streams
   * end), and later calls throw. The connection pool, shared with other clients of the same settings,
   * stays. Not needed for cleanup: a client nobody references is collected with what it holds.
   * Idempotent.
   */
  close(): void {
    this.#closed = true;
    this.engine.close();
  }

  /** The error of a call made after `close()`. */
  #closedError(): AiwireError {
    return new AiwireError('This client was closed (client.close()); create a new client to send requests.');
  }

  /** `await using client = new OpenAI()`: `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * The engine's live counters: in-flight requests, open streams, totals, shared-limit fallbacks. The
   * first call that shows a Redis outage (`sharedLimitOutages > 0`) emits one process warning.
   */
  stats(): EngineStats {
    const s = this.engine.stats();
    if (!this.#warnedSharedLimit) this.#warnedSharedLimit = warnSharedLimitFallback(s);
    return s;
  }

  /**
   * The client's metrics per operation (calls, successes, failures by kind, retries, latency
   * histogram with p50/p90/p99/max, time to first chunk, tokens), a copy.
   * @throws AiwireError when the client was built without `metrics: true`.
   */
  metrics(): MetricsSnapshot {
    const snapshot = this.#metricsOn().snapshot();
    const rateLimit = this.engine.stats().rateLimit;
    return rateLimit ? { ...snapshot, rateLimit } : snapshot;
  }

  /** Forget the recorded metrics. @throws AiwireError without `metrics: true`. */
  resetMetrics(): void {
    this.#metricsOn().reset();
  }

  /** The metrics in the Prometheus text format (0.0.4). @throws AiwireError without `metrics: true`. */
  metricsText(): string {
    const m = this.#metricsOn();
    return m.text() + resilienceText(m.provider, this.engine.stats());
  }

  #metricsOn() {
    const m = this.#observer?.metrics;
    if (!m) throw new AiwireError('Metrics are off: build the client with `metrics: true`');
    return m;
  }

  /** The cache's hits, misses and size (all 0 without a `cache` option). */
  cacheStats(): CacheStats {
    return this.#reuse?.stats() ?? { hits: 0, misses: 0, size: 0 };
  }

  /** Empty the response cache (no-op without a `cache` option). */
  clearCache(): void {
    this.#reuse?.clear();
  }

  // The verbs pass method and path down as arguments: building `{ ...opts, method, path }` per request
  // (openai-node's way) made V8 promote short-lived objects to old space here (+30 MB peak RSS and
  // ~+30% CPU per request at C=64 in the bench, measured against the previous client).

  /** `GET path`; see {@link BaseClient.request}. */
  get<R>(path: string, opts?: FinalRequestOptions): APIPromise<R> {
    return this.#dispatch<R>('get', path, opts ?? NO_OPTIONS);
  }
  /** `POST path`; see {@link BaseClient.request}. */
  post<R>(path: string, opts?: FinalRequestOptions): APIPromise<R> {
    return this.#dispatch<R>('post', path, opts ?? NO_OPTIONS);
  }
  /** `PUT path`; see {@link BaseClient.request}. */
  put<R>(path: string, opts?: FinalRequestOptions): APIPromise<R> {
    return this.#dispatch<R>('put', path, opts ?? NO_OPTIONS);
  }
  /** `PATCH path`; see {@link BaseClient.request}. */
  patch<R>(path: string, opts?: FinalRequestOptions): APIPromise<R> {
    return this.#dispatch<R>('patch', path, opts ?? NO_OPTIONS);
  }
  /** `DELETE path`; see {@link BaseClient.request}. */
  delete<R>(path: string, opts?: FinalRequestOptions): APIPromise<R> {
    return this.#dispatch<R>('delete', path, opts ?? NO_OPTIONS);
  }

  /**
   * Send one request (with the engine's retries) and resolve to `R`: the parsed JSON body (with a
   * non-enumerable `_request_id` on objects), a `Stream` (`stream: true`), or a `Response`
   * (`binaryResponse: true`).
   *
   * @throws (rejects with) `APIError` subclasses by status (`BadRequestError` 400 … `InternalServerError`
   *   >= 500), `APIConnectionError`, `APIConnectionTimeoutError`, `APIUserAbortError`,
   *   `APIResponseDecodeError` (a 2xx body that is not JSON), `AiwireError` (invalid options).
   */
  request<R>(options: PageRequest): APIPromise<R> {
    return this.#dispatch<R>(options.method, options.path, options);
  }

  #dispatch<R>(method: Method, path: string, opts: FinalRequestOptions): APIPromise<R> {
    if (opts.stream) return this.#stream(method, path, opts, this._spec.streamDecoder) as APIPromise<R>;
    if (opts.binaryResponse) {
      return new APIPromise<R>(this.#send(method, path, opts), (raw) => raw.toResponse() as R);
    }
    return new APIPromise<R>(this.#send(method, path, opts), (raw) => this.#json(raw) as R);
  }

  /**
   * Request a list and resolve to its first page, of the style `Page` names; `for await` on the
   * promise iterates every item of every page.
   */
  getAPIList<Item, P extends AbstractPage<Item> = AbstractPage<Item>>(
    path: string,
    Page: PageConstructor<P>,
    opts?: FinalRequestOptions,
  ): PagePromise<P, Item> {
    return this.requestAPIList(Page, { ...opts, method: 'get', path });
  }

  /** A list request with any method (`getAPIList` is the GET case). */
  requestAPIList<Item = unknown, P extends AbstractPage<Item> = AbstractPage<Item>>(
    Page: PageConstructor<P>,
    request: PageRequest,
  ): PagePromise<P, Item> {
    return new PagePromise<P, Item>(
      this.#send(request.method, request.path, request),
      (raw) => new Page(this, request, this.#json(raw)),
    );
  }

  /**
   * Send a request and turn the 2xx response into `T` with `parse` (for helpers that read the native
   * result themselves, e.g. engine-decoded vectors). Rejects with the typed error.
   */
  requestWith<T>(request: PageRequest, parse: (raw: RawResponse) => T): APIPromise<T> {
    return new APIPromise<T>(this.#send(request.method, request.path, request), parse);
  }

  /** The parsed JSON body, with the request id as a non-enumerable `_request_id` (openai-node). */
  #json(raw: RawResponse): unknown {
    let data: unknown;
    if (raw.parsed !== undefined) {
      data = raw.parsed; // parsed once already for metrics/telemetry: the first reader takes it
      raw.parsed = undefined;
    } else data = parseJSONBody(raw.native);
    if (data && typeof data === 'object') {
      Object.defineProperty(data, '_request_id', {
        value: this.requestID(raw.native),
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
    return data;
  }

  /** @internal The provider's request id among a response's headers, or null. */
  requestID(res: NativeResult): string | null {
    for (const name of this._spec.requestIdHeaders ?? DEFAULT_REQUEST_ID_HEADERS) {
      const value = res.header ? res.header(name) : flatHeader(res.headers, name);
      if (value !== null) return value;
    }
    return null;
  }

  /**
   * A provider's last word on a request's path before it is sent (e.g. Azure OpenAI moves
   * deployment-routed paths under `/deployments/{model}`). Default: unchanged.
   */
  protected prepareRequest(_method: Method, path: string, _opts: FinalRequestOptions): string {
    return path;
  }

  /** The engine's request; without `withBody`, no body (multipart fills it in). */
  #native(method: Method, path: string, opts: FinalRequestOptions, withBody = true): NativeRequest {
    const where = this.prepareRequest(method, path, opts);
    const target = resolveTarget(this.baseURL, where, opts.foreignOrigin, this.#origins);
    const url = appendQuery(target.url, opts.query, this._spec.queryArrayFormat);
    const native = nativeRequest({
      method,
      url,
      headers: opts.headers,
      body: withBody && opts.bodyFile === undefined ? opts.body : undefined,
      timeout: opts.timeout,
      maxRetries: opts.maxRetries,
      idempotencyKey: opts.idempotencyKey,
      retryOn: opts.retryOn,
      rateLimit: opts.rateLimit,
      circuitBreaker: opts.circuitBreaker,
    });
    if (target.absolute) native.pinEndpoint = true;
    if (target.withholdCredentials) withoutCredentials(native, this.#credentialHeaders);
    if (withBody && opts.bodyFile !== undefined) native.bodyPath = opts.bodyFile;
    if (opts.decode) {
      native.decode = opts.decode.kind;
      if (opts.decode.field) (native as { decodeField?: string }).decodeField = opts.decode.field;
    }
    return native;
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

  /** The raw 2xx response (for `binaryResponse`, its body unread), or rejects with the typed error. */
  #send(method: Method, path: string, opts: FinalRequestOptions): Promise<RawResponse> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const send = opts.binaryResponse ? this.#sendBinary : this.#sendBuffered;
    if (opts.multipart) return this.#withMultipart(method, path, opts, send);
    let native: NativeRequest;
    try {
      native = this.#native(method, path, opts);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#reuse && send === this.#sendBuffered) {
      const shareable = !opts.signal && !opts.decode && opts.bodyFile === undefined;
      return this.#reuse.send(native, shareable, () => send.call(this, opts, native));
    }
    return send.call(this, opts, native);
  }

  /**
   * Encode `opts.body` as multipart parts (files stream from disk or from their source: see
   * `multipartParts`), start the request with them, then start pumping the streamed parts.
   */
  async #withMultipart(
    method: Method,
    path: string,
    opts: FinalRequestOptions,
    send: (opts: FinalRequestOptions, native: NativeRequest) => Promise<RawResponse>,
  ): Promise<RawResponse> {
    const body = opts.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new AiwireError(
        `A multipart body must be an object of fields, got ${Array.isArray(body) ? 'an array' : typeof body}`,
      );
    }
    const native = this.#native(method, path, opts, false);
    const prepared = await multipartParts(this.#binding, body as Record<string, unknown>);
    Object.assign(native, prepared.fields);
    let pending: Promise<RawResponse>;
    try {
      pending = send.call(this, opts, native);
    } catch (e) {
      prepared.abort();
      throw e;
    }
    prepared.start();
    return pending;
  }

  #sendBuffered(req: FinalRequestOptions, native: NativeRequest): Promise<RawResponse> {
    const { token, settled } = this.#cancellation(req.signal);
    const log = this.#requestLog(req, native);
    const call = this.#observer?.begin(native, req.body, false);
    return sendRequest(this.#binding, this.engine, native, token).then((res) => {
      settled();
      log?.settled(res, this.requestID(res));
      // Aborted after the engine had the answer but before JS took it: still an abort (openai-node).
      const error = req.signal?.aborted
        ? new APIUserAbortError()
        : res.ok
          ? undefined
          : errorFromNative(res, this._spec);
      const parsed = call?.settled(res, call.wantsRequestId ? this.requestID(res) : null, error);
      if (error) throw error;
      const raw = rawFromNative(res);
      if (parsed !== undefined) raw.parsed = parsed;
      return raw;
    });
  }

  /** A response whose body streams from the engine (raw bytes, pulled as read). */
  #sendBinary(req: FinalRequestOptions, native: NativeRequest): Promise<RawResponse> {
    // Accept whatever the operation produces (audio, octet-stream, SDP), unless the caller chose.
    if (!req.headers || !Object.keys(req.headers).some((k) => k.toLowerCase() === 'accept')) {
      native.headers?.push('accept', '*/*');
    }
    const { token, settled } = this.#cancellation(req.signal);
    return openBinaryResponse(this.#binding, this.engine, native, token, settled, this._spec).then(
      (response): RawResponse => {
        if (req.signal?.aborted) {
          void response.body?.cancel();
          throw new APIUserAbortError();
        }
        const headers: string[] = [];
        response.headers.forEach((value, name) => {
          headers.push(name, value);
        });
        return {
          native: { ok: true, status: response.status, headers, attempts: 1 },
          toResponse: () => response,
        };
      },
    );
  }

  /** With debug logging on: the request's log (and the engine records its failed attempts). */
  #requestLog(req: FinalRequestOptions, native: NativeRequest): RequestLog | undefined {
    if (!this.log.enabled('debug')) return undefined;
    native.trace = true;
    return new RequestLog(this.log, native.method, native.url, req.maxRetries ?? this.maxRetries);
  }

  /**
   * Open a server-sent-events request and wrap it as a `Stream<Item>`, decoding events with
   * `decoder` instead of the provider's default (e.g. Replicate's `output`/`logs` events, which are
   * not JSON). The promise resolves once the response head is in (retries happen before that).
   *
   * @throws (rejects with) the same typed errors as {@link BaseClient.request}.
   */
  streamWith<Item>(req: PageRequest, decoder: StreamDecoder<Item>): APIPromise<Stream<Item>> {
    return this.#stream(req.method, req.path, req, decoder);
  }

  #stream<Item>(
    method: Method,
    path: string,
    req: FinalRequestOptions,
    decoder: StreamDecoder<Item>,
  ): APIPromise<Stream<Item>> {
    let stream: Stream<Item> | undefined;
    let makeStream: (() => Stream<Item>) | undefined;
    const open = (_req: FinalRequestOptions, native: NativeRequest): Promise<RawResponse> => {
      native.headers?.push('accept', 'text/event-stream');
      const { token, settled } = this.#cancellation(req.signal);
      const log = this.#requestLog(req, native);
      const call = this.#observer?.begin(native, req.body, true);
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
        return Promise.reject(e);
      }
      let handle = log ? log.watch(opened.handle) : opened.handle;
      if (call) handle = call.watch(handle);
      const make = () => {
        stream = Stream.fromNative(handle, decoder, settled, req.signal);
        return stream;
      };
      makeStream = make;
      return opened.head.then((res: NativeResult): RawResponse => {
        log?.settled(res, this.requestID(res), 'stream');
        if (req.signal?.aborted) {
          const error = new APIUserAbortError();
          call?.settled(res, this.requestID(res), error);
          handle.cancel();
          settled();
          throw error;
        }
        if (!res.ok) {
          settled();
          const error = errorFromNative(res, this._spec);
          call?.settled(res, this.requestID(res), error);
          throw error;
        }
        call?.settled(res, this.requestID(res), undefined);
        return {
          native: res,
          toResponse: () => toResponse(res, (stream ?? make()).toReadableStream()),
          headResponse: () => toResponse(res, null),
        };
      });
    };
    let head: Promise<RawResponse>;
    if (this.#closed) {
      head = Promise.reject(this.#closedError());
    } else if (req.multipart) {
      head = this.#withMultipart(method, path, req, open);
    } else {
      try {
        head = open(req, this.#native(method, path, req));
      } catch (e) {
        head = Promise.reject(e);
      }
    }
    // The parse step runs only after `head` resolved, so `makeStream` is set by then.
    return new APIPromise(head, () => stream ?? (makeStream as () => Stream<Item>)());
  }
}
