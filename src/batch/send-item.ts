/**
 * One batch item through a client: {@link sendItem} sends it with the client's engine (retries, limits,
 * breaker) and always resolves to an output line, never rejects; {@link toBatchError} turns any thrown
 * error into the line's typed {@link BatchItemError}. Shared by every executor that runs requests itself
 * (`local`, the `queue` worker).
 */
import type { BaseClient } from '../core/client.js';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  CircuitOpenError,
  LocalRateLimitError,
} from '../core/errors.js';
import { flatHeader, parseJSONBody } from '../core/response.js';
import type { NativeResult } from '../native/settle.js';
import { BODY_TEXT } from './input.js';
import type { BatchItem, BatchItemError, BatchOutputLine } from './types.js';

let seq = 0;
const RUN_TAG = Math.random().toString(36).slice(2, 10);

/** A fresh output line id, `batch_req_<run tag><counter>` (unique within the process). */
export function outputLineId(): string {
  seq += 1;
  return `batch_req_${RUN_TAG}${seq.toString(36)}`;
}

/**
 * The response body's JSON text as the server sent it, kept (non-enumerable) on a line's `response`
 * by {@link sendItem} so that {@link serializeLine} need not serialize the parsed body again.
 */
export const RAW_BODY: unique symbol = Symbol('aiwire.batch.rawBody');

/**
 * One output line as JSON text without a newline. When the line's `response` carries its body's text
 * ({@link RAW_BODY}, already validated by parsing it), that text goes in as is, minus its line breaks
 * (in valid JSON they can only be whitespace between tokens), instead of stringifying the parsed body.
 */
export function serializeLine(line: BatchOutputLine): string {
  const response = line.response as (BatchOutputLine['response'] & { [RAW_BODY]?: string }) | null;
  const raw = response?.[RAW_BODY];
  if (response === null || raw === undefined) return JSON.stringify(line);
  const body = raw.includes('\n') || raw.includes('\r') ? raw.replace(/[\r\n]+[ \t]*/g, '') : raw;
  const hash = line.input_hash === undefined ? '' : `,"input_hash":${JSON.stringify(line.input_hash)}`;
  return `{"id":${JSON.stringify(line.id)},"custom_id":${JSON.stringify(line.custom_id)},"response":{"status_code":${response.status_code},"request_id":${JSON.stringify(response.request_id)},"body":${body}},"error":${JSON.stringify(line.error)}${hash}}`;
}

/** Base URL → the tails of its path, longest first. */
const baseCache = new Map<string, string[]>();

/**
 * The path of `url` below the client's `baseURL`: the longest tail of the base URL's path that `url`
 * starts with is cut (`/v1/chat/completions` on a base URL ending in `/v1`, or in `/aivillage/v1`,
 * becomes `/chat/completions`); on a base URL without a path `url` stays as is.
 */
export function pathBelowBase(baseURL: string, url: string): string {
  let tails = baseCache.get(baseURL);
  if (tails === undefined) {
    const segments = new URL(baseURL).pathname.split('/').filter(Boolean);
    tails = segments.map((_, i) => `/${segments.slice(i).join('/')}`);
    if (baseCache.size < 64) baseCache.set(baseURL, tails);
  }
  for (const tail of tails) {
    if (url === tail) return '/';
    if (url.startsWith(tail) && url.charCodeAt(tail.length) === 0x2f) return url.slice(tail.length);
  }
  return url;
}

/** The request body: the input line's own text when the reader kept it ({@link BODY_TEXT}), else the value. */
function bodyOf(item: BatchItem): { body: unknown; headers?: Record<string, string> } {
  const text = (item as BatchItem & { [BODY_TEXT]?: string })[BODY_TEXT];
  return text === undefined
    ? { body: item.body }
    : { body: text, headers: { 'content-type': 'application/json' } };
}

/** The provider's request id header (`x-request-id`, else `request-id`), or null. */
function requestIdOf(native: NativeResult): string | null {
  if (native.header) return native.header('x-request-id') ?? native.header('request-id');
  return flatHeader(native.headers, 'x-request-id') ?? flatHeader(native.headers, 'request-id');
}

/** Statuses worth sending again (as the engine's retry policy: 408, 409, 429, >= 500). */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Any error a client call rejects with → the output line's typed error. */
export function toBatchError(err: unknown): BatchItemError {
  if (err instanceof APIError) {
    const type = err.name;
    if (err.status !== undefined) {
      return {
        code: err.code ?? err.type ?? `http_${err.status}`,
        message: err.message,
        type,
        status: err.status,
        retryable: retryableStatus(err.status),
      };
    }
    const code =
      err instanceof APIUserAbortError
        ? 'aborted'
        : err instanceof CircuitOpenError
          ? 'circuit_open'
          : err instanceof LocalRateLimitError
            ? 'rate_limited_locally'
            : err instanceof APIConnectionTimeoutError
              ? 'timeout'
              : err instanceof APIConnectionError
                ? 'connection_error'
                : 'error';
    return { code, message: err.message, type, status: null, retryable: code !== 'error' };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: 'error', message: e.message, type: e.name || 'Error', status: null, retryable: false };
}

/**
 * Send `item` with `client` and resolve to its output line: `response` + `error: null` on 2xx; the
 * HTTP answer (when any) + a typed `error` otherwise. Never rejects.
 */
export async function sendItem(
  client: BaseClient,
  item: BatchItem,
  signal?: AbortSignal,
): Promise<BatchOutputLine> {
  const id = outputLineId();
  try {
    const method = item.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    // The engine's result as is: `withResponse()` would build a WHATWG Response per item (its
    // headers and body stream cost more than the rest of the item's handling).
    const native = await client.requestWith(
      {
        method,
        path: pathBelowBase(client.baseURL, item.url),
        ...(item.body !== undefined && method !== 'get' ? bodyOf(item) : {}),
        ...(signal ? { signal } : {}),
      },
      (raw) => raw.native,
    );
    const data = parseJSONBody(native);
    const response: NonNullable<BatchOutputLine['response']> = {
      status_code: native.status,
      request_id: requestIdOf(native),
      body: data,
    };
    if (data !== undefined) {
      const text =
        typeof native.body === 'string'
          ? native.body
          : Buffer.from(native.body as Uint8Array).toString('utf8');
      Object.defineProperty(response, RAW_BODY, { value: text, enumerable: false });
    }
    return { id, custom_id: item.custom_id, response, error: null };
  } catch (err) {
    const error = toBatchError(err);
    const apiErr = err instanceof APIError ? err : undefined;
    return {
      id,
      custom_id: item.custom_id,
      response:
        apiErr?.status !== undefined
          ? {
              status_code: apiErr.status,
              request_id: apiErr.requestID ?? null,
              body: { error: apiErr.error ?? null },
            }
          : null,
      error,
    };
  }
}
