/**
 * Routes of the bundled mock beyond chat, models and embeddings (see `startMockServer`):
 * `POST /responses` (plain and streamed, with the Responses API's named events), `POST /audio/speech`
 * (deterministic audio bytes), and Azure OpenAI's URL layout (`/openai/deployments/{name}/…`).
 *
 * @module
 */

import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  ApiError,
  CREATED,
  contentText,
  countWords,
  hashString,
  isObject,
  type JsonObject,
  send,
  splitPieces,
  writeEvents,
} from './mock-common.js';

/** Content types of `POST /audio/speech` by `response_format` (default `mp3`). */
const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};
/** Bytes of "audio" per word of speech input. */
const AUDIO_BYTES_PER_WORD = 4096;

/** Number of fine-tuning jobs `GET /fine_tuning/jobs` pages through. */
const FINE_TUNING_JOBS = 7;

/** A route this module serves. */
export type ExtraRoute = 'responses' | 'speech' | 'jobs' | 'job-events';

/** The route for `method` and `path` (already without `/v1`), or `null` when this module has none. */
export function extraRoute(method: string, path: string): ExtraRoute | null {
  if (method === 'POST' && path === '/responses') return 'responses';
  if (method === 'POST' && path === '/audio/speech') return 'speech';
  if (method === 'GET' && path === '/fine_tuning/jobs') return 'jobs';
  if (method === 'GET' && /^\/fine_tuning\/jobs\/[^/]+\/events$/.test(path)) return 'job-events';
  return null;
}

/**
 * Azure OpenAI's layout: `/openai/deployments/{deployment}/chat/completions?api-version=…` (and
 * `/openai/…` without a deployment) maps to the OpenAI path. Such requests need an `api-version` query
 * parameter and an `api-key` (or `Authorization`) header, as Azure does.
 *
 * @returns the OpenAI path (unchanged when it is not an Azure one).
 * @throws ApiError 400 without `api-version`, 401 without a credential.
 */
export function azurePath(path: string, query: string, headers: IncomingHttpHeaders): string {
  if (path !== '/openai' && !path.startsWith('/openai/')) return path;
  if (!new URLSearchParams(query).get('api-version')) {
    throw new ApiError(400, 'Missing required query parameter: api-version.', 'api-version');
  }
  if (!headers['api-key'] && !headers.authorization) {
    throw new ApiError(401, 'Access denied due to missing subscription key.', null, '401', 'auth_error');
  }
  const rest = path.slice('/openai'.length);
  const deployment = /^\/deployments\/[^/]+/.exec(rest);
  return (deployment ? rest.slice(deployment[0].length) : rest) || '/';
}

/** What {@link handleExtra} needs of a request. */
export interface ExtraRequest {
  /** The server's request counter, used in ids. */
  n: number;
  path: string;
  query: URLSearchParams;
  /** The JSON body (throws ApiError 400 when it is not JSON). */
  json: () => JsonObject;
  chunkDelayMs: number;
}

/**
 * Answers an {@link ExtraRoute}.
 *
 * @throws ApiError 400 for an invalid request.
 */
export async function handleExtra(route: ExtraRoute, res: ServerResponse, req: ExtraRequest): Promise<void> {
  switch (route) {
    case 'speech':
      return speech(res, req.json());
    case 'jobs':
      return send(res, 200, fineTuningJobs(req.query));
    case 'job-events':
      return send(res, 200, fineTuningEvents(decodeURIComponent(req.path.split('/')[3] ?? ''), req.query));
    default:
      return responses(res, req.n, req.json(), req.chunkDelayMs);
  }
}

/** A cursor page of `items` (by `id`): `after` and `limit` (default 20) from the query. */
function cursorPage<T extends { id: string }>(items: T[], query: URLSearchParams): JsonObject {
  const limit = Number(query.get('limit') ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ApiError(400, "Invalid 'limit': expected an integer between 1 and 100.", 'limit');
  }
  const after = query.get('after');
  const start = after ? items.findIndex((item) => item.id === after) + 1 : 0;
  const data = items.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < items.length };
}

/** `GET /fine_tuning/jobs`: {@link FINE_TUNING_JOBS} jobs, newest first, as cursor pages. */
function fineTuningJobs(query: URLSearchParams): JsonObject {
  const jobs = Array.from({ length: FINE_TUNING_JOBS }, (_, i) => {
    const k = FINE_TUNING_JOBS - i;
    return {
      id: `ftjob-mock${k}`,
      object: 'fine_tuning.job',
      created_at: CREATED + k * 3600,
      error: null,
      fine_tuned_model: k % 2 ? `ft:gpt-4o-mini-2024-07-18:aiwire::mock${k}` : null,
      finished_at: k % 2 ? CREATED + k * 3600 + 1800 : null,
      hyperparameters: { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 3 },
      model: 'gpt-4o-mini-2024-07-18',
      organization_id: 'org-mock',
      result_files: [],
      seed: k,
      status: k % 2 ? 'succeeded' : 'running',
      trained_tokens: k % 2 ? 1000 * k : null,
      training_file: `file-train${k}`,
      validation_file: null,
      method: { type: 'supervised' },
      metadata: null,
    };
  });
  return cursorPage(jobs, query);
}

/** `GET /fine_tuning/jobs/{id}/events`: three events of that job, as cursor pages. */
function fineTuningEvents(jobId: string, query: URLSearchParams): JsonObject {
  const messages = ['Fine-tuning job started', 'Step 10/30: training loss=0.42', 'Fine-tuning job succeeded'];
  const events = messages.map((message, i) => ({
    id: `ftevent-${jobId}-${i}`,
    object: 'fine_tuning.job.event',
    created_at: CREATED + i * 60,
    level: 'info',
    message,
    type: 'message',
  }));
  return cursorPage(events.reverse(), query);
}

function requireString(body: JsonObject, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw new ApiError(400, `Missing required parameter: '${key}'.`, key, 'missing_required_parameter');
  }
  return value;
}

/** Deterministic bytes for `input`: an ID3-like header, then xorshift32 noise seeded by the text. */
function speech(res: ServerResponse, body: JsonObject): void {
  requireString(body, 'model');
  requireString(body, 'voice');
  const input = requireString(body, 'input');
  const format = typeof body.response_format === 'string' ? body.response_format : 'mp3';
  const type = AUDIO_TYPES[format];
  if (!type) throw new ApiError(400, `Invalid 'response_format': '${format}'.`, 'response_format');
  const bytes = Buffer.allocUnsafe(Math.max(1, countWords(input)) * AUDIO_BYTES_PER_WORD);
  let state = hashString(input) || 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  bytes.write('ID3', 0, 'latin1');
  res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
  res.end(bytes);
}

/** Text of a Responses `input`: the string, or the text of its last message item. */
function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input) || input.length === 0) {
    throw new ApiError(400, "Invalid 'input': expected a string or a non-empty array of items.", 'input');
  }
  const last: unknown = input[input.length - 1];
  if (!isObject(last)) return '';
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return typeof last.output === 'string' ? last.output : '';
  return contentText(
    last.content.map((p: unknown) =>
      isObject(p) && (p.type === 'input_text' || p.type === 'output_text') ? { ...p, type: 'text' } : p,
    ),
  );
}

/**
 * `POST /responses`: the output is one assistant message `"Echo: " + <text of the input>`. With
 * `stream: true`: `response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, one `response.output_text.delta` per word, then the `.done` events
 * and `response.completed` (each as `event: <type>` + `data:`, with `sequence_number`).
 */
async function responses(
  res: ServerResponse,
  n: number,
  body: JsonObject,
  chunkDelayMs: number,
): Promise<void> {
  const model = requireString(body, 'model');
  const inText = inputText(body.input);
  const text = `Echo: ${inText}`;
  const id = `resp_mock_${n}`;
  const itemId = `msg_mock_${n}`;
  const inputTokens =
    countWords(inText) + countWords(typeof body.instructions === 'string' ? body.instructions : '');
  const outputTokens = countWords(text);
  const part = { type: 'output_text', text, annotations: [], logprobs: [] };
  const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
  const response = (status: 'in_progress' | 'completed'): JsonObject => ({
    id,
    object: 'response',
    created_at: CREATED,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: status === 'completed' ? [item] : [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage:
      status === 'completed'
        ? {
            input_tokens: inputTokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: outputTokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: inputTokens + outputTokens,
          }
        : null,
    metadata: body.metadata ?? {},
  });

  if (body.stream !== true) {
    const text = JSON.stringify(response('completed'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }

  const events: string[] = [];
  const emit = (type: string, fields: JsonObject): void => {
    const data = JSON.stringify({ type, sequence_number: events.length, ...fields });
    events.push(`event: ${type}\ndata: ${data}\n\n`);
  };
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  emit('response.created', { response: response('in_progress') });
  emit('response.in_progress', { response: response('in_progress') });
  emit('response.output_item.added', {
    output_index: 0,
    item: { ...item, status: 'in_progress', content: [] },
  });
  emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
  for (const delta of splitPieces(text)) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
  emit('response.output_text.done', { ...at, text, logprobs: [] });
  emit('response.content_part.done', { ...at, part });
  emit('response.output_item.done', { output_index: 0, item });
  emit('response.completed', { response: response('completed') });
  await writeEvents(res, events, chunkDelayMs);
}
