/**
 * A deterministic, dependency-free, OpenAI-compatible HTTP server for tests,
 * demos and benchmarks. It listens on loopback by default and answers
 * `chat/completions` (plain and streamed), `models` and `embeddings` with
 * outputs computed only from the request, so the same request always gets
 * the same answer (apart from the per-server request counter in ids).
 *
 * Shipped to users as `aiwire/testing`.
 *
 * @module
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/**
 * Options of {@link startMockServer}. Every field is optional.
 */
export interface MockServerOptions {
  /**
   * TCP port to listen on. Default `0`: an ephemeral port chosen by the
   * operating system (read it back from {@link MockServer.port}).
   */
  port?: number;
  /**
   * Address to bind. Default `'127.0.0.1'` (loopback only). An IPv6 address
   * such as `'::1'` is accepted and bracketed in {@link MockServer.url}.
   */
  host?: string;
  /**
   * Delay in milliseconds before each response (before the status line is
   * sent), applied to every route. Default `0`.
   */
  latencyMs?: number;
  /**
   * Delay in milliseconds between two consecutive server-sent events of a
   * streamed chat completion. Default `0` (the whole stream is written at
   * once).
   */
  streamChunkDelayMs?: number;
}

/**
 * A running mock server, as resolved by {@link startMockServer}.
 */
export interface MockServer {
  /**
   * Base URL to give an OpenAI client as `baseURL`, without a trailing slash
   * and without `/v1`, e.g. `'http://127.0.0.1:12345'`. Every route is served
   * both under `/v1/...` and directly under `/...`.
   */
  readonly url: string;
  /** The TCP port actually bound (useful when `port` was `0`). */
  readonly port: number;
  /**
   * Number of HTTP requests received so far (any route, including the ones
   * answered with an error). Live: read it again to get the current count.
   */
  readonly requests: number;
  /**
   * Stops listening, destroys every open connection (idle keep-alive ones
   * and responses in progress alike) and resolves once the server is closed.
   * Calling it again resolves immediately.
   */
  close(): Promise<void>;
}

/** Fixed `created` timestamp (seconds since the epoch) of every object. */
const CREATED = 1_700_000_000;
const SYSTEM_FINGERPRINT = 'fp_aiwire_mock';
/** Largest request body accepted, in bytes; larger bodies get a 413. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Default embedding length when the request has no `dimensions`. */
const DEFAULT_DIMENSIONS = 8;
const MAX_DIMENSIONS = 8192;
const MAX_N = 128;

interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

const MODELS: readonly ModelInfo[] = [
  { id: 'gpt-4o-mini', object: 'model', created: 1_721_172_741, owned_by: 'system' },
  { id: 'gpt-4o', object: 'model', created: 1_715_367_049, owned_by: 'system' },
  { id: 'text-embedding-3-small', object: 'model', created: 1_705_948_997, owned_by: 'system' },
];

/** An HTTP error with an OpenAI-style body, thrown inside handlers. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Number of whitespace-separated words in `text` (the mock's "tokens"). */
function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ASCII whitespace plus NBSP; enough for a mock tokenizer.
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160;
    if (space) {
      inWord = false;
    } else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/**
 * Splits `text` into word pieces that concatenate back to `text` exactly:
 * each piece is one word with the whitespace around it.
 */
function splitPieces(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

/** Text of a chat message `content`: a string, or the `text` parts of an array joined by a space. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      if (typeof part === 'string') texts.push(part);
      else if (isObject(part) && part.type === 'text' && typeof part.text === 'string') {
        texts.push(part.text);
      }
    }
    return texts.join(' ');
  }
  return '';
}

function optionalPositiveInt(body: JsonObject, key: string, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ApiError(400, `Invalid '${key}': expected an integer between 1 and ${max}.`, key);
  }
  return value;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** 32-bit FNV-1a hash over the UTF-16 code units of `text`. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Deterministic unit-length vector for `text`: xorshift32 seeded by the hash
 * of `text`, values in [-1, 1], L2-normalised, rounded to float32.
 */
function embed(text: string, dimensions: number): Float32Array {
  let state = hashString(text) || 0x9e3779b9;
  const values = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const v = (state / 0xffffffff) * 2 - 1;
    values[i] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) values[i] = (values[i] ?? 0) * scale;
  return values;
}

function toBase64LE(values: Float32Array): string {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i] ?? 0, i * 4);
  return buf.toString('base64');
}

function decodeBody(raw: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return raw;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw);
    if (enc === 'deflate') return inflateSync(raw);
    if (enc === 'br') return brotliDecompressSync(raw);
  } catch {
    throw new ApiError(400, `Could not decode the request body with content-encoding '${enc}'.`);
  }
  throw new ApiError(415, `Unsupported content-encoding '${enc}'.`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new ApiError(413, `Request body larger than ${MAX_BODY_BYTES} bytes.`));
      else resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function parseJsonBody(raw: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  if (!isObject(parsed)) {
    throw new ApiError(400, 'The request body must be a JSON object.');
  }
  return parsed;
}

/**
 * Starts a deterministic OpenAI-compatible mock server.
 *
 * Routes (each also served with a `/v1` prefix; query strings are ignored):
 * - `POST /chat/completions` — requires `model` (string) and `messages`
 *   (non-empty array). The assistant reply is `"Echo: " + <text of the last
 *   message>`, cut to `max_completion_tokens` / `max_tokens` words when given
 *   (then `finish_reason` is `'length'`, else `'stop'`). `n` (1–128) gives
 *   `n` identical choices. With `stream: true` the reply is sent as
 *   `text/event-stream`, one `chat.completion.chunk` per word, then
 *   `data: [DONE]`; `stream_options.include_usage` adds a final usage chunk.
 *   Tokens are counted as whitespace-separated words.
 * - `GET /models`, `GET /models/{id}` — a fixed list: `gpt-4o-mini`,
 *   `gpt-4o`, `text-embedding-3-small`; unknown id → 404 `model_not_found`.
 * - `POST /embeddings` — `input` a string or a non-empty array of strings,
 *   `dimensions` default 8 (max 8192); unit vectors derived from a hash of
 *   each input; `encoding_format: 'base64'` returns little-endian float32
 *   bytes in base64.
 * - Anything else → 404. Invalid JSON → 400. Bodies over 32 MiB → 413.
 *   `content-encoding: gzip | deflate | br` request bodies are decoded.
 *
 * Every response carries `x-request-id: req_mock_<n>` (n = 1-based request
 * counter) and errors use the OpenAI shape
 * `{"error":{"message","type","param","code"}}`. Keep-alive is on with a
 * 65 s idle timeout.
 *
 * @param opts Listening address and artificial delays; see {@link MockServerOptions}.
 * @returns The running server once it is listening.
 * @throws {Error} Rejects with the `listen` error (e.g. `EADDRINUSE`,
 *   `EADDRNOTAVAIL`) when the address cannot be bound, or a `RangeError`
 *   for a negative or non-finite delay.
 */
export async function startMockServer(opts: MockServerOptions = {}): Promise<MockServer> {
  const host = opts.host ?? '127.0.0.1';
  const latencyMs = opts.latencyMs ?? 0;
  const chunkDelayMs = opts.streamChunkDelayMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new RangeError(`latencyMs must be a finite number >= 0, got ${String(latencyMs)}`);
  }
  if (!Number.isFinite(chunkDelayMs) || chunkDelayMs < 0) {
    throw new RangeError(`streamChunkDelayMs must be a finite number >= 0, got ${String(chunkDelayMs)}`);
  }

  let counter = 0;
  const sockets = new Set<Socket>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      setTimeout(resolve, ms).unref();
    });

  const send = (res: ServerResponse, status: number, payload: unknown): void => {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };

  const sendError = (res: ServerResponse, err: ApiError): void => {
    send(res, err.status, {
      error: { message: err.message, type: err.type, param: err.param, code: err.code },
    });
  };

  const chatCompletion = async (res: ServerResponse, n: number, body: JsonObject): Promise<void> => {
    const model = body.model;
    if (typeof model !== 'string' || model === '') {
      throw new ApiError(400, 'you must provide a model parameter', 'model');
    }
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new ApiError(400, "Invalid 'messages': expected a non-empty array of messages.", 'messages');
    }
    let promptTokens = 0;
    for (let i = 0; i < messages.length; i++) {
      const m: unknown = messages[i];
      if (!isObject(m) || typeof m.role !== 'string') {
        throw new ApiError(
          400,
          `Invalid 'messages[${i}]': expected an object with a string 'role'.`,
          `messages[${i}]`,
        );
      }
      promptTokens += countWords(contentText(m.content));
    }
    const choices = optionalPositiveInt(body, 'n', MAX_N) ?? 1;
    const maxWords =
      optionalPositiveInt(body, 'max_completion_tokens', Number.MAX_SAFE_INTEGER) ??
      optionalPositiveInt(body, 'max_tokens', Number.MAX_SAFE_INTEGER);

    const last: unknown = messages[messages.length - 1];
    let content = `Echo: ${isObject(last) ? contentText(last.content) : ''}`;
    let finishReason: 'stop' | 'length' = 'stop';
    let pieces = splitPieces(content);
    const words = countWords(content);
    if (maxWords !== undefined && words > maxWords) {
      // Keep the first `maxWords` words; each piece holds exactly one word.
      content = pieces.slice(0, maxWords).join('').trimEnd();
      pieces = splitPieces(content);
      finishReason = 'length';
    }
    const completionTokens = countWords(content) * choices;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = `chatcmpl-mock-${n}`;

    if (body.stream !== true) {
      const out = [];
      for (let i = 0; i < choices; i++) {
        out.push({
          index: i,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finishReason,
        });
      }
      send(res, 200, {
        id,
        object: 'chat.completion',
        created: CREATED,
        model,
        choices: out,
        usage,
        system_fingerprint: SYSTEM_FINGERPRINT,
      });
      return;
    }

    const streamOptions = body.stream_options;
    const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true;
    const events: string[] = [];
    const chunk = (index: number, delta: JsonObject, finish: string | null): string => {
      const c: JsonObject = {
        id,
        object: 'chat.completion.chunk',
        created: CREATED,
        model,
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [{ index, delta, logprobs: null, finish_reason: finish }],
      };
      if (includeUsage) c.usage = null;
      return `data: ${JSON.stringify(c)}\n\n`;
    };
    for (let i = 0; i < choices; i++) events.push(chunk(i, { role: 'assistant', content: '' }, null));
    for (const piece of pieces) {
      for (let i = 0; i < choices; i++) events.push(chunk(i, { content: piece }, null));
    }
    for (let i = 0; i < choices; i++) events.push(chunk(i, {}, finishReason));
    if (includeUsage) {
      events.push(
        `data: ${JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created: CREATED,
          model,
          system_fingerprint: SYSTEM_FINGERPRINT,
          choices: [],
          usage,
        })}\n\n`,
      );
    }
    events.push('data: [DONE]\n\n');

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
    });
    if (chunkDelayMs <= 0) {
      res.end(events.join(''));
      return;
    }
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (i > 0) {
        await sleep(chunkDelayMs);
        if (res.destroyed) return;
      }
      res.write(events[i]);
    }
    res.end();
  };

  const embeddings = (res: ServerResponse, body: JsonObject): void => {
    const model = body.model;
    if (typeof model !== 'string' || model === '') {
      throw new ApiError(400, 'you must provide a model parameter', 'model');
    }
    const input = body.input;
    let inputs: string[];
    if (typeof input === 'string') {
      inputs = [input];
    } else if (
      Array.isArray(input) &&
      input.length > 0 &&
      input.every((x): x is string => typeof x === 'string')
    ) {
      inputs = input;
    } else {
      throw new ApiError(400, "Invalid 'input': expected a string or a non-empty array of strings.", 'input');
    }
    const dimensions = optionalPositiveInt(body, 'dimensions', MAX_DIMENSIONS) ?? DEFAULT_DIMENSIONS;
    const format = body.encoding_format;
    if (format !== undefined && format !== null && format !== 'float' && format !== 'base64') {
      throw new ApiError(400, "Invalid 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
    }
    const base64 = format === 'base64';
    let tokens = 0;
    const data = inputs.map((text, index) => {
      tokens += countWords(text);
      const vector = embed(text, dimensions);
      return {
        object: 'embedding',
        index,
        embedding: base64 ? toBase64LE(vector) : Array.from(vector),
      };
    });
    send(res, 200, {
      object: 'list',
      data,
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const n = ++counter;
    res.setHeader('x-request-id', `req_mock_${n}`);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    try {
      const q = rawUrl.indexOf('?');
      let path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      if (path === '/v1' || path.startsWith('/v1/')) path = path.slice(3);
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);

      let route: 'chat' | 'embeddings' | 'models' | 'model' | null = null;
      let modelId = '';
      if (method === 'POST' && path === '/chat/completions') route = 'chat';
      else if (method === 'POST' && path === '/embeddings') route = 'embeddings';
      else if (method === 'GET' && path === '/models') route = 'models';
      else if (method === 'GET' && path.startsWith('/models/')) {
        route = 'model';
        try {
          modelId = decodeURIComponent(path.slice('/models/'.length));
        } catch {
          modelId = path.slice('/models/'.length);
        }
      }

      // Always drain the body so the connection can be reused.
      const raw = await readBody(req);
      if (latencyMs > 0) await sleep(latencyMs);
      if (res.destroyed) return;

      switch (route) {
        case 'chat':
          await chatCompletion(res, n, parseJsonBody(decodeBody(raw, req.headers['content-encoding'])));
          return;
        case 'embeddings':
          embeddings(res, parseJsonBody(decodeBody(raw, req.headers['content-encoding'])));
          return;
        case 'models':
          send(res, 200, { object: 'list', data: MODELS });
          return;
        case 'model': {
          const model = MODELS.find((m) => m.id === modelId);
          if (!model) {
            throw new ApiError(
              404,
              `The model '${modelId}' does not exist or you do not have access to it.`,
              null,
              'model_not_found',
            );
          }
          send(res, 200, model);
          return;
        }
        default:
          throw new ApiError(404, `Invalid URL (${method} ${rawUrl})`);
      }
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status === 413) res.setHeader('connection', 'close');
        sendError(res, err);
      } else if (!res.headersSent && !res.destroyed) {
        const message = err instanceof Error ? err.message : String(err);
        sendError(res, new ApiError(500, `Mock server error: ${message}`, null, null, 'server_error'));
      } else {
        res.destroy();
      }
    }
  };

  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const port = address.port;
  const url = `http://${hostForUrl(host)}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    get requests(): number {
      return counter;
    },
    close(): Promise<void> {
      if (closing) return closing;
      const socketsClosed = [...sockets].map(
        (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
      );
      closing = Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
        }),
        ...socketsClosed,
      ]).then(() => undefined);
      return closing;
    },
  };
}
