/**
 * aiwire, used exactly as openai-node is (same calls, same options).
 * aiwire returns embeddings as sent: for base64 the user decodes the strings (as with a raw client).
 */
import { OpenAI } from '../../dist/index.js';
import {
  API_KEY,
  CHAT_PARAMS,
  checkCount,
  decodeEmbeddings,
  EMBED_BASE64_PARAMS,
  EMBED_FLOAT_PARAMS,
  EXPECTED,
  STREAM_PARAMS,
  useChunk,
  useCompletion,
  useEmbeddings,
} from '../lib/common.mjs';

export const unsupported = { anthropicStream: 'n/a (no Anthropic surface yet)' };

export function setup({ baseURL }) {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  return {
    async chat() {
      return useCompletion(await openai.chat.completions.create(CHAT_PARAMS));
    },
    async openaiStream() {
      const stream = await openai.chat.completions.create(STREAM_PARAMS);
      let count = 0;
      let chars = 0;
      for await (const chunk of stream) {
        chars += useChunk(chunk);
        count++;
      }
      checkCount('chunks', count, EXPECTED.openaiChunks);
      return { items: count, chars };
    },
    async embedFloat() {
      return useEmbeddings(await openai.embeddings.create(EMBED_FLOAT_PARAMS));
    },
    async embedBase64() {
      return useEmbeddings(decodeEmbeddings(await openai.embeddings.create(EMBED_BASE64_PARAMS)));
    },
  };
}
