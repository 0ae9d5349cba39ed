/**
 * The provider-neutral client base: options, the native engine, and the request methods resources
 * call (`get/post/put/patch/delete`, `getAPIList`). A provider's client (e.g. `OpenAI`) extends it
 * with its `ProviderSpec` (error envelope, stream decoding, request-id headers), auth headers and
 * resource tree. Nothing here knows a provider. How a request is built and sent (cancellation,
 * buffered, binary, SSE, multipart) lives in `send.ts`; this file keeps the options, the engine and
 * the public surface (verbs, JSON parsing and `_request_id`, metrics, cache, pagination).
 */

import type { NativeEngine } from '../native/binding.js';
import { loadNative, type NativeBinding, type NativeResult } from '../native/index.js';
import { APIPromise, type RawResponse } from './api-promise.js';
import { type EndpointAuth, withEndpoints } from './endpoints.js';
import { AiwireError } from './errors.js';
import { LevelLogger, parseLogLevel } from './logger.js';
import type { MetricsSnapshot } from './metrics.js';
import { Observer } from './observe.js';
import type { BaseClientOptions, EngineStats, FinalRequestOptions } from './options.js';
import type { PageConstructor, PageRequest } from './pagination/page.js';
import { type AbstractPage, PagePromise } from './pagination/page.js';
import { withPreset } from './presets.js';
import { DEFAULT_REQUEST_ID_HEADERS, type ProviderSpec } from './provider.js';
import { checkMs, flatten } from './request.js';
import { resilienceText, warnSharedLimitFallback } from './resilience-metrics.js';
import { engineResilienceOptions } from './resilience-options.js';
import { flatHeader, parseJSONBody } from './response.js';
import { type CacheStats, Reuse } from './reuse.js';
import { type Method, Sender } from './send.js';
import type { Stream, StreamDecoder } from './streaming.js';
import { engineTransportOptions, warnExtraCACerts, warnUnsupportedOptions } from './transport-options.js';

export type { BaseClientOptions, EngineStats, FinalRequestOptions, RequestOptions } from './options.js';

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
  /** The send path: request building, cancellation, buffered/binary/SSE/multipart sends (send.ts). */
  readonly #sender: Sender;
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
    const credentials = new Set(['authorization']);
    for (const name in authHeaders) credentials.add(name.toLowerCase());
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
    this.#sender = new Sender({
      binding: native,
      engine: this.engine,
      spec,
      log: this.log,
      baseURL: this.baseURL,
      maxRetries: this.maxRetries,
      credentialHeaders: [...credentials],
      origins: endpoints?.map((e) => new URL(e.baseUrl).origin),
      observer: this.#observer,
      reuse: this.#reuse,
      route: (method, path, opts) => this.prepareRequest(method, path, opts),
      requestID: (res) => this.requestID(res),
    });
  }

  /**
   * Stop this client now: its requests and streams in flight fail with `APIUserAbortError` (streams
   * end), and later calls throw. The connection pool, shared with other clients of the same settings,
   * stays. Not needed for cleanup: a client nobody references is collected with what it holds.
   * Idempotent.
   */
  close(): void {
    this.#sender.close();
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
    if (opts.stream)
      return this.#sender.stream(method, path, opts, this._spec.streamDecoder) as APIPromise<R>;
    if (opts.binaryResponse) {
      return new APIPromise<R>(this.#sender.send(method, path, opts), (raw) => raw.toResponse() as R);
    }
    return new APIPromise<R>(this.#sender.send(method, path, opts), (raw) => this.#json(raw) as R);
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
      this.#sender.send(request.method, request.path, request),
      (raw) => new Page(this, request, this.#json(raw)),
    );
  }

  /**
   * Send a request and turn the 2xx response into `T` with `parse` (for helpers that read the native
   * result themselves, e.g. engine-decoded vectors). Rejects with the typed error.
   */
  requestWith<T>(request: PageRequest, parse: (raw: RawResponse) => T): APIPromise<T> {
    return new APIPromise<T>(this.#sender.send(request.method, request.path, request), parse);
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

  /**
   * Open a server-sent-events request and wrap it as a `Stream<Item>`, decoding events with
   * `decoder` instead of the provider's default (e.g. Replicate's `output`/`logs` events, which are
   * not JSON). The promise resolves once the response head is in (retries happen before that).
   *
   * @throws (rejects with) the same typed errors as {@link BaseClient.request}.
   */
  streamWith<Item>(req: PageRequest, decoder: StreamDecoder<Item>): APIPromise<Stream<Item>> {
    return this.#sender.stream(req.method, req.path, req, decoder);
  }
}
