// Assistants streams (`AssistantStream`), differential against openai-node 6.49.0 (the test oracle,
// never imported by src): the same recorded SSE bodies (__test__/fixtures/openai/assistant-*.sse,
// written by hand after https://platform.openai.com/docs/api-reference/assistants-streaming) served
// by one loopback server in 7-byte pieces (plus a cut inside the first multi-byte UTF-8 character),
// read by openai-node and by aiwire. Compared: every listener call in order with its arguments
// (cloned when made), finalRun(), finalMessages(), finalRunSteps(), the `for await` events, the
// error/abort/end ordering, and the requests of the three entry points.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import SDK from 'openai';
import { AssistantStream as SDKAssistantStream } from 'openai/lib/AssistantStream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APIError } from '../src/core/errors.js';
import { AssistantStream, OpenAI } from '../src/openai.js';
import { accumulateDelta } from '../src/providers/openai/lib/assistant-stream.js';
import { writeSplit } from './helpers/sse-split.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'openai');
const fixture = (name: string) => readFileSync(join(FIXTURES, `assistant-${name}.sse`));

let server: Server;
let baseURL: string;
let requests: { line: string; beta: string | undefined; body: Record<string, unknown> }[] = [];

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  const body = JSON.parse(raw || '{}') as Record<string, unknown>;
  requests.push({
    line: `${req.method} ${req.url}`,
    beta: req.headers['openai-beta'] as string | undefined,
    body,
  });
  const name = String(body.assistant_id ?? 'fixture:text').replace(/^fixture:/, '');
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_assist' });
  await writeSplit(res, fixture(name));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => res.destroy(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  requests = [];
});

const aiwire = () => new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const sdk = () => new SDK({ apiKey: 'sk-test', baseURL, maxRetries: 0 });

const EVENTS = [
  'connect',
  'event',
  'messageCreated',
  'messageDelta',
  'messageDone',
  'runStepCreated',
  'runStepDelta',
  'runStepDone',
  'toolCallCreated',
  'toolCallDelta',
  'toolCallDone',
  'textCreated',
  'textDelta',
  'textDone',
  'imageFileDone',
  'error',
  'abort',
  'end',
];

type Log = [string, ...unknown[]][];
type Listenable = { on(event: string, listener: (...args: unknown[]) => void): unknown };

function record(stream: Listenable): Log {
  const log: Log = [];
  for (const name of EVENTS) {
    stream.on(name, (...args: unknown[]) => {
      if (name === 'error' || name === 'abort') {
        const e = args[0] as Error & { status?: number; code?: string };
        log.push([name, { class: e.constructor.name, message: e.message, status: e.status, code: e.code }]);
      } else log.push([name, ...structuredClone(args)]);
    });
  }
  return log;
}

type Finals = {
  finalRun(): Promise<unknown>;
  finalMessages(): Promise<unknown>;
  finalRunSteps(): Promise<unknown>;
};
async function finals(stream: Finals) {
  const settle = (p: Promise<unknown>) =>
    p.then(
      (v) => ({ ok: structuredClone(v) }),
      (e: Error) => ({ error: e.constructor.name, message: e.message }),
    );
  return {
    run: await settle(stream.finalRun()),
    messages: await settle(stream.finalMessages()),
    steps: await settle(stream.finalRunSteps()),
  };
}

/** The three entry points, in both SDKs' call style. */
const ENTRY = {
  'runs.stream': (c: OpenAI, name: string) =>
    c.beta.threads.runs.stream('thread_abc123', { assistant_id: `fixture:${name}` }),
  'runs.createAndStream': (c: OpenAI, name: string) =>
    c.beta.threads.runs.createAndStream('thread_abc123', { assistant_id: `fixture:${name}` }),
  'runs.submitToolOutputsStream': (c: OpenAI, name: string) =>
    c.beta.threads.runs.submitToolOutputsStream('run_abc123', {
      thread_id: 'thread_abc123',
      tool_outputs: [{ tool_call_id: 'call_1', output: '21°C' }],
      assistant_id: `fixture:${name}`,
    } as never),
  'threads.createAndRunStream': (c: OpenAI, name: string) =>
    c.beta.threads.createAndRunStream({ assistant_id: `fixture:${name}` }),
};

describe('AssistantStream: the same listener calls as openai-node', () => {
  for (const name of ['text', 'tools']) {
    it(`${name}: every listener call, finalRun/finalMessages/finalRunSteps, for await`, async () => {
      const theirs = ENTRY['runs.stream'](sdk() as never, name);
      const ours = ENTRY['runs.stream'](aiwire(), name);
      const theirLog = record(theirs as never);
      const ourLog = record(ours as never);
      const [theirFinals, ourFinals] = await Promise.all([finals(theirs as never), finals(ours)]);
      expect(ourLog.map((e) => e[0])).toEqual(theirLog.map((e) => e[0]));
      expect(ourLog).toEqual(theirLog);
      expect(ourFinals).toEqual(theirFinals);
      expect(ours.currentRun()).toEqual(
        structuredClone((theirs as unknown as { currentRun(): unknown }).currentRun()),
      );
      // Sanity: the fixture really arrived.
      expect(ourLog.filter((e) => e[0] === 'event').length).toBeGreaterThan(8);
      expect('ok' in ourFinals.run).toBe(true);

      const theirEvents: unknown[] = [];
      const ourEvents: unknown[] = [];
      for await (const e of ENTRY['runs.stream'](sdk() as never, name) as AsyncIterable<unknown>)
        theirEvents.push(e);
      for await (const e of ENTRY['runs.stream'](aiwire(), name)) ourEvents.push(e);
      expect(ourEvents).toEqual(theirEvents);
    });
  }

  it('text: textDelta snapshots accumulate; the final message text; toolCallDone carries the whole arguments', async () => {
    const text = ENTRY['runs.stream'](aiwire(), 'text');
    const snapshots: string[] = [];
    text.on('textDelta', (_d, snapshot) => snapshots.push((snapshot as { value: string }).value));
    const [message] = await text.finalMessages();
    expect(snapshots.at(-1)).toBe('Bonjour — café ✓ 日本語 🙂!');
    expect((message?.content[0] as { text?: { value: string } } | undefined)?.text?.value).toBe(
      'Bonjour — café ✓ 日本語 🙂!',
    );

    const tools = ENTRY['runs.stream'](aiwire(), 'tools');
    const done: unknown[] = [];
    tools.on('toolCallDone', (call) => done.push(structuredClone(call)));
    expect((await tools.finalRun()).status).toBe('requires_action');
    expect(done).toEqual([
      {
        index: 0,
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Zürich"}', output: null },
      },
      {
        index: 1,
        id: 'call_2',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}', output: null },
      },
    ]);
  });

  for (const entry of Object.keys(ENTRY) as (keyof typeof ENTRY)[]) {
    it(`${entry}: the same request as openai-node (path, stream: true, OpenAI-Beta), the same events`, async () => {
      const theirs = ENTRY[entry](sdk() as never, 'text');
      const theirLog = record(theirs as never);
      await theirs.done();
      const theirRequests = requests;
      requests = [];
      const ours = ENTRY[entry](aiwire(), 'text');
      const ourLog = record(ours as never);
      await ours.done();
      expect(ourLog).toEqual(theirLog);
      expect(requests).toEqual(theirRequests);
      expect(requests[0]?.body.stream).toBe(true);
      expect(requests[0]?.beta).toBe('assistants=v2');
    });
  }

  it('an error event: the events before it, then error (APIError) and end; the promises reject', async () => {
    const theirs = ENTRY['runs.stream'](sdk() as never, 'error');
    const ours = ENTRY['runs.stream'](aiwire(), 'error');
    const theirLog = record(theirs as never);
    const ourLog = record(ours as never);
    const [theirFinals, ourFinals] = await Promise.all([finals(theirs as never), finals(ours)]);
    expect(ourLog.map((e) => e[0])).toEqual(theirLog.map((e) => e[0]));
    expect(ourLog.slice(-2).map((e) => e[0])).toEqual(['error', 'end']);
    const ourError = ourLog.at(-2)?.[1] as { message: string; code: string };
    const theirError = theirLog.at(-2)?.[1] as { message: string; code: string };
    expect(ourError.code).toBe(theirError.code);
    expect(ourError.message).toBe(theirError.message);
    expect(ourFinals.run).toMatchObject({ error: 'APIError' });
    expect(theirFinals.run).toMatchObject({ error: 'APIError' });
    await expect(ours.done()).rejects.toBeInstanceOf(APIError);
  });

  it('abort() from a listener: abort then end, as openai-node', async () => {
    const run = async (
      stream: Listenable & { abort(): void; finalRun(): Promise<unknown>; aborted: boolean },
    ) => {
      const log = record(stream);
      let deltas = 0;
      stream.on('textDelta', () => {
        if (++deltas === 2) stream.abort();
      });
      const error = await stream.finalRun().then(
        () => undefined,
        (e: Error) => e.constructor.name,
      );
      return { names: log.map((e) => e[0]).slice(-3), error, aborted: stream.aborted };
    };
    const theirs = await run(ENTRY['runs.stream'](sdk() as never, 'text') as never);
    const ours = await run(ENTRY['runs.stream'](aiwire(), 'text') as never);
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({ names: ['textDelta', 'abort', 'end'], error: 'APIUserAbortError', aborted: true });
  });

  it('accumulateDelta: the same merge as openai-node', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { a: 'x', n: 1, o: { s: 'p' } },
        { a: 'y', n: 2, o: { s: 'q', t: 1 }, z: null },
      ],
      [{ list: [1, 2] }, { list: [3] }],
      [
        { calls: [{ index: 0, f: { args: '{' } }] },
        {
          calls: [
            { index: 0, f: { args: '}' } },
            { index: 1, id: 'b' },
          ],
        },
      ],
      [
        { index: 0, type: 'text' },
        { index: 1, type: 'image_file' },
      ],
    ];
    for (const [acc, delta] of cases) {
      const ours = accumulateDelta(structuredClone(acc), structuredClone(delta));
      expect(ours).toEqual(SDKAssistantStream.accumulateDelta(structuredClone(acc), structuredClone(delta)));
    }
    expect(accumulateDelta({ a: 'x' }, { a: 'y' })).toEqual({ a: 'xy' });
    expect(() => accumulateDelta({ a: [{ index: 0 }] }, { a: [{ no: 1 }] })).toThrow(/index/);
  });

  it('toReadableStream() → fromReadableStream(): the same listener calls, across both SDKs', async () => {
    const source = ENTRY['runs.stream'](aiwire(), 'tools');
    const sourceLog = record(source as never);
    const ours = AssistantStream.fromReadableStream(source.toReadableStream());
    const ourLog = record(ours as never);
    const theirSource = ENTRY['runs.stream'](aiwire(), 'tools');
    const theirs = SDKAssistantStream.fromReadableStream(theirSource.toReadableStream() as never);
    const theirLog = record(theirs as never);
    const [a, b, c] = await Promise.all([finals(source), finals(ours), finals(theirs as never)]);
    expect(ourLog).toEqual(sourceLog);
    expect(ourLog).toEqual(theirLog);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(ourLog.filter((e) => e[0] === 'toolCallDone')).toHaveLength(2);
  });
});
