/**
 * openai-node, unchanged, with aiwire's fetch plugged in (`new OpenAI({ fetch })` from `aiwire/fetch`):
 * the same calls as the `openai` adapter, so the two differ only in the transport under the SDK. The
 * SDK's own work (request building, retries, JSON parsing, SSE decoding) is the same in both.
 */
import OpenAI from 'openai';
import { fetch } from '../../dist/fetch.js';
import { API_KEY, CHAT_PARAMS, useCompletion } from '../lib/common.mjs';

const WHY = 'n/a (the aiwire/fetch scenario is non-streaming chat)';

export const unsupported = {
  openaiStream: WHY,
  anthropicMessage: WHY,
  anthropicStream: WHY,
  embedFloat: WHY,
  embedBase64: WHY,
  upload: WHY,
  download: WHY,
};

export function setup({ baseURL }) {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0, fetch });
  return {
    async chat() {
      return useCompletion(await openai.chat.completions.create(CHAT_PARAMS));
    },
  };
}
