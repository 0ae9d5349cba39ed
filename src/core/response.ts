/**
 * The raw result of one native request, and its conversion to data, `Response` objects and errors.
 */
import type { NativeResult } from '../native/index.js';
import {
  AiwireError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIResponseDecodeError,
  APIUserAbortError,
  CircuitOpenError,
  LocalRateLimitError,
  ProxyAuthenticationError,
} from './errors.js';
import { isSecretHeader } from './logger.js';
import { defaultErrorBody, type ProviderSpec } from './provider.js';

/** Headers as the engine hands them over: `[name, value, name, value, …]`, names lower case. */
export type FlatHeaders = string[];

/**
 * Build a WHATWG `Headers` from the engine's flat list (repeated names are appended). With `redact`,
 * values of credential headers (authorization, api-key, x-api-key, cookies, …) become `***`: error
 * objects are logged and serialised, so they never carry a secret a server echoed back.
 */
export function toHeaders(flat: FlatHeaders, redact = false): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    h.append(name, redact && isSecretHeader(name) ? '***' : (flat[i + 1] as string));
  }
  return h;
}

/** Look one header up in a flat list without building `Headers` (name must be lower case). */
export function flatHeader(flat: FlatHeaders, name: string): string | null {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1] as string;
  return null;
}

/** The first bytes of a body, for error messages about bodies that are not what was expected. */
function preview(body: string | Uint8Array | null | undefined): string {
  if (!body || body.length === 0) return '(empty body)';
  // The engine's bytes are a Buffer (typed as Uint8Array in NativeResult).
  const text =
    typeof body === 'string' ? body.slice(0, 200) : (body as Buffer).subarray(0, 200).toString('utf8');
  return JSON.stringify(body.length > 200 ? `${text}…` : text);
}

/** A body as text (UTF-8). */
function bodyText(body: string | Uint8Array | null | undefined): string {
  if (!body) return '';
  return typeof body === 'string' ? body : (body as Buffer).toString('utf8');
}

/**
 * The typed error for a failed native response, by the engine's `errorKind`:
 * `status` → `APIError.generate` (status subclasses), `timeout` → `APIConnectionTimeoutError`,
 * `aborted` → `APIUserAbortError`, `decode` → `APIResponseDecodeError`, `invalid_request` →
 * `AiwireError`, `circuit_open` → `CircuitOpenError`, `rate_limited_locally` → `LocalRateLimitError`
 * (both with `retryAfterMs`, handed over as a `retry-after-ms` header), anything else →
 * `APIConnectionError`. A JSON error body is read by the provider's
 * `spec.errorBody` (default: the whole body is the error); `spec.statusError` may pick a provider's
 * own subclass.
 */
export function errorFromNative(
  res: NativeResult,
  spec?: Pick<ProviderSpec, 'errorBody' | 'statusError'>,
): AiwireError {
  switch (res.errorKind) {
    case 'status': {
      if (res.status === 407) {
        return withCode(
          new ProxyAuthenticationError({ message: PROXY_AUTH_MESSAGE }),
          'ERR_PROXY_AUTH',
          PROXY_AUTH_MESSAGE,
        );
      }
      const headers = toHeaders(res.headers, true);
      const text = bodyText(res.body);
      let json: object | undefined;
      try {
        const parsed: unknown = text ? JSON.parse(text) : undefined;
        if (parsed && typeof parsed === 'object') json = parsed;
      } catch {
        json = undefined;
      }
      if (!json) {
        const own = spec?.statusError?.(
          res.status,
          { error: undefined, message: text || undefined },
          headers,
        );
        return own ?? APIError.generate(res.status, undefined, text || undefined, headers);
      }
      const read = spec?.errorBody ? spec.errorBody(json, res.status) : defaultErrorBody(json);
      const err =
        spec?.statusError?.(res.status, read, headers) ??
        APIError.generate(res.status, read.error, read.message, headers);
      if (read.type !== undefined) (err as { type: string | undefined }).type = read.type;
      return err;
    }
    case 'timeout':
      return withCode(
        new APIConnectionTimeoutError({ message: `Request timed out: ${res.errorMessage ?? ''}`.trim() }),
        res.errorCode,
        res.errorMessage,
      );
    case 'aborted':
      return new APIUserAbortError();
    case 'decode':
      return new APIResponseDecodeError(
        res.status || undefined,
        `Could not decode the response: ${res.errorMessage ?? 'unknown'}`,
        res.status ? toHeaders(res.headers, true) : undefined,
      );
    case 'invalid_request':
      return new AiwireError(`Invalid request: ${res.errorMessage ?? 'unknown'}`);
    case 'circuit_open':
      return new CircuitOpenError({
        message: `Circuit open: ${res.errorMessage ?? ''}`.trim(),
        retryAfterMs: Number(flatHeader(res.headers, 'retry-after-ms') ?? 0),
      });
    case 'rate_limited_locally':
      return new LocalRateLimitError({
        message: `Rate limited locally: ${res.errorMessage ?? ''}`.trim(),
        retryAfterMs: Number(flatHeader(res.headers, 'retry-after-ms') ?? 0),
      });
    default: {
      const message = `Connection error: ${res.errorMessage ?? 'unknown'}`;
      const err =
        res.errorCode === 'ERR_PROXY_AUTH'
          ? new ProxyAuthenticationError({ message })
          : new APIConnectionError({ message });
      return withCode(err, res.errorCode, res.errorMessage);
    }
  }
}

const PROXY_AUTH_MESSAGE =
  'Connection error: the proxy refused the credentials (407 Proxy Authentication Required): check the user and password in the proxy URL (the `proxy` option or HTTPS_PROXY / HTTP_PROXY / ALL_PROXY)';

/**
 * Give a connection error the engine's stable `code` (Node's names: `ECONNREFUSED`,
 * `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, …) and a `cause`: an `Error` with the engine's message and the
 * same `code`, as Node's own network errors carry one.
 */
function withCode<E extends APIConnectionError>(
  err: E,
  code: string | undefined,
  message: string | null | undefined,
): E {
  if (code) {
    (err as { code: string | null | undefined }).code = code;
    err.cause = Object.assign(new Error(message ?? code), { code });
  }
  return err;
}

/**
 * Parse a 2xx body as JSON.
 * @throws APIResponseDecodeError with the status and the first 200 bytes when the body is not JSON.
 */
export function parseJSONBody(res: NativeResult): unknown {
  const body = res.body;
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(bodyText(body));
  } catch (e) {
    throw new APIResponseDecodeError(
      res.status,
      `Expected a JSON body (status ${res.status}), got ${preview(body)}: ${(e as Error).message}`,
      toHeaders(res.headers, true),
    );
  }
}

/** A WHATWG `Response` for `asResponse()` / `withResponse()`; `body` may be bytes (a Buffer) or a stream. */
export function toResponse(
  res: NativeResult,
  body: string | Uint8Array | ReadableStream<Uint8Array> | null | undefined = res.body,
): Response {
  const nullBody = res.status === 204 || res.status === 205 || res.status === 304;
  return new Response(nullBody ? null : ((body ?? null) as BodyInit | null), {
    status: res.status,
    headers: toHeaders(res.headers),
  });
}
