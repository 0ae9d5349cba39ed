// OpenAI Responses streams, differential against openai-node 6.49.0 (a devDependency, the test
// oracle, never imported by src): the same recorded SSE bodies (__test__/fixtures/openai/responses-*.sse,
// written by hand after https://platform.openai.com/docs/api-reference/responses-streaming) served by
// one loopback server in 7-byte pieces (plus a cut inside the first multi-byte UTF-8 character), read
// by openai-node (its fetch) and by aiwire (real addon). Compared: every listener call of
// `responses.stream()` in order with its arguments (cloned when made), `finalResponse()`, the
// `for await` events, abort/error/end ordering, streaming by `response_id` with `starting_after`.
// aiwire-only: resumption of a background response after a dropped connection.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import SDK from 'openai';
import { ResponseStream as SDKResponseStream } from 'openai/lib/responses/ResponseStream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APIConnectionError, APIError, APIUserAbortError } from '../src/core/errors.js';
import { AssistantStream, OpenAI, ResponseStream } from '../src/openai.js';
import { startMockServer } from '../src/testing/index.js';
import { writeSplit } from './helpers/sse-split.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'openai');
const fixture = (name: string) => readFileSync(join(FIXTURES, `responses-${name}.sse`));
/** The fixture's events as separate SSE blocks (each ends with a blank line). */
const blocks = (name: string) =>
  fixture(name)
    .toString('utf8')
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((b) => `${b}\n\n`);
const seqOf = (block: string) =>
  (JSON.parse(block.split('\ndata: ')[1] ?? '{}') as { sequence_number: number }).sequence_number;

let server: Server;
let baseURL: string;
/** Requests seen (method + path with query), for the resumption tests. */
let requests: string[] = [];
/** How many events the next POST of `fixture:background-drop` sends before the connection drops. */
const DROP_AFTER = [5, 9] as const;

const SSE_HEAD = { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_stream' };

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  requests.push(`${req.method} ${req.url}`);
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'POST' && url.pathname === '/v1/responses') {
    const model = (JSON.parse(raw) as { model: string }).model;
    const name = model.replace(/^fixture:/, '');
    res.writeHead(200, SSE_HEAD);
    if (name.endsWith('-drop')) {
      // The first DROP_AFTER[0] events, then the connection is cut (no chunked terminator).
      const base = name.slice(0, -'-drop'.length);
      await writeSplit(res, Buffer.from(blocks(base).slice(0, DROP_AFTER[0]).join('')), false);
      res.socket?.destroy();
      return;
    }
    await writeSplit(res, fixture(name));
    return;
  }
  const byId = /^\/v1\/responses\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && byId && url.searchParams.get('stream') === 'true') {
    const all = blocks(byId[1] === 'resp_bg_0001' ? 'background' : 'text');
    const after = url.searchParams.get('starting_after');
    const rest = after === null ? all : all.filter((b) => seqOf(b) > Number(after));
    res.writeHead(200, SSE_HEAD);
    // The first resume drops again after a few events (a second resume then finishes).
    if (after !== null && Number(after) < DROP_AFTER[1] - 1) {
      const upTo = rest.filter((b) => seqOf(b) < DROP_AFTER[1]);
      await writeSplit(res, Buffer.from(upTo.join('')), false);
      res.socket?.destroy();
      return;
    }
    await writeSplit(res, Buffer.from(rest.join('')));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error' } }));
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
const params = (name: string) => ({ model: `fixture:${name}`, input: 'Hello' });

/** Every event type the fixtures hold, plus the helper's own events. */
const TYPES = [
  ...new Set(
    ['text', 'reasoning-tools', 'error', 'background'].flatMap((n) =>
      blocks(n).map((b) => b.split('\n')[0]?.replace('event: ', '') ?? ''),
    ),
  ),
];
const EVENTS = ['connect', 'event', ...TYPES.filter((t) => t !== 'error'), 'error', 'abort', 'end'];

type Log = [string, ...unknown[]][];
type Listenable = { on(event: string, listener: (...args: unknown[]) => void): unknown };

/** A listener on every event, logging its arguments as they were at the call (errors summarised). */
function record(stream: Listenable): Log {
  const log: Log = [];
  for (const name of EVENTS) {
    stream.on(name, (...args: unknown[]) => {
      if (name === 'abort') log.push([name, (args[0] as Error).constructor.name]);
      else if (name === 'error') log.push([name, 'see error test']);
      else log.push([name, ...structuredClone(args)]);
    });
  }
  return log;
}

describe('responses.stream(): the same listener calls as openai-node', () => {
  for (const name of ['text', 'reasoning-tools']) {
    it(`${name}: events with snapshots, finalResponse(), for await`, async () => {
      const theirs = sdk().responses.stream(params(name) as never);
      const ours = aiwire().responses.stream(params(name) as never);
      const theirLog = record(theirs as never);
      const ourLog = record(ours as never);
      const [theirFinal, ourFinal] = await Promise.all([theirs.finalResponse(), ours.finalResponse()]);
      expect(ourLog.map((e) => e[0])).toEqual(theirLog.map((e) => e[0]));
      expect(ourLog).toEqual(theirLog);
      expect(ourFinal).toStrictEqual(structuredClone(theirFinal));
      expect(ours.ended && !ours.errored && !ours.aborted).toBe(true);
      // The public classes are exported from the package entry.
      expect(ours).toBeInstanceOf(ResponseStream);
      expect(aiwire().beta.threads.runs.stream).toBeTypeOf('function');
      expect(AssistantStream.prototype.finalRun).toBeTypeOf('function');
      // Sanity: the fixture really arrived (not two empty logs), with openai-node's snapshots.
      const deltas = ourLog.filter((e) => e[0] === 'response.output_text.delta');
      expect(deltas.length).toBeGreaterThan(1);
      expect((deltas[deltas.length - 1]?.[1] as { snapshot?: string } | undefined)?.snapshot).toBe(
        ourFinal.output_text,
      );
      expect(ourFinal.output_text.length).toBeGreaterThan(10);

      const theirEvents: unknown[] = [];
      const ourEvents: unknown[] = [];
      for await (const e of sdk().responses.stream(params(name) as never)) theirEvents.push(e);
      for await (const e of aiwire().responses.stream(params(name) as never)) ourEvents.push(e);
      expect(ourEvents).toEqual(theirEvents);
      expect(ourEvents.length).toBe(blocks(name).length);
    });
  }

  it('reasoning-tools: function call arguments snapshots and the final function call', async () => {
    const stream = aiwire().responses.stream(params('reasoning-tools') as never);
    const snapshots: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => snapshots.push(e.snapshot));
    const final = await stream.finalResponse();
    expect(snapshots[0]).toBe('{"loc');
    expect(snapshots.at(-1)).toBe('{"location":"Paris, France","unit":"celsius"}');
    const call = final.output[1] as unknown as { type: string; arguments: string; parsed_arguments: unknown };
    expect(call).toMatchObject({ type: 'function_call', parsed_arguments: null });
    expect(JSON.parse(call.arguments)).toEqual({ location: 'Paris, France', unit: 'celsius' });
  });

  it('an in-stream error event: the same events before it, then error and end; finalResponse() rejects', async () => {
    const theirs = sdk().responses.stream(params('error') as never);
    const ours = aiwire().responses.stream(params('error') as never);
    const theirLog = record(theirs as never);
    const ourLog = record(ours as never);
    const [theirError, ourError] = await Promise.all([
      theirs.finalResponse().then(
        () => undefined,
        (e: unknown) => e,
      ),
      ours.finalResponse().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ]);
    // openai-node also hands the raw `error` event to `event` listeners; aiwire does not (documented).
    const withoutErrorEvent = theirLog.filter(
      (e) => !(e[0] === 'event' && (e[1] as { type: string }).type === 'error'),
    );
    expect(ourLog).toEqual(withoutErrorEvent);
    expect(ourLog.slice(-2).map((e) => e[0])).toEqual(['error', 'end']);
    // openai-node rejects with the raw event object; aiwire with a typed APIError carrying it.
    expect(theirError).toMatchObject({ type: 'error', code: 'server_error' });
    expect(ourError).toBeInstanceOf(APIError);
    expect(ourError).toMatchObject({
      code: 'server_error',
      message: 'The model produced invalid content. Consider modifying your prompt.',
    });
    expect(ours.errored).toBe(true);
  });

  it('abort() from a listener: abort then end, finalResponse() rejects with APIUserAbortError, as openai-node', async () => {
    const run = async (
      stream: Listenable & { abort(): void; finalResponse(): Promise<unknown>; aborted: boolean },
    ) => {
      const log = record(stream);
      let deltas = 0;
      stream.on('response.output_text.delta', () => {
        if (++deltas === 2) stream.abort();
      });
      const error = await stream.finalResponse().then(
        () => undefined,
        (e: { constructor: { name: string } }) => e.constructor.name,
      );
      return { names: log.map((e) => e[0]).slice(-3), error, aborted: stream.aborted };
    };
    const theirs = await run(sdk().responses.stream(params('text') as never) as never);
    const ours = await run(aiwire().responses.stream(params('text') as never) as never);
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({
      names: ['response.output_text.delta', 'abort', 'end'],
      error: 'APIUserAbortError',
      aborted: true,
    });
  });

  it('the request signal aborts the stream; breaking out of for await aborts it', async () => {
    const controller = new AbortController();
    const stream = aiwire().responses.stream(params('text') as never, { signal: controller.signal });
    stream.on('response.output_text.delta', () => controller.abort());
    await expect(stream.done()).rejects.toBeInstanceOf(APIUserAbortError);
    expect(stream.aborted).toBe(true);

    const looped = aiwire().responses.stream(params('text') as never);
    let seen = 0;
    for await (const _ of looped) if (++seen === 3) break;
    await expect(looped.done()).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seen).toBe(3);
  });

  it('{ response_id, starting_after }: the full replay is read, only later events are emitted, as openai-node', async () => {
    const p = { response_id: 'resp_bg_0001', starting_after: 6 };
    const theirs = sdk().responses.stream(p as never);
    const ours = aiwire().responses.stream(p);
    const theirLog = record(theirs as never);
    const ourLog = record(ours as never);
    const [theirFinal, ourFinal] = await Promise.all([theirs.finalResponse(), ours.finalResponse()]);
    expect(ourLog).toEqual(theirLog);
    expect(ourFinal).toStrictEqual(structuredClone(theirFinal));
    const seqs = ourLog
      .filter((e) => e[0] === 'event')
      .map((e) => (e[1] as { sequence_number: number }).sequence_number);
    expect(seqs[0]).toBe(7);
    expect(ourFinal.output_text).toBe('One, two, three, four, five, six, seven, eight.');
    // Both asked for the whole stream (no starting_after on the wire).
    expect(requests.filter((r) => r.startsWith('GET'))).toEqual([
      'GET /v1/responses/resp_bg_0001?stream=true',
      'GET /v1/responses/resp_bg_0001?stream=true',
    ]);
  });

  it('toReadableStream() → fromReadableStream(): the same listener calls and final response, across both SDKs', async () => {
    const source = aiwire().responses.stream(params('reasoning-tools') as never);
    const sourceLog = record(source as never);
    const ours = ResponseStream.fromReadableStream(source.toReadableStream());
    const ourLog = record(ours as never);
    const theirSource = aiwire().responses.stream(params('reasoning-tools') as never);
    const theirs = SDKResponseStream.fromReadableStream(theirSource.toReadableStream() as never);
    const theirLog = record(theirs as never);
    const [a, b, c] = await Promise.all([
      source.finalResponse(),
      ours.finalResponse(),
      theirs.finalResponse(),
    ]);
    expect(ourLog).toEqual(sourceLog);
    expect(ourLog).toEqual(theirLog);
    expect(b).toStrictEqual(a);
    expect(structuredClone(c)).toStrictEqual(structuredClone(a));
    expect(ourLog.filter((e) => e[0] === 'event')).toHaveLength(blocks('reasoning-tools').length);
  });

  it('bad params: a typed error saying what to pass', () => {
    const client = aiwire();
    expect(() => client.responses.stream({ response_id: '' })).toThrow(
      /response_id must be a non-empty string/,
    );
    expect(() => client.responses.stream({ response_id: 'resp_1', starting_after: -1 })).toThrow(
      /starting_after.*non-negative integer/,
    );
    expect(() => client.responses.stream(null as never)).toThrow(/params must be an object/);
    expect(() => client.responses.stream({ response_id: 'resp_1' }, { maxResumes: -1 })).toThrow(
      /maxResumes.*non-negative integer/,
    );
  });
});

describe('responses.stream(): resumption of a background response after a dropped connection (aiwire)', () => {
  it('resumes from the last sequence_number, twice; listeners see each event once; one connect', async () => {
    const stream = aiwire().responses.stream({ ...params('background-drop'), background: true } as never);
    const log = record(stream as never);
    const final = await stream.finalResponse();
    const seqs = log
      .filter((e) => e[0] === 'event')
      .map((e) => (e[1] as { sequence_number: number }).sequence_number);
    expect(seqs).toEqual(blocks('background').map(seqOf));
    expect(log.filter((e) => e[0] === 'connect')).toHaveLength(1);
    expect(final.output_text).toBe('One, two, three, four, five, six, seven, eight.');
    expect(final.status).toBe('completed');
    expect(requests).toEqual([
      'POST /v1/responses',
      `GET /v1/responses/resp_bg_0001?stream=true&starting_after=${DROP_AFTER[0] - 1}`,
      `GET /v1/responses/resp_bg_0001?stream=true&starting_after=${DROP_AFTER[1] - 1}`,
    ]);
  });

  it('maxResumes: 1 gives up after one resume with APIConnectionError; maxResumes: 0 never resumes', async () => {
    const once = aiwire().responses.stream({ ...params('background-drop'), background: true } as never, {
      maxResumes: 1,
    });
    await expect(once.finalResponse()).rejects.toBeInstanceOf(APIConnectionError);
    expect(requests).toHaveLength(2);
    requests = [];
    const never = aiwire().responses.stream({ ...params('background-drop'), background: true } as never, {
      maxResumes: 0,
    });
    const names = record(never as never);
    await expect(never.finalResponse()).rejects.toBeInstanceOf(APIConnectionError);
    expect(requests).toEqual(['POST /v1/responses']);
    expect(names.slice(-2).map((e) => e[0])).toEqual(['error', 'end']);
  });

  it('openai-node does not resume: the same drop ends its stream with an error', async () => {
    const theirs = sdk().responses.stream({ ...params('background-drop'), background: true } as never);
    await expect(theirs.finalResponse()).rejects.toBeDefined();
    expect(requests).toEqual(['POST /v1/responses']);
  });

  it('a stream that is not a background response is not resumed', async () => {
    const stream = aiwire().responses.stream(params('text-drop') as never);
    const log = record(stream as never);
    await expect(stream.finalResponse()).rejects.toBeInstanceOf(APIConnectionError);
    expect(log.filter((e) => e[0] === 'event')).toHaveLength(DROP_AFTER[0]);
    expect(requests).toEqual(['POST /v1/responses']);
  });
});

describe('responses.stream() against the bundled mock', () => {
  it('the text deltas add up to finalResponse().output_text', async () => {
    const mock = await startMockServer();
    try {
      const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, maxRetries: 0 });
      const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Write a haiku about pools' });
      let text = '';
      stream.on('response.output_text.delta', (e) => {
        text += e.delta;
        expect(e.snapshot).toBe(text);
      });
      const final = await stream.finalResponse();
      expect(text.length).toBeGreaterThan(5);
      expect(final.output_text).toBe(text);
      expect(final.status).toBe('completed');
    } finally {
      await mock.close();
    }
  });
});
