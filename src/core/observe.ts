/**
 * What the client tells the outside about each call when asked to: hooks (`hooks`), metrics
 * (`metrics: true`, see metrics.ts) and OpenTelemetry (`telemetry: true`, see otel.ts). A client
 * with none of them has no `Observer` and pays one `undefined` check per call.
 *
 * An observed request asks the engine for its record of failed attempts (`trace`), which gives one
 * `onRetry` per retried attempt and the retry counts.
 */
import type { NativeRequest, NativeResult } from '../native/index.js';
import { type FailureKind, Metrics, operationName } from './metrics.js';
import { type OTelCall, OTelInstruments } from './otel.js';
import type { NativeBatchLike, NativeStreamLike } from './streaming.js';

/** What a hook receives. URLs never carry the query string (where keys may travel) or credentials. */
export interface HookEvent {
  /** HTTP method, upper case. */
  method: string;
  /** The request URL without its query string. */
  url: string;
  /** The operation (`POST /chat/completions`, ids as `{id}`), as metrics name it. */
  operation: string;
  /** HTTP status of the response (or of the failed attempt, for `onRetry`); absent when there was none. */
  status?: number | undefined;
  /** Attempt number, 1-based (`onRequest`: 1; `onRetry`: the attempt that failed; others: the last). */
  attempt: number;
  /** Time since the call was sent (`onRetry`: the failed attempt's own duration), ms. 0 for `onRequest`. */
  durationMs: number;
  /** The provider's request id from the response headers, when there is one. */
  requestId?: string | undefined;
  /** `onError`: the error the call rejects with; `onRetry`: the failed attempt's error message. */
  error?: unknown;
  /** `onRetry`: the wait before the next attempt, ms. */
  retryInMs?: number | undefined;
  /** True for a server-sent-events stream. */
  stream: boolean;
  /**
   * With `endpoints`: the base URL of the endpoint of the attempt (`onRetry`: the failed one; others
   * but `onRequest`: the last one). `url` stays the URL as built on the client's `baseURL`.
   */
  endpoint?: string | undefined;
}

/** A stream's end, for `onStreamEnd`. */
export interface StreamEndEvent extends HookEvent {
  /** Events handed over. */
  events: number;
  /** Time to the first batch of events (ms), when there was one. */
  timeToFirstChunkMs?: number | undefined;
}

/**
 * Callbacks on the JS thread, called synchronously where the client learns of each step; a hook
 * that throws is reported once through the client's logger (`warn`) and never fails the call.
 */
export interface ClientHooks {
  /** A call is about to be sent (once per call, not per attempt). */
  onRequest?: ((event: HookEvent) => void) | undefined;
  /** The call ended with a 2xx (for streams: when the head arrives). */
  onResponse?: ((event: HookEvent) => void) | undefined;
  /** One per failed attempt that the engine retried, in order, reported when the call settles. */
  onRetry?: ((event: HookEvent) => void) | undefined;
  /** The call failed (non-2xx after retries, connection, timeout, abort); `error` is what it rejects with. */
  onError?: ((event: HookEvent) => void) | undefined;
  /** A stream ended (read to the end, failed, or cancelled). */
  onStreamEnd?: ((event: StreamEndEvent) => void) | undefined;
}

/** The observability options every client takes (all off by default). */
export interface ObservabilityOptions {
  /** Callbacks per call; see {@link ClientHooks}. Default none (no cost). */
  hooks?: ClientHooks | undefined;
  /** Keep per-operation metrics (`client.metrics()`, `client.metricsText()`). Default false. */
  metrics?: boolean | undefined;
  /**
   * Spans and GenAI metrics through `@opentelemetry/api` (an optional peer dependency, loaded when
   * this is on; the SDK you registered exports them). Default false.
   * @throws AiwireError at construction when `@opentelemetry/api` is not installed.
   */
  telemetry?: boolean | undefined;
}

/** The body fields telemetry reads from a request (`model`, `max_tokens`, …). */
type BodyLike = Record<string, unknown> | undefined;

/** Per-call token counts from a JSON body's `usage`, or undefined. */
export function usageOf(data: unknown): { input: number; output: number; total: number } | undefined {
  const usage = (data as { usage?: Record<string, unknown> } | null)?.usage;
  if (!usage || typeof usage !== 'object') return undefined;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const input = num(usage.prompt_tokens ?? usage.input_tokens);
  const output = num(usage.completion_tokens ?? usage.output_tokens);
  const total = typeof usage.total_tokens === 'number' ? usage.total_tokens : input + output;
  return { input, output, total };
}

/** A failed result's kind for metrics. */
function failureKind(res: NativeResult | undefined, error: unknown): FailureKind {
  if (res && res.status >= 500) return '5xx';
  if (res && res.status >= 400) return '4xx';
  const kind = res?.errorKind;
  if (kind === 'connection' || kind === 'timeout' || kind === 'aborted') return kind;
  if ((error as { name?: string } | undefined)?.name === 'APIUserAbortError') return 'aborted';
  return 'other';
}

/** One client's observers. */
export class Observer {
  readonly hooks: ClientHooks | undefined;
  readonly metrics: Metrics | undefined;
  readonly otel: OTelInstruments | undefined;
  /** @internal The client's base URL (operation names are the paths below it). */
  readonly baseURL: string;
  readonly #warn: (message: string) => void;
  #hookWarned = false;
  /**
   * `onRetry` or metrics need the engine's record of failed attempts, and hooks with `endpoints` its
   * endpoint column; telemetry alone needs neither.
   */
  readonly #trace: boolean;
  /** @internal The `endpoints`' base URLs (without query), for hook events. */
  readonly endpoints: string[] | undefined;
  /** The last request URL seen and what it names (calls in a batch mostly repeat one URL). */
  #lastURL = '';
  #lastTarget: Target | undefined;

  /**
   * @param provider the provider's name, lower case.
   * @param baseURL the client's base URL, without a trailing slash.
   * @param warn where a throwing hook is reported.
   */
  constructor(
    options: ObservabilityOptions,
    provider: string,
    baseURL: string,
    warn: (message: string) => void,
  ) {
    this.baseURL = baseURL;
    this.hooks = options.hooks;
    this.metrics = options.metrics ? new Metrics(provider) : undefined;
    this.otel = options.telemetry ? new OTelInstruments(provider) : undefined;
    this.#warn = warn;
    const endpoints = (options as { endpoints?: { baseURL: string }[] }).endpoints;
    this.endpoints = endpoints?.map((e) =>
      String(e.baseURL)
        .replace(/[?#].*$/, '')
        .replace(/\/+$/, ''),
    );
    this.#trace = !!this.hooks?.onRetry || !!this.metrics || (!!this.hooks && !!this.endpoints);
  }

  /** The observer a client needs for these options, or undefined when nothing is asked. */
  static for(
    options: ObservabilityOptions,
    provider: string,
    baseURL: string,
    warn: (m: string) => void,
  ): Observer | undefined {
    const h = options.hooks;
    const anyHook = !!h && !!(h.onRequest || h.onResponse || h.onRetry || h.onError || h.onStreamEnd);
    if (!anyHook && !options.metrics && !options.telemetry) return undefined;
    return new Observer(anyHook ? options : { ...options, hooks: undefined }, provider, baseURL, warn);
  }

  /** @internal Call a hook, never letting it fail the call. */
  call<E>(hook: ((event: E) => void) | undefined, event: E): void {
    if (!hook) return;
    try {
      hook(event);
    } catch (e) {
      if (!this.#hookWarned) {
        this.#hookWarned = true;
        this.#warn(`A client hook threw (reported once per client): ${String(e)}`);
      }
    }
  }

  /**
   * A call starts: asks the engine for its failed-attempt record (when `onRetry` or metrics need it)
   * and calls `onRequest`.
   * @param body the request body as given (telemetry reads `model`, `max_tokens`).
   */
  begin(native: NativeRequest, body: unknown, stream: boolean): ObservedCall {
    if (this.#trace) native.trace = true;
    return new ObservedCall(this, this.#target(native), body as BodyLike, stream);
  }

  /** The URL without query and the operation of a request (the last one remembered). */
  #target(native: NativeRequest): Target {
    const full = native.url;
    if (full === this.#lastURL && this.#lastTarget?.method === native.method) return this.#lastTarget;
    const q = full.indexOf('?');
    const url = q >= 0 ? full.slice(0, q) : full;
    const below = url.startsWith(this.baseURL) ? url.slice(this.baseURL.length) : url;
    const target = { method: native.method, url, operation: operationName(native.method, below) };
    this.#lastURL = full;
    this.#lastTarget = target;
    return target;
  }
}

/** What a request is sent to: method, URL without query, operation name. */
interface Target {
  readonly method: string;
  readonly url: string;
  readonly operation: string;
}

/** One observed call, from `begin` to its outcome (and, for streams, to the stream's end). */
export class ObservedCall {
  readonly #o: Observer;
  readonly #started = performance.now();
  readonly #method: string;
  readonly #url: string;
  readonly #operation: string;
  readonly #stream: boolean;
  readonly #otel: OTelCall | undefined;
  #res: NativeResult | undefined;
  #requestId: string | undefined;
  /** The endpoint of the last attempt (with `endpoints`). */
  #endpoint: string | undefined;
  /** The call failed (a stream's head included): its stream, if any, reports no end. */
  #failed = false;

  constructor(o: Observer, target: Target, body: BodyLike, stream: boolean) {
    this.#o = o;
    this.#method = target.method;
    this.#url = target.url;
    this.#operation = target.operation;
    this.#stream = stream;
    this.#otel = o.otel?.start(this.#operation, this.#url, body);
    if (o.hooks?.onRequest) o.call(o.hooks.onRequest, this.#event(undefined, 1, 0));
  }

  #event(status: number | undefined, attempt: number, durationMs: number): HookEvent {
    return {
      method: this.#method,
      url: this.#url,
      operation: this.#operation,
      status: status || undefined,
      attempt,
      durationMs,
      requestId: this.#requestId,
      stream: this.#stream,
      endpoint: this.#endpoint,
    };
  }

  /**
   * The call settled (for streams: its head arrived). `error` is what it rejects with, if it does.
   * @returns the parsed JSON body of a buffered 2xx when metrics or telemetry needed it (the caller
   *   hands it to its first reader instead of parsing again), else undefined.
   */
  settled(res: NativeResult, requestId: string | null, error: unknown): unknown {
    const o = this.#o;
    const ms = performance.now() - this.#started;
    this.#res = res;
    this.#requestId = requestId ?? undefined;
    let retries = 0;
    if (res.trace) {
      for (const line of res.trace.split('\n')) {
        if (!line) continue;
        const [attempt, status, took, action, wait, message, endpoint] = line.split('\t');
        this.#endpoint = endpoint === undefined ? undefined : o.endpoints?.[Number(endpoint)];
        if (action === 'resend' || action === 'endpoint') continue;
        retries++;
        if (o.hooks?.onRetry) {
          const event = this.#event(Number(status), Number(attempt), Number(took));
          event.retryInMs = Number(wait);
          event.error = message || undefined;
          o.call(o.hooks.onRetry, event);
        }
      }
    }
    const failure = error === undefined ? undefined : failureKind(res, error);
    o.metrics?.outcome(this.#operation, ms, failure, retries);
    if (o.hooks) {
      const event = this.#event(res.status, res.attempts, ms);
      if (error === undefined) o.call(o.hooks.onResponse, event);
      else {
        event.error = error;
        o.call(o.hooks.onError, event);
      }
    }
    this.#otel?.settled(res.status, ms, failure);
    if (error !== undefined) this.#failed = true;
    if (this.#stream && error === undefined) return undefined; // the span ends with the stream
    let data: unknown;
    const body = error === undefined ? res.body : undefined;
    // Metrics alone read only bodies that mention usage (searched from the end, where APIs put it);
    // telemetry reads the response's id and model too.
    if (typeof body === 'string' && (this.#otel || (o.metrics && body.lastIndexOf('"usage"') >= 0))) {
      try {
        data = JSON.parse(body);
      } catch {
        data = undefined; // not JSON: the reader reports it
      }
      const usage = usageOf(data);
      if (usage) o.metrics?.tokens(this.#operation, usage.input, usage.output, usage.total);
      this.#otel?.response(data, usage);
    }
    this.#otel?.end();
    return data;
  }

  /** Wrap a stream's native handle to see its first batch and its end. */
  watch(handle: NativeStreamLike): NativeStreamLike {
    let events = 0;
    let first: number | undefined;
    let ended = false;
    const end = (batch: NativeBatchLike | undefined, error?: unknown) => {
      if (ended || this.#failed) return;
      ended = true;
      const o = this.#o;
      const ms = performance.now() - this.#started;
      if (o.hooks?.onStreamEnd) {
        const event = this.#event(this.#res?.status, this.#res?.attempts ?? 1, ms) as StreamEndEvent;
        event.events = events;
        event.timeToFirstChunkMs = first;
        if (error !== undefined || batch?.errorKind) event.error = error ?? batch?.errorMessage;
        o.call(o.hooks.onStreamEnd, event);
      }
      this.#otel?.end(error !== undefined || batch?.errorKind ? 'stream' : undefined);
    };
    return {
      nextBatch: () =>
        handle.nextBatch().then(
          (batch) => {
            const n = batch.count || batch.events?.length || 0;
            if (first === undefined && n > 0) {
              first = performance.now() - this.#started;
              this.#o.metrics?.firstChunk(this.#operation, first);
              this.#otel?.firstChunk(first);
            }
            events += n;
            if (batch.done) end(batch);
            return batch;
          },
          (e: unknown) => {
            end(undefined, e);
            throw e;
          },
        ),
      cancel: () => {
        end(undefined);
        handle.cancel();
      },
    };
  }
}
