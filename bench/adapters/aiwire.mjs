/**
 * aiwire, used exactly as openai-node is (same calls, same options), and its `Anthropic` client exactly
 * as @anthropic-ai/sdk is (`messages.create(...)`, with and without `stream: true`).
 * aiwire returns embeddings as sent: for base64 the user decodes the strings (as with a raw client).
 * Uploads pass an `fs.createReadStream(path)`: aiwire sends it by path (the engine streams the file).
 */
import { createReadStream } from 'node:fs';
import { Anthropic } from '../../dist/anthropic.js';
import { OpenAI } from '../../dist/index.js';
import {
  ANTHROPIC_MESSAGE_PARAMS,
  ANTHROPIC_PARAMS,
  API_KEY,
  CHAT_PARAMS,
  checkCount,
  decodeEmbeddings,
  drainResponse,
  EMBED_BASE64_PARAMS,
  EMBED_FLOAT_PARAMS,
  EXPECTED,
  STREAM_PARAMS,
  TRANSFER_FILE_ID,
  useAnthropicEvent,
  useChunk,
  useCompletion,
  useEmbeddings,
  useFileObject,
  useMessage,
  useStreamHelper,
} from '../lib/common.mjs';

export const unsupported = {};

/**
 * `files.content()` resolves to a streamed `Response` (as openai-node's). Where the generated method
 * still reads the body as JSON (the spec types downloadFile's 200 as a JSON string; aiwire at 060a6a2),
 * `binaryResponse: true` asks for the same `Response`; it is a no-op once the method sets it itself.
 */
const BINARY = { binaryResponse: true };

export function setup({ baseURL, file }) {
  const openai = new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  return {
    async anthropicMessage() {
      return useMessage(await anthropic.messages.create(ANTHROPIC_MESSAGE_PARAMS));
    },
    async anthropicStream() {
      const stream = await anthropic.messages.create(ANTHROPIC_PARAMS);
      let count = 0;
      let chars = 0;
      for await (const event of stream) {
        chars += useAnthropicEvent(event);
        count++;
      }
      checkCount('events', count, EXPECTED.anthropicEvents);
      return { items: count, chars };
    },
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
      return useEmbeddings(decodeEmbeddings(await openai.embeddings.create(EMBED_BASE64_PARAMS)));
    },
    async upload() {
      return useFileObject(await openai.files.create({ file: createReadStream(file), purpose: 'batch' }));
    },
    async download() {
      return drainResponse(await openai.files.content(TRANSFER_FILE_ID, BINARY));
    },
  };
}
