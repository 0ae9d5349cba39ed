// Binary responses (src/core/binary.ts + the engine's raw streams) through the real addon over loopback
// HTTP: a large body streamed through Response.body, backpressure to the server, cancellation closing
// the connection, and typed errors.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBinaryResponse } from '../src/core/binary.js';
import { APIUserAbortError, NotFoundError } from '../src/core/errors.js';
import { loadNative, sendRequest } from '../src/native/index.js';
import { startUploadServer, type UploadServer } from '../src/testing/upload-server.js';

const binding = loadNative();
const engine = new binding.NativeEngine({ maxRetries: 0 });
let server: UploadServer;

beforeAll(async () => {
  server = await startUploadServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

const get = (path: string, cancel?: InstanceType<typeof binding.CancelToken>, settled?: () => void) =>
  openBinaryResponse(binding, engine, { method: 'GET', url: server.url + path }, cancel, settled);

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('binary responses', () => {
  it('streams a 30 MB body through Response.body with a matching hash', async () => {
    const size = 30 * 1024 * 1024;
    let settled = 0;
    const started = performance.now();
    const res = await get(`/download?size=${size}`, undefined, () => settled++);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(settled).toBe(0);
    const hash = createHash('sha256');
    let total = 0;
    let reads = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      total += chunk.byteLength;
      reads++;
    }
    const ms = performance.now() - started;
    console.log(
      `30 MB download: ${ms.toFixed(0)} ms (${((size / 2 ** 20 / ms) * 1000).toFixed(0)} MB/s), ${reads} batches`,
    );
    expect(total).toBe(size);
    expect(hash.digest('hex')).toBe(res.headers.get('x-sha256'));
    expect(settled).toBe(1);
    expect(server.downloadsAborted).toBe(0);
  });

  it('a slow reader holds the server back (bounded pending bytes)', async () => {
    const size = 128 * 1024 * 1024;
    const res = await get(`/download?size=${size}`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.value?.byteLength).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1000));
    // What the server could write: 1 MiB pending in the engine, hyper's read buffer, and the kernel's
    // socket buffers, which loopback autotuning grows up to tcp_rmem's max (32 MiB here) + tcp_wmem's
    // (4 MiB). An unbounded reader would have taken the whole 128 MiB in this second.
    const written = server.downloadBytesWritten;
    console.log(`slow reader: server wrote ${(written / 2 ** 20).toFixed(1)} MB of 128 MB while paused 1 s`);
    expect(written).toBeLessThan(48 * 1024 * 1024);
    await reader.cancel();
    await until(() => server.downloadsAborted === 1);
  });

  it('cancelling the body mid-way closes the connection', async () => {
    let settled = 0;
    const res = await get(`/download?size=${64 * 1024 * 1024}`, undefined, () => settled++);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    expect(settled).toBe(1);
    await until(() => server.downloadsAborted === 1);
  });

  it('a cancel token fired mid-body errors the body with APIUserAbortError', async () => {
    const token = new binding.CancelToken();
    const res = await get(`/download?size=${64 * 1024 * 1024}`, token);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    token.cancel();
    let error: unknown;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(APIUserAbortError);
    await until(() => server.downloadsAborted === 1);
  });

  it('a 404 rejects with NotFoundError', async () => {
    let settled = 0;
    const err = await get('/no/such/file/content', undefined, () => settled++).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).status).toBe(404);
    expect(settled).toBe(1);
  });

  it('an empty body closes at once', async () => {
    const res = await get('/download?size=0');
    expect(new Uint8Array(await res.arrayBuffer()).byteLength).toBe(0);
  });
});

describe('decoders by name', () => {
  it("decode: 'float-vectors' with decodeField reads data[*].<field> (arrays and base64 float32)", async () => {
    const res = await sendRequest(
      binding,
      engine,
      {
        method: 'GET',
        url: `${server.url}/vectors`,
        textBody: true,
        decode: 'float-vectors',
        decodeField: 'vec',
      },
      undefined,
    );
    expect(res.ok).toBe(true);
    expect(Array.from(res.vectors ?? [])).toEqual([1.5, 2, 1, -0.5]);
    expect(Array.from(res.vectorOffsets ?? [])).toEqual([0, 2, 4]);
    expect(JSON.parse(res.decodedBody ?? 'null')).toEqual({
      data: [
        { i: 0, vec: 0 },
        { i: 1, vec: 0 },
      ],
      embedding: 'kept',
    });
  });

  it("the default field is 'embedding' (absent here: the body comes undecoded); unknown names throw", async () => {
    const res = await sendRequest(
      binding,
      engine,
      { method: 'GET', url: `${server.url}/vectors`, textBody: true, decode: 'float-vectors' },
      undefined,
    );
    expect(res.vectors).toBeUndefined();
    expect(JSON.parse(res.body as string).embedding).toBe('kept');
    expect(() => engine.request(0, { method: 'GET', url: server.url, decode: 'nope' }, undefined)).toThrow(
      /unknown decode "nope"/,
    );
  });
});
