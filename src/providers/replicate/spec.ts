/**
 * Replicate's wire conventions as a `ProviderSpec`: errors are `application/problem+json`
 * (`{ title, detail, status }`; the whole body is `APIError.error`, `detail` the message), request id
 * `x-request-id` when present, query arrays repeated (`a=1&a=2`). Prediction streams are not JSON
 * events (`output`, `logs`, `done`, `error` with text data): they are read with their own decoder
 * (`lib/stream.ts`), so the default here passes events through.
 * Reference: https://replicate.com/docs/reference/http
 */
import type { ProviderErrorBody, ProviderSpec } from '../../core/provider.js';
import type { StreamDecoder } from '../../core/streaming.js';

/** Read a problem+json (or `{ detail }`) body: the whole body is the error, `detail` its message. */
export function replicateErrorBody(body: object): ProviderErrorBody {
  const b = body as { detail?: unknown; title?: unknown };
  const message = typeof b.detail === 'string' ? b.detail : typeof b.title === 'string' ? b.title : undefined;
  return { error: body, message };
}

/** Raw server-sent events, one item each (`{ event, data, id }`). */
const rawEvents: StreamDecoder<never> = { mode: 'event', decode: (event) => event as never };

/** Replicate's provider spec. */
export const replicateSpec: ProviderSpec = {
  name: 'Replicate',
  logEnvVariable: 'REPLICATE_LOG',
  requestIdHeaders: ['x-request-id'],
  queryArrayFormat: 'repeat',
  errorBody: replicateErrorBody,
  streamDecoder: rawEvents,
};
