/**
 * The fixed response bodies nginx serves, generated deterministically (seeded PRNG) so every run and
 * every machine serves the same bytes. `node bench/lib/bodies.mjs <dir>` writes them for inspection.
 *
 * Layout under `<dir>` (the URL path is the file path; nginx serves them for GET and POST):
 *   v1/chat/completions               a chat.completion, pretty-printed as the API does (~1.4 KB)
 *   stream/v1/chat/completions        an OpenAI chat stream: 1,000 chat.completion.chunk events + [DONE]
 *   anthropic/v1/messages             an Anthropic messages stream: message_start, content_block_start,
 *                                     ping, 1,000 content_block_delta, content_block_stop, message_delta,
 *                                     message_stop
 *   anthropic-json/v1/messages        an Anthropic `message` (non-streaming), pretty-printed (~1.2 KB)
 *   float/v1/embeddings               100 x 1536 embeddings as JSON floats (~3.3 MB)
 *   b64/v1/embeddings                 the same vectors as base64 little-endian float32 (~0.8 MB)
 *
 * and, for the transfer scenarios only (`writeTransferBodies`, when they run):
 *   up/v1/files                       the `file` object a `POST /files` answers (the upload is read whole
 *                                     and discarded by nginx first, see lib/nginx.mjs)
 *   dl/v1/files/file-bench100mb/content  100,000,000 deterministic bytes (`GET /files/{id}/content`);
 *                                     the upload's source file is a hard link to it, outside the root
 */
import { closeSync, linkSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STREAM_CHUNKS = 1000;
export const EMBED_VECTORS = 100;
export const EMBED_DIMS = 1536;

/** Files relative to the document root. */
export const PATHS = {
  chat: 'v1/chat/completions',
  openaiStream: 'stream/v1/chat/completions',
  anthropicStream: 'anthropic/v1/messages',
  anthropicMessage: 'anthropic-json/v1/messages',
  embedFloat: 'float/v1/embeddings',
  embedBase64: 'b64/v1/embeddings',
};

/** The transfer scenarios: one file of exactly 100 MB (10^8 bytes), uploaded and downloaded. */
export const TRANSFER_BYTES = 100_000_000;
export const TRANSFER_FILE_ID = 'file-bench100mb';
export const TRANSFER_FILE_NAME = 'upload-100mb.bin';
export const TRANSFER_PATHS = {
  upload: 'up/v1/files',
  download: `dl/v1/files/${TRANSFER_FILE_ID}/content`,
};

/** mulberry32: a small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a of to and in is that for it as with on was by be this are from at or an which have not ' +
  'request response stream token model latency server client engine buffer event vector connection ' +
  'pool retry timeout batch parse throughput memory thread runtime network socket header payload ' +
  'quickly carefully usually often rarely simply mostly fully clearly'
).split(' ');

function words(rand, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out;
}

function chatCompletion() {
  const rand = prng(1);
  const content = `${words(rand, 100).join(' ')}.`;
  const body = {
    id: 'chatcmpl-BENCHbXk2oQm1n9Yt0uJ7cZr4sVfA',
    object: 'chat.completion',
    created: 1763683200,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 61,
      completion_tokens: 131,
      total_tokens: 192,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_560af6e559',
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** An Anthropic `message` as `POST /v1/messages` answers it without `stream` (one text block). */
function anthropicMessage() {
  const rand = prng(6);
  const text = `${words(rand, 110).join(' ')}.`;
  const body = {
    id: 'msg_01BENCHXk2oQm1n9Yt0uJ7cZ',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5-5',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: 61,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 131,
      service_tier: 'standard',
    },
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** The OpenAI chat stream: first chunk carries the role, the last the finish reason. */
function openaiStream() {
  const rand = prng(2);
  const base = {
    id: 'chatcmpl-BENCHbXk2oQm1n9Yt0uJ7cZr4sVfA',
    object: 'chat.completion.chunk',
    created: 1763683200,
    model: 'gpt-4o-mini-2024-07-18',
    service_tier: 'default',
    system_fingerprint: 'fp_560af6e559',
  };
  const parts = [];
  for (let i = 0; i < STREAM_CHUNKS; i++) {
    let delta;
    let finish = null;
    if (i === 0) delta = { role: 'assistant', content: '', refusal: null };
    else if (i === STREAM_CHUNKS - 1) {
      delta = {};
      finish = 'stop';
    } else delta = { content: ` ${words(rand, 1)[0]}` };
    const chunk = {
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      obfuscation: Math.floor(rand() * 1e12).toString(36),
    };
    parts.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  parts.push('data: [DONE]\n\n');
  return parts.join('');
}

/** The Anthropic messages stream, with the event names and a ping as the API sends them. */
function anthropicStream() {
  const rand = prng(3);
  const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const parts = [
    ev('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_01BENCHXk2oQm1n9Yt0uJ7cZ',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-5-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 61,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    }),
    ev('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    ev('ping', { type: 'ping' }),
  ];
  for (let i = 0; i < STREAM_CHUNKS; i++) {
    parts.push(
      ev('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: ` ${words(rand, 1)[0]}` },
      }),
    );
  }
  parts.push(
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: STREAM_CHUNKS },
    }),
    ev('message_stop', { type: 'message_stop' }),
  );
  return parts.join('');
}

/** Events the Anthropic SDK hands to the user's loop per stream (everything but `ping`). */
export const ANTHROPIC_EVENTS = STREAM_CHUNKS + 5;

/** The vectors (float32 values, as the API computes them), deterministic. */
function vectors() {
  const rand = prng(4);
  const out = [];
  for (let v = 0; v < EMBED_VECTORS; v++) {
    const vec = new Float32Array(EMBED_DIMS);
    for (let j = 0; j < EMBED_DIMS; j++) {
      // roughly normal, small magnitude, like a unit-norm 1536-d embedding
      const g = (rand() + rand() + rand() + rand() - 2) * 0.045;
      vec[j] = g;
    }
    out.push(vec);
  }
  return out;
}

function embeddings(vecs, base64) {
  const data = vecs.map((vec, index) => ({
    object: 'embedding',
    index,
    embedding: base64 ? Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength).toString('base64') : '@',
  }));
  const body = {
    object: 'list',
    data,
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 1200, total_tokens: 1200 },
  };
  let text = JSON.stringify(body);
  if (!base64) {
    // float32 values printed as doubles, as the API does (e.g. -0.0069292835), compact JSON
    let i = 0;
    text = text.replace(/"@"/g, () => `[${Array.from(vecs[i++], (x) => String(x)).join(',')}]`);
  }
  return `${text}\n`;
}

/** The expected first value of vector 0, to check that clients decoded the numbers right. */
export function expectedFirstValue() {
  return vectors()[0][0];
}

/**
 * Write every body under `root`; returns `{ path: bytes }`.
 * @param {string} root document root
 */
export function writeBodies(root) {
  const vecs = vectors();
  const files = {
    [PATHS.chat]: chatCompletion(),
    [PATHS.openaiStream]: openaiStream(),
    [PATHS.anthropicStream]: anthropicStream(),
    [PATHS.anthropicMessage]: anthropicMessage(),
    [PATHS.embedFloat]: embeddings(vecs, false),
    [PATHS.embedBase64]: embeddings(vecs, true),
  };
  const sizes = {};
  for (const [rel, text] of Object.entries(files)) {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    const buf = Buffer.from(text);
    writeFileSync(file, buf);
    sizes[rel] = buf.length;
  }
  return sizes;
}

/** The `file` object the upload endpoint answers (what the API returns for `POST /files`). */
export function fileObject() {
  return {
    object: 'file',
    id: TRANSFER_FILE_ID,
    purpose: 'batch',
    filename: TRANSFER_FILE_NAME,
    bytes: TRANSFER_BYTES,
    created_at: 1764000000,
    expires_at: 1766592000,
    status: 'processed',
    status_details: null,
  };
}

/**
 * Write the transfer bodies: the 100 MB file (1 MiB of seeded PRNG bytes, repeated and cut to
 * `TRANSFER_BYTES`) under `root` for the download, a hard link to it at `uploadFile` (the upload's
 * source, named `TRANSFER_FILE_NAME`), and the upload's answer. Returns `{ path: bytes }`.
 * @param {string} root document root
 * @param {string} uploadFile path of the upload's source file (outside `root`)
 */
export function writeTransferBodies(root, uploadFile) {
  const rand = prng(5);
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);
  const file = join(root, TRANSFER_PATHS.download);
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  try {
    for (let left = TRANSFER_BYTES; left > 0; left -= block.length) {
      writeSync(fd, block, 0, Math.min(left, block.length));
    }
  } finally {
    closeSync(fd);
  }
  linkSync(file, uploadFile);
  const answer = Buffer.from(`${JSON.stringify(fileObject(), null, 2)}\n`);
  const up = join(root, TRANSFER_PATHS.upload);
  mkdirSync(dirname(up), { recursive: true });
  writeFileSync(up, answer);
  return { [TRANSFER_PATHS.download]: TRANSFER_BYTES, [TRANSFER_PATHS.upload]: answer.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.bodies');
  console.log(writeBodies(root));
}
