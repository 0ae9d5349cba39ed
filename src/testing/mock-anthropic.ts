/**
 * The Anthropic routes of the bundled mock (see `startMockServer`), served on the same port as the
 * OpenAI ones:
 * - `POST /v1/messages`: an echo of the last message (`"Echo: " + <its text>`), plain or streamed
 *   (`message_start`, `ping`, `content_block_start`, `content_block_delta` per word,
 *   `content_block_stop`, `message_delta` with the usage, `message_stop`); cut to `max_tokens` words
 *   (`stop_reason: 'max_tokens'`) or at the first of `stop_sequences` found (`'stop_sequence'`). With
 *   `tools` (and `tool_choice` not `none`) and a last message that is not a `tool_result`, the
 *   assistant calls the first tool (or the one `tool_choice` names) with an input made from its
 *   `input_schema` (`stop_reason: 'tool_use'`). Validated as the API does: `anthropic-version` and
 *   `x-api-key` (or `Authorization`) headers, `model`, `max_tokens`, `messages` (roles `user` and
 *   `assistant` only: the system prompt goes in `system`).
 * - `POST /v1/messages/count_tokens`: `{ input_tokens }`.
 * - `GET /v1/models`, `GET /v1/models/{id}` when the request carries `anthropic-version` (without it
 *   the OpenAI model list answers): a fixed list, paged with `limit` / `after_id` / `before_id`.
 *
 * Errors on demand (both providers, see `mockErrorFor`): `model: 'mock-error-429'` answers 429 (any
 * status 400–599), with the provider's error envelope and `x-should-retry: false` so clients fail at
 * once; `model: 'mock-stream-error-529'` with `stream: true` sends the head, one text delta, then an
 * `error` event (`overloaded_error`). Anthropic errors have the shape
 * `{"type":"error","error":{"type","message"}}`; every response carries `request-id: req_mock_<n>`.
 *
 * @module
 */

import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { sampleFromSchema } from './mock-chat.js';
import {
  ApiError,
  captureResponse,
  contentText,
  countWords,
  isObject,
  type JsonObject,
  send,
  splitPieces,
  writeEvents,
} from './mock-common.js';

/** A route this module serves (paths already without `/v1`). */
export type AnthropicRoute = 'messages' | 'count-tokens' | 'models' | 'model';

/** Anthropic's error type of each HTTP status (https://docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** OpenAI's error type and code of a status, for the OpenAI side of `mockErrorFor`. */
function openaiErrorKind(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** Anthropic's error type of a status (`api_error` for unlisted 5xx, `invalid_request_error` else). */
export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** An error asked for by the request's model (`mock-error-<status>`), thrown by the mock's handlers. */
export class MockTriggeredError extends ApiError {}

/**
 * The error a request asks for with `model: 'mock-error-<status>'` (status 400–599), shaped for
 * `provider`, or undefined. Such responses carry `x-should-retry: false`.
 */
export function mockErrorFor(model: unknown, provider: 'openai' | 'anthropic'): ApiError | undefined {
  const m = typeof model === 'string' ? /^mock-error-(\d{3})$/.exec(model) : null;
  const status = m ? Number(m[1]) : 0;
  if (status < 400 || status > 599) return undefined;
  const message = `Mock error ${status} (asked for by model '${String(model)}').`;
  if (provider === 'anthropic') {
    return new MockTriggeredError(status, message, null, null, anthropicErrorType(status));
  }
  const { type, code } = openaiErrorKind(status);
  return new MockTriggeredError(status, message, null, code, type);
}

/** Headers of a triggered error response. */
export function triggeredErrorHeaders(res: ServerResponse, err: ApiError): void {
  if (err instanceof MockTriggeredError && !res.headersSent) res.setHeader('x-should-retry', 'false');
}

const MODELS = [
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z' },
  { id: 'claude-opus-4-1', display_name: 'Claude Opus 4.1', created_at: '2025-08-05T00:00:00Z' },
  { id: 'claude-3-5-haiku-latest', display_name: 'Claude Haiku 3.5', created_at: '2024-10-22T00:00:00Z' },
].map((m) => ({ type: 'model', ...m }));

/**
 * The Anthropic route for `method`, `path` (without `/v1`) and headers, or null. `GET /models` is
 * Anthropic's only when the request has an `anthropic-version` header.
 */
export function anthropicRoute(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
): AnthropicRoute | null {
  if (method === 'POST' && path === '/messages') return 'messages';
  if (method === 'POST' && path === '/messages/count_tokens') return 'count-tokens';
  if (method === 'GET' && headers['anthropic-version'] !== undefined) {
    if (path === '/models') return 'models';
    if (path.startsWith('/models/')) return 'model';
  }
  return null;
}

/** Sends `err` with Anthropic's error envelope. */
export function sendAnthropicError(res: ServerResponse, err: ApiError): void {
  triggeredErrorHeaders(res, err);
  send(res, err.status, anthropicErrorBody(err));
}

function invalid(message: string): ApiError {
  return new ApiError(400, message);
}

/** Text of a message's content: a string, or its `text` blocks and `tool_result` contents. */
function messageText(content: unknown): string {
  if (!Array.isArray(content)) return contentText(content);
  const texts: string[] = [];
  for (const block of content) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_result') texts.push(messageText(block.content));
  }
  return texts.join(' ');
}

interface ToolUse {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

function toolUseFor(body: JsonObject, last: JsonObject, n: number): ToolUse | undefined {
  const tools = body.tools;
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const choice = isObject(body.tool_choice) ? body.tool_choice : {};
  if (choice.type === 'none') return undefined;
  if (Array.isArray(last.content) && last.content.some((b) => isObject(b) && b.type === 'tool_result')) {
    return undefined;
  }
  const wanted = choice.type === 'tool' && typeof choice.name === 'string' ? choice.name : undefined;
  const tool = tools.find(
    (t): t is JsonObject =>
      isObject(t) && typeof t.name === 'string' && (wanted === undefined || t.name === wanted),
  );
  if (!tool) return undefined;
  const words = messageText(last.content).match(/[\p{L}\p{N}-]+/gu);
  const hint = words?.[words.length - 1] ?? 'mock';
  return {
    type: 'tool_use',
    id: `toolu_mock_${n}`,
    name: tool.name as string,
    input: sampleFromSchema(tool.input_schema ?? { type: 'object' }, hint) ?? {},
  };
}

/** Validates the messages and system prompt; returns the prompt's token count (words). */
function promptTokens(body: JsonObject): number {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid('messages: at least one message is required');
  }
  let tokens = 0;
  messages.forEach((m: unknown, i) => {
    if (!isObject(m)) throw invalid(`messages.${i}: Input should be a valid dictionary`);
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw invalid(`messages.${i}.content: Input should be a valid string or list`);
    }
    tokens += countWords(messageText(m.content));
  });
  const system = body.system;
  if (system !== undefined && typeof system !== 'string' && !Array.isArray(system)) {
    throw invalid('system: Input should be a valid string or list');
  }
  return tokens + countWords(messageText(system));
}

/** The reply text cut by `max_tokens` (words) or the first stop sequence found. */
function cut(
  text: string,
  maxTokens: number,
  stops: unknown,
): { text: string; reason: string; sequence: string | null } {
  let best: { at: number; seq: string } | undefined;
  if (Array.isArray(stops)) {
    for (const s of stops) {
      if (typeof s !== 'string' || s === '') continue;
      const at = text.indexOf(s);
      if (at !== -1 && (!best || at < best.at)) best = { at, seq: s };
    }
  }
  let out = best ? text.slice(0, best.at) : text;
  const pieces = splitPieces(out);
  if (countWords(out) > maxTokens) {
    out = pieces.slice(0, maxTokens).join('').trimEnd();
    return { text: out, reason: 'max_tokens', sequence: null };
  }
  return best
    ? { text: out, reason: 'stop_sequence', sequence: best.seq }
    : { text: out, reason: 'end_turn', sequence: null };
}

/**
 * Checks the headers every Anthropic route needs: `x-api-key` (or `Authorization`) and
 * `anthropic-version`.
 * @throws ApiError 401 (`authentication_error`) or 400 (`invalid_request_error`).
 */
export function checkHeaders(headers: IncomingHttpHeaders): void {
  if (headers['x-api-key'] === undefined && headers.authorization === undefined) {
    throw new ApiError(401, 'x-api-key header is required', null, null, 'authentication_error');
  }
  if (headers['anthropic-version'] === undefined) {
    throw invalid('anthropic-version: header is required');
  }
}

function sse(type: string, data: JsonObject): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

async function messages(
  res: ServerResponse,
  n: number,
  body: JsonObject,
  chunkDelayMs: number,
): Promise<void> {
  const model = body.model;
  if (typeof model !== 'string' || model === '') throw invalid('model: Field required');
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined) throw invalid('max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw invalid('max_tokens: Input should be a valid integer greater than or equal to 1');
  }
  const temperature = body.temperature;
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 1)) {
    throw invalid('temperature: Input should be a number between 0 and 1');
  }
  const inputTokens = promptTokens(body);
  const triggered = mockErrorFor(model, 'anthropic');
  if (triggered) throw triggered;

  const list = body.messages as JsonObject[];
  const last = list[list.length - 1] as JsonObject;
  const toolUse = toolUseFor(body, last, n);
  const reply = cut(`Echo: ${messageText(last.content)}`, maxTokens, body.stop_sequences);
  const text = toolUse ? '' : reply.text;
  const stopReason = toolUse ? 'tool_use' : reply.reason;
  const stopSequence = toolUse ? null : reply.sequence;
  const outputTokens = countWords(text) + (toolUse ? 1 : 0);
  const id = `msg_mock_${n}`;
  const usage = {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };

  if (body.stream !== true) {
    send(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: toolUse ? [toolUse] : [{ type: 'text', text }],
      stop_reason: stopReason,
      stop_sequence: stopSequence,
      usage,
    });
    return;
  }

  const events: string[] = [
    sse('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
    sse('ping', {}),
  ];
  if (toolUse) {
    events.push(
      sse('content_block_start', { index: 0, content_block: { ...toolUse, input: {} } }),
      sse('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(toolUse.input) },
      }),
    );
  } else {
    events.push(sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    const pieces = splitPieces(text);
    const streamError = /^mock-stream-error-(\d{3})$/.exec(model);
    for (const piece of pieces) {
      events.push(sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }));
      if (streamError) {
        const status = Number(streamError[1]);
        events.push(
          sse('error', {
            error: { type: anthropicErrorType(status), message: `Mock stream error ${status}.` },
          }),
        );
        await writeEvents(res, events, chunkDelayMs);
        return;
      }
    }
  }
  events.push(
    sse('content_block_stop', { index: 0 }),
    sse('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage: { output_tokens: outputTokens },
    }),
    sse('message_stop', {}),
  );
  await writeEvents(res, events, chunkDelayMs);
}

function models(res: ServerResponse, query: URLSearchParams): void {
  const limit = Math.min(Math.max(Number(query.get('limit') ?? 20) || 20, 1), 1000);
  const after = query.get('after_id');
  const before = query.get('before_id');
  let start = 0;
  let end = MODELS.length;
  if (after) start = MODELS.findIndex((m) => m.id === after) + 1;
  if (before)
    end = Math.max(
      MODELS.findIndex((m) => m.id === before),
      0,
    );
  const page = before ? MODELS.slice(Math.max(end - limit, 0), end) : MODELS.slice(start, start + limit);
  const hasMore = before ? end - limit > 0 : start + limit < MODELS.length;
  send(res, 200, {
    data: page,
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
  });
}

/** Anthropic's error envelope of `err`: `{"type":"error","error":{"type","message"}}`. */
export function anthropicErrorBody(err: ApiError): JsonObject {
  const type = err.type === 'invalid_request_error' ? anthropicErrorType(err.status) : err.type;
  return { type: 'error', error: { type, message: err.message } };
}

/**
 * Runs one Messages API request (`params` as for `POST /v1/messages`, `n` the request number used in
 * its ids) as the HTTP route would, returning its status and JSON body: the message, or Anthropic's
 * error envelope. Used by the mock's Message Batches (`mock-message-batches.ts`); `stream: true` is
 * refused (batch requests cannot stream).
 */
export async function runMessage(n: number, params: JsonObject): Promise<{ status: number; body: unknown }> {
  try {
    if (params.stream === true) throw invalid('stream: Message Batches requests cannot stream');
    const { status, text } = await captureResponse((res) => messages(res, n, params, 0));
    return { status, body: JSON.parse(text) as unknown };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, body: anthropicErrorBody(err) };
  }
}

/** What a handler gets from the server: the request counter, the parsed body on demand, … */
export interface AnthropicContext {
  n: number;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  json: () => JsonObject;
  chunkDelayMs: number;
}

/** Answers one Anthropic request; every error is sent with Anthropic's envelope. */
export async function handleAnthropic(
  route: AnthropicRoute,
  res: ServerResponse,
  ctx: AnthropicContext,
): Promise<void> {
  res.setHeader('request-id', `req_mock_${ctx.n}`);
  try {
    checkHeaders(ctx.headers);
    switch (route) {
      case 'messages':
        await messages(res, ctx.n, ctx.json(), ctx.chunkDelayMs);
        return;
      case 'count-tokens': {
        const body = ctx.json();
        if (typeof body.model !== 'string' || body.model === '') throw invalid('model: Field required');
        send(res, 200, { input_tokens: promptTokens(body) });
        return;
      }
      case 'models':
        models(res, ctx.query);
        return;
      case 'model': {
        const id = decodeURIComponent(ctx.path.slice('/models/'.length));
        const model = MODELS.find((m) => m.id === id);
        if (!model) throw new ApiError(404, `model: ${id}`, null, null, 'not_found_error');
        send(res, 200, model);
        return;
      }
    }
  } catch (err) {
    if (err instanceof ApiError) sendAnthropicError(res, err);
    else if (!res.headersSent && !res.destroyed) {
      const message = err instanceof Error ? err.message : String(err);
      sendAnthropicError(res, new ApiError(500, `Mock server error: ${message}`, null, null, 'api_error'));
    } else res.destroy();
  }
}
