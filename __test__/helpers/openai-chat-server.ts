// The loopback server and recording helpers of the OpenAI helper tests (openai-chat-*.test.ts): one
// server answers openai-node and aiwire alike. POST /chat/completions picks its answer by `model`:
//   fixture:<name>   the recorded SSE body __test__/fixtures/openai/<name>.sse, in 7-byte pieces plus a
//                    cut right after the first byte of the first multi-byte UTF-8 character
//   status:<code>    that status with OpenAI's error envelope
//   json:<key>       the JSON completion `jsonAnswers[key]` (set by a test)
//   script:<key>     `scripts[key](body, n)`: the n-th request (0-based) of that client to that script
//                    answers with a completion (JSON, or SSE chunks when the request streams)
// POST /responses answers `jsonAnswers[model]`. Every request body is recorded with the client that
// sent it (the API key: `sk-sdk` or `sk-aiwire`).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import SDK from 'openai';
import { OpenAI } from '../../src/openai.js';

import { writeSplit } from './sse-split.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'openai');
export const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.sse`));

/** A request as the server received it. */
export interface Recorded {
  client: 'sdk' | 'aiwire';
  path: string;
  body: Record<string, unknown>;
}

export type Script = (body: Record<string, unknown>, n: number) => object;

export const recorded: Recorded[] = [];
export const jsonAnswers: Record<string, object> = {};
export const scripts: Record<string, Script> = {};
const scriptCalls = new Map<string, number>();

/** A completion as SSE chunks (role, content or tool calls one per chunk, finish, [DONE]). */
export function toSSE(completion: {
  id: string;
  model: string;
  created: number;
  choices: { message: Record<string, unknown>; finish_reason: string }[];
}): Buffer {
  const head = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  const events: object[] = [];
  const choice = completion.choices[0] as { message: Record<string, unknown>; finish_reason: string };
  const { content, tool_calls } = choice.message as {
    content?: string | null;
    tool_calls?: Record<string, unknown>[];
  };
  events.push({
    ...head,
    choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }],
  });
  if (content) {
    for (const part of content.match(/.{1,9}/gsu) ?? []) {
      events.push({ ...head, choices: [{ index: 0, delta: { content: part }, finish_reason: null }] });
    }
  }
  for (const [index, call] of (tool_calls ?? []).entries()) {
    const fn = call.function as { name: string; arguments: string };
    events.push({
      ...head,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: fn.name, arguments: '' } },
            ],
          },
          finish_reason: null,
        },
      ],
    });
    for (const part of fn.arguments.match(/.{1,6}/gsu) ?? []) {
      events.push({
        ...head,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index, function: { arguments: part } }] },
            finish_reason: null,
          },
        ],
      });
    }
  }
  events.push({ ...head, choices: [{ index: 0, delta: {}, finish_reason: choice.finish_reason }] });
  return Buffer.from(`${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  const url = new URL(req.url ?? '/', 'http://x');
  const client = req.headers.authorization === 'Bearer sk-sdk' ? 'sdk' : 'aiwire';
  const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  recorded.push({ client, path: url.pathname, body });
  const model = String(body.model ?? '');
  const [kind, key = ''] = model.split(/:(.*)/s);
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${key}` });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'POST' && url.pathname === '/v1/responses') return json(200, jsonAnswers[model]);
  if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions')
    return json(404, { error: { message: 'Not found' } });
  if (kind === 'fixture') {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': `req_${key}` });
    return writeSplit(res, fixture(key));
  }
  if (kind === 'status') {
    return json(Number(key), {
      error: { message: `scripted ${key}`, type: 'server_error', param: null, code: null },
    });
  }
  if (kind === 'json') return json(200, jsonAnswers[key]);
  if (kind === 'script') {
    const counter = `${client}:${key}`;
    const n = scriptCalls.get(counter) ?? 0;
    scriptCalls.set(counter, n + 1);
    const completion = (scripts[key] as Script)(body, n);
    if (!body.stream) return json(200, completion);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'x-request-id': `req_${key}_${n}`,
    });
    return writeSplit(res, toSSE(completion as never));
  }
  return json(400, { error: { message: `unknown model ${model}` } });
}

let server: Server;
let baseURL = '';

/** Start the server (beforeAll). */
export async function startServer(): Promise<void> {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => res.destroy(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** Stop the server (afterAll). */
export async function stopServer(): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

export const aiwire = () => new OpenAI({ apiKey: 'sk-aiwire', baseURL, maxRetries: 0 });
export const sdk = () => new SDK({ apiKey: 'sk-sdk', baseURL, maxRetries: 0 });

/** The bodies one client sent to one model, in order. */
export const sent = (client: 'sdk' | 'aiwire', model: string) =>
  recorded.filter((r) => r.client === client && r.body.model === model).map((r) => r.body);

/** Every event of `ChatCompletionStream` and the runners. */
export const STREAM_EVENTS = [
  'connect',
  'chunk',
  'content',
  'content.delta',
  'content.done',
  'refusal.delta',
  'refusal.done',
  'tool_calls.function.arguments.delta',
  'tool_calls.function.arguments.done',
  'logprobs.content.delta',
  'logprobs.content.done',
  'logprobs.refusal.delta',
  'logprobs.refusal.done',
  'chatCompletion',
  'message',
  'functionToolCall',
  'functionToolCallResult',
  'finalChatCompletion',
  'finalMessage',
  'finalContent',
  'finalFunctionToolCall',
  'finalFunctionToolCallResult',
  'totalUsage',
  'error',
  'abort',
  'end',
] as const;

export type Log = [string, ...unknown[]][];

/** A listener on every event of `events`, logging its arguments as they were at the call (errors summarised). */
export function record(
  stream: { on(event: string, listener: (...args: unknown[]) => void): unknown },
  events: readonly string[],
): Log {
  const log: Log = [];
  for (const name of events) {
    stream.on(name, (...args: unknown[]) => {
      if (name === 'error' || name === 'abort') {
        const e = args[0] as { constructor: { name: string }; status?: number; message: string };
        log.push([name, { class: e.constructor.name, status: e.status, message: e.message }]);
      } else {
        log.push([name, ...structuredClone(args)]);
      }
    });
  }
  return log;
}

/** Settle a promise into a comparable value (the error's class and message). */
export async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: string; message: string }> {
  try {
    return { ok: structuredClone(await p) };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}
