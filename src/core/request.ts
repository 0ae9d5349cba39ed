/**
 * Building the engine's `NativeRequest` from a resource method's options: URL (base URL, path or
 * same-origin absolute URL, query), headers (per-request values replace client defaults, `null`
 * removes one), JSON body, per-request timeout and retries. Pure functions, no I/O.
 */
import type { NativeRequest } from '../native/index.js';
import { AiwireError } from './errors.js';

/** Append `[name, value]` pairs of a header/query record to a flat list, skipping null/undefined. */
export function flatten(record: Record<string, string | null | undefined> | undefined, into: string[]): void {
  if (!record) return;
  for (const key in record) {
    const value = record[key];
    if (value !== null && value !== undefined) into.push(key.toLowerCase(), value);
  }
}

/** Lower-case names of the headers set to `null` (client defaults not to send). */
export function removedHeaders(
  record: Record<string, string | null | undefined> | undefined,
): string[] | undefined {
  const out: string[] = [];
  for (const key in record) if (record[key] === null) out.push(key.toLowerCase());
  return out.length > 0 ? out : undefined;
}

/** How arrays in a query are written: `brackets` `a[]=1&a[]=2`, `repeat` `a=1&a=2`, `comma` `a=1,2`. */
export type QueryArrayFormat = 'brackets' | 'repeat' | 'comma';

/**
 * Append query parameters to a URL. `undefined`/`null` values are dropped; arrays are written in the
 * provider's `arrays` format (default `brackets`, as openai-node); other objects as `key[sub]=value`.
 */
export function appendQuery(
  url: string,
  query: object | null | undefined,
  arrays: QueryArrayFormat = 'brackets',
): string {
  if (!query) return url;
  const params = new URLSearchParams();
  const add = (key: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      if (arrays === 'comma') params.append(key, value.join(','));
      else for (const v of value) add(arrays === 'brackets' ? `${key}[]` : key, v);
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    } else {
      params.append(key, String(value));
    }
  };
  for (const [key, value] of Object.entries(query)) add(key, value);
  const qs = params.toString();
  if (!qs) return url;
  return url + (url.includes('?') ? '&' : '?') + qs;
}

/**
 * Validate a duration option.
 * @throws AiwireError when it is not a finite number of ms >= 0.
 */
export function checkMs(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new AiwireError(`${name} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Permission for one request to go to an absolute URL on another origin than the client's base URL
 * (a provider's stream or file-delivery host, e.g. Replicate's `stream.replicate.com`).
 *
 * The client's credential headers (the auth headers its provider sets, and any `authorization`) go
 * to that origin only when `sendCredentials(url)` returns true for it, and never over plain http;
 * otherwise they are removed from the request. Other default headers and query parameters are sent.
 */
export interface ForeignOrigin {
  /** Whether this origin may receive the client's credentials (only asked for https URLs). Default: never. */
  sendCredentials?: ((url: URL) => boolean) | undefined;
}

/** Where a request goes: its absolute URL, and whether credentials must be withheld from it. */
export interface ResolvedURL {
  url: string;
  /** True for a foreign origin that may not receive the client's credentials. */
  withholdCredentials: boolean;
  /**
   * True when the path was an absolute URL (a `next` page or resource URL a server returned): with
   * `endpoints`, the engine sends it to the endpoint it is on (`pinEndpoint`), not to any of them.
   */
  absolute: boolean;
}

/**
 * The absolute URL for `path` under `baseURL`. An absolute `path` (a `next` link) is used as is when
 * it is on the base URL's origin or one of `origins`; on another origin only with `foreign` (see
 * {@link ForeignOrigin}).
 * @param origins the client's other origins of its own (`scheme://host[:port]` of its `endpoints`: the
 *   engine sends a URL on one of them to that endpoint, with its key). Default none.
 * @throws AiwireError for an absolute URL on another origin without `foreign` (credentials must not
 *   leave for it), or one that does not parse.
 */
export function resolveURL(
  baseURL: string,
  path: string,
  foreign?: ForeignOrigin,
  origins?: readonly string[],
): string {
  return resolveTarget(baseURL, path, foreign, origins).url;
}

/** {@link resolveURL}, also saying whether credentials must be withheld. */
export function resolveTarget(
  baseURL: string,
  path: string,
  foreign?: ForeignOrigin,
  origins?: readonly string[],
): ResolvedURL {
  if (/^https?:\/\//i.test(path)) {
    let target: URL;
    try {
      target = new URL(path);
    } catch {
      throw new AiwireError(`Invalid absolute URL: ${JSON.stringify(path)}`);
    }
    const origin = new URL(baseURL).origin;
    if (target.origin === origin || origins?.includes(target.origin)) {
      return { url: path, withholdCredentials: false, absolute: true };
    }
    if (!foreign) {
      throw new AiwireError(
        `Refusing to send a request to ${target.origin}: absolute URLs must be on the client's origin (${origin}).`,
      );
    }
    const trusted = target.protocol === 'https:' && foreign.sendCredentials?.(target) === true;
    return { url: path, withholdCredentials: !trusted, absolute: true };
  }
  const url = baseURL + (path.startsWith('/') ? path : `/${path}`);
  return { url, withholdCredentials: false, absolute: false };
}

/**
 * Strip the client's credential headers (`names`, lower case) from `native` for a foreign origin:
 * client defaults of those names are not sent (`removeHeaders`), nor those given for this request.
 */
export function withoutCredentials(native: NativeRequest, names: readonly string[]): void {
  const removed = new Set([...(native.removeHeaders ?? []), ...names]);
  native.removeHeaders = [...removed];
  const kept: string[] = [];
  const given = native.headers ?? [];
  for (let i = 0; i + 1 < given.length; i += 2) {
    const name = given[i] as string;
    if (!removed.has(name)) kept.push(name, given[i + 1] as string);
  }
  native.headers = kept;
}

/** The parts of a request the engine needs, before multipart or stream specifics. */
export interface NativeRequestInput {
  method: string;
  url: string;
  headers?: Record<string, string | null | undefined> | undefined;
  body?: unknown;
  timeout?: number | undefined;
  maxRetries?: number | undefined;
  idempotencyKey?: string | undefined;
  retryOn?: 'any' | 'rate-limit-only' | undefined;
  rateLimit?: false | { maxQueueMs?: number | undefined } | undefined;
  circuitBreaker?: false | undefined;
}

/**
 * The request options `rateLimit` / `circuitBreaker` set on `native` (see `RequestOptions`).
 * @throws AiwireError for a `rateLimit` other than `false` or an object, a negative or non-finite
 *   `maxQueueMs`, or a `circuitBreaker` other than `false`.
 */
function requestResilience(input: NativeRequestInput, native: NativeRequest): void {
  const { rateLimit, circuitBreaker } = input;
  if (rateLimit === false) native.rateLimit = false;
  else if (rateLimit !== undefined) {
    if (typeof rateLimit !== 'object' || rateLimit === null) {
      throw new AiwireError(`rateLimit must be false or { maxQueueMs }, got ${String(rateLimit)}`);
    }
    const maxQueue = checkMs('rateLimit.maxQueueMs', rateLimit.maxQueueMs);
    if (maxQueue !== undefined) native.maxQueueMs = maxQueue;
  }
  if (circuitBreaker === false) native.circuitBreaker = false;
  else if (circuitBreaker !== undefined) {
    throw new AiwireError(`circuitBreaker (request option) must be false, got ${String(circuitBreaker)}`);
  }
}

/** A JSON (or raw `string`/`Buffer`) request for the engine. */
export function nativeRequest(input: NativeRequestInput): NativeRequest {
  const headers: string[] = [];
  const { body } = input;
  const raw = typeof body === 'string' || Buffer.isBuffer(body);
  if (body !== undefined && !raw) headers.push('content-type', 'application/json');
  flatten(input.headers, headers);
  const native: NativeRequest = {
    method: input.method.toUpperCase(),
    url: input.url,
    headers,
    removeHeaders: removedHeaders(input.headers),
    body: body === undefined ? undefined : raw ? (body as string | Buffer) : JSON.stringify(body),
    timeoutMs: checkMs('timeout', input.timeout),
    maxRetries: input.maxRetries,
    idempotencyKey: input.idempotencyKey,
    retryOn: input.retryOn,
    textBody: true,
  };
  if (input.rateLimit !== undefined || input.circuitBreaker !== undefined) requestResilience(input, native);
  return native;
}
