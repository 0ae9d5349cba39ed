/**
 * `fetch(input, init)` arguments → the engine's `NativeRequest`: URL and method checks, headers, and the
 * body (bytes in memory with the `Content-Type` fetch would set, or a stream pumped through a
 * `NativeBodySender`). Errors are those of fetch: `TypeError` for bad input.
 */

import { type BodySenderFactory, type PreparedBody, rawBody } from '../core/uploads.js';
import type { NativeRequest } from '../native/binding.js';

/** What `fetch()` needs to send one request and build its `Response`. */
export interface PreparedFetch {
  /** The request for the engine (headers flat, body set). */
  readonly req: NativeRequest;
  /** The request URL as `Response.url` shows it (no fragment). */
  readonly url: string;
  /** `HEAD` requests get a `Response` without a body. */
  readonly head: boolean;
  /** The abort signal of the request, if any. */
  readonly signal: AbortSignal | null | undefined;
  /** A streamed body: start pumping once the request is started, abort if it could not be. */
  readonly pump: PreparedBody<unknown> | undefined;
}

/** Methods fetch refuses (`TypeError`), upper case. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Methods fetch normalises to upper case (others, `patch` included, are sent as written). */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
/** A header value fetch would send as Latin-1 bytes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
const NON_ASCII = /[^\x00-\x7f]/;
/** Methods sent with `Content-Length: 0` when they have no body (as Node's fetch does). */
const EXPECTS_PAYLOAD = new Set(['POST', 'PUT', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);
/** RFC 9110 token: what a method may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The method as fetch sends it. @throws TypeError for an invalid or forbidden method. */
function normaliseMethod(method: string | undefined): string {
  if (method === undefined) return 'GET';
  const m = String(method);
  if (!TOKEN.test(m)) throw new TypeError(`'${m}' is not a valid HTTP method.`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${m}' HTTP method is unsupported.`);
  return NORMALISED_METHODS.has(upper) ? upper : m;
}

/** Parse `input` as an absolute http(s) URL. @throws TypeError for anything else. */
function parseURL(input: string | URL): URL {
  let url: URL;
  try {
    url = input instanceof URL ? input : new URL(String(input));
  } catch (e) {
    throw new TypeError(`Failed to parse URL from ${String(input)}`, { cause: e });
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(
      `Request cannot be constructed from a URL that includes credentials: ${String(input)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`aiwire fetch: only http: and https: URLs are supported, got ${url.protocol}`);
  }
  return url;
}

/** `Headers`, a record or a list of pairs → the engine's flat list (names lower case, values combined). */
function flatHeaders(init: HeadersInit | undefined, into: string[]): void {
  if (init === undefined || init === null) return;
  const headers = init instanceof Headers ? init : new Headers(init);
  headers.forEach((value, name) => {
    if (NON_ASCII.test(value)) {
      // Node's fetch sends such a value as Latin-1 bytes; the engine would send UTF-8: refuse it
      // rather than send other bytes than fetch would.
      throw new TypeError(
        `aiwire fetch: the value of header "${name}" has non-ASCII characters, which aiwire's fetch cannot send as fetch does (Latin-1 bytes); encode it (e.g. encodeURIComponent)`,
      );
    }
    into.push(name, value);
  });
}

function hasHeader(flat: string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true;
  return false;
}

function isStreamBody(body: unknown): boolean {
  if (body instanceof ReadableStream) return true;
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' &&
    !(body instanceof Blob) &&
    !(body instanceof FormData) &&
    !(body instanceof URLSearchParams) &&
    !ArrayBuffer.isView(body)
  );
}

/**
 * A body held in memory: its bytes (or string) and the `Content-Type` fetch gives it when the request
 * names none (`text/plain;charset=UTF-8` for strings, `application/x-www-form-urlencoded;charset=UTF-8`
 * for URLSearchParams, the Blob's type, `multipart/form-data; boundary=…` for FormData).
 */
async function bufferedBody(body: BodyInit): Promise<{ bytes: string | Buffer; type: string | null }> {
  if (typeof body === 'string') return { bytes: body, type: 'text/plain;charset=UTF-8' };
  if (body instanceof ArrayBuffer) return { bytes: Buffer.from(new Uint8Array(body.slice(0))), type: null };
  if (ArrayBuffer.isView(body)) {
    return { bytes: Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)), type: null };
  }
  if (body instanceof Blob) {
    return { bytes: Buffer.from(await body.arrayBuffer()), type: body.type === '' ? null : body.type };
  }
  // URLSearchParams, FormData (encoded by the platform's own multipart writer), and anything else
  // fetch accepts: let `Response` extract it, as fetch itself does.
  const extracted = new Response(body);
  const type = extracted.headers.get('content-type');
  return { bytes: Buffer.from(await extracted.arrayBuffer()), type };
}

/**
 * Turn `fetch`'s arguments into the engine's request.
 *
 * @param binding the addon (`NativeBodySender` for streamed bodies).
 * @param input a URL string, `URL`, or `Request` (its method, headers, body and signal are used;
 *   `init` overrides them as `new Request(input, init)` does).
 * @param init fetch's `RequestInit`: `method`, `headers`, `body`, `signal`, `redirect`, `duplex`;
 *   `mode`, `credentials`, `cache`, `referrer`, `integrity`, `keepalive`, `priority` are ignored.
 * @throws TypeError (as a rejection of fetch) for an invalid URL, a URL with credentials, another scheme
 *   than http(s), an invalid or forbidden method (`CONNECT`, `TRACE`, `TRACK`), a body on GET/HEAD, a
 *   stream body without `duplex: 'half'`, an invalid header or one whose value is not ASCII (fetch would
 *   send Latin-1 bytes, the engine takes strings as UTF-8), or `redirect: 'manual' | 'error'` (the
 *   engine always follows redirects, up to 10).
 */
export async function prepareFetch(
  binding: BodySenderFactory,
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<PreparedFetch> {
  let request: Request | undefined;
  let url: URL;
  let method: string;
  let headersInit: HeadersInit | undefined;
  let body: BodyInit | null | undefined;
  let signal: AbortSignal | null | undefined;
  let redirect: RequestRedirect | undefined;
  if (input instanceof Request) {
    // The platform's Request does the merging and the checks for a Request input.
    request = init === undefined ? input : new Request(input, init);
    url = parseURL(request.url);
    method = request.method;
    headersInit = request.headers;
    signal = request.signal;
    redirect = request.redirect;
    const own = init?.body;
    if (own !== undefined && own !== null) body = own;
    else if (request.body !== null) body = await request.arrayBuffer();
  } else {
    url = parseURL(input);
    method = normaliseMethod(init?.method);
    headersInit = init?.headers;
    body = init?.body;
    signal = init?.signal;
    redirect = init?.redirect;
  }
  if (redirect !== undefined && redirect !== 'follow') {
    throw new TypeError(
      `aiwire fetch: redirect: '${String(redirect)}' is not supported (the engine always follows redirects, up to 10); use 'follow' or Node's fetch`,
    );
  }
  const hasBody = body !== undefined && body !== null;
  if (hasBody && (method === 'GET' || method === 'HEAD')) {
    throw new TypeError('Request with GET/HEAD method cannot have body.');
  }
  const headers: string[] = [];
  flatHeaders(headersInit, headers);
  let pump: PreparedBody<unknown> | undefined;
  const req: NativeRequest = { method, url: url.href, headers, idempotencyKey: '' };
  if (hasBody) {
    if (isStreamBody(body)) {
      if (request === undefined && (init as { duplex?: string } | undefined)?.duplex !== 'half') {
        throw new TypeError('RequestInit: duplex option is required when sending a body.');
      }
      const prepared = await rawBody(binding, body as ReadableStream<Uint8Array>);
      req.bodySender = prepared.fields.bodySender;
      if (prepared.fields.body !== undefined) req.body = prepared.fields.body;
      pump = prepared;
    } else {
      const { bytes, type } = await bufferedBody(body as BodyInit);
      req.body = bytes;
      if (type !== null && !hasHeader(headers, 'content-type')) headers.push('content-type', type);
    }
  } else if (EXPECTS_PAYLOAD.has(method)) {
    // Node's fetch sends `Content-Length: 0` for these methods without a body (servers may demand one).
    if (!hasHeader(headers, 'content-length')) headers.push('content-length', '0');
  }
  const hash = url.hash;
  const shown = hash === '' ? url.href : url.href.slice(0, url.href.length - hash.length);
  return { req, url: shown, head: method === 'HEAD', signal, pump };
}
