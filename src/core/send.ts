/**
 * The send path of a client: a resource call's options → the engine's `NativeRequest` (URL, foreign
 * origins, body or `bodyFile`, decoders), its `AbortSignal` → a native `CancelToken`, and the three
 * ways of sending it: buffered (JSON, with deduplication/cache), binary (the body streamed as read)
 * and server-sent events (`Stream<Item>`), each optionally with a multipart body. `BaseClient` owns
 * one `Sender` and keeps the public surface (verbs, parsing, metrics); nothing here knows a provider.
 */

import type { CancelToken, NativeEngine } from '../native/binding.js';
import {
  type NativeBinding,
  type NativeRequest,
  type NativeResult,
  openStream,
  sendRequest,
} from '../native/index.js';
import { APIPromise, type RawResponse, rawFromNative } from './api-promise.js';
import { openBinaryResponse } from './binary.js';
import { AiwireError, APIUserAbortError } from './errors.js';
import type { LevelLogger } from './logger.js';
import type { Observer } from './observe.js';
import type { FinalRequestOptions } from './options.js';
import type { PageRequest } from './pagination/page.js';
import type { ProviderSpec } from './provider.js';
import { appendQuery, nativeRequest, resolveTarget, withoutCredentials } from './request.js';
import { RequestLog } from './request-log.js';
import { errorFromNative, toResponse } from './response.js';
import type { Reuse } from './reuse.js';
import { Stream, type StreamDecoder } from './streaming.js';
import { multipartParts } from './uploads.js';

/** An HTTP method as resources name it. */
export type Method = PageRequest['method'];

/** How one of the send paths sends a built request: the raw 2xx response, or rejects typed. */
type SendFn = (opts: FinalRequestOptions, native: NativeRequest) => Promise<RawResponse>;

/** @internal What a `Sender` needs from its client (all built once, in the client's constructor). */
export interface SenderParts {
  /** The loaded addon (its `CancelToken` class and the functions `sendRequest`/`openStream` call). */
  binding: NativeBinding;
  /** The client's engine (its connection pool). */
  engine: NativeEngine;
  /** The provider's wire conventions (error envelope, query arrays). */
  spec: ProviderSpec;
  /** The client's logger; at `debug` each request gets a `RequestLog`. */
  log: LevelLogger;
  /** The API base URL, without a trailing slash. */
  baseURL: string;
  /** The client's retries after the first attempt (the request log's default). */
  maxRetries: number;
  /** Lower-case names of the credential headers, removed for foreign origins (see `foreignOrigin`). */
  credentialHeaders: string[];
  /** The `endpoints`' origins: absolute URLs on them (`next` pages) go to that endpoint, not refused. */
  origins: string[] | undefined;
  /** Hooks, metrics, telemetry: undefined when none is on (the hot path checks only that). */
  observer: Observer | undefined;
  /** Deduplication and cache: undefined when neither is on. */
  reuse: Reuse | undefined;
  /** The client's `prepareRequest` hook: a provider's last word on a path (Azure deployments). */
  route: (method: Method, path: string, opts: FinalRequestOptions) => string;
  /** The provider's request id among a response's headers, or null (the client's `requestID`). */
  requestID: (res: NativeResult) => string | null;
}

/**
 * @internal Sends a client's requests through its engine. One per client, built in its constructor;
 * every method rejects (never throws) with the typed errors of `BaseClient.request`.
 */
export class Sender {
  readonly #p: SenderParts;
  /** `close()` was called. */
  #closed = false;

  constructor(parts: SenderParts) {
    this.#p = parts;
  }

  /** Refuse later calls and stop the engine's requests and streams in flight (see `BaseClient.close`). */
  close(): void {
    this.#closed = true;
    this.#p.engine.close();
  }

  /** The error of a call made after `close()`. */
  #closedError(): AiwireError {
    return new AiwireError('This client was closed (client.close()); create a new client to send requests.');
  }

  /** The engine's request; without `withBody`, no body (multipart fills it in). */
  #native(method: Method, path: string, opts: FinalRequestOptions, withBody = true): NativeRequest {
    const p = this.#p;
    const where = p.route(method, path, opts);
    const target = resolveTarget(p.baseURL, where, opts.foreignOrigin, p.origins);
    const url = appendQuery(target.url, opts.query, p.spec.queryArrayFormat);
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
    if (target.withholdCredentials) withoutCredentials(native, p.credentialHeaders);
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
    const token = new this.#p.binding.CancelToken();
    if (signal.aborted) {
      token.cancel();
      return { token, settled: () => {} };
    }
    const onAbort = () => token.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    return { token, settled: () => signal.removeEventListener('abort', onAbort) };
  }

  /** The raw 2xx response (for `binaryResponse`, its body unread), or rejects with the typed error. */
  send(method: Method, path: string, opts: FinalRequestOptions): Promise<RawResponse> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const send = opts.binaryResponse ? this.#sendBinary : this.#sendBuffered;
    if (opts.multipart) return this.#withMultipart(method, path, opts, send);
    let native: NativeRequest;
    try {
      native = this.#native(method, path, opts);
    } catch (e) {
      return Promise.reject(e);
    }
    const reuse = this.#p.reuse;
    if (reuse && send === this.#sendBuffered) {
      const shareable = !opts.signal && !opts.decode && opts.bodyFile === undefined;
      return reuse.send(native, shareable, () => send.call(this, opts, native));
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
    send: SendFn,
  ): Promise<RawResponse> {
    const body = opts.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new AiwireError(
        `A multipart body must be an object of fields, got ${Array.isArray(body) ? 'an array' : typeof body}`,
      );
    }
    const native = this.#native(method, path, opts, false);
    const prepared = await multipartParts(this.#p.binding, body as Record<string, unknown>);
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
    const p = this.#p;
    const { token, settled } = this.#cancellation(req.signal);
    const log = this.#requestLog(req, native);
    const call = p.observer?.begin(native, req.body, false);
    return sendRequest(p.binding, p.engine, native, token).then((res) => {
      settled();
      log?.settled(res, p.requestID(res));
      // Aborted after the engine had the answer but before JS took it: still an abort (openai-node).
      const error = req.signal?.aborted
        ? new APIUserAbortError()
        : res.ok
          ? undefined
          : errorFromNative(res, p.spec);
      const parsed = call?.settled(res, call.wantsRequestId ? p.requestID(res) : null, error);
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
    const p = this.#p;
    return openBinaryResponse(p.binding, p.engine, native, token, settled, p.spec).then(
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
    const { log, maxRetries } = this.#p;
    if (!log.enabled('debug')) return undefined;
    native.trace = true;
    return new RequestLog(log, native.method, native.url, req.maxRetries ?? maxRetries);
  }

  /**
   * Open a server-sent-events request and wrap it as a `Stream<Item>` decoded by `decoder`. The
   * promise resolves once the response head is in (retries happen before that).
   */
  stream<Item>(
    method: Method,
    path: string,
    req: FinalRequestOptions,
    decoder: StreamDecoder<Item>,
  ): APIPromise<Stream<Item>> {
    const p = this.#p;
    let stream: Stream<Item> | undefined;
    let makeStream: (() => Stream<Item>) | undefined;
    const open = (_req: FinalRequestOptions, native: NativeRequest): Promise<RawResponse> => {
      native.headers?.push('accept', 'text/event-stream');
      const { token, settled } = this.#cancellation(req.signal);
      const log = this.#requestLog(req, native);
      const call = p.observer?.begin(native, req.body, true);
      let opened: ReturnType<typeof openStream>;
      try {
        opened = openStream(
          p.binding,
          p.engine,
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
        log?.settled(res, p.requestID(res), 'stream');
        if (req.signal?.aborted) {
          const error = new APIUserAbortError();
          call?.settled(res, p.requestID(res), error);
          handle.cancel();
          settled();
          throw error;
        }
        if (!res.ok) {
          settled();
          const error = errorFromNative(res, p.spec);
          call?.settled(res, p.requestID(res), error);
          throw error;
        }
        call?.settled(res, p.requestID(res), undefined);
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
