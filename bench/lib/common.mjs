/**
 * What every adapter shares: the request parameters (the same for every client), the counts and values
 * a correct client must deliver, and the user-side work done on each result (read every delta, index
 * every vector element), which is identical across clients.
 */
import {
  ANTHROPIC_EVENTS,
  EMBED_DIMS,
  EMBED_VECTORS,
  expectedFirstValue,
  STREAM_CHUNKS,
  TRANSFER_BYTES,
  TRANSFER_FILE_ID,
  TRANSFER_FILE_NAME,
} from './bodies.mjs';

export const API_KEY = 'bench';

export const CHAT_PARAMS = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a concise assistant that answers questions about HTTP clients.' },
    {
      role: 'user',
      content:
        'Explain in one paragraph why a connection pool matters for a service that sends thousands of ' +
        'requests per second to a model API, and what happens to latency when it is too small.',
    },
  ],
  temperature: 0.2,
  max_completion_tokens: 256,
};

export const STREAM_PARAMS = { ...CHAT_PARAMS, stream: true };

/** The non-streaming Anthropic request (what nginx serves under /anthropic-json/). */
export const ANTHROPIC_MESSAGE_PARAMS = {
  model: 'claude-sonnet-5-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: CHAT_PARAMS.messages[1].content }],
};

/** The same request, streamed (what nginx serves under /anthropic/). */
export const ANTHROPIC_PARAMS = { ...ANTHROPIC_MESSAGE_PARAMS, stream: true };

const EMBED_INPUT = Array.from(
  { length: EMBED_VECTORS },
  (_, i) => `document ${i}: connection pools, retries and server-sent events in a Node.js client`,
);

/** Float JSON on the wire (what nginx serves under /float/). */
export const EMBED_FLOAT_PARAMS = {
  model: 'text-embedding-3-small',
  input: EMBED_INPUT,
  encoding_format: 'float',
};
/** base64 on the wire (what nginx serves under /b64/). */
export const EMBED_BASE64_PARAMS = {
  model: 'text-embedding-3-small',
  input: EMBED_INPUT,
  encoding_format: 'base64',
};
/** openai-node's default call: no `encoding_format`, so it asks for base64 and decodes it to numbers itself. */
export const EMBED_DEFAULT_PARAMS = { model: 'text-embedding-3-small', input: EMBED_INPUT };

export const EXPECTED = {
  openaiChunks: STREAM_CHUNKS,
  anthropicEvents: ANTHROPIC_EVENTS,
  vectors: EMBED_VECTORS,
  dims: EMBED_DIMS,
  firstValue: expectedFirstValue(),
};

/** JSON headers of an OpenAI-style request made by hand (undici, fetch). */
export const OPENAI_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
/** JSON headers of an Anthropic request made by hand. */
export const ANTHROPIC_HEADERS = {
  'content-type': 'application/json',
  'x-api-key': API_KEY,
  'anthropic-version': '2023-06-01',
};

/** Checks a chat completion as a user would read it. */
export function useCompletion(completion) {
  const text = completion.choices[0].message.content;
  if (typeof text !== 'string' || text.length < 100) throw new Error('chat completion without content');
  return text.length;
}

/** Checks an Anthropic `message` as a user would read it (its first text block). */
export function useMessage(message) {
  const text = message.content[0]?.text;
  if (typeof text !== 'string' || text.length < 100) throw new Error('message without text content');
  return text.length;
}

/** One parsed OpenAI chunk, as a user's loop reads it; returns the delta's length. */
export function useChunk(chunk) {
  const content = chunk.choices[0]?.delta?.content;
  return content ? content.length : 0;
}

/**
 * A `ChatCompletionStream` as a user reads it: a `content` listener adds up the deltas' lengths, then
 * `finalChatCompletion()`; checks the chunk count (one `chunk` event each) and that the final content
 * is every delta joined.
 */
export async function useStreamHelper(stream) {
  let chunks = 0;
  let chars = 0;
  stream.on('chunk', () => chunks++);
  stream.on('content', (delta) => {
    chars += delta.length;
  });
  const completion = await stream.finalChatCompletion();
  checkCount('chunks', chunks, EXPECTED.openaiChunks);
  const content = completion.choices[0]?.message?.content ?? '';
  if (content.length !== chars) throw new Error(`final content has ${content.length} chars, deltas ${chars}`);
  return { items: chunks, chars };
}

/** One parsed Anthropic event, as a user's loop reads it; returns the text delta's length. */
export function useAnthropicEvent(event) {
  return event.type === 'content_block_delta' ? event.delta.text.length : 0;
}

/** Throws unless a stream delivered exactly `expected` items. */
export function checkCount(kind, got, expected) {
  if (got !== expected) throw new Error(`${kind}: ${got} items delivered, expected ${expected}`);
  return got;
}

/**
 * Reads every element of every vector by index (so lazily decoded vectors are decoded), checks shape and
 * the first value; returns the sum.
 */
export function useEmbeddings(response) {
  const data = response.data;
  if (data.length !== EXPECTED.vectors)
    throw new Error(`${data.length} vectors, expected ${EXPECTED.vectors}`);
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const vec = data[i].embedding;
    if (vec.length !== EXPECTED.dims)
      throw new Error(`vector of ${vec.length} dims, expected ${EXPECTED.dims}`);
    for (let j = 0; j < vec.length; j++) sum += vec[j];
  }
  const first = data[0].embedding[0];
  if (typeof first !== 'number' || first !== EXPECTED.firstValue) {
    throw new Error(`embedding[0][0] = ${String(first)}, expected ${EXPECTED.firstValue}`);
  }
  return sum;
}

/** base64 little-endian float32 → Float32Array (what a user of a raw HTTP client writes). */
export function decodeBase64Floats(text) {
  const buf = Buffer.from(text, 'base64');
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Replaces each base64 `embedding` by its Float32Array, in place. */
export function decodeEmbeddings(response) {
  for (const item of response.data) {
    if (typeof item.embedding === 'string') item.embedding = decodeBase64Floats(item.embedding);
  }
  return response;
}

// ---------------------------------------------------------------- transfers (upload-100mb, download)

/** The uploaded file's size, the downloaded body's size; the id `files.content` asks for. */
export { TRANSFER_BYTES, TRANSFER_FILE_ID, TRANSFER_FILE_NAME };

/** Checks the `file` object an upload resolved to; returns the bytes uploaded. */
export function useFileObject(file) {
  if (file?.object !== 'file' || file.id !== TRANSFER_FILE_ID || file.bytes !== TRANSFER_BYTES) {
    throw new Error(`upload answered ${JSON.stringify(file)?.slice(0, 120)}, not the file object`);
  }
  return TRANSFER_BYTES;
}

/** Throws unless a download delivered exactly the file's bytes. */
export function checkBytes(got) {
  if (got !== TRANSFER_BYTES) throw new Error(`download: ${got} bytes delivered, expected ${TRANSFER_BYTES}`);
  return got;
}

/**
 * Reads a WHATWG `Response`'s body to the end, counting bytes without keeping them (what piping it to a
 * file would do, minus the file); returns the count, checked.
 */
export async function drainResponse(response) {
  if (!(response instanceof Response) && typeof response?.body?.getReader !== 'function') {
    throw new Error(`download resolved to ${response?.constructor?.name ?? typeof response}, not a Response`);
  }
  if (response.status !== 200) throw new Error(`download: HTTP ${response.status}`);
  const reader = response.body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
  }
  return checkBytes(bytes);
}
