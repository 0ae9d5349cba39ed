/**
 * Replicate's helpers through the real addon over loopback, against the scriptable mock
 * (src/testing/replicate-server.ts): `run` (Prefer: wait, polling, failures with logs, cancel on
 * abort, progress, FileOutput) and `stream` (output/logs/done/error events from another origin,
 * without the token). File inputs and retries: replicate-inputs.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiwireError, APIUserAbortError } from '../src/core/errors.js';
import { Replicate } from '../src/providers/replicate/client.js';
import {
  createPrediction,
  FileOutput,
  isReplicateHost,
  ModelError,
  type Prediction,
  PredictionCanceledError,
  parseProgressFromLogs,
  run,
  type ServerSentEvent,
  stream,
  wait,
} from '../src/providers/replicate/lib/index.js';
import {
  type ReplicateMock,
  type ReplicateScenario,
  startReplicateMock,
} from '../src/testing/replicate-server.js';
import { bodyOf, caught, gaps, TOKEN, until, VERSION } from './helpers/replicate.js';

let mock: ReplicateMock;
let client: Replicate;

beforeAll(async () => {
  mock = await startReplicateMock();
  client = new Replicate({ auth: TOKEN, baseUrl: mock.url });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => mock.reset());

const posts = () => mock.find('/v1/', 'POST').filter((r) => /predictions$/.test(r.path));

describe('run', () => {
  it('blocks with Prefer: wait and returns the output from the create answer (no polling)', async () => {
    mock.scenario('acme/fast', {
      steps: [{ status: 'starting' }, { status: 'succeeded', output: 'hello world' }],
    });
    expect(await run(client, 'acme/fast', { input: { prompt: 'hi' } })).toBe('hello world');
    const [create] = posts();
    expect(create?.path).toBe('/v1/models/acme/fast/predictions');
    expect(create?.headers.prefer).toBe('wait');
    expect(create?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // Replicate ignores Idempotency-Key: none is sent for a creation.
    expect(create?.headers['idempotency-key']).toBeUndefined();
    expect(bodyOf(create as { body: string })).toEqual({ input: { prompt: 'hi' } });
    expect(mock.find('/v1/predictions/', 'GET')).toHaveLength(0);

    expect(await run(client, 'acme/fast', { input: {}, wait: 5 })).toBe('hello world');
    expect(posts()[1]?.headers.prefer).toBe('wait=5');
    expect(await run(client, 'acme/fast', { input: {}, wait: { mode: 'block', timeout: 60 } })).toBe(
      'hello world',
    );
    expect(posts()[2]?.headers.prefer).toBe('wait=60');
  });

  it('refuses a wait outside 1..60 whole seconds, and bad references, before any request', async () => {
    for (const w of [0, 61, 1.5, -1, Number.NaN]) {
      await expect(run(client, 'acme/fast', { input: {}, wait: w })).rejects.toThrow(
        /wait must be true, false, or a whole number of seconds from 1 to 60/,
      );
    }
    for (const ref of ['acme', 'acme/x/y', 'a b/c', '', 'acme/x:', 'abc123', VERSION.slice(1)]) {
      await expect(run(client, ref, { input: {} })).rejects.toThrow(/Invalid model reference/);
    }
    await expect(run(client, 'acme/fast', { input: {}, wait: false, interval: -5 })).rejects.toThrow(
      /interval must be/,
    );
    expect(mock.requests).toHaveLength(0);
  });

  it('polls (one timer per interval) until succeeded; version refs go to POST /predictions', async () => {
    mock.scenario(VERSION, {
      steps: [
        { status: 'starting' },
        { status: 'processing' },
        { status: 'processing' },
        { status: 'succeeded', output: { text: 'done' } },
      ],
    });
    const started = performance.now();
    const out = await run(client, `acme/slow:${VERSION}`, { input: { n: 1 }, wait: false, interval: 40 });
    expect(out).toEqual({ text: 'done' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 38);
    const [create] = posts();
    expect(create?.path).toBe('/v1/predictions');
    expect(create?.headers.prefer).toBeUndefined();
    expect(bodyOf(create as { body: string })).toMatchObject({ version: VERSION, input: { n: 1 } });
    const polls = mock.find('/v1/predictions/', 'GET');
    expect(polls).toHaveLength(3);
    for (const g of gaps(polls.map((p) => p.at))) expect(g).toBeGreaterThanOrEqual(35);
    // A bare version id works too.
    expect(await run(client, VERSION, { input: {}, wait: false, interval: 1 })).toEqual({ text: 'done' });
  });

  it('Prefer: wait that times out server-side falls back to polling', async () => {
    mock.scenario('acme/long', {
      honourWait: false,
      steps: [{ status: 'processing' }, { status: 'succeeded', output: 42 }],
    });
    expect(await run(client, 'acme/long', { input: {}, interval: 5 })).toBe(42);
    expect(mock.find('/v1/predictions/', 'GET')).toHaveLength(1);
  });

  it('a failed prediction throws ModelError carrying the prediction and its logs', async () => {
    mock.scenario('acme/broken', {
      steps: [
        { status: 'processing', logs: 'loading weights\n' },
        {
          status: 'failed',
          logs: 'loading weights\nTraceback: CUDA out of memory\n',
          error: 'CUDA out of memory',
        },
      ],
    });
    const err = await caught(run(client, 'acme/broken', { input: {}, wait: false, interval: 5 }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toBeInstanceOf(AiwireError);
    expect(err.message).toMatch(/failed: CUDA out of memory/);
    expect(err.prediction.status).toBe('failed');
    expect(err.logs).toContain('Traceback: CUDA out of memory');
    expect(err.error).toBe('CUDA out of memory');
    // wait() throws the same for a failure found while polling.
    mock.scenario('acme/broken2', { steps: [{ status: 'starting' }, { status: 'failed', error: 'boom' }] });
    const p = await createPrediction(client, 'acme/broken2', { input: {} });
    await expect(wait(client, p, { interval: 1 })).rejects.toBeInstanceOf(ModelError);
  });

  it('a prediction canceled server-side throws PredictionCanceledError', async () => {
    mock.scenario('acme/canceled', { steps: [{ status: 'starting' }, { status: 'canceled' }] });
    const err = await caught(run(client, 'acme/canceled', { input: {}, wait: false, interval: 1 }));
    expect(err).toBeInstanceOf(PredictionCanceledError);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.prediction.status).toBe('canceled');
  });

  it('aborting while polling cancels the prediction on the server and rejects with APIUserAbortError', async () => {
    mock.scenario('acme/forever', { steps: [{ status: 'starting' }, { status: 'processing' }] });
    const ac = new AbortController();
    const pending = run(client, 'acme/forever', { input: {}, wait: false, interval: 20, signal: ac.signal });
    await until(() => mock.find('/v1/predictions/', 'GET').length >= 2);
    ac.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    const [p] = [...mock.predictions.values()];
    expect(p?.canceled).toBe(true);
    expect(mock.find(`/v1/predictions/${p?.id}/cancel`, 'POST')).toHaveLength(1);
    // Already aborted: nothing is created.
    mock.reset();
    await expect(
      run(client, 'acme/forever', { input: {}, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(APIUserAbortError);
    expect(mock.requests).toHaveLength(0);
  });

  it('aborting a blocking create rejects at once and cancels the prediction once its id is known', async () => {
    mock.scenario('acme/slowcreate', {
      createDelayMs: 300,
      honourWait: false,
      steps: [{ status: 'processing' }],
    });
    const ac = new AbortController();
    const started = performance.now();
    const pending = run(client, 'acme/slowcreate', { input: {}, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(250);
    await until(() => mock.find('/v1/predictions/', 'POST').some((r) => r.path.endsWith('/cancel')));
    expect([...mock.predictions.values()][0]?.canceled).toBe(true);
  });

  it('reports progress parsed from tqdm lines in the logs (last match)', async () => {
    const bar = (n: number) =>
      `${String(n).padStart(3)}%|${'█'.repeat(n / 10)}${' '.repeat(10 - n / 10)}| ${n}/100 [00:0${n / 10}<00:10, 9.9it/s]`;
    mock.scenario('acme/steps', {
      steps: [
        { status: 'starting', logs: '' },
        { status: 'processing', logs: `Using seed 1\n${bar(10)}\n` },
        { status: 'processing', logs: `Using seed 1\n${bar(10)}\r${bar(45)}\n` },
        {
          status: 'succeeded',
          logs: `Using seed 1\n${bar(10)}\n${bar(45)}\n${bar(100)}\nsaved\n`,
          output: 'ok',
        },
      ],
    });
    const seen: (number | null)[] = [];
    const statuses: string[] = [];
    await run(client, 'acme/steps', {
      input: {},
      wait: false,
      interval: 5,
      progress: (p: Prediction, progress) => {
        statuses.push(p.status);
        seen.push(progress?.percentage ?? null);
      },
    });
    expect(statuses).toEqual(['starting', 'processing', 'processing', 'succeeded']);
    expect(seen).toEqual([null, 0.1, 0.45, 1]);
    expect(parseProgressFromLogs(`  45%|████▌     | 45/100 [00:01<00:01]`)).toEqual({
      percentage: 0.45,
      current: 45,
      total: 100,
    });
    expect(parseProgressFromLogs('no bars here')).toBeNull();
  });

  it('output file URLs become FileOutput objects; a foreign host gets no token', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
    const foreign = mock.addFile('out.png', png, 'image/png', 'stream');
    const local = mock.addFile('log.txt', 'text file', 'text/plain', 'api');
    mock.scenario('acme/image', {
      steps: [
        {
          status: 'succeeded',
          output: { images: [foreign], log: local, data: 'data:text/plain;base64,aGk=', n: 3 },
        },
      ],
    });
    const out = (await run(client, 'acme/image', { input: {} })) as {
      images: FileOutput[];
      log: FileOutput;
      data: FileOutput;
      n: number;
    };
    const [image] = out.images;
    expect(image).toBeInstanceOf(FileOutput);
    expect(image).toBeInstanceOf(ReadableStream);
    expect(String(image)).toBe(foreign);
    expect(image?.url().href).toBe(foreign);
    expect(JSON.stringify(out.images)).toBe(JSON.stringify([foreign]));
    expect(mock.find('/delivery/')).toHaveLength(0); // nothing downloaded until read
    const blob = await (image as FileOutput).blob();
    expect(blob.type).toBe('image/png');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(png);
    const chunks: Uint8Array[] = [];
    for await (const c of out.log) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('text file');
    expect(await (await out.data.blob()).text()).toBe('hi');
    expect(out.n).toBe(3);
    const [toForeign] = mock.find('/delivery/out.png');
    const [toLocal] = mock.find('/delivery/log.txt');
    expect(toForeign?.origin).toBe('stream');
    expect(toForeign?.headers.authorization).toBeUndefined();
    expect(toLocal?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // useFileOutput: false keeps the strings.
    const plain = (await run(client, 'acme/image', { input: {}, useFileOutput: false })) as {
      images: string[];
    };
    expect(plain.images).toEqual([foreign]);
  });

  it('absolute URLs on another origin are refused unless the request allows it', async () => {
    await expect(client.get(`${mock.streamOrigin}/delivery/x`)).rejects.toThrow(/Refusing to send a request/);
    // Allowed: no credential reaches an http foreign origin, even a predicate saying yes, even one
    // given for this request; other headers are sent.
    const url = mock.addFile('x.txt', 'x', 'text/plain', 'stream');
    let asked = 0;
    const res = (await client.get(url, {
      binaryResponse: true,
      foreignOrigin: { sendCredentials: () => ++asked > 0 },
      headers: { authorization: 'Bearer per-request', 'x-trace': 't1' },
    })) as unknown as Response;
    expect(await res.text()).toBe('x');
    const [seen] = mock.find('/delivery/x.txt');
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers['x-trace']).toBe('t1');
    expect(asked).toBe(0);
    expect(isReplicateHost(new URL('https://stream.replicate.com/v1/x'))).toBe(true);
    expect(isReplicateHost(new URL('https://replicate.com/'))).toBe(true);
    expect(isReplicateHost(new URL('http://stream.replicate.com/'))).toBe(false);
    expect(isReplicateHost(new URL('https://replicate.com.evil.test/'))).toBe(false);
    expect(isReplicateHost(new URL('https://evilreplicate.com/'))).toBe(false);
    expect(isReplicateHost(new URL('https://replicate.delivery/x.png'))).toBe(false);
  });
});

describe('stream', () => {
  it('yields output and logs events, ends at done, from the stream origin without the token', async () => {
    mock.scenario('acme/llm', {
      steps: [{ status: 'starting' }, { status: 'succeeded', output: ['Hel', 'lo'] }],
      events: [
        { event: 'output', data: 'Hel', id: '1' },
        { event: 'logs', data: 'step 1', delayMs: 5 },
        { event: 'output', data: 'lo\nworld', id: '2' },
        { event: 'done', data: '{}' },
        { event: 'output', data: 'after done: never read' },
      ],
    });
    const events: ServerSentEvent[] = [];
    for await (const e of stream(client, 'acme/llm', { input: { prompt: 'hi' } })) events.push(e);
    expect(events.map((e) => [e.event, e.data, e.id])).toEqual([
      ['output', 'Hel', '1'],
      ['logs', 'step 1', '1'], // the last event id (WHATWG), kept until the next id
      ['output', 'lo\nworld', '2'],
      ['done', '{}', '2'],
    ]);
    expect(events.map(String).join('')).toBe('Hello\nworld');
    const [create] = posts();
    expect(bodyOf(create as { body: string })).toMatchObject({ stream: true, input: { prompt: 'hi' } });
    expect(create?.headers.prefer).toBeUndefined();
    const [get] = mock.find('/v1/streams/');
    expect(get?.origin).toBe('stream');
    expect(get?.headers.accept).toBe('text/event-stream');
    expect(get?.headers.authorization).toBeUndefined();
  });

  it('replicate.stream() and predictions.stream(prediction) on the client give the same events', async () => {
    const scenario: ReplicateScenario = {
      steps: [{ status: 'starting' }, { status: 'succeeded', output: ['a', 'b'] }],
      events: [
        { event: 'output', data: 'a' },
        { event: 'output', data: 'b' },
        { event: 'done', data: '{}' },
      ],
    };
    mock.scenario('acme/llm', scenario);
    const viaClient: string[] = [];
    for await (const e of client.stream('acme/llm', { input: { prompt: 'hi' } }))
      viaClient.push(`${e.event}:${e.data}`);
    mock.scenario('acme/llm', scenario);
    const prediction = await client.models.predictions.create('acme', 'llm', {
      input: { prompt: 'hi' },
      stream: true,
    });
    const viaResource: string[] = [];
    for await (const e of client.predictions.stream(prediction)) viaResource.push(`${e.event}:${e.data}`);
    expect(viaClient).toEqual(['output:a', 'output:b', 'done:{}']);
    expect(viaResource).toEqual(viaClient);
  });

  it('an error event is thrown as ModelError with the logs streamed so far', async () => {
    mock.scenario('acme/llm-oom', {
      steps: [{ status: 'starting' }],
      events: [
        { event: 'output', data: 'partial' },
        { event: 'logs', data: 'allocating' },
        { event: 'logs', data: 'still allocating' },
        { event: 'error', data: '{"detail":"CUDA out of memory"}' },
        { event: 'done', data: '{"reason":"error"}' },
      ],
    });
    const seen: string[] = [];
    const err = await caught(
      (async () => {
        for await (const e of stream(client, 'acme/llm-oom', { input: {} })) seen.push(e.event);
      })(),
    );
    expect(seen).toEqual(['output', 'logs', 'logs']);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/CUDA out of memory/);
    expect(err.error).toEqual({ detail: 'CUDA out of memory' });
    expect(err.prediction.status).toBe('failed');
    expect(err.logs).toBe('allocating\nstill allocating');
  });

  it('aborting closes the stream, cancels the prediction and throws APIUserAbortError', async () => {
    mock.scenario('acme/llm-slow', {
      steps: [{ status: 'starting' }],
      events: [
        { event: 'output', data: 'a' },
        { event: 'output', data: 'b', delayMs: 2000 },
        { event: 'done', data: '{}' },
      ],
    });
    const ac = new AbortController();
    const seen: string[] = [];
    const err = await caught(
      (async () => {
        for await (const e of stream(client, 'acme/llm-slow', { input: {}, signal: ac.signal })) {
          seen.push(String(e.data));
          ac.abort();
        }
      })(),
    );
    expect(seen).toEqual(['a']);
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect([...mock.predictions.values()][0]?.canceled).toBe(true);
  });

  it('a model without a stream URL is a clear error', async () => {
    mock.scenario('acme/nostream', { steps: [{ status: 'starting' }], stream: false });
    const it = stream(client, 'acme/nostream', { input: {} });
    await expect(it.next()).rejects.toThrow(/does not support streaming/);
  });
});
