// Uploads (src/core/uploads.ts + the engine's streamed bodies) through the real addon over loopback
// HTTP: multipart bodies from disk, memory, Blobs and streams, hashed part by part by the upload server;
// retries of replayable bodies; single attempts of streamed ones; toFile(); the form encoding.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiwireError } from '../src/core/errors.js';
import { filePathOf, isUploadable, multipartParts, rawBody, toFile } from '../src/core/uploads.js';
import { loadNative, type NativeRequest, type NativeResult, sendRequest } from '../src/native/index.js';
import { type ReceivedPart, startUploadServer, type UploadServer } from '../src/testing/upload-server.js';

const binding = loadNative();
const engine = new binding.NativeEngine({ maxRetries: 2 });
let server: UploadServer;
let dir: string;

beforeAll(async () => {
  server = await startUploadServer();
  dir = await fsp.mkdtemp(join(tmpdir(), 'aiwire-uploads-'));
});
afterAll(async () => {
  await server?.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});
beforeEach(() => server.reset());

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** POST `body` as multipart to `path`; the native result and the parts the server parsed. */
async function upload(
  body: Record<string, unknown>,
  path = '/upload',
  extra: Partial<NativeRequest> = {},
): Promise<{ res: NativeResult; parts: ReceivedPart[]; replayable: boolean }> {
  const prepared = await multipartParts(binding, body);
  const pending = sendRequest(
    binding,
    engine,
    { method: 'POST', url: server.url + path, textBody: true, ...extra, ...prepared.fields },
    undefined,
  );
  prepared.start();
  const res = await pending;
  const parts = res.ok ? (JSON.parse(res.body as string).parts as ReceivedPart[]) : [];
  return { res, parts, replayable: prepared.replayable };
}

/** A file of `size` bytes (1 MiB random block, each MiB stamped with its index); its sha256. */
async function bigFile(name: string, size: number): Promise<{ path: string; sha256: string }> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  const block = randomBytes(1 << 20);
  const out = createWriteStream(path);
  for (let off = 0, i = 0; off < size; off += block.length, i++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - off)));
    chunk.writeUInt32LE(i, 0);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  return { path, sha256: hash.digest('hex') };
}

describe('multipart uploads', () => {
  it('streams a 50 MB file from disk: hash equal, RSS grows by < 40 MB', async () => {
    const size = 50 * 1024 * 1024;
    const { path, sha256 } = await bigFile('big.bin', size);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    const started = performance.now();
    const { res, parts, replayable } = await upload({
      model: 'm-1',
      file: createReadStream(path),
      purpose: 'fine-tune',
    });
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(res.ok).toBe(true);
    expect(replayable).toBe(true);
    expect(parts.map((p) => p.name)).toEqual(['model', 'file', 'purpose']);
    const file = parts[1] as ReceivedPart;
    expect(file.filename).toBe('big.bin');
    expect(file.contentType).toBe('application/octet-stream');
    expect(file.size).toBe(size);
    expect(file.sha256).toBe(sha256);
    // A path part has a known length: the body is sent with Content-Length, not chunked.
    const rec = server.received[0];
    expect(rec?.headers['content-length']).toBe(String(rec?.size));
    expect(rec?.headers['transfer-encoding']).toBeUndefined();
    const grewMB = (peak - before) / 2 ** 20;
    console.log(
      `50 MB upload from disk: ${ms.toFixed(0)} ms (${((size / 2 ** 20 / ms) * 1000).toFixed(0)} MB/s), ` +
        `RSS +${grewMB.toFixed(1)} MB (server in the same process)`,
    );
    expect(grewMB).toBeLessThan(40);
  });

  it('a File from toFile(fs.ReadStream) stays on disk and uploads by path', async () => {
    const { path, sha256 } = await bigFile('mid.bin', 3 * 1024 * 1024 + 17);
    const file = await toFile(createReadStream(path), undefined, { type: 'application/x-test' });
    expect(file).toBeInstanceOf(File);
    expect(file.name).toBe('mid.bin');
    expect(file.size).toBe(3 * 1024 * 1024 + 17);
    expect(filePathOf(file)).toBe(path);
    const prepared = await multipartParts(binding, { file });
    expect(prepared.fields.multipart[0]?.path).toBe(path);
    expect(prepared.fields.multipart[0]?.value).toBeUndefined();
    const { parts } = await upload({ file });
    expect(parts[0]).toMatchObject({ name: 'file', filename: 'mid.bin', contentType: 'application/x-test' });
    expect(parts[0]?.sha256).toBe(sha256);
    // The File's own bytes are the file's too (read lazily by Node).
    expect(sha(new Uint8Array(await file.arrayBuffer()))).toBe(sha256);
  });

  it('uploads from a Buffer, a Blob, a large Blob, a web ReadableStream and a Node Readable', async () => {
    const small = randomBytes(100_000);
    const large = randomBytes(9 * 1024 * 1024); // over the 8 MiB inline limit: streamed with a length
    const webBytes = randomBytes(300_000);
    const nodeBytes = randomBytes(700_001);
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < webBytes.length; i += 65_536) c.enqueue(webBytes.subarray(i, i + 65_536));
        c.close();
      },
    });
    const node = Readable.from(
      (function* () {
        for (let i = 0; i < nodeBytes.length; i += 50_000) yield nodeBytes.subarray(i, i + 50_000);
      })(),
    );
    const { res, parts, replayable } = await upload({
      buffer: small,
      blob: new Blob([small], { type: 'text/plain' }),
      named: new File([small], 'n.txt', { type: 'text/csv' }),
      large: new Blob([large]),
      web,
      node,
    });
    expect(res.ok).toBe(true);
    expect(replayable).toBe(false);
    expect(res.attempts).toBe(1);
    const by = Object.fromEntries(parts.map((p) => [p.name, p]));
    expect(by.buffer).toMatchObject({ filename: 'unknown_file', size: small.length, sha256: sha(small) });
    expect(by.buffer?.contentType).toBe('application/octet-stream');
    expect(by.blob).toMatchObject({ filename: 'blob', contentType: 'text/plain', sha256: sha(small) });
    expect(by.named).toMatchObject({ filename: 'n.txt', contentType: 'text/csv', sha256: sha(small) });
    expect(by.large).toMatchObject({ size: large.length, sha256: sha(large) });
    expect(by.web).toMatchObject({ size: webBytes.length, sha256: sha(webBytes) });
    expect(by.node).toMatchObject({ size: nodeBytes.length, sha256: sha(nodeBytes) });
  });

  it('encodes fields as openai-node does: text, key[] for arrays, key[sub] for objects', async () => {
    const { parts } = await upload({
      s: 'héllo "q"',
      n: 1.5,
      b: false,
      skip: undefined,
      arr: ['p', 'q'],
      obj: { k: 'v', nested: { z: 2 } },
      list: [{ x: 1 }, { x: 2 }],
      files: [Buffer.from('one'), Buffer.from('two')],
    });
    expect(parts.map((p) => [p.name, p.text])).toEqual([
      ['s', 'héllo "q"'],
      ['n', '1.5'],
      ['b', 'false'],
      ['arr[]', 'p'],
      ['arr[]', 'q'],
      ['obj[k]', 'v'],
      ['obj[nested][z]', '2'],
      ['list[][x]', '1'],
      ['list[][x]', '2'],
      ['files[]', 'one'],
      ['files[]', 'two'],
    ]);
    expect(parts[0]?.contentType).toBeUndefined();
    expect(parts[0]?.filename).toBeUndefined();
  });

  it('bad input gives a clear AiwireError', async () => {
    await expect(multipartParts(binding, { a: null })).rejects.toThrow(/field "a" is null.*'null'/);
    await expect(multipartParts(binding, { a: 10n })).rejects.toBeInstanceOf(AiwireError);
    // No error listener: aiwire closes the stream and reports the missing file itself.
    const missing = createReadStream(join(dir, 'does-not-exist.bin'));
    await expect(multipartParts(binding, { file: missing })).rejects.toThrow(
      /field "file": can not upload .*does-not-exist\.bin/,
    );
    await expect(rawBody(binding, 42 as never)).rejects.toBeInstanceOf(AiwireError);
    // The engine re-checks: a path that disappears settles as an invalid request, not retried.
    const res = await sendRequest(
      binding,
      engine,
      { method: 'POST', url: `${server.url}/upload`, multipart: [{ name: 'f', path: join(dir, 'gone') }] },
      undefined,
    );
    expect(res.errorKind).toBe('invalid_request');
    expect(res.errorMessage).toContain('gone');
    expect(res.attempts).toBe(1);
    expect(() =>
      engine.request(0, { method: 'POST', url: server.url, multipart: [{ name: 'x' }] }, undefined),
    ).toThrow(/exactly one of value, path, sender/);
  });
});

describe('retries and streamed bodies', () => {
  it('a path body is re-sent whole on a retry (500 then 200)', async () => {
    const { path, sha256 } = await bigFile('retry.bin', 2 * 1024 * 1024 + 5);
    const { res, parts } = await upload({ file: createReadStream(path) }, '/fail-once/path');
    expect(res.ok).toBe(true);
    expect(res.attempts).toBe(2);
    expect(server.received).toHaveLength(2);
    for (const r of server.received) {
      expect(r.parts?.[0]?.sha256).toBe(sha256);
      expect(r.parts?.[0]?.size).toBe(2 * 1024 * 1024 + 5);
    }
    expect(parts[0]?.sha256).toBe(sha256);
  });

  it('a raw bodyPath body is replayable too', async () => {
    const { path, sha256 } = await bigFile('raw.bin', 1024 * 1024);
    const prepared = await rawBody(binding, createReadStream(path));
    expect(prepared.fields.bodyPath).toBe(path);
    const res = await sendRequest(
      binding,
      engine,
      { method: 'POST', url: `${server.url}/fail-once/raw`, ...prepared.fields },
      undefined,
    );
    expect(res.ok).toBe(true);
    expect(res.attempts).toBe(2);
    expect(server.received.map((r) => r.sha256)).toEqual([sha256, sha256]);
  });

  it('a body with a streamed part makes one attempt only (no retry)', async () => {
    const data = randomBytes(200_000);
    const { res } = await upload({ file: Readable.from([data]) }, '/fail-once/sender');
    expect(res.ok).toBe(false);
    expect(res.status).toBe(500);
    expect(res.attempts).toBe(1);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]?.parts?.[0]?.sha256).toBe(sha(data));
  });

  it('a raw bodySender body streams chunked', async () => {
    const data = randomBytes(1_000_000);
    const prepared = await rawBody(
      binding,
      Readable.from([data.subarray(0, 400_000), data.subarray(400_000)]),
    );
    expect(prepared.replayable).toBe(false);
    const pending = sendRequest(
      binding,
      engine,
      { method: 'POST', url: `${server.url}/raw`, textBody: true, ...prepared.fields },
      undefined,
    );
    prepared.start();
    const res = await pending;
    expect(JSON.parse(res.body as string)).toEqual({ size: data.length, sha256: sha(data) });
    expect(server.received[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it('a source that fails mid-way aborts the request with its message', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
        setTimeout(() => this.destroy(new Error('disk on fire')), 20);
      },
    });
    const { res } = await upload({ file: failing });
    expect(res.ok).toBe(false);
    expect(res.errorKind).toBe('invalid_request');
    expect(res.errorMessage).toContain('disk on fire');
    expect(res.attempts).toBe(1);
  });

  it('write() waits for the engine (backpressure) and rejects once the request is over', async () => {
    const sender = new binding.NativeBodySender();
    // Nobody reads yet: 4 chunks fit, the 5th waits.
    for (let i = 0; i < 4; i++) await sender.write(Buffer.alloc(1024));
    let fifth = false;
    const pending = sender.write(Buffer.alloc(1024)).then(() => {
      fifth = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(fifth).toBe(false);
    const res = sendRequest(
      binding,
      engine,
      { method: 'POST', url: `${server.url}/raw`, textBody: true, bodySender: sender },
      undefined,
    );
    await pending;
    expect(fifth).toBe(true);
    sender.end();
    expect(JSON.parse((await res).body as string).size).toBe(5 * 1024);
    await expect(sender.write(Buffer.alloc(1))).rejects.toThrow(/ended or aborted/);
  });
});

describe('toFile', () => {
  it('wraps bytes, Blobs, Responses and streams with openai-node names', async () => {
    const a = await toFile(Buffer.from('abc'), 'a.txt', { type: 'text/plain' });
    expect([a.name, a.type, await a.text()]).toEqual(['a.txt', 'text/plain', 'abc']);
    expect((await toFile(new Uint8Array([1, 2]))).name).toBe('unknown_file');
    expect((await toFile(new ArrayBuffer(3))).size).toBe(3);
    const f = new File(['x'], 'x.bin');
    expect(await toFile(f)).toBe(f);
    const renamed = await toFile(f, 'y.bin');
    expect([renamed.name, await renamed.text()]).toEqual(['y.bin', 'x']);
    const r = new Response('resp', { headers: { 'content-type': 'text/x' } });
    Object.defineProperty(r, 'url', { value: 'https://example.com/dir/audio.mp3?q=1' });
    const fr = await toFile(r);
    expect([fr.name, fr.type, await fr.text()]).toEqual(['audio.mp3', 'text/x', 'resp']);
    expect((await toFile(Promise.resolve(new Blob(['b'])))).name).toBe('unknown_file');
    const fs = await toFile(Readable.from([Buffer.from('st'), 'r']), 's.txt');
    expect(await fs.text()).toBe('str');
    const web = await toFile(new Blob(['web']).stream());
    expect(await web.text()).toBe('web');
  });

  it('refuses what is not a file, with a hint', async () => {
    await expect(toFile('/etc/passwd' as never)).rejects.toThrow(/fs\.createReadStream/);
    await expect(toFile(42 as never)).rejects.toBeInstanceOf(AiwireError);
    await expect(toFile({ a: 1 } as never)).rejects.toThrow(/got Object/);
    const missing = createReadStream(join(dir, 'nope.bin'));
    await expect(toFile(missing)).rejects.toThrow(/could not open .*nope\.bin/);
  });

  it('isUploadable', () => {
    expect(isUploadable(new Blob([]))).toBe(true);
    expect(isUploadable(Buffer.alloc(1))).toBe(true);
    expect(isUploadable(Readable.from([]))).toBe(true);
    expect(isUploadable(new ReadableStream())).toBe(true);
    expect(isUploadable('x')).toBe(false);
    expect(isUploadable({ a: 1 })).toBe(false);
    expect(isUploadable([1])).toBe(false);
  });
});
