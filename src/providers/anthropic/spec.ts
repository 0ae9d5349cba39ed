/**
 * Anthropic's wire conventions as a `ProviderSpec`: error envelope `{ type: 'error', error: { type,
 * message } }` (the whole body is `APIError.error`, as @anthropic-ai/sdk; `APIError.type` is
 * `error.type`), request id `request-id`, and stream decoding: every event's data is JSON with its own
 * `type`; `ping` is skipped; an `error` event throws the typed error its `error.type` maps to
 * (`overloaded_error` → 529 → `InternalServerError`, `rate_limit_error` → 429 → `RateLimitError`, …).
 * Reference: https://docs.anthropic.com/en/api/errors, https://docs.anthropic.com/en/api/messages-streaming
 */
import { APIError } from '../../core/errors.js';
import type { ProviderErrorBody, ProviderSpec } from '../../core/provider.js';
import { STREAM_SKIP, type StreamDecoder } from '../../core/streaming.js';

/** HTTP status of each Anthropic error type (https://docs.anthropic.com/en/api/errors). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** The envelope's inner error, when the body is `{ type: 'error', error: { type, message } }`. */
function inner(body: unknown): { type?: unknown; message?: unknown } | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  return error && typeof error === 'object' ? (error as { type?: unknown; message?: unknown }) : undefined;
}

/** Read an Anthropic error body: the whole body is the error; message and type from `error`. */
export function anthropicErrorBody(body: object): ProviderErrorBody {
  const e = inner(body);
  return {
    error: body,
    message: typeof e?.message === 'string' ? e.message : undefined,
    type: typeof e?.type === 'string' ? e.type : undefined,
  };
}

/**
 * Anthropic stream decoding: JSON events, each with its `type`; `ping` dropped; `error` thrown as the
 * typed `APIError` subclass for its `error.type` (its status from `ERROR_STATUS`, else 500).
 */
export const anthropicStreamDecoder: StreamDecoder<never> = {
  mode: 'json',
  decode(value: unknown, eventType: string) {
    const type = (value as { type?: unknown } | null)?.type ?? eventType;
    if (type === 'ping') return STREAM_SKIP;
    if (type === 'error' || eventType === 'error') {
      const read = anthropicErrorBody((value ?? {}) as object);
      const status = (read.type && ERROR_STATUS[read.type]) || 500;
      const err = APIError.generate(status, read.error, read.message, new Headers());
      if (read.type) (err as { type: string | undefined }).type = read.type;
      throw err;
    }
    return value as never;
  },
};

/** Anthropic's provider spec. */
export const anthropicSpec: ProviderSpec = {
  name: 'Anthropic',
  logEnvVariable: 'ANTHROPIC_LOG',
  requestIdHeaders: ['request-id', 'x-request-id'],
  queryArrayFormat: 'brackets',
  errorBody: anthropicErrorBody,
  streamDecoder: anthropicStreamDecoder,
};
