// `client.uploads.upload()` (aiwire's own helper) against a loopback Uploads API: the server parses
// each multipart part, keeps its bytes, answers parts in reverse order of arrival (later parts first)
// so out-of-order completion is exercised, counts the parts in flight, and on `complete` joins the
// parts in the order of `part_ids` and returns their SHA-256, which must be the file's.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiwireError, InternalServerError } from '../src/core/errors.js';
import { OpenAI } from '../src/openai.js';

let server: Server;
let baseURL: string;
let dir: string;
let requests: string[] = [];
let parts = new Map<string, Buffer>();
let inFlight = 0;
let maxInFlight = 0;
let created: Record<string, unknown> | undefined;
/** Fail the part with this (1-based) arrival number with a 400. */
let failPart = 0;
let arrivals = 0;

/** The `data` part's bytes of a multipart body. */
function dataPart(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const delimiter = Buffer.from(`--${boundary?.[1] ?? boundary?.[2]}`);
  const start = body.indexOf(delimiter);
  const headEnd = body.indexOf('\r\n\r\n', start);
  const head = body.subarray(start, headEnd).toString();
  if (!/name="data"/.test(head)) throw new Error(`unexpected part: ${head}`);
  const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
  return body.subarray(headEnd + 4, end);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const p = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/v1/, '');
  requests.push(`${req.method} ${p}`);
  const json = (status: number, value: object) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'POST' && p === '/uploads') {
    created = JSON.parse(body.toString()) as Record<string, unknown>;
    return json(200, { id: 'upload_1', object: 'upload', status: 'pending', ...created });
  }
  if (req.method === 'POST' && p === '/uploads/upload_1/parts') {
    const n = ++arrivals;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Earlier parts wait longer: answers come back out of order.
    await new Promise((r) => setTimeout(r, Math.max(2, 40 - n * 8)));
    inFlight--;
    if (n === failPart) return json(500, { error: { message: 'part store failed', type: 'server_error' } });
    const id = `part_${n}`;
    parts.set(id, dataPart(body, req.headers['content-type'] ?? ''));
    return json(200, { id, object: 'upload.part', upload_id: 'upload_1' });
  }
  if (req.method === 'POST' && p === '/uploads/upload_1/complete') {
    const { part_ids } = JSON.parse(body.toString()) as { part_ids: string[] };
    const joined = Buffer.concat(part_ids.map((id) => parts.get(id) ?? Buffer.alloc(0)));
    const sha256 = createHash('sha256').update(joined).digest('hex');
    return json(200, {
      id: 'upload_1',
      object: 'upload',
      status: 'completed',
      file: { id: 'file-done', object: 'file', bytes: joined.length, filename: created?.filename, sha256 },
    });
  }
  if (req.method === 'POST' && p === '/uploads/upload_1/cancel') {
    return json(200, { id: 'upload_1', object: 'upload', status: 'cancelled' });
  }
  json(404, { error: { message: `no route ${p}` } });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => res.destroy(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  dir = mkdtempSync(join(tmpdir(), 'aiwire-upload-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
  parts = new Map();
  inFlight = 0;
  maxInFlight = 0;
  failPart = 0;
  arrivals = 0;
  created = undefined;
});

const client = () => new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A file of `size` random bytes on disk; returns its path and bytes. */
function makeFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('uploads.upload()', () => {
  it('a path: parts of partSize, at most `concurrency` in flight, completed in file order (SHA-256 matches)', async () => {
    const { path, bytes } = makeFile('train.jsonl', 7 * 65_536 + 123);
    const upload = await client().uploads.upload({
      file: path,
      mime_type: 'text/jsonl',
      purpose: 'fine-tune',
      partSize: 65_536,
      concurrency: 3,
    });
    const file = upload.file as unknown as { sha256: string; bytes: number; filename: string };
    expect(file.sha256).toBe(sha(bytes));
    expect(file.bytes).toBe(bytes.length);
    expect(created).toEqual({
      bytes: bytes.length,
      filename: 'train.jsonl',
      mime_type: 'text/jsonl',
      purpose: 'fine-tune',
    });
    expect(requests.filter((r) => r.endsWith('/parts'))).toHaveLength(8);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(requests[0]).toBe('POST /uploads');
    expect(requests.at(-1)).toBe('POST /uploads/upload_1/complete');
    expect(upload.status).toBe('completed');
  });

  it('an fs.ReadStream, a Blob and a Buffer give the same bytes; the default part size is one part here', async () => {
    const { path, bytes } = makeFile('doc.pdf', 200_001);
    for (const file of [createReadStream(path), new File([new Uint8Array(bytes)], 'doc.pdf'), bytes]) {
      parts = new Map();
      requests = [];
      const upload = await client().uploads.upload({
        file,
        filename: 'doc.pdf',
        bytes: bytes.length,
        mime_type: 'application/pdf',
        purpose: 'assistants',
      });
      expect((upload.file as unknown as { sha256: string }).sha256).toBe(sha(bytes));
      expect(requests.filter((r) => r.endsWith('/parts'))).toHaveLength(1);
    }
  });

  it('a failed part cancels the upload and throws the typed error; no complete', async () => {
    const { path } = makeFile('fail.bin', 5 * 1000);
    failPart = 2;
    await expect(
      client().uploads.upload({
        file: path,
        mime_type: 'application/octet-stream',
        purpose: 'batch',
        partSize: 1000,
      }),
    ).rejects.toBeInstanceOf(InternalServerError);
    expect(requests).toContain('POST /uploads/upload_1/cancel');
    expect(requests).not.toContain('POST /uploads/upload_1/complete');
  });

  it('bad params: typed errors saying what to fix, before any request', async () => {
    const { path } = makeFile('small.txt', 10);
    const empty = makeFile('empty.txt', 0).path;
    const up = (p: object) =>
      client().uploads.upload({ mime_type: 'text/plain', purpose: 'assistants', ...p } as never);
    await expect(up({ file: join(dir, 'missing.txt') })).rejects.toThrow(
      /cannot open file .*missing\.txt.*ENOENT/,
    );
    await expect(up({ file: empty })).rejects.toThrow(/file is empty/);
    await expect(up({ file: path, bytes: 11 })).rejects.toThrow(/bytes is 11 but the file has 10 bytes/);
    await expect(up({ file: path, partSize: 64 * 1024 * 1024 + 1 })).rejects.toThrow(
      /partSize \(bytes\) must be an integer from 1 to 67108864/,
    );
    await expect(up({ file: path, concurrency: 0 })).rejects.toThrow(/concurrency must be an integer/);
    await expect(up({ file: path, mime_type: '' })).rejects.toThrow(/mime_type is required/);
    await expect(up({ file: 42 })).rejects.toBeInstanceOf(AiwireError);
    expect(requests).toEqual([]);
  });
});
