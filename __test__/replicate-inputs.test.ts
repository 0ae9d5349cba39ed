/**
 * Replicate's helpers through the real addon over loopback, against the scriptable mock
 * (src/testing/replicate-server.ts): file inputs (upload, data-uri, default's fallback, limits), and
 * retries: 429 with Retry-After against replicate-javascript 1.4.0 on the same scripted server,
 * prediction creation retried on 429 only, and the engine's retryMinDelay / retryMaxDelay.
 * `run` and `stream`: replicate-run.test.ts.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, InternalServerError } from '../src/core/errors.js';
import { Replicate } from '../src/providers/replicate/client.js';
import { createPrediction, run, transformFileInputs } from '../src/providers/replicate/lib/index.js';
import { type ReplicateMock, startReplicateMock } from '../src/testing/replicate-server.js';
import { bodyOf, gaps, ReplicateJs, TOKEN } from './helpers/replicate.js';

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

describe('file inputs', () => {
  it('upload: every file at any depth goes to POST /files (multipart content + metadata)', async () => {
    const input = {
      image: Buffer.from('buffer bytes'),
      nested: { list: [new Blob(['blob bytes'], { type: 'text/plain' }), 'keep me'] },
      n: 1,
    };
    const out = (await transformFileInputs(client, input, { strategy: 'upload' })) as typeof input & {
      image: string;
    };
    expect(mock.uploads.map((u) => u.bytes.toString())).toEqual(['buffer bytes', 'blob bytes']);
    expect(mock.uploads[1]?.contentType).toBe('text/plain');
    expect(mock.uploads[0]?.metadata).toEqual({});
    expect(out.image).toBe(`${mock.url}/files/${mock.uploads[0]?.id}`);
    expect(out.nested.list).toEqual([`${mock.url}/files/${mock.uploads[1]?.id}`, 'keep me']);
    expect(out.n).toBe(1);
    // In run: the prediction's input carries the URLs.
    mock.reset();
    mock.scenario('acme/echo', { steps: [{ status: 'succeeded', output: 'ok' }] });
    await run(client, 'acme/echo', { input: { file: Buffer.from('x') }, fileEncodingStrategy: 'upload' });
    const [create] = posts();
    expect(bodyOf(create as { body: string }).input).toEqual({
      file: `${mock.url}/files/${mock.uploads[0]?.id}`,
    });
  });

  it('data-uri: base64 data URLs up to the limit, a clear error above it before any request', async () => {
    const out = (await transformFileInputs(
      client,
      { a: new Blob(['hi'], { type: 'text/plain' }), b: new Uint8Array([0, 1, 2]) },
      { strategy: 'data-uri' },
    )) as Record<string, string>;
    expect(out.a).toBe('data:text/plain;base64,aGk=');
    expect(out.b).toBe('data:application/octet-stream;base64,AAEC');
    await expect(
      transformFileInputs(client, { a: Buffer.alloc(1024 * 1024 + 1) }, { strategy: 'data-uri' }),
    ).rejects.toThrow(/over the 1 MiB limit for data URLs/);
    await expect(
      transformFileInputs(
        client,
        { a: Buffer.alloc(600_000), b: Buffer.alloc(600_000) },
        { strategy: 'data-uri' },
      ),
    ).rejects.toThrow(/total 1200000 bytes/);
    expect(mock.requests).toHaveLength(0);
  });

  it('default: uploads, falls back to a data URL when the upload fails with 5xx, not with 4xx', async () => {
    mock.enqueue({ method: 'POST', path: '/v1/files' }, { status: 503 }, { status: 503 }, { status: 503 });
    const out = (await transformFileInputs(client, { f: Buffer.from('hi') })) as Record<string, string>;
    expect(out.f).toBe('data:application/octet-stream;base64,aGk=');
    expect(mock.find('/v1/files', 'POST')).toHaveLength(3); // the engine's retries, then the fallback
    mock.reset();
    mock.enqueue({ method: 'POST', path: '/v1/files' }, { status: 401 });
    await expect(transformFileInputs(client, { f: Buffer.from('hi') })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  it('a file over the 100 MiB upload limit fails before anything is sent (file on disk, not read)', async () => {
    const path = join(tmpdir(), `aiwire-replicate-big-${process.pid}.bin`);
    const handle = await fsp.open(path, 'w');
    await handle.truncate(100 * 1024 * 1024 + 1); // sparse
    await handle.close();
    try {
      await expect(
        transformFileInputs(client, { video: createReadStream(path) }, { strategy: 'upload' }),
      ).rejects.toThrow(/104857601 bytes, over Replicate's upload limit of 100 MiB/);
      await expect(transformFileInputs(client, { video: createReadStream(path) })).rejects.toThrow(
        /upload limit/,
      );
      expect(mock.requests).toHaveLength(0);
      // A file on disk under the limit streams from disk.
      await fsp.writeFile(path, 'on disk');
      const out = (await transformFileInputs(
        client,
        { f: createReadStream(path) },
        { strategy: 'upload' },
      )) as {
        f: string;
      };
      expect(mock.uploads[0]?.bytes.toString()).toBe('on disk');
      expect(mock.uploads[0]?.name).toMatch(/aiwire-replicate-big/);
      expect(out.f).toContain('/files/');
    } finally {
      await fsp.rm(path, { force: true });
    }
  });
});

describe('retries', () => {
  const rateLimited = () =>
    mock.enqueue(
      { method: 'POST', path: '/v1/predictions' },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': '1' } },
    );

  it('429 with Retry-After: 1 (twice, then 201): aiwire waits ~1 s each time; replicate-javascript 1.4.0 does not wait', async () => {
    mock.scenario('vrate', { honourWait: false, steps: [{ status: 'starting' }] });
    rateLimited();
    const t0 = performance.now();
    const created = await createPrediction(client, 'acme/rate:vrate', { input: {} });
    const aiwireMs = performance.now() - t0;
    expect(created.status).toBe('starting');
    const aiwire = mock.find('/v1/predictions', 'POST').map((r) => r.at);
    const aiwireGaps = gaps(aiwire);

    mock.reset();
    mock.scenario('vrate', { honourWait: false, steps: [{ status: 'starting' }] });
    rateLimited();
    const js = new ReplicateJs({ auth: TOKEN, baseUrl: mock.url });
    const t1 = performance.now();
    const jsCreated = await js.predictions.create({ version: 'vrate', input: {} });
    const jsMs = performance.now() - t1;
    expect(jsCreated.status).toBe('starting');
    const replicateJs = mock.find('/v1/predictions', 'POST').map((r) => r.at);
    const jsGaps = gaps(replicateJs);

    console.log(
      `429 x2 (Retry-After: 1) then 201: aiwire ${aiwire.length} attempts, gaps ${aiwireGaps.join(', ')} ms, ` +
        `total ${Math.round(aiwireMs)} ms; replicate-javascript 1.4.0 ${replicateJs.length} attempts, gaps ` +
        `${jsGaps.join(', ')} ms, total ${Math.round(jsMs)} ms`,
    );
    // aiwire: the engine honours Retry-After (1 s each), 3 attempts.
    expect(aiwire).toHaveLength(3);
    for (const g of aiwireGaps) expect(g).toBeGreaterThanOrEqual(950);
    for (const g of aiwireGaps) expect(g).toBeLessThan(1600);
    // replicate-javascript 1.4.0's withAutomaticRetries: its back-off sleep only runs when the jittered
    // delay is an integer (almost never) and a 429 Response never reaches its Retry-After branch (that
    // reads a thrown ApiError), so it retries at once and ignores Retry-After.
    expect(replicateJs).toHaveLength(3);
    for (const g of jsGaps) expect(g).toBeLessThan(100);
  });

  it('prediction creation is not retried on 5xx (Replicate ignores Idempotency-Key); polling is', async () => {
    mock.enqueue({ method: 'POST', path: '/v1/predictions' }, { status: 500 }, { status: 500 });
    await expect(createPrediction(client, 'acme/x:vx', { input: {} })).rejects.toBeInstanceOf(
      InternalServerError,
    );
    expect(mock.find('/v1/predictions', 'POST')).toHaveLength(1);
    expect(mock.predictions.size).toBe(0);

    mock.reset();
    mock.scenario('vpoll', { steps: [{ status: 'starting' }, { status: 'succeeded', output: 'ok' }] });
    const fast = client.withOptions({ retryMinDelay: 5, retryMaxDelay: 10 });
    mock.enqueue({ method: 'GET', path: /^\/v1\/predictions\/./ }, { status: 502 }, { status: 503 });
    const t0 = performance.now();
    expect(await run(fast, 'acme/poll:vpoll', { input: {}, wait: false, interval: 1 })).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(400);
    expect(mock.find('/v1/predictions/', 'GET')).toHaveLength(3);
  });

  it('retryMinDelay / retryMaxDelay set the engine back-off; invalid values are refused', async () => {
    mock.scenario('vb', { steps: [{ status: 'starting' }, { status: 'succeeded', output: 1 }] });
    const p = await createPrediction(client, 'acme/b:vb', { input: {} });
    mock.enqueue({ method: 'GET' }, { status: 500 }, { status: 500 });
    const tuned = new Replicate({ auth: TOKEN, baseUrl: mock.url, retryMinDelay: 100, retryMaxDelay: 150 });
    await tuned.get(`/predictions/${p.id}`);
    const at = mock.find('/v1/predictions/', 'GET').map((r) => r.at);
    const [first, second] = gaps(at);
    // 100 ms, then min(200, 150) ms, each shortened by up to 25 % jitter.
    expect(first).toBeGreaterThanOrEqual(70);
    expect(first).toBeLessThan(400);
    expect(second).toBeGreaterThanOrEqual(108);
    expect(second).toBeLessThan(450);
    expect(() => new Replicate({ auth: TOKEN, retryMinDelay: 2000, retryMaxDelay: 1000 })).toThrow(
      /retryMinDelay \(2000 ms\) must not be above retryMaxDelay \(1000 ms\)/,
    );
    expect(() => new Replicate({ auth: TOKEN, retryMaxDelay: 100 })).toThrow(/must not be above/);
    expect(() => new Replicate({ auth: TOKEN, retryMinDelay: -1 })).toThrow(/retryMinDelay must be a finite/);
    expect(() => new Replicate({ auth: TOKEN, retryMaxDelay: Number.POSITIVE_INFINITY })).toThrow(
      /retryMaxDelay must be a finite/,
    );
  });
});
