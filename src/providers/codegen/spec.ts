/**
 * Codegen's wire conventions as a `ProviderSpec`. Codegen's API is FastAPI: a validation failure is a
 * 422 `{ detail: [{ loc, msg, type }] }`, other errors `{ detail: "<text>" }` or Codegen's own
 * `{ message, status_code }` (403, 404, 402, 429). The whole body is `APIError.error` (so
 * `UnprocessableEntityError.error.detail` holds the server's validation detail); the message is the
 * detail text, the validation entries as `loc: msg`, or `message`. Request id `x-request-id` when
 * present; query arrays repeated (`a=1&a=2`, as FastAPI reads them). No streams.
 * Reference: https://docs.codegen.com/api-reference (specs/codegen.openapi.json).
 */
import type { ProviderErrorBody, ProviderSpec } from '../../core/provider.js';
import type { StreamDecoder } from '../../core/streaming.js';

/** One entry of FastAPI's validation detail (`HTTPValidationError.detail[]`). */
interface ValidationEntry {
  loc?: unknown;
  msg?: unknown;
}

/** `loc: msg` for each validation entry (`body.prompt: Field required`), joined with `; `. */
function validationText(detail: readonly unknown[]): string | undefined {
  const parts: string[] = [];
  for (const d of detail) {
    if (!d || typeof d !== 'object') continue;
    const { loc, msg } = d as ValidationEntry;
    if (typeof msg !== 'string') continue;
    parts.push(Array.isArray(loc) && loc.length ? `${loc.join('.')}: ${msg}` : msg);
  }
  return parts.length ? parts.join('; ') : undefined;
}

/** Read a Codegen (FastAPI) error body: the whole body is the error; see the file's header for the message. */
export function codegenErrorBody(body: object): ProviderErrorBody {
  const b = body as { detail?: unknown; message?: unknown };
  let message: string | undefined;
  if (typeof b.detail === 'string') message = b.detail;
  else if (Array.isArray(b.detail)) message = validationText(b.detail);
  if (message === undefined && typeof b.message === 'string') message = b.message;
  return { error: body, message };
}

/** Codegen has no streaming operation; events would pass through as they are. */
const rawEvents: StreamDecoder<never> = { mode: 'event', decode: (event) => event as never };

/** Codegen's provider spec (log variable `CODEGEN_LOG`; env prefix `CODEGEN_`). */
export const codegenSpec: ProviderSpec = {
  name: 'Codegen',
  logEnvVariable: 'CODEGEN_LOG',
  requestIdHeaders: ['x-request-id'],
  queryArrayFormat: 'repeat',
  errorBody: codegenErrorBody,
  streamDecoder: rawEvents,
};
