/**
 * `APIPromise<T>`: what every API method returns. Awaiting it gives the parsed data (as in
 * openai-node); `withResponse()` also gives the raw `Response` and the request id; `asResponse()`
 * gives only the `Response`, unread.
 */
import type { NativeResult } from '../native/index.js';
import { flatHeader, toResponse } from './response.js';

/** The request's outcome handed to a parser: the native response (2xx) and the options used. */
export interface RawResponse {
  /** The native response (ok, status, flat headers, body). */
  native: NativeResult;
  /** Build the WHATWG `Response` (for streams: whose body is the event stream). */
  toResponse(): Response;
  /**
   * For streams: the `Response` without a body, for `withResponse()`, whose `data` is the stream
   * itself (a body reading the same stream would consume it). Absent for buffered responses.
   */
  headResponse?(): Response;
  /** @internal The JSON body already parsed (for metrics/telemetry), taken by its first reader. */
  parsed?: unknown;
}

/**
 * A parsed API object as awaiting resolves it: objects carry the provider's request id as a
 * non-enumerable `_request_id` (as openai-node); arrays, `Response`s, pages and streams are unchanged.
 */
export type WithRequestID<T> = T extends
  | readonly unknown[]
  | Response
  | { getPaginatedItems(): unknown[] }
  | { [Symbol.asyncIterator](): AsyncIterator<unknown> }
  ? T
  : T extends object
    ? T & { _request_id?: string | null }
    : T;

/** What `withResponse()` resolves to. */
export interface WithResponse<T> {
  /** The parsed data, the same value awaiting the promise gives. */
  data: T;
  /** The HTTP response (status, headers; body as delivered). */
  response: Response;
  /** The provider's request id header (`x-request-id`, else `request-id`), or null. */
  request_id: string | null;
}

/**
 * A promise of parsed API data with access to the raw response.
 *
 * `responsePromise` resolves with the 2xx raw response or rejects with the typed error; `parse`
 * turns it into `T` (JSON parse, stream construction). Parsing happens once, lazily.
 */
export class APIPromise<T> extends Promise<WithRequestID<T>> {
  #parsed: Promise<T> | undefined;
  readonly #responsePromise: Promise<RawResponse>;
  readonly #parse: (raw: RawResponse) => T | Promise<T>;

  constructor(responsePromise: Promise<RawResponse>, parse: (raw: RawResponse) => T | Promise<T>) {
    super((resolve) => {
      // The base promise is never used: then/catch/finally below go through parse().
      resolve(null as WithRequestID<T>);
    });
    this.#responsePromise = responsePromise;
    this.#parse = parse;
  }

  /** Map the parsed value (keeps `withResponse()` / `asResponse()` available). */
  _thenUnwrap<U>(transform: (data: T, raw: RawResponse) => U): APIPromise<U> {
    return new APIPromise(this.#responsePromise, async (raw) => transform(await this.#parse(raw), raw));
  }

  /** The raw `Response`, without parsing the body. Rejects with the typed error on failure. */
  asResponse(): Promise<Response> {
    return this.#responsePromise.then((raw) => raw.toResponse());
  }

  /** The parsed data together with the `Response` and the request id. */
  async withResponse(): Promise<WithResponse<T>> {
    const [data, raw] = await Promise.all([this.parse(), this.#responsePromise]);
    const flat = raw.native.headers;
    return {
      data,
      response: raw.headResponse ? raw.headResponse() : raw.toResponse(),
      request_id: flatHeader(flat, 'x-request-id') ?? flatHeader(flat, 'request-id'),
    };
  }

  private parse(): Promise<T> {
    if (!this.#parsed) this.#parsed = this.#responsePromise.then(this.#parse);
    return this.#parsed;
  }

  // biome-ignore lint/suspicious/noThenProperty: APIPromise is a Promise subclass on purpose (openai-node's design)
  override then<R1 = WithRequestID<T>, R2 = never>(
    onfulfilled?: ((value: WithRequestID<T>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return (this.parse() as Promise<WithRequestID<T>>).then(onfulfilled, onrejected);
  }

  override catch<R = never>(
    onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null,
  ): Promise<WithRequestID<T> | R> {
    return (this.parse() as Promise<WithRequestID<T>>).catch(onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<WithRequestID<T>> {
    return (this.parse() as Promise<WithRequestID<T>>).finally(onfinally);
  }
}

/** Default parser helper: build the raw response wrapper for a buffered native response. */
export function rawFromNative(native: NativeResult): RawResponse {
  return { native, toResponse: () => toResponse(native) };
}
