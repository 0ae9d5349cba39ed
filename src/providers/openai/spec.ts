/**
 * OpenAI's wire conventions as a `ProviderSpec`: error envelope `{ error: { message, type, param,
 * code } }`, request id `x-request-id`, query arrays as `key[]=…`, and stream decoding (JSON events,
 * `[DONE]` ends the stream, an `error` event or a chunk with an `error` field throws `APIError`).
 * Shared by `OpenAI` and `AzureOpenAI`.
 */
import { APIError } from '../../core/errors.js';
import type { ProviderSpec } from '../../core/provider.js';
import type { StreamDecoder } from '../../core/streaming.js';

/**
 * OpenAI stream decoding: event data is JSON; `[DONE]` ends the stream (recognised in the engine); an
 * `error` event, or a chunk with an `error` field, throws `APIError` (as openai-node does).
 */
export const openAIStreamDecoder: StreamDecoder<never> = {
  mode: 'json',
  done: '[DONE]',
  decode(value: unknown, eventType: string): never {
    const error = (value as { error?: object } | null)?.error;
    if (eventType === 'error' || error) {
      throw new APIError(undefined, error ?? (value as object), undefined, undefined);
    }
    return value as never;
  },
};

/** OpenAI's provider spec (https://platform.openai.com/docs/api-reference). */
export const openAISpec: ProviderSpec = {
  name: 'OpenAI',
  logEnvVariable: 'OPENAI_LOG',
  requestIdHeaders: ['x-request-id'],
  queryArrayFormat: 'brackets',
  errorBody(body) {
    const error = (body as { error?: unknown }).error;
    if (error && typeof error === 'object') return { error };
    return { error: body };
  },
  streamDecoder: openAIStreamDecoder,
};
