/**
 * AIVillage's wire conventions as a `ProviderSpec`: errors are the spec's `ErrorResponse`
 * (`{ detail, error_code, timestamp, request_id }`: the whole body is `APIError.error`, `detail` the
 * message when it is text), typed by status in `lib/errors.ts` (validation errors with field details,
 * rate limits with `retryAfterMs`, server errors); request id `x-request-id`, else the body's
 * `request_id`. No operation streams.
 * Reference: specs/aivillage.openapi.yaml
 */
import type { ProviderErrorBody, ProviderSpec } from '../../core/provider.js';
import type { StreamDecoder } from '../../core/streaming.js';
import { aivillageStatusError } from './lib/errors.js';

/** Read an `ErrorResponse` body: the whole body is the error, `detail` (when text) its message. */
export function aivillageErrorBody(body: object): ProviderErrorBody {
  const b = body as { detail?: unknown; title?: unknown };
  const message = typeof b.detail === 'string' ? b.detail : typeof b.title === 'string' ? b.title : undefined;
  return { error: body, message };
}

/** No AIVillage operation streams: events, if ever asked for, pass through as they are. */
const rawEvents: StreamDecoder<never> = { mode: 'event', decode: (event) => event as never };

/** AIVillage's provider spec. */
export const aivillageSpec: ProviderSpec = {
  name: 'AIVillage',
  logEnvVariable: 'AIVILLAGE_LOG',
  requestIdHeaders: ['x-request-id'],
  queryArrayFormat: 'repeat',
  errorBody: aivillageErrorBody,
  statusError: aivillageStatusError,
  streamDecoder: rawEvents,
};
