/**
 * Error classes, named and shaped as in openai-node / @anthropic-ai/sdk so `instanceof` checks port
 * unchanged. Built from the engine's stable error kind and the response; never from message text.
 */

/** Base class of every error aiwire throws. */
export class AiwireError extends Error {}

/**
 * An error answered by the API (`status` set) or raised for a request that got no answer
 * (`status` undefined: see the connection subclasses).
 *
 * - `status`: HTTP status, e.g. 429.
 * - `headers`: response headers.
 * - `error`: the error object from the body, as the provider reads its envelope (OpenAI and Anthropic:
 *   the body's `error` field; Replicate: the problem+json body), or the raw body.
 * - `requestID`: the `x-request-id` (or `request-id`) response header.
 */
export class APIError<
  TStatus extends number | undefined = number | undefined,
  THeaders extends Headers | undefined = Headers | undefined,
  TError extends object | undefined = object | undefined,
> extends AiwireError {
  /** HTTP status of the response, or undefined when there was none. */
  readonly status: TStatus;
  /** Response headers, or undefined when there was no response. */
  readonly headers: THeaders;
  /** The error object from the body (JSON), if any. */
  readonly error: TError;
  /** The provider's request id (`x-request-id` / `request-id` header). */
  readonly requestID: string | null | undefined;
  /** `code`, `param` and `type` fields of `error`, when present (OpenAI and Anthropic set `type`). */
  readonly code: string | null | undefined;
  readonly param: string | null | undefined;
  readonly type: string | undefined;

  constructor(status: TStatus, error: TError, message: string | undefined, headers: THeaders) {
    super(APIError.makeMessage(status, error, message));
    this.name = new.target.name;
    this.status = status;
    this.headers = headers;
    this.requestID = headers?.get('x-request-id') ?? headers?.get('request-id');
    this.error = error;
    const data = error as Record<string, unknown> | undefined;
    this.code = typeof data?.code === 'string' ? data.code : (data?.code as null | undefined);
    this.param = typeof data?.param === 'string' ? data.param : (data?.param as null | undefined);
    this.type = typeof data?.type === 'string' ? data.type : undefined;
  }

  private static makeMessage(
    status: number | undefined,
    error: unknown,
    message: string | undefined,
  ): string {
    const e = error as { message?: unknown } | undefined;
    const msg = e?.message
      ? typeof e.message === 'string'
        ? e.message
        : JSON.stringify(e.message)
      : (message ?? (error ? JSON.stringify(error) : undefined));
    if (status && msg) return `${status} ${msg}`;
    if (status) return `${status} status code (no body)`;
    if (msg) return msg;
    return '(no status code or body)';
  }

  /**
   * The error subclass for an HTTP status: 400 BadRequestError, 401 AuthenticationError,
   * 403 PermissionDeniedError, 404 NotFoundError, 409 ConflictError, 422 UnprocessableEntityError,
   * 429 RateLimitError, >= 500 InternalServerError, other statuses APIError.
   *
   * @param error the error object as the provider's spec extracted it from the body (OpenAI's
   *   `body.error`, Anthropic's `body.error`, Replicate's problem+json body), or undefined.
   * @param message the message when the body had no JSON error (e.g. a plain-text body).
   */
  static generate(
    status: number | undefined,
    error: object | undefined,
    message: string | undefined,
    headers: Headers | undefined,
  ): APIError {
    if (!status || !headers) return new APIConnectionError({ message });
    switch (status) {
      case 400:
        return new BadRequestError(status, error, message, headers);
      case 401:
        return new AuthenticationError(status, error, message, headers);
      case 403:
        return new PermissionDeniedError(status, error, message, headers);
      case 404:
        return new NotFoundError(status, error, message, headers);
      case 409:
        return new ConflictError(status, error, message, headers);
      case 422:
        return new UnprocessableEntityError(status, error, message, headers);
      case 429:
        return new RateLimitError(status, error, message, headers);
      default:
        if (status >= 500) return new InternalServerError(status, error, message, headers);
        return new APIError(status, error, message, headers);
    }
  }
}

/** The request was aborted by the caller (AbortSignal or leaving a stream loop early). */
export class APIUserAbortError extends APIError<undefined, undefined, undefined> {
  constructor({ message }: { message?: string } = {}) {
    super(undefined, undefined, message || 'Request was aborted.', undefined);
  }
}

/** No usable response: refused, reset, TLS failure, or a body cut off mid-way. `cause` may say more. */
export class APIConnectionError extends APIError<undefined, undefined, undefined> {
  constructor({ message, cause }: { message?: string | undefined; cause?: Error | undefined }) {
    super(undefined, undefined, message || 'Connection error.', undefined);
    if (cause) this.cause = cause;
  }
}

/** An attempt ran past its timeout (`timeout` option, ms) or the connect timeout. */
export class APIConnectionTimeoutError extends APIConnectionError {
  constructor({ message }: { message?: string } = {}) {
    super({ message: message ?? 'Request timed out.' });
  }
}

/** HTTP 400. */
export class BadRequestError extends APIError<400, Headers> {}
/** HTTP 401: the API key is missing or wrong. */
export class AuthenticationError extends APIError<401, Headers> {}
/** HTTP 403. */
export class PermissionDeniedError extends APIError<403, Headers> {}
/** HTTP 404. */
export class NotFoundError extends APIError<404, Headers> {}
/** HTTP 409. */
export class ConflictError extends APIError<409, Headers> {}
/** HTTP 422: the request body did not validate. */
export class UnprocessableEntityError extends APIError<422, Headers> {}
/**
 * HTTP 429: rate limited (after the retries allowed by `maxRetries`). `headers` holds every response
 * header, the rate-limit ones included (`x-ratelimit-*`, `anthropic-ratelimit-*`, `retry-after`).
 */
export class RateLimitError extends APIError<429, Headers> {
  /**
   * How long the server asked to wait (ms), from `retry-after-ms`, else `retry-after` (seconds or an
   * HTTP date); undefined when it said nothing usable.
   */
  readonly retryAfterMs: number | undefined;

  constructor(status: 429, error: object | undefined, message: string | undefined, headers: Headers) {
    super(status, error, message, headers);
    this.retryAfterMs = retryAfterMs(headers);
  }
}

/** The wait a response's `retry-after-ms` / `retry-after` asks for, in ms (undefined: none or unreadable). */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers?.get('retry-after')?.trim();
  if (!after) return undefined;
  const secs = Number(after);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
/** HTTP >= 500. */
export class InternalServerError extends APIError<number, Headers> {}

/**
 * The proxy refused the credentials (`407 Proxy Authentication Required`), on the CONNECT of an https
 * request or as the answer to an http one. `code` is `ERR_PROXY_AUTH`. Fix the user and password in
 * the proxy URL (the `proxy` option, or `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`).
 */
export class ProxyAuthenticationError extends APIConnectionError {}

/**
 * The circuit breaker of the request's origin is open (the `circuitBreaker` client option): recent
 * calls failed `failureThreshold` times in a row, so this one was not sent. `retryAfterMs`: when the
 * breaker lets a probe through. `code` is `ERR_CIRCUIT_OPEN`. A connection error, as the origin is
 * deemed unreachable.
 */
export class CircuitOpenError extends APIConnectionError {
  /** Time until the breaker lets a probe call through (ms). */
  readonly retryAfterMs: number;
  override readonly code = 'ERR_CIRCUIT_OPEN';

  constructor({ message, retryAfterMs }: { message?: string | undefined; retryAfterMs: number }) {
    super({ message: message ?? 'Circuit breaker open.' });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The client's own rate limit (the `rateLimit` client option) would have made this call wait longer
 * than `maxQueueMs`, so it was not sent (no HTTP 429 happened: see `RateLimitError` for those).
 * `retryAfterMs`: the wait it would have had. `code` is `ERR_LOCAL_RATE_LIMIT`.
 */
export class LocalRateLimitError extends APIError<undefined, undefined, undefined> {
  /** The wait the call would have had for its turn (ms). */
  readonly retryAfterMs: number;
  override readonly code = 'ERR_LOCAL_RATE_LIMIT';

  constructor({ message, retryAfterMs }: { message?: string | undefined; retryAfterMs: number }) {
    super(undefined, undefined, message ?? 'Client-side rate limit: queue too long.', undefined);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The response could not be decoded (corrupt compression, a body that is not the JSON expected, an SSE event over `maxEventBytes`). */
export class APIResponseDecodeError extends APIError<number | undefined, Headers | undefined, undefined> {
  constructor(status: number | undefined, message: string, headers: Headers | undefined) {
    super(status, undefined, message, headers);
  }
}

/**
 * A webhook's signature did not verify: missing or malformed `webhook-*` headers, a timestamp outside
 * the tolerance (default 300 s), or no signature matching the payload and secret.
 */
export class InvalidWebhookSignatureError extends AiwireError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWebhookSignatureError';
  }
}
