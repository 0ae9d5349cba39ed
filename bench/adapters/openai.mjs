/**
 * openai-node, the reference: the same calls as the aiwire adapter. For base64 it makes its default
 * call (no `encoding_format`): it asks for base64 and decodes the vectors to number arrays itself.
 */
import OpenAI from 'openai';
import {
  API_KEY,
  CHAT_PARAMS,
  checkCount,
  EMBED_DEFAULT_PARAMS,
  EMBED_FLOAT_PARAMS,
  EXPECTED,
  STREAM_PARAMS,
  useChunk,
  useCompletion,
  useEmbeddings,
} from '../lib/common.mjs';

export const unsupported = { anthropicStream: 'n/a (see @anthropic-ai/sdk)' };

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
      return useEmbeddings(await openai.embeddings.create(EMBED_DEFAULT_PARAMS));
    },
  };
}
