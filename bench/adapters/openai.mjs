/**
 * openai-node, the reference: the same calls as the aiwire adapter. For base64 it makes its default
 * call (no `encoding_format`): it asks for base64 and decodes the vectors to number arrays itself.
 * Uploads pass an `fs.createReadStream(path)` (openai-node reads it into a Blob, then sends a FormData);
 * `files.content()` resolves to fetch's `Response`.
 */
import { createReadStream } from 'node:fs';
import OpenAI from 'openai';
import {
  API_KEY,
  CHAT_PARAMS,
  checkCount,
  drainResponse,
  EMBED_DEFAULT_PARAMS,
  EMBED_FLOAT_PARAMS,
  EXPECTED,
  STREAM_PARAMS,
  TRANSFER_FILE_ID,
  useChunk,
  useCompletion,
  useEmbeddings,
  useFileObject,
  useStreamHelper,
} from '../lib/common.mjs';

export const unsupported = {
  anthropicMessage: 'n/a (see @anthropic-ai/sdk)',
  anthropicStream: 'n/a (see @anthropic-ai/sdk)',
};

export function setup({ baseURL, file }) {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  return {
    async chat() {
      return useCompletion(await openai.chat.completions.create(CHAT_PARAMS));
    },
    /** A client per request (serverless handlers): a new client, one call, the client dropped. */
    async chatClientPerRequest() {
      const client = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
      return useCompletion(await client.chat.completions.create(CHAT_PARAMS));
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
    async chatStreamHelper() {
      return useStreamHelper(openai.chat.completions.stream(STREAM_PARAMS));
    },
    async embedFloat() {
      return useEmbeddings(await openai.embeddings.create(EMBED_FLOAT_PARAMS));
    },
    async embedBase64() {
      return useEmbeddings(await openai.embeddings.create(EMBED_DEFAULT_PARAMS));
    },
    async upload() {
      return useFileObject(await openai.files.create({ file: createReadStream(file), purpose: 'batch' }));
    },
    async download() {
      return drainResponse(await openai.files.content(TRANSFER_FILE_ID));
    },
  };
}
