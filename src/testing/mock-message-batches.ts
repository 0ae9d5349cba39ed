/**
 * Anthropic's Message Batches API in the bundled mock (`startMockServer`), so
 * `client.messages.batches.*` and aiwire's `anthropic-batch` executor run without a key
 * (https://docs.anthropic.com/en/api/creating-message-batches). Paths are without `/v1`; every
 * route checks the `x-api-key` and `anthropic-version` headers and answers errors with Anthropic's
 * envelope (`{"type":"error","error":{"type","message"}}`).
 *
 * - `POST /messages/batches` `{ requests: [{ custom_id, params }] }` → a MessageBatch
 *   (`msgbatch_mock_<n>`) `in_progress`, `request_counts.processing` = the number of requests.
 *   Checked as the API does: 1–100,000 requests, `custom_id` 1–64 characters of `[A-Za-z0-9_-]`,
 *   unique in the batch, `params` an object.
 * - `GET /messages/batches/{id}` moves it one step per poll: the first poll still says
 *   `in_progress`, the second runs every request through the mock's Messages handler
 *   (`runMessage` in `mock-anthropic.ts`, so answers are those of `POST /v1/messages`) and says
 *   `ended` with the counts, `ended_at` and `results_url`.
 * - `GET /messages/batches/{id}/results` → the results as JSONL (`application/x-jsonl`), one line
 *   per request in request order: `{ custom_id, result: { type: 'succeeded', message } }` or
 *   `{ type: 'errored', error: { type: 'error', error: { type, message }, request_id } }` (404
 *   before the batch has ended).
 * - `POST /messages/batches/{id}/cancel` → `canceling`; the next poll says `ended` with every request
 *   `canceled` (`{ type: 'canceled' }` results).
 * - `GET /messages/batches` (newest first; `limit`, `after_id`, `before_id`) and
 *   `DELETE /messages/batches/{id}` (ended batches only) → `{ id, type: 'message_batch_deleted' }`.
 *
 * Times are fixed (created at the mock's `CREATED`, expiring 24 h later) so runs are deterministic;
 * message ids are numbered by the server's request counter, as for `POST /v1/messages`.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { anthropicErrorBody, checkHeaders, sendAnthropicError } from './mock-anthropic.js';
import { ApiError, CREATED, isObject, type JsonObject, send } from './mock-common.js';

/** A route of this file (paths without `/v1`). */
export type MessageBatchRoute = 'create' | 'list' | 'retrieve' | 'results' | 'cancel' | 'delete';

/** Runs one request's `params` through the mock's Messages handler. */
export type RunMessage = (params: JsonObject) => Promise<{ status: number; body: unknown }>;

/** What the server passes each request. */
export interface MessageBatchRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  json: () => JsonObject;
}

interface StoredBatch {
  batch: JsonObject;
  requests: { custom_id: string; params: JsonObject }[];
  /** Polls answered so far. */
  polls: number;
  /** JSONL results once ended. */
  results?: string;
}

/** Largest number of requests in one batch (the API's limit). */
const MAX_REQUESTS = 100_000;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The route of `method path` among this file's, or null. */
export function messageBatchRoute(method: string, path: string): MessageBatchRoute | null {
  if (path === '/messages/batches') {
    if (method === 'POST') return 'create';
    if (method === 'GET') return 'list';
    return null;
  }
  if (!path.startsWith('/messages/batches/')) return null;
  const rest = path.slice('/messages/batches/'.length).split('/');
  if (rest.length === 1 && method === 'GET') return 'retrieve';
  if (rest.length === 1 && method === 'DELETE') return 'delete';
  if (rest.length === 2 && rest[1] === 'results' && method === 'GET') return 'results';
  if (rest.length === 2 && rest[1] === 'cancel' && method === 'POST') return 'cancel';
  return null;
}

function invalid(message: string): ApiError {
  return new ApiError(400, message);
}

/** Checks a create body; returns its requests. */
function checkRequests(body: JsonObject): StoredBatch['requests'] {
  const requests = body.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw invalid('requests: List should have at least 1 item');
  }
  if (requests.length > MAX_REQUESTS) {
    throw invalid(`requests: List should have at most ${MAX_REQUESTS} items, got ${requests.length}`);
  }
  const seen = new Set<string>();
  return requests.map((r: unknown, i) => {
    if (!isObject(r)) throw invalid(`requests.${i}: Input should be a valid dictionary`);
    const id = r.custom_id;
    if (typeof id !== 'string' || !CUSTOM_ID.test(id)) {
      throw invalid(`requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    }
    if (seen.has(id)) throw invalid(`requests.${i}.custom_id: '${id}' is used twice in this batch`);
    seen.add(id);
    if (!isObject(r.params)) throw invalid(`requests.${i}.params: Input should be a valid dictionary`);
    return { custom_id: id, params: r.params };
  });
}

/** The Message Batches state of one mock server and its handler. */
export function createMessageBatchStore(run: RunMessage) {
  const batches = new Map<string, StoredBatch>();
  let counter = 0;

  const stored = (path: string): StoredBatch => {
    const id = path.split('/')[3] ?? '';
    const b = batches.get(id);
    if (!b)
      throw new ApiError(404, `message_batch_id: no Message Batch ${id}`, null, null, 'not_found_error');
    return b;
  };

  const counts = (b: StoredBatch, key: string, n: number) => {
    b.batch.request_counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0, [key]: n };
  };

  /** Ends the batch: runs its requests (or cancels them) and writes the results. */
  const end = async (b: StoredBatch, origin: string): Promise<void> => {
    const lines: string[] = [];
    if (b.batch.processing_status === 'canceling') {
      for (const r of b.requests) {
        lines.push(JSON.stringify({ custom_id: r.custom_id, result: { type: 'canceled' } }));
      }
      counts(b, 'canceled', b.requests.length);
    } else {
      let succeeded = 0;
      for (const r of b.requests) {
        const answer = await run(r.params);
        if (answer.status < 300) {
          succeeded++;
          lines.push(
            JSON.stringify({ custom_id: r.custom_id, result: { type: 'succeeded', message: answer.body } }),
          );
        } else {
          const error = isObject(answer.body) ? answer.body : { type: 'error', error: answer.body };
          lines.push(
            JSON.stringify({
              custom_id: r.custom_id,
              result: { type: 'errored', error: { ...error, request_id: null } },
            }),
          );
        }
      }
      counts(b, 'succeeded', succeeded);
      (b.batch.request_counts as JsonObject).errored = b.requests.length - succeeded;
    }
    b.results = lines.length ? `${lines.join('\n')}\n` : '';
    b.batch.processing_status = 'ended';
    b.batch.ended_at = iso(CREATED + 60);
    b.batch.results_url = `${origin}/v1/messages/batches/${String(b.batch.id)}/results`;
  };

  const list = (res: ServerResponse, query: URLSearchParams): void => {
    const all = [...batches.values()].map((b) => b.batch).reverse();
    const limit = Math.min(Math.max(Number(query.get('limit') ?? 20) || 20, 1), 1000);
    const after = query.get('after_id');
    const before = query.get('before_id');
    let start = 0;
    let end = all.length;
    if (after) start = all.findIndex((b) => b.id === after) + 1;
    if (before)
      end = Math.max(
        all.findIndex((b) => b.id === before),
        0,
      );
    const page = before ? all.slice(Math.max(end - limit, 0), end) : all.slice(start, start + limit);
    const hasMore = before ? end - limit > 0 : start + limit < all.length;
    send(res, 200, {
      data: page,
      has_more: hasMore,
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
    });
  };

  return async function handleMessageBatches(
    route: MessageBatchRoute,
    res: ServerResponse,
    req: MessageBatchRequest,
  ): Promise<void> {
    try {
      checkHeaders(req.headers);
      const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
      switch (route) {
        case 'create': {
          const requests = checkRequests(req.json());
          const batch: JsonObject = {
            id: `msgbatch_mock_${++counter}`,
            type: 'message_batch',
            processing_status: 'in_progress',
            request_counts: {
              processing: requests.length,
              succeeded: 0,
              errored: 0,
              canceled: 0,
              expired: 0,
            },
            ended_at: null,
            created_at: iso(CREATED),
            expires_at: iso(CREATED + 24 * 3600),
            archived_at: null,
            cancel_initiated_at: null,
            results_url: null,
          };
          batches.set(String(batch.id), { batch, requests, polls: 0 });
          send(res, 200, batch);
          return;
        }
        case 'list':
          list(res, req.query);
          return;
        case 'retrieve': {
          const b = stored(req.path);
          if (b.batch.processing_status !== 'ended') {
            b.polls++;
            if (b.polls >= 2 || b.batch.processing_status === 'canceling') await end(b, origin);
          }
          send(res, 200, b.batch);
          return;
        }
        case 'results': {
          const b = stored(req.path);
          if (b.results === undefined) {
            throw new ApiError(
              404,
              `Message Batch ${String(b.batch.id)} has no results yet: it is ${String(b.batch.processing_status)}`,
              null,
              null,
              'not_found_error',
            );
          }
          const bytes = Buffer.from(b.results);
          res.writeHead(200, { 'content-type': 'application/x-jsonl', 'content-length': bytes.length });
          res.end(bytes);
          return;
        }
        case 'cancel': {
          const b = stored(req.path);
          if (b.batch.processing_status === 'in_progress') {
            b.batch.processing_status = 'canceling';
            b.batch.cancel_initiated_at = iso(CREATED + 30);
          }
          send(res, 200, b.batch);
          return;
        }
        case 'delete': {
          const b = stored(req.path);
          if (b.batch.processing_status !== 'ended') {
            throw invalid(
              `Message Batch ${String(b.batch.id)} is still ${String(b.batch.processing_status)}: cancel it and wait for it to end before deleting it`,
            );
          }
          batches.delete(String(b.batch.id));
          send(res, 200, { id: b.batch.id, type: 'message_batch_deleted' });
          return;
        }
      }
    } catch (err) {
      if (err instanceof ApiError) sendAnthropicError(res, err);
      else {
        const message = err instanceof Error ? err.message : String(err);
        send(
          res,
          500,
          anthropicErrorBody(new ApiError(500, `Mock server error: ${message}`, null, null, 'api_error')),
        );
      }
    }
  };
}
