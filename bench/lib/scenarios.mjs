/**
 * The scenarios of the suite, their sizes (full and `--quick`) and the clients measured in each.
 */
import { PATHS, TRANSFER_PATHS } from './bodies.mjs';
import { ANTHROPIC_HEADERS, ANTHROPIC_MESSAGE_PARAMS, CHAT_PARAMS, OPENAI_HEADERS } from './common.mjs';

/** The request wrk sends for a non-streaming scenario (its path under the scenario's base). */
const CHAT_REQUEST = { path: '/chat/completions', params: CHAT_PARAMS, headers: OPENAI_HEADERS };
const MESSAGE_REQUEST = {
  path: '/v1/messages',
  params: ANTHROPIC_MESSAGE_PARAMS,
  headers: ANTHROPIC_HEADERS,
};

/**
 * Every client the suite knows; `anthropic` fills the official-SDK column of the Anthropic row;
 * `openai-aiwire-fetch` is openai-node with `fetch` from `aiwire/fetch` (its own scenario).
 */
export const CLIENTS = [
  'aiwire',
  'openai',
  'anthropic',
  'undici',
  'fetch',
  'wrk',
  'openai-aiwire-fetch',
  'aiwire-observed',
];

export const SCENARIOS = [
  {
    id: 'chat-c64',
    kind: 'chat',
    title: 'non-streaming chat.completion, C=64',
    op: 'chat',
    base: '/v1',
    bodyPath: PATHS.chat,
    request: CHAT_REQUEST,
    concurrency: 64,
    count: { full: 20_000, quick: 2_000 },
    warmup: { full: 500, quick: 200 },
    clients: ['aiwire', 'openai', 'undici', 'fetch', 'wrk'],
  },
  {
    // openai-node on its default fetch vs openai-node with `fetch` from `aiwire/fetch`: the same SDK
    // calls as chat-c64, only the transport under the SDK differs.
    id: 'fetch-openai-c64',
    kind: 'chat',
    title: 'non-streaming chat.completion through openai-node, default fetch vs aiwire/fetch, C=64',
    op: 'chat',
    base: '/v1',
    bodyPath: PATHS.chat,
    concurrency: 64,
    count: { full: 20_000, quick: 2_000 },
    warmup: { full: 500, quick: 200 },
    clients: ['openai', 'openai-aiwire-fetch'],
  },
  {
    // A client per request (serverless handlers): every call builds its own client (`new OpenAI(...)`)
    // and drops it after one request; 100 such calls in flight. Measures what a client costs on top of
    // its request (construction, pool and TLS setup unless shared, memory left to the GC).
    id: 'client-per-request',
    kind: 'chat',
    title: 'a client per request: new client + one chat.completion, C=100',
    op: 'chatClientPerRequest',
    base: '/v1',
    bodyPath: PATHS.chat,
    concurrency: 100,
    count: { full: 10_000, quick: 2_000 },
    warmup: { full: 500, quick: 200 },
    clients: ['aiwire', 'openai'],
  },
  {
    // What metrics + hooks cost: chat-c64's call on a plain client and on one with `metrics: true` and
    // every hook set (`adapters/aiwire-observed.mjs`).
    id: 'observed-c64',
    kind: 'chat',
    title: 'non-streaming chat.completion, aiwire plain vs metrics + hooks on, C=64',
    op: 'chat',
    base: '/v1',
    bodyPath: PATHS.chat,
    concurrency: 64,
    count: { full: 20_000, quick: 2_000 },
    warmup: { full: 500, quick: 200 },
    clients: ['aiwire', 'aiwire-observed'],
  },
  {
    id: 'chat-c256',
    kind: 'chat',
    title: 'non-streaming chat.completion, C=256',
    op: 'chat',
    base: '/v1',
    bodyPath: PATHS.chat,
    request: CHAT_REQUEST,
    concurrency: 256,
    count: { full: 20_000, quick: 2_000 },
    warmup: { full: 512, quick: 256 },
    clients: ['aiwire', 'openai', 'undici', 'fetch', 'wrk'],
  },
  {
    id: 'stream-openai',
    kind: 'stream',
    title: 'OpenAI chat stream, 1,000 chunks, C=32',
    op: 'openaiStream',
    base: '/stream/v1',
    bodyPath: PATHS.openaiStream,
    concurrency: 32,
    count: { full: 200, quick: 20 },
    // As many streams as measured: after 32 the process was still growing its heaps (page faults:
    // aiwire 0.42-0.47 us of system CPU per chunk after 32 warm-up streams, 0.07-0.14 after 200).
    warmup: { full: 200, quick: 8 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
  {
    // The same 1,000-chunk body through the stream helper: chat.completions.stream() with a `content`
    // listener and finalChatCompletion() (accumulation and events in JS on both sides); the raw
    // clients have no such helper.
    id: 'stream-helper',
    kind: 'stream',
    title:
      'OpenAI chat.completions.stream() helper (content listener + finalChatCompletion), 1,000 chunks, C=32',
    op: 'chatStreamHelper',
    base: '/stream/v1',
    bodyPath: PATHS.openaiStream,
    concurrency: 32,
    count: { full: 200, quick: 20 },
    warmup: { full: 200, quick: 8 },
    clients: ['aiwire', 'openai'],
  },
  {
    id: 'stream-anthropic',
    kind: 'stream',
    title: 'Anthropic messages stream, 1,000 deltas, C=32',
    op: 'anthropicStream',
    base: '/anthropic',
    bodyPath: PATHS.anthropicStream,
    concurrency: 32,
    count: { full: 200, quick: 20 },
    // As many streams as measured: after 32 the process was still growing its heaps (page faults:
    // aiwire 0.42-0.47 us of system CPU per chunk after 32 warm-up streams, 0.07-0.14 after 200).
    warmup: { full: 200, quick: 8 },
    clients: ['aiwire', 'anthropic', 'undici', 'fetch'],
  },
  {
    // The non-streaming Anthropic call, sized and warmed up as chat-c64; its own URL path
    // (/anthropic-json/v1/messages, JSON) beside the stream's (/anthropic/v1/messages, SSE).
    id: 'anthropic-c64',
    kind: 'chat',
    title: 'non-streaming Anthropic message, C=64',
    op: 'anthropicMessage',
    base: '/anthropic-json',
    bodyPath: PATHS.anthropicMessage,
    request: MESSAGE_REQUEST,
    concurrency: 64,
    count: { full: 20_000, quick: 2_000 },
    warmup: { full: 500, quick: 200 },
    clients: ['aiwire', 'anthropic', 'undici', 'fetch', 'wrk'],
  },
  {
    id: 'embed-float',
    kind: 'embed',
    title: 'embeddings 100 x 1536, float JSON (~3.3 MB), C=8',
    op: 'embedFloat',
    base: '/float/v1',
    bodyPath: PATHS.embedFloat,
    concurrency: 8,
    count: { full: 200, quick: 24 },
    warmup: { full: 16, quick: 8 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
  {
    id: 'embed-base64',
    kind: 'embed',
    title: 'embeddings 100 x 1536, base64 (~0.8 MB), C=8',
    op: 'embedBase64',
    base: '/b64/v1',
    bodyPath: PATHS.embedBase64,
    concurrency: 8,
    count: { full: 200, quick: 24 },
    warmup: { full: 16, quick: 8 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
  {
    // One upload at a time: each of the N measured runs sends the 100 MB file whole (the peer reads
    // it all before answering), after one warm-up upload. RSS growth: peak minus RSS before the first.
    id: 'upload-100mb',
    kind: 'transfer',
    title: 'files.create, multipart upload of a 100 MB file from disk (fs.createReadStream), sequential',
    op: 'upload',
    base: '/up/v1',
    bodyPath: TRANSFER_PATHS.download, // the uploaded file's size
    transfer: true,
    concurrency: 1,
    count: { full: 4, quick: 2 },
    warmup: { full: 1, quick: 1 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
  {
    id: 'download',
    kind: 'transfer',
    title: 'files.content, 100 MB binary body read from response.body to the end, sequential',
    op: 'download',
    base: '/dl/v1',
    bodyPath: TRANSFER_PATHS.download,
    transfer: true,
    concurrency: 1,
    count: { full: 4, quick: 2 },
    warmup: { full: 1, quick: 1 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
  {
    id: 'cold',
    kind: 'cold',
    title: 'cold start: import + client + 1 request',
    base: '/v1',
    runs: { full: 20, quick: 5 },
    warmup: { full: 3, quick: 1 },
    clients: ['aiwire', 'openai', 'undici', 'fetch'],
  },
];
