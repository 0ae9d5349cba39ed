/**
 * Raw undici `request()` on a keep-alive Agent with one connection per concurrent request;
 * streams through eventsource-parser, each event's data parsed with JSON.parse.
 * Uploads: undici's FormData whose file is `fs.openAsBlob(path)` (a Blob backed by the file on disk,
 * streamed as it is sent); downloads: the body's chunks counted to the end.
 */
import { openAsBlob } from 'node:fs';
import { createParser } from 'eventsource-parser';
import { Agent, FormData, request } from 'undici';
import {
  ANTHROPIC_HEADERS,
  ANTHROPIC_MESSAGE_PARAMS,
  ANTHROPIC_PARAMS,
  CHAT_PARAMS,
  checkBytes,
  checkCount,
  decodeEmbeddings,
  EMBED_BASE64_PARAMS,
  EMBED_FLOAT_PARAMS,
  EXPECTED,
  OPENAI_HEADERS,
  STREAM_PARAMS,
  TRANSFER_FILE_ID,
  TRANSFER_FILE_NAME,
  useAnthropicEvent,
  useChunk,
  useCompletion,
  useEmbeddings,
  useFileObject,
  useMessage,
} from '../lib/common.mjs';

export const unsupported = {};

export function setup({ baseURL, concurrency, file }) {
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });

  async function post(path, params, headers) {
    const res = await request(`${baseURL}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(params),
      dispatcher,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    return res.body;
  }

  async function sse(body, onEvent) {
    const parser = createParser({ onEvent });
    const decoder = new TextDecoder();
    for await (const buf of body) parser.feed(decoder.decode(buf, { stream: true }));
  }

  return {
    async chat() {
      return useCompletion(await (await post('/chat/completions', CHAT_PARAMS, OPENAI_HEADERS)).json());
    },
    async openaiStream() {
      let count = 0;
      let chars = 0;
      await sse(await post('/chat/completions', STREAM_PARAMS, OPENAI_HEADERS), (event) => {
        if (event.data === '[DONE]') return;
        chars += useChunk(JSON.parse(event.data));
        count++;
      });
      checkCount('chunks', count, EXPECTED.openaiChunks);
      return { items: count, chars };
    },
    async anthropicMessage() {
      return useMessage(
        await (await post('/v1/messages', ANTHROPIC_MESSAGE_PARAMS, ANTHROPIC_HEADERS)).json(),
      );
    },
    async anthropicStream() {
      let count = 0;
      let chars = 0;
      await sse(await post('/v1/messages', ANTHROPIC_PARAMS, ANTHROPIC_HEADERS), (event) => {
        if (event.event === 'ping') return;
        chars += useAnthropicEvent(JSON.parse(event.data));
        count++;
      });
      checkCount('events', count, EXPECTED.anthropicEvents);
      return { items: count, chars };
    },
    async embedFloat() {
      return useEmbeddings(await (await post('/embeddings', EMBED_FLOAT_PARAMS, OPENAI_HEADERS)).json());
    },
    async embedBase64() {
      const body = await post('/embeddings', EMBED_BASE64_PARAMS, OPENAI_HEADERS);
      return useEmbeddings(decodeEmbeddings(await body.json()));
    },
    async upload() {
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', await openAsBlob(file), TRANSFER_FILE_NAME);
      const res = await request(`${baseURL}/files`, {
        method: 'POST',
        headers: { authorization: OPENAI_HEADERS.authorization },
        body: form,
        dispatcher,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`HTTP ${res.statusCode}`);
      }
      return useFileObject(await res.body.json());
    },
    async download() {
      const res = await request(`${baseURL}/files/${TRANSFER_FILE_ID}/content`, {
        headers: { authorization: OPENAI_HEADERS.authorization },
        dispatcher,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`HTTP ${res.statusCode}`);
      }
      let bytes = 0;
      for await (const buf of res.body) bytes += buf.length;
      return checkBytes(bytes);
    },
  };
}
