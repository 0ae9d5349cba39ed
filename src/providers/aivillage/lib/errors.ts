/**
 * AIVillage's typed errors: the seed SDK's error kinds (validation with field details, rate limited
 * with retry-after, server errors) as subclasses of the core classes by status, so
 * `instanceof BadRequestError` / `RateLimitError` / `InternalServerError` keep holding.
 *
 * The body is the spec's `ErrorResponse` (`{ detail, error_code, timestamp, request_id }`;
 * `RateLimitResponse` adds `retry_after`, `limit`, `window_seconds`). Field details are read from
 * what servers put there: FastAPI's `detail: [{ loc, msg, type }]`, a problem+json `validation` array
 * (`[{ location, message, code }]`, the aiwire mock and Prism's 422), and Prism's `sl-violations`
 * header (its 400 answers).
 * Reference: specs/aivillage.openapi.yaml (`ErrorResponse`, `RateLimitResponse`).
 */
import {
  APIError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
  UnprocessableEntityError,
} from '../../../core/errors.js';
import type { ProviderErrorBody } from '../../../core/provider.js';
import type { ErrorResponse, RateLimitResponse } from '../generated/schemas.js';

/** One field the server refused. */
export interface FieldError {
  /** Dotted path of the field in its location, e.g. `user_context.battery_level`; `''`: the whole body. */
  field: string;
  /** Where the field is: `body`, `query`, `path` or `header` (`''` when the server did not say). */
  location: string;
  /** What is wrong with it, as the server wrote it. */
  message: string;
  /** The machine-readable reason (`required`, `enum`, `value_error.missing`, …), when given. */
  code: string | undefined;
}

/** The error fields every AIVillage error body may carry (`ErrorResponse`). */
export interface AIVillageErrorFields {
  /** `error_code` of the body: the machine-readable error code (also in `code`). */
  readonly errorCode: string | undefined;
  /** `detail` of the body when it is text (the human-readable message). */
  readonly detail: string | undefined;
}

/** The fields a validation error adds. */
export interface ValidationDetails extends AIVillageErrorFields {
  /** Every refused field, in the server's order (empty when the server named none). */
  readonly fieldErrors: readonly FieldError[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `['request', 'body', 'user_context', 'battery_level']` → location `body`, field `user_context.battery_level`. */
function fromLocation(loc: unknown, message: string, code: string | undefined): FieldError {
  const parts = Array.isArray(loc) ? loc.map(String) : [];
  if (parts[0] === 'request') parts.shift();
  const location = ['body', 'query', 'path', 'header', 'cookie'].includes(parts[0] ?? '')
    ? (parts.shift() as string)
    : '';
  // a missing property is reported on its parent, named in the message (ajv: "must have required property 'x'")
  const missing = code === 'required' ? /property '([^']+)'/.exec(message)?.[1] : undefined;
  if (missing) parts.push(missing);
  return { field: parts.join('.'), location, message, code };
}

/** The field errors of an error body (and Prism's `sl-violations` header). */
export function fieldErrorsOf(body: unknown, headers: Headers | undefined): FieldError[] {
  const b = (body ?? {}) as { detail?: unknown; validation?: unknown };
  const out: FieldError[] = [];
  if (Array.isArray(b.detail)) {
    for (const d of b.detail as Array<{ loc?: unknown; msg?: unknown; type?: unknown }>)
      out.push(fromLocation(d?.loc, text(d?.msg) ?? '', text(d?.type)));
  }
  const lists: unknown[] = [b.validation];
  const header = headers?.get('sl-violations');
  if (header && !out.length && !Array.isArray(b.validation)) {
    try {
      lists.push(JSON.parse(header));
    } catch {
      // not JSON: no field details from it
    }
  }
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const v of list as Array<{ location?: unknown; message?: unknown; code?: unknown }>)
      out.push(fromLocation(v?.location, text(v?.message) ?? '', text(v?.code)));
  }
  return out;
}

/** Fill in what every AIVillage error carries: `code` from `error_code`, `requestID` from the body. */
function decorate<E extends APIError>(err: E, body: ErrorResponse | undefined): E & AIVillageErrorFields {
  const e = err as E & { code: unknown; requestID: unknown; errorCode: unknown; detail: unknown };
  const errorCode = text(body?.error_code);
  if (errorCode !== undefined) e.code = errorCode;
  e.requestID ??= text(body?.request_id);
  e.errorCode = errorCode;
  e.detail = text(body?.detail);
  return e as E & AIVillageErrorFields;
}

/** The message of a validation error: the body's detail, then each field's complaint. */
function validationMessage(read: ProviderErrorBody, fields: readonly FieldError[]): string | undefined {
  const list = fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ');
  if (!list) return read.message;
  return read.message ? `${read.message} (${list})` : list;
}

/**
 * HTTP 400 from AIVillage: the request did not validate (`fieldErrors` says which fields and why).
 * As the seed's `AIVillageError::ValidationError`. Fix the named fields and send again; retrying
 * unchanged cannot succeed.
 */
export class AIVillageValidationError extends BadRequestError implements ValidationDetails {
  declare readonly errorCode: string | undefined;
  declare readonly detail: string | undefined;
  /** Every refused field, in the server's order. */
  readonly fieldErrors: readonly FieldError[];

  constructor(error: object | undefined, message: string | undefined, headers: Headers) {
    super(400, error, message, headers);
    this.fieldErrors = fieldErrorsOf(error, headers);
  }
}

/**
 * HTTP 422 from AIVillage (FastAPI's answer to a body that does not validate; also Prism's): as
 * {@link AIVillageValidationError}, under the core class of 422.
 */
export class AIVillageUnprocessableEntityError extends UnprocessableEntityError implements ValidationDetails {
  declare readonly errorCode: string | undefined;
  declare readonly detail: string | undefined;
  /** Every refused field, in the server's order. */
  readonly fieldErrors: readonly FieldError[];

  constructor(error: object | undefined, message: string | undefined, headers: Headers) {
    super(422, error, message, headers);
    this.fieldErrors = fieldErrorsOf(error, headers);
  }
}

/** Either validation error (400 or 422): `err.fieldErrors` is there. */
export function isValidationError(
  err: unknown,
): err is AIVillageValidationError | AIVillageUnprocessableEntityError {
  return err instanceof AIVillageValidationError || err instanceof AIVillageUnprocessableEntityError;
}

/**
 * HTTP 429 from AIVillage, after the retries `maxRetries` allows (the engine waits as `retry-after`
 * asks between them). `retryAfterMs`: the `retry-after-ms` / `retry-after` header, else the body's
 * `retry_after` (seconds) in ms. As the seed's `AIVillageError::RateLimitError`.
 */
export class AIVillageRateLimitError extends RateLimitError implements AIVillageErrorFields {
  declare readonly errorCode: string | undefined;
  declare readonly detail: string | undefined;
  /** `limit` of the body: requests allowed per window. */
  readonly limit: number | undefined;
  /** `window_seconds` of the body: the length of the rate-limit window, in seconds. */
  readonly windowSeconds: number | undefined;

  constructor(error: object | undefined, message: string | undefined, headers: Headers) {
    super(429, error, message, headers);
    const b = (error ?? {}) as RateLimitResponse;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
    this.limit = num(b.limit);
    this.windowSeconds = num(b.window_seconds);
    const after = num(b.retry_after);
    if (this.retryAfterMs === undefined && after !== undefined)
      (this as { retryAfterMs: number | undefined }).retryAfterMs = after * 1000;
  }
}

/** HTTP >= 500 from AIVillage (after the retries): `errorCode` and `requestID` from the body when present. */
export class AIVillageServerError extends InternalServerError implements AIVillageErrorFields {
  declare readonly errorCode: string | undefined;
  declare readonly detail: string | undefined;
}

/**
 * `ProviderSpec.statusError` of AIVillage: 400 → {@link AIVillageValidationError}, 422 →
 * {@link AIVillageUnprocessableEntityError}, 429 → {@link AIVillageRateLimitError}, >= 500 →
 * {@link AIVillageServerError}; other statuses the core class, each with `errorCode`, `detail` and
 * the body's `request_id` when the header has none.
 */
export function aivillageStatusError(status: number, read: ProviderErrorBody, headers: Headers): APIError {
  const body = read.error as ErrorResponse | undefined;
  if (status === 400 || status === 422) {
    const fields = fieldErrorsOf(body, headers);
    const message = validationMessage(read, fields);
    const Ctor = status === 400 ? AIVillageValidationError : AIVillageUnprocessableEntityError;
    return decorate(new Ctor(body, message, headers), body);
  }
  if (status === 429) return decorate(new AIVillageRateLimitError(body, read.message, headers), body);
  if (status >= 500) return decorate(new AIVillageServerError(status, body, read.message, headers), body);
  return decorate(APIError.generate(status, body, read.message, headers), body);
}
