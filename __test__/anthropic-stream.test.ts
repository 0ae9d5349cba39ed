// Anthropic streams, differential against @anthropic-ai/sdk 1.13.0 (a devDependency, the test oracle,
// never imported by src): the same recorded SSE bodies (__test__/fixtures/anthropic/*.sse, written by
// hand after https://docs.anthropic.com/en/api/messages-streaming, with `ping`s) served by one loopback
// server in 7-byte pieces (plus a cut inside the first multi-byte UTF-8 character), read by the SDK
// (its fetch) and by aiwire (real addon). Compared: every listener call of `messages.stream()` in
// order with its arguments (cloned when made), `finalMessage()`, `finalText()`, the raw events of
// `messages.create({ stream: true })`. Also: aiwire's partial-JSON parser against the SDK's on every
// prefix, and `messages.batches.results()` over a generated 100,000-line JSONL body.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import SDK from '@anthropic-ai/sdk';
import { partialParse as sdkPartialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Anthropic } from '../src/anthropic.js';
import { APIError, InternalServerError } from '../src/core/errors.js';
import {
  batchResultsDecoder,
  decodeJSONL,
  JSONLDecodeError,
  JSONLDecoder,
} from '../src/providers/anthropic/lib/batch-results.js';
import { MessageStream, streamMessages } from '../src/providers/anthropic/lib/message-stream.js';
import { partialParse } from '../src/providers/anthropic/lib/partial-json.js';
import type { MessageBatchIndividualResponse } from '../src/providers/anthropic/resources/messages/batches.js';
import type { MessageCreateParamsBase } from '../src/providers/anthropic/resources/messages.js';
import { writeSplit } from './helpers/sse-split.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'anthropic');
const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.sse`));
const RESULT_LINES = Number(process.env.AIWIRE_RESULT_LINES ?? 100_000);

/** `gc()`, exposed for this process (no `--expose-gc` needed). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A JSONL result line as the Message Batches API writes them. */
function resultLine(i: number): string {
  const ok = i % 10 !== 9;
  const result = ok
    ? {
        type: 'succeeded',
        message: {
          id: `msg_${i.toString(36).padStart(8, '0')}`,
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [{ type: 'text', text: `Answer number ${i}: café ✓` }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 11, output_tokens: 7 },
        },
      }
    : { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } } };
  return JSON.stringify({ custom_id: `req-${i}`, result });
}

/** A child process serving the 100,000-line results body (prints its port). */
const RESULTS_SERVER = `
const http = require('node:http');
const resultLine = ${resultLine.toString()};
const server = http.createServer(async (req, res) => {
  res.writeHead(200, { 'content-type': 'application/binary', 'request-id': 'req_results' });
  let chunk = '';
  for (let i = 0; i < ${RESULT_LINES}; i++) {
    chunk += resultLine(i) + '\\n';
    if (chunk.length > 16384) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      chunk = '';
    }
  }
  res.end(chunk);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Stream the generated results file, honouring backpressure. */
async function writeResults(res: ServerResponse, lines: number, badLine?: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/binary', 'request-id': 'req_results' });
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    chunk += i + 1 === badLine ? '{"custom_id": "req-broken", "result": {\n' : `${resultLine(i)}\n`;
    if (chunk.length > 16_384) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      chunk = '';
    }
  }
  res.end(chunk);
}

let server: Server;
let baseURL: string;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && url.pathname === '/v1/messages') {
    const model = (JSON.parse(raw) as { model: string }).model;
    const name = model.replace(/^fixture:/, '');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'request-id': `req_${name}`,
      'anthropic-workspace-id': 'wrkspc_test',
    });
    await writeSplit(res, fixture(name));
    return;
  }
  const results = /^\/v1\/messages\/batches\/([^/]+)\/results$/.exec(url.pathname);
  if (req.method === 'GET' && results) {
    const id = results[1];
    if (id === 'msgbatch_big') return writeResults(res, RESULT_LINES);
    if (id === 'msgbatch_bad') return writeResults(res, 5, 4);
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not found' } }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => res.destroy(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const aiwire = () => new Anthropic({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const sdk = () => new SDK({ apiKey: 'sk-test', baseURL, maxRetries: 0 });

const body = (name: string): MessageCreateParamsBase => ({
  model: `fixture:${name}`,
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Hello' }],
});

/** `client.messages.stream(body)` once the lead wired it, else the helper it calls. */
function aiwireStream(client: Anthropic, params: MessageCreateParamsBase): MessageStream {
  const messages = client.messages as unknown as { stream?: (b: MessageCreateParamsBase) => MessageStream };
  return typeof messages.stream === 'function' ? messages.stream(params) : streamMessages(client, params);
}

const EVENTS = [
  'connect',
  'streamEvent',
  'text',
  'citation',
  'inputJson',
  'thinking',
  'signature',
  'message',
  'contentBlock',
  'finalMessage',
  'error',
  'abort',
  'end',
] as const;

type Log = [string, ...unknown[]][];

/** A listener on every event, logging its arguments as they were at the call (errors summarised). */
function record(stream: { on(event: string, listener: (...args: unknown[]) => void): unknown }): Log {
  const log: Log = [];
  for (const name of EVENTS) {
    stream.on(name, (...args: unknown[]) => {
      if (name === 'error' || name === 'abort') {
        const e = args[0] as { constructor: { name: string }; status?: number };
        log.push([name, { class: e.constructor.name, status: e.status }]);
      } else {
        log.push([name, ...structuredClone(args)]);
      }
    });
  }
  return log;
}

/** Settle a promise into a comparable value. */
async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: structuredClone(await p) };
  } catch (e) {
    return { error: (e as Error).constructor.name };
  }
}

describe('messages.stream(): the same listener calls as @anthropic-ai/sdk', () => {
  for (const name of ['text', 'tool-use', 'thinking', 'citations']) {
    it(`${name}: events, arguments, finalMessage(), finalText(), currentMessage, request_id`, async () => {
      const theirs = sdk().messages.stream(body(name) as never);
      const ours = aiwireStream(aiwire(), body(name));
      const theirLog = record(theirs as never);
      const ourLog = record(ours as never);
      const [theirFinal, ourFinal] = await Promise.all([theirs.finalMessage(), ours.finalMessage()]);
      expect(ourLog.map((e) => e[0])).toEqual(theirLog.map((e) => e[0]));
      expect(ourLog).toEqual(theirLog);
      expect(ourFinal).toStrictEqual(theirFinal);
      expect(await settle(ours.finalText())).toEqual(await settle(theirs.finalText()));
      expect(ours.currentMessage).toBeUndefined();
      expect(ours.messages).toEqual(structuredClone(theirs.messages));
      expect(ours.receivedMessages).toEqual(theirs.receivedMessages);
      expect(ours.request_id).toBe(`req_${name}`);
      expect(ours.request_id).toBe(theirs.request_id);
      expect(ours.workspace_id).toBe(theirs.workspace_id);
      expect(ours.ended && !ours.errored && !ours.aborted).toBe(true);
      // Sanity: the fixture's content really arrived (not two empty logs).
      expect(ourLog.filter((e) => e[0] === 'streamEvent').length).toBeGreaterThan(5);
    });
  }

  it('tool-use: inputJson snapshots are the partially parsed input, final input parsed whole', async () => {
    const stream = aiwireStream(aiwire(), body('tool-use'));
    const snapshots: unknown[] = [];
    stream.on('inputJson', (_delta, snapshot) => snapshots.push(structuredClone(snapshot)));
    const final = await stream.finalMessage();
    expect(snapshots[0]).toEqual({});
    expect(snapshots).toContainEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    const tool = final.content[1] as { type: string; input: unknown };
    expect(tool.type).toBe('tool_use');
    expect(tool.input).toEqual({
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
      days: 12,
      temp: -35,
      flags: [true, false, null],
      nested: { a: ['x"y', 'café é'], b: {} },
      note: '日本',
    });
  });

  it('error-overloaded: aiwire gives InternalServerError 529 where the SDK gives APIError with status undefined; same events otherwise', async () => {
    const theirs = sdk().messages.stream(body('error-overloaded') as never);
    const ours = aiwireStream(aiwire(), body('error-overloaded'));
    const theirLog = record(theirs as never);
    const ourLog = record(ours as never);
    const [theirError, ourError] = await Promise.all([
      theirs.finalMessage().then(
        () => undefined,
        (e: unknown) => e,
      ),
      ours.finalMessage().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ]);
    // Documented difference: the SDK builds `new APIError(undefined, body, …)` for an in-stream error
    // event (status undefined, class APIError); aiwire maps `overloaded_error` to its HTTP status 529
    // and class (InternalServerError), as the same error answered as a response would be.
    expect(theirError).toBeInstanceOf(SDK.APIError);
    expect((theirError as InstanceType<typeof SDK.APIError>).constructor.name).toBe('APIError');
    expect((theirError as InstanceType<typeof SDK.APIError>).status).toBeUndefined();
    expect(ourError).toBeInstanceOf(InternalServerError);
    expect(ourError).toBeInstanceOf(APIError);
    expect((ourError as APIError).status).toBe(529);
    // Both: the error's `type` and body.
    expect((ourError as APIError).type).toBe('overloaded_error');
    expect((theirError as InstanceType<typeof SDK.APIError>).type).toBe('overloaded_error');
    expect((ourError as APIError).error).toEqual((theirError as InstanceType<typeof SDK.APIError>).error);
    // Every listener call the same, the error's class and status aside.
    const strip = (log: Log) => log.map((e) => (e[0] === 'error' ? ['error'] : e));
    expect(strip(ourLog)).toEqual(strip(theirLog));
    expect(ourLog.at(-2)).toEqual(['error', { class: 'InternalServerError', status: 529 }]);
    expect(theirLog.at(-2)).toEqual(['error', { class: 'APIError', status: undefined }]);
    expect(ourLog.at(-1)).toEqual(['end']);
    expect(ours.errored).toBe(true);
    expect(ours.receivedMessages).toEqual([]);
    await expect(ours.finalText()).rejects.toBe(ourError);
  });

  it('for await over the stream gives the raw events, as the SDK', async () => {
    // Cloned when received: the SDK accumulates into its `message_start` event's message, so an event
    // kept past the loop changes under the caller; aiwire's does not (tested below).
    const collect = async (stream: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const event of stream) out.push(structuredClone(event));
      return out;
    };
    for (const name of ['text', 'tool-use', 'thinking', 'citations']) {
      const [theirs, ours] = await Promise.all([
        collect(sdk().messages.stream(body(name) as never)),
        collect(aiwireStream(aiwire(), body(name))),
      ]);
      expect(ours).toEqual(theirs);
      expect(ours.some((e) => (e as { type: string }).type === 'ping')).toBe(false);
    }
  });

  it('a raw event does not change after it was handed out (the SDK fills message_start.message.content)', async () => {
    const kept: { type: string; message?: { content: unknown[] } }[] = [];
    for await (const event of aiwireStream(aiwire(), body('tool-use'))) kept.push(event as never);
    const start = kept.find((e) => e.type === 'message_start');
    expect(start?.message?.content).toEqual([]);
  });

  it('toReadableStream() → fromReadableStream() replays the same listener calls', async () => {
    const source = aiwireStream(aiwire(), body('tool-use'));
    const sourceLog = record(source as never);
    const replay = MessageStream.fromReadableStream(source.toReadableStream());
    const replayLog = record(replay as never);
    const [a, b] = await Promise.all([source.finalMessage(), replay.finalMessage()]);
    expect(b).toStrictEqual(a);
    const withoutConnect = (log: Log) => log.filter((e) => e[0] !== 'connect');
    expect(withoutConnect(replayLog)).toEqual(withoutConnect(sourceLog));
  });

  it('abort(): abort then end, finalMessage() rejects with APIUserAbortError, as the SDK', async () => {
    const run = async (stream: {
      on(e: string, l: (...a: unknown[]) => void): unknown;
      abort(): void;
      finalMessage(): Promise<unknown>;
      aborted: boolean;
    }) => {
      const log = record(stream as never);
      let texts = 0;
      stream.on('text', () => {
        if (++texts === 2) stream.abort();
      });
      const error = await stream.finalMessage().then(
        () => undefined,
        (e: { constructor: { name: string } }) => e.constructor.name,
      );
      return { names: log.map((e) => e[0]).slice(-3), error, aborted: stream.aborted };
    };
    const theirs = await run(sdk().messages.stream(body('text') as never) as never);
    const ours = await run(aiwireStream(aiwire(), body('text')) as never);
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({ names: ['text', 'abort', 'end'], error: 'APIUserAbortError', aborted: true });
  });

  it('emitted(), once(), off(), done(), withResponse()', async () => {
    const stream = aiwireStream(aiwire(), body('text'));
    let onceCalls = 0;
    const removed = () => {
      throw new Error('removed listener called');
    };
    stream.once('text', () => onceCalls++);
    stream.on('text', removed).off('text', removed);
    const [firstText, message, { response, request_id, workspace_id, data }] = await Promise.all([
      stream.emitted('text'),
      stream.emitted('message'),
      stream.withResponse(),
    ]);
    await stream.done();
    expect(onceCalls).toBe(1);
    expect(firstText).toEqual(['Bonjour', 'Bonjour']);
    expect(message.id).toBe('msg_01XFDUDYJgAACzvnptvVoYEL');
    expect(response.status).toBe(200);
    expect(request_id).toBe('req_text');
    expect(workspace_id).toBe('wrkspc_test');
    expect(data).toBe(stream);
  });
});

describe('messages.create({ stream: true }): the same raw events as the SDK', () => {
  for (const name of ['text', 'tool-use', 'thinking', 'citations', 'error-overloaded']) {
    it(`${name}${name.startsWith('error') ? ' (error: InternalServerError 529 vs the SDK APIError, status undefined)' : ''}`, async () => {
      const collect = async (stream: AsyncIterable<unknown>) => {
        const out: unknown[] = [];
        try {
          for await (const event of stream) out.push(event);
        } catch (e) {
          return { out, error: e as { type?: string; status?: number; constructor: { name: string } } };
        }
        return { out, error: undefined };
      };
      const params = { ...body(name), stream: true as const };
      const [theirs, ours] = await Promise.all([
        sdk()
          .messages.create(params as never)
          .then((s) => collect(s as unknown as AsyncIterable<unknown>)),
        aiwire()
          .messages.create(params)
          .then((s) => collect(s)),
      ]);
      expect(ours.out).toEqual(theirs.out);
      expect(ours.out.length).toBeGreaterThanOrEqual(3);
      // `ping` is dropped by both.
      expect(ours.out.some((e) => (e as { type: string }).type === 'ping')).toBe(false);
      if (name.startsWith('error')) {
        expect(theirs.error?.constructor.name).toBe('APIError');
        expect(theirs.error?.status).toBeUndefined();
        expect(ours.error).toBeInstanceOf(InternalServerError);
        expect(ours.error?.status).toBe(529);
        expect(ours.error?.type).toBe(theirs.error?.type);
      } else {
        expect(ours.error).toBeUndefined();
        expect(theirs.error).toBeUndefined();
      }
    });
  }
});

describe('partial JSON (inputJson snapshots) as the SDK parses it', () => {
  const sameAsSDK = (text: string) => {
    let theirs: unknown;
    let ours: unknown;
    try {
      theirs = { value: sdkPartialParse(text) };
    } catch (e) {
      theirs = { throws: (e as Error).constructor.name };
    }
    try {
      ours = { value: partialParse(text) };
    } catch (e) {
      ours = { throws: (e as Error).constructor.name };
    }
    expect(ours, JSON.stringify(text)).toEqual(theirs);
  };

  it("every prefix of the fixtures' tool inputs and of awkward JSON", () => {
    const inputs = [
      '{"location": "San Francisco, CA", "unit": "fahrenheit", "days": 12, "temp": -3.5e+1, "flags": [true, false, null], "nested": {"a": ["x\\"y", "caf\\u00e9 \\\\"], "b": {}}, "note": "日本"}',
      '[1, -0.5, 2E-3, "a", {"k": [[], {}]}, null, true]',
      '{"a": {"b": {"c": [1, [2, [3, "deep \\\\\\" quote"]]]}}}',
      '  {  "spaced"  :  [  1 ,  2  ]  }  ',
    ];
    for (const input of inputs) for (let i = 1; i <= input.length; i++) sameAsSDK(input.slice(0, i));
  });

  it('text that is not truncated JSON throws, as the SDK', () => {
    for (const bad of [
      '{"a": yes}',
      '{"a": 1]',
      ']',
      '{"a": 12 3}',
      '{"a": tru}',
      '@',
      '{"a": tr  x',
      '',
      '  ',
    ]) {
      sameAsSDK(bad);
    }
    expect(() => partialParse('{"a": 1]')).toThrow(SyntaxError);
  });

  it('examples', () => {
    expect(partialParse('{"a": "hel')).toEqual({});
    expect(partialParse('{"a": "b", "c')).toEqual({ a: 'b' });
    expect(partialParse('{"a": 12')).toEqual({});
    expect(partialParse('[1, 2')).toEqual([1]);
    expect(partialParse('{"a": [tr')).toEqual({ a: [] });
    expect(partialParse('{"a": 1.5, "b": nu')).toEqual({ a: 1.5 });
  });
});

describe('messages.batches.results(): JSONL streamed as typed items', () => {
  /** The results as the client returns them: wired method if present, else the generated one + decoder. */
  async function results(
    client: Anthropic,
    id: string,
  ): Promise<AsyncIterable<MessageBatchIndividualResponse>> {
    const out = await client.messages.batches.results(id);
    return out instanceof Response
      ? batchResultsDecoder(out)
      : (out as AsyncIterable<MessageBatchIndividualResponse>);
  }

  it(`${RESULT_LINES.toLocaleString('en')} lines in order; memory bounded by GC triggers, not by the body (heap +< 32 MiB, RSS +< 96 MiB)`, async () => {
    // The 100,000-line body comes from a child process, so this process's RSS is the client's alone.
    const child = spawn(process.execPath, ['-e', RESULTS_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
        child.once('error', reject);
      });
      const client = new Anthropic({ apiKey: 'sk-test', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0 });
      // A first pass warms up (code, the engine's buffers, V8's young generation) before measuring.
      let warm = 0;
      for await (const _ of await results(client, 'msgbatch_big')) if (++warm === 5000) break;
      gc();
      const rssBefore = process.memoryUsage().rss;
      const heapBefore = process.memoryUsage().heapUsed;
      let peak = rssBefore;
      let heapPeak = heapBefore;
      let n = 0;
      let succeeded = 0;
      let bytes = 0;
      for await (const entry of await results(client, 'msgbatch_big')) {
        if (entry.custom_id !== `req-${n}`) throw new Error(`line ${n + 1}: got ${entry.custom_id}`);
        if (entry.result.type === 'succeeded') succeeded++;
        bytes += JSON.stringify(entry).length + 1;
        n++;
        if (n % 2000 === 0) {
          const m = process.memoryUsage();
          peak = Math.max(peak, m.rss);
          heapPeak = Math.max(heapPeak, m.heapUsed);
        }
      }
      expect(n).toBe(RESULT_LINES);
      expect(succeeded).toBe(RESULT_LINES - RESULT_LINES / 10);
      expect(bytes).toBeGreaterThan(25e6);
      // The decoder keeps one chunk and one partial line: the live JS heap stays flat; heapUsed also
      // counts young-generation garbage not yet scavenged (≤ ~16-32 MiB). Reading the whole body first
      // would hold ≥ 56 MB of UTF-16 text, plus the parsed objects.
      expect(heapPeak - heapBefore).toBeLessThan(32 * 1024 * 1024);
      // RSS: the engine's batch Buffers are external memory that V8 frees only at a full GC, which it
      // starts once ~64 MiB of external memory has accumulated; so RSS growth is bounded by that
      // trigger more than by the body (measured: +72 MiB for this ~28 MB body, +102 MiB for 3x the
      // lines; the JS heap stays at ~+19 MiB for both).
      expect(peak - rssBefore).toBeLessThan(96 * 1024 * 1024);
      if (process.env.AIWIRE_TEST_VERBOSE) {
        console.log(
          `RSS +${((peak - rssBefore) / 2 ** 20).toFixed(1)} MiB, heap +${((heapPeak - heapBefore) / 2 ** 20).toFixed(1)} MiB`,
        );
      }
    } finally {
      child.kill();
    }
  });

  it('a malformed line: JSONLDecodeError with its line number, after the good lines', async () => {
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const entry of await results(aiwire(), 'msgbatch_bad')) seen.push(entry.custom_id);
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(['req-0', 'req-1', 'req-2']);
    expect(error).toBeInstanceOf(JSONLDecodeError);
    expect((error as JSONLDecodeError).lineNumber).toBe(4);
    expect((error as Error).message).toMatch(/^JSONL line 4 is not valid JSON/);
    expect((error as JSONLDecodeError).line).toBe('{"custom_id": "req-broken", "result": {');
  });

  it('decodeJSONL: CRLF, blank lines, no final newline, multi-byte characters split across chunks', async () => {
    const text = '{"a":"é"}\r\n\n{"b":"日本"}\n{"c":[1]}';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.subarray(i, i + 3));
        controller.close();
      },
    });
    const out: unknown[] = [];
    for await (const v of decodeJSONL(new Response(body))) out.push(v);
    expect(out).toEqual([{ a: 'é' }, { b: '日本' }, { c: [1] }]);
  });

  it('JSONLDecoder: one iteration; controller.abort() ends a loop', async () => {
    const decoder = JSONLDecoder.fromResponse<MessageBatchIndividualResponse>(
      await aiwire().get<Response>('/v1/messages/batches/msgbatch_big/results', { binaryResponse: true }),
    );
    let n = 0;
    for await (const _ of decoder) {
      if (++n === 10) decoder.controller.abort();
    }
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThan(RESULT_LINES);
    expect(() => decoder[Symbol.asyncIterator]()).toThrow(/consumed/);
  });
});
