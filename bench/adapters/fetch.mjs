/**
 * Node's built-in fetch: `fetch(...).then((r) => r.json())`; streams read from `res.body` through a
 * TextDecoder into eventsource-parser, each event's data parsed with JSON.parse.
 * Uploads: a FormData whose file is `fs.openAsBlob(path)` (a Blob backed by the file on disk, streamed
 * as it is sent); downloads: `res.body` read to the end.
 */
import { openAsBlob } from 'node:fs';
import { createParser } from 'eventsource-parser';
import {
  ANTHROPIC_HEADERS,
  ANTHROPIC_MESSAGE_PARAMS,
  ANTHROPIC_PARAMS,
  CHAT_PARAMS,
  checkCount,
  decodeEmbeddings,
  drainResponse,
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

export function setup({ baseURL, file }) {
  async function post(path, params, headers) {
    const res = await fetch(`${baseURL}${path}`, { method: 'POST', headers, body: JSON.stringify(params) });
    if (res.status !== 200) {
      await res.arrayBuffer();
      throw new Error(`HTTP ${res.status}`);
    }
    return res;
  }

  async function sse(res, onEvent) {
    const parser = createParser({ onEvent });
    const decoder = new TextDecoder();
    for await (const buf of res.body) parser.feed(decoder.decode(buf, { stream: true }));
  }

  return {
    async chat() {
      return useCompletion(
        await post('/chat/completions', CHAT_PARAMS, OPENAI_HEADERS).then((r) => r.json()),
      );
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
        await post('/v1/messages', ANTHROPIC_MESSAGE_PARAMS, ANTHROPIC_HEADERS).then((r) => r.json()),
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
      return useEmbeddings(
        await post('/embeddings', EMBED_FLOAT_PARAMS, OPENAI_HEADERS).then((r) => r.json()),
      );
    },
    async embedBase64() {
      const res = await post('/embeddings', EMBED_BASE64_PARAMS, OPENAI_HEADERS);
      return useEmbeddings(decodeEmbeddings(await res.json()));
    },
    async upload() {
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', await openAsBlob(file), TRANSFER_FILE_NAME);
      const res = await fetch(`${baseURL}/files`, {
        method: 'POST',
        headers: { authorization: OPENAI_HEADERS.authorization },
        body: form,
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return useFileObject(await res.json());
    },
    async download() {
      return drainResponse(
        await fetch(`${baseURL}/files/${TRANSFER_FILE_ID}/content`, {
          headers: { authorization: OPENAI_HEADERS.authorization },
        }),
      );
    },
  };
}
