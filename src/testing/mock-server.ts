/**
 * A deterministic, dependency-free, OpenAI-, Anthropic- and Codegen-compatible HTTP server for tests,
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
import { type AIVillageMockLog, createAIVillageMock, isAIVillagePath } from './mock-aivillage.js';
import {
  anthropicRoute,
  handleAnthropic,
  mockErrorFor,
  runMessage,
  triggeredErrorHeaders,
} from './mock-anthropic.js';
import { batchRoute, createBatchStore } from './mock-batches.js';
import { chatCompletion } from './mock-chat.js';
import { createCodegenMock } from './mock-codegen.js';
import {
  ApiError,
  captureResponse,
  countWords,
  decodeBody,
  hashString,
  type JsonObject,
  optionalPositiveInt,
  parseJsonBody,
  readBody,
  send,
  sendError,
  sleep,
} from './mock-common.js';
import { createMessageBatchStore, messageBatchRoute } from './mock-message-batches.js';
import { azurePath, extraRoute, handleExtra } from './mock-openai-extra.js';

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
   * Base URL to give an OpenAI client as `baseURL` (or an Anthropic client,
   * whose paths include `/v1`), without a trailing slash and without `/v1`,
   * e.g. `'http://127.0.0.1:12345'`. Every OpenAI route is served both under
   * `/v1/...` and directly under `/...`.
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
   * The AIVillage mock's record (served under `/aivillage`: base URL `${url}/aivillage/v1`): the
   * requests it answered, with their `Idempotency-Key` (see `mock-aivillage.ts`).
   */
  readonly aivillage: AIVillageMockLog;
  /**
   * Stops listening, destroys every open connection (idle keep-alive ones
   * and responses in progress alike) and resolves once the server is closed.
   * Calling it again resolves immediately.
   */
  close(): Promise<void>;
}

/** Default embedding length when the request has no `dimensions`. */
const DEFAULT_DIMENSIONS = 8;
const MAX_DIMENSIONS = 8192;

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

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
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

/**
 * Starts a deterministic mock server answering OpenAI's, Anthropic's and Codegen's APIs on one port.
 *
 * Routes (each also served with a `/v1` prefix; query strings are ignored):
 * - `POST /chat/completions` — requires `model` (string) and `messages`
 *   (non-empty array). The assistant reply is `"Echo: " + <text of the last
 *   message>`, cut to `max_completion_tokens` / `max_tokens` words when given
 *   (then `finish_reason` is `'length'`, else `'stop'`). `n` (1–128) gives
 *   `n` identical choices. With `stream: true` the reply is sent as
 *   `text/event-stream`, one `chat.completion.chunk` per word, then
 *   `data: [DONE]`; `stream_options.include_usage` adds a final usage chunk.
 *   Tokens are counted as whitespace-separated words. With `tools`, the
 *   assistant calls a function instead; with `response_format` json_schema
 *   it answers a JSON value of the schema (see `mock-chat.ts`).
 * - `GET /models`, `GET /models/{id}` — a fixed list: `gpt-4o-mini`,
 *   `gpt-4o`, `text-embedding-3-small`; unknown id → 404 `model_not_found`.
 * - `POST /embeddings` — `input` a string or a non-empty array of strings,
 *   `dimensions` default 8 (max 8192); unit vectors derived from a hash of
 *   each input; `encoding_format: 'base64'` returns little-endian float32
 *   bytes in base64.
 * - `POST /responses` (plain and streamed), `POST /audio/speech`
 *   (deterministic bytes), `GET /fine_tuning/jobs` (7 jobs, cursor pages)
 *   and `GET /fine_tuning/jobs/{id}/events`; Azure paths
 *   `/openai/deployments/{name}/…` with `api-version` (see
 *   `mock-openai-extra.ts`).
 * - The Batch API: `POST /files` (multipart), `GET /files/{id}[/content]`, `POST /batches`, `GET /batches` (list),
 *   `GET /batches/{id}` (one status step per poll: validating → in_progress → finalizing →
 *   completed, the lines run against the chat and embeddings routes above), `POST
 *   /batches/{id}/cancel` (see `mock-batches.ts`).
 * - Anthropic's Message Batches: `POST /v1/messages/batches`, `GET /v1/messages/batches[/{id}]`
 *   (`in_progress` for one poll, then `ended`, each request run through `POST /v1/messages` below),
 *   `GET …/{id}/results` (JSONL), `POST …/{id}/cancel`, `DELETE …/{id}` (see
 *   `mock-message-batches.ts`).
 * - Anthropic, on the same port: `POST /v1/messages` (plain and streamed), `POST
 *   /v1/messages/count_tokens`, and `GET /v1/models[/{id}]` when the request has an
 *   `anthropic-version` header (see `mock-anthropic.ts`).
 * - AIVillage, under the prefix `/aivillage` (base URL `<url>/aivillage/v1`): its 9 operations, with
 *   validation errors, `x-mock-error` / `mock-error-<status>[-once]` and idempotent replays (see
 *   `mock-aivillage.ts`).
 * - Codegen, under the prefix `/codegen` (base URL `<url>/codegen`, then `/v1/...`): agent runs whose
 *   status advances one step per poll, paged lists, users, organizations, repos, integrations, errors
 *   and signed webhooks on demand (see `mock-codegen.ts`).
 * - Errors on demand: `model: 'mock-error-<status>'` (e.g. `mock-error-429`) in a chat completion or
 *   an Anthropic message gets that status (400–599) with the provider's error body and
 *   `x-should-retry: false` (clients give up at once).
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
  const aivillage = createAIVillageMock();

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

  /** Run one batch line against the chat or embeddings route, capturing the answer. */
  const executeLine = async (url: string, body: JsonObject): Promise<{ status: number; body: unknown }> => {
    try {
      const { status, text } = await captureResponse(async (capture) => {
        if (url === '/v1/chat/completions') {
          const triggered = mockErrorFor(body.model, 'openai');
          if (triggered) throw triggered;
          await chatCompletion(capture, ++counter, body, 0);
        } else embeddings(capture, body);
      });
      return { status, body: JSON.parse(text) as unknown };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return {
        status: err.status,
        body: { error: { message: err.message, type: err.type, param: err.param, code: err.code } },
      };
    }
  };
  const handleBatches = createBatchStore(executeLine);
  const codegen = createCodegenMock();
  const handleMessageBatches = createMessageBatchStore((params) => runMessage(++counter, params));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const n = ++counter;
    res.setHeader('x-request-id', `req_mock_${n}`);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    try {
      // Always drain the body so the connection can be reused.
      const raw = await readBody(req);
      if (isAIVillagePath(rawUrl)) {
        if (latencyMs > 0) await sleep(latencyMs);
        aivillage.handle(req, res, raw, n);
        return;
      }
      const q = rawUrl.indexOf('?');
      let path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      // Codegen under its own prefix (its paths include /v1, like OpenAI's): see mock-codegen.ts
      if (path === '/codegen' || path.startsWith('/codegen/')) {
        if (latencyMs > 0) await sleep(latencyMs);
        const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
        const json = (): JsonObject => parseJsonBody(decodeBody(raw, req.headers['content-encoding']));
        codegen.handle(
          { method, path: path.slice('/codegen'.length), query, headers: req.headers, json },
          res,
        );
        return;
      }
      if (path === '/v1' || path.startsWith('/v1/')) path = path.slice(3);
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      path = azurePath(path, q === -1 ? '' : rawUrl.slice(q + 1), req.headers);
      const anthropic = anthropicRoute(method, path, req.headers);

      let route: 'chat' | 'embeddings' | 'models' | 'model' | null = null;
      const extra = extraRoute(method, path);
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

      if (latencyMs > 0) await sleep(latencyMs);
      if (res.destroyed) return;
      const json = (): JsonObject => parseJsonBody(decodeBody(raw, req.headers['content-encoding']));
      const messageBatch = messageBatchRoute(method, path);
      if (messageBatch) {
        const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
        await handleMessageBatches(messageBatch, res, { path, query, headers: req.headers, json });
        return;
      }
      if (anthropic) {
        const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
        await handleAnthropic(anthropic, res, { n, path, query, headers: req.headers, json, chunkDelayMs });
        return;
      }
      const batch = batchRoute(method, path);
      if (batch) {
        const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
        await handleBatches(batch, res, { path, raw, contentType: req.headers['content-type'], json, query });
        return;
      }
      if (extra) {
        const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
        await handleExtra(extra, res, { n, path, query, json, chunkDelayMs });
        return;
      }

      switch (route) {
        case 'chat': {
          const body = json();
          const triggered = mockErrorFor(body.model, 'openai');
          if (triggered) throw triggered;
          await chatCompletion(res, n, body, chunkDelayMs);
          return;
        }
        case 'embeddings':
          embeddings(res, json());
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
        triggeredErrorHeaders(res, err);
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
    aivillage: aivillage.log,
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
