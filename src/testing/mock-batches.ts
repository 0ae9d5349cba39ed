/**
 * The Batch API routes of the bundled mock (`startMockServer`), so `client.batches.run()` works
 * without a key (https://platform.openai.com/docs/api-reference/batch):
 *
 * - `POST /files` (multipart/form-data: `file`, `purpose`) → a File object (`file-mock-<n>`); kept in
 *   memory by the server (up to the mock's 32 MiB body limit). `GET /files/{id}` → the object,
 *   `GET /files/{id}/content` → its bytes.
 * - `POST /batches` (`input_file_id` of a `purpose: batch` file, `endpoint`, `completion_window`) →
 *   a Batch in `validating`. Each `GET /batches/{id}` moves it one step: `validating` →
 *   `in_progress` → `finalizing` → `completed`, with `openai-poll-after-ms: 20`. On `completed` every
 *   input line has been run against the mock's own handlers (`/v1/chat/completions`,
 *   `/v1/embeddings`; streaming refused): 2xx answers go to the output file, other answers and
 *   malformed lines to the error file, in input order, as the API's batch output lines
 *   (`{ id, custom_id, response: { status_code, request_id, body } | null, error }`).
 * - `POST /batches/{id}/cancel` → `cancelling`; the next `GET` says `cancelled` (no output).
 * - `GET /batches` (newest first; `limit` 1–100, default 20; `after` a batch id) → a cursor page
 *   `{ object: 'list', data, first_id, last_id, has_more }` (listBatches).
 *
 * State lives in the server (one store per `startMockServer`).
 */
import type { ServerResponse } from 'node:http';
import { ApiError, CREATED, isObject, type JsonObject, send } from './mock-common.js';

/** A route of this file. */
export type BatchRoute =
  | 'file-create'
  | 'file-get'
  | 'file-content'
  | 'batch-create'
  | 'batch-get'
  | 'batch-list'
  | 'batch-cancel';

/** Runs one batch line against the mock: `url` is the line's path (`/v1/chat/completions`). */
export type ExecuteLine = (url: string, body: JsonObject) => Promise<{ status: number; body: unknown }>;

interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: Buffer;
}

interface StoredBatch {
  batch: JsonObject;
  /** Steps taken (one per retrieve). */
  step: number;
}

const STEPS = ['validating', 'in_progress', 'finalizing', 'completed'] as const;
const ENDPOINTS = new Set(['/v1/chat/completions', '/v1/embeddings']);

/** The route of `method path` among this file's, or null. */
export function batchRoute(method: string, path: string): BatchRoute | null {
  if (method === 'POST' && path === '/files') return 'file-create';
  if (method === 'GET' && /^\/files\/[^/]+$/.test(path)) return 'file-get';
  if (method === 'GET' && /^\/files\/[^/]+\/content$/.test(path)) return 'file-content';
  if (method === 'POST' && path === '/batches') return 'batch-create';
  if (method === 'GET' && path === '/batches') return 'batch-list';
  if (method === 'GET' && /^\/batches\/[^/]+$/.test(path)) return 'batch-get';
  if (method === 'POST' && /^\/batches\/[^/]+\/cancel$/.test(path)) return 'batch-cancel';
  return null;
}

/** The fields and files of a multipart/form-data body. */
function parseMultipart(
  raw: Buffer,
  contentType: string | undefined,
): Map<string, { filename?: string; data: Buffer }> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m) throw new ApiError(400, 'Expected a multipart/form-data body with a boundary.');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const fields = new Map<string, { filename?: string; data: Buffer }>();
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const headStart = at + delimiter.length;
    if (raw.subarray(headStart, headStart + 2).toString() === '--') break;
    const headEnd = raw.indexOf('\r\n\r\n', headStart);
    if (headEnd === -1) break;
    const head = raw.subarray(headStart, headEnd).toString('utf8');
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
    if (next === -1) break;
    const name = /name="([^"]*)"/.exec(head)?.[1];
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (name)
      fields.set(name, {
        ...(filename !== undefined ? { filename } : {}),
        data: raw.subarray(headEnd + 4, next),
      });
    at = next + 2;
  }
  return fields;
}

/** The Batch API state of one mock server and its handler. */
export function createBatchStore(execute: ExecuteLine) {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  let fileCounter = 0;
  let batchCounter = 0;

  const fileObject = (f: StoredFile) => ({
    id: f.id,
    object: 'file',
    bytes: f.bytes.length,
    created_at: CREATED,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  });

  const addFile = (filename: string, purpose: string, bytes: Buffer): StoredFile => {
    const f = { id: `file-mock-${++fileCounter}`, filename, purpose, bytes };
    files.set(f.id, f);
    return f;
  };

  const fileOf = (id: string): StoredFile => {
    const f = files.get(id);
    if (!f) throw new ApiError(404, `No such File object: ${id}`, 'id', 'not_found', 'invalid_request_error');
    return f;
  };

  /** Run every line of the batch's input file; write the output and error files. */
  const runLines = async (b: JsonObject): Promise<void> => {
    const input = fileOf(String(b.input_file_id)).bytes.toString('utf8');
    const out: string[] = [];
    const errors: string[] = [];
    let line = 0;
    for (const text of input.split('\n')) {
      if (text.trim() === '') continue;
      line++;
      const id = `batch_req_mock_${batchCounter}_${line}`;
      let custom_id: unknown = null;
      try {
        const req = JSON.parse(text) as unknown;
        if (!isObject(req)) throw new ApiError(400, 'line is not a JSON object');
        custom_id = req.custom_id;
        if (req.url !== b.endpoint)
          throw new ApiError(400, `url ${String(req.url)} is not the batch endpoint ${String(b.endpoint)}`);
        if (!isObject(req.body) || req.body.stream === true)
          throw new ApiError(400, 'body must be an object, not streamed');
        const answer = await execute(String(req.url), req.body);
        const entry = {
          id,
          custom_id,
          response: { status_code: answer.status, request_id: `req_${id}`, body: answer.body },
          error: null,
        };
        (answer.status < 300 ? out : errors).push(JSON.stringify(entry));
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        errors.push(
          JSON.stringify({
            id,
            custom_id,
            response: null,
            error: { code: 'invalid_request', message: `line ${line}: ${message}` },
          }),
        );
      }
    }
    b.request_counts = { total: line, completed: out.length, failed: errors.length };
    if (out.length)
      b.output_file_id = addFile(
        `batch_${b.id}_output.jsonl`,
        'batch_output',
        Buffer.from(`${out.join('\n')}\n`),
      ).id;
    if (errors.length)
      b.error_file_id = addFile(
        `batch_${b.id}_error.jsonl`,
        'batch_output',
        Buffer.from(`${errors.join('\n')}\n`),
      ).id;
  };

  const batchOf = (path: string): StoredBatch => {
    const id = path.split('/')[2] ?? '';
    const b = batches.get(id);
    if (!b)
      throw new ApiError(404, `No batch found with id '${id}'.`, null, 'not_found', 'invalid_request_error');
    return b;
  };

  return async function handleBatches(
    route: BatchRoute,
    res: ServerResponse,
    req: {
      path: string;
      raw: Buffer;
      contentType: string | undefined;
      json: () => JsonObject;
      query?: URLSearchParams;
    },
  ): Promise<void> {
    switch (route) {
      case 'batch-list': {
        const all = [...batches.values()].map((b) => b.batch).reverse();
        const limit = Math.min(Math.max(Number(req.query?.get('limit') ?? 20) || 20, 1), 100);
        const after = req.query?.get('after');
        const start = after ? all.findIndex((b) => b.id === after) + 1 : 0;
        const page = all.slice(start, start + limit);
        send(res, 200, {
          object: 'list',
          data: page,
          first_id: page[0]?.id ?? null,
          last_id: page[page.length - 1]?.id ?? null,
          has_more: start + limit < all.length,
        });
        return;
      }
      case 'file-create': {
        const form = parseMultipart(req.raw, req.contentType);
        const file = form.get('file');
        const purpose = form.get('purpose')?.data.toString('utf8');
        if (!file) throw new ApiError(400, "Missing required parameter: 'file'.", 'file');
        if (!purpose) throw new ApiError(400, "Missing required parameter: 'purpose'.", 'purpose');
        send(res, 200, fileObject(addFile(file.filename ?? 'upload', purpose, Buffer.from(file.data))));
        return;
      }
      case 'file-get':
        send(res, 200, fileObject(fileOf(req.path.split('/')[2] ?? '')));
        return;
      case 'file-content': {
        const f = fileOf(req.path.split('/')[2] ?? '');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.bytes.length });
        res.end(f.bytes);
        return;
      }
      case 'batch-create': {
        const body = req.json();
        const input = fileOf(String(body.input_file_id ?? ''));
        if (input.purpose !== 'batch')
          throw new ApiError(400, `File ${input.id} must have purpose 'batch'.`, 'input_file_id');
        if (!ENDPOINTS.has(String(body.endpoint))) {
          throw new ApiError(400, `The mock runs batches for ${[...ENDPOINTS].join(', ')} only.`, 'endpoint');
        }
        if (body.completion_window !== '24h')
          throw new ApiError(400, "completion_window must be '24h'.", 'completion_window');
        const batch: JsonObject = {
          id: `batch_mock_${++batchCounter}`,
          object: 'batch',
          endpoint: body.endpoint,
          errors: null,
          input_file_id: input.id,
          completion_window: '24h',
          status: 'validating',
          output_file_id: null,
          error_file_id: null,
          created_at: CREATED,
          request_counts: { total: 0, completed: 0, failed: 0 },
          metadata: body.metadata ?? null,
        };
        batches.set(String(batch.id), { batch, step: 0 });
        send(res, 200, batch);
        return;
      }
      case 'batch-get': {
        const b = batchOf(req.path);
        if (b.batch.status === 'cancelling') b.batch.status = 'cancelled';
        else if (b.step < STEPS.length - 1) {
          b.step++;
          if (STEPS[b.step] === 'completed') await runLines(b.batch);
          b.batch.status = STEPS[b.step];
        }
        res.setHeader('openai-poll-after-ms', '20');
        send(res, 200, b.batch);
        return;
      }
      case 'batch-cancel': {
        const b = batchOf(req.path.slice(0, -'/cancel'.length));
        if (b.batch.status !== 'completed' && b.batch.status !== 'cancelled') b.batch.status = 'cancelling';
        send(res, 200, b.batch);
        return;
      }
    }
  };
}
