/**
 * A loopback HTTP server for upload and download tests: it parses `multipart/form-data` bodies as
 * they stream in (hashing each part, never holding a large one), hashes raw bodies, fails a route
 * once on request, and serves large deterministic binary bodies with backpressure.
 *
 * Routes:
 * - `POST /upload`: a multipart body → `200 {"parts":[ReceivedPart…]}` (also recorded in `received`).
 * - `POST /raw`: any body → `200 {"size","sha256"}`.
 * - `POST /fail-once/<key>` (multipart or raw): the first request with this key reads the whole body
 *   and answers `500` with `x-should-retry: true`, later ones as `/upload`.
 * - `GET /download?size=N`: `N` deterministic bytes (`application/octet-stream`, `x-sha256` header with
 *   their hash), written in 64 KiB chunks, each after the previous one drained.
 * - `GET /vectors`: a small JSON body with float vectors in `data[*].vec` (arrays and base64 float32).
 * - anything else: `404 {"error":{"message":"not found"}}`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One part of a received multipart body. */
export interface ReceivedPart {
  /** `name=` of its `Content-Disposition`. */
  name: string;
  /** `filename=`, if any (as sent, still percent-escaped). */
  filename?: string;
  /** Its `Content-Type` header, if any. */
  contentType?: string;
  /** Bytes. */
  size: number;
  /** sha256 of its bytes, hex. */
  sha256: string;
  /** The bytes as UTF-8 text, for parts of at most 64 KiB. */
  text?: string;
}

/** One received request. */
export interface ReceivedUpload {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Whole body: bytes and sha256. */
  size: number;
  sha256: string;
  /** The parts, for multipart bodies. */
  parts?: ReceivedPart[];
  /** The server answered 500 (a `/fail-once` first attempt). */
  failed: boolean;
}

/** A running upload server. */
export interface UploadServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request with a body, in arrival order. */
  readonly received: ReceivedUpload[];
  /** Downloads whose connection closed before their body was complete. */
  readonly downloadsAborted: number;
  /** Bytes of download bodies written to sockets so far (all downloads). */
  readonly downloadBytesWritten: number;
  /** Forget recorded requests and counters. */
  reset(): void;
  /** Stop listening and close every connection. */
  close(): Promise<void>;
}

const TEXT_MAX = 64 * 1024;

/** Incremental multipart parser: feed chunks, get finished parts. */
class MultipartParser {
  readonly parts: ReceivedPart[] = [];
  #delimiter: Buffer;
  #buf: Buffer;
  #inHeaders = false;
  #current: { part: ReceivedPart; hash: ReturnType<typeof createHash>; text: Buffer[] } | undefined;
  #done = false;

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    // The body starts with the boundary line without a CRLF before it.
    this.#buf = Buffer.from('\r\n');
  }

  feed(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    for (;;) {
      if (this.#done) return;
      if (this.#inHeaders) {
        const end = this.#buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.#buf.subarray(0, end).toString('utf8');
        this.#buf = this.#buf.subarray(end + 4);
        const part: ReceivedPart = { name: '', size: 0, sha256: '' };
        for (const line of head.split('\r\n')) {
          const [k, ...rest] = line.split(':');
          const v = rest.join(':').trim();
          if (k?.toLowerCase() === 'content-disposition') {
            part.name = /name="([^"]*)"/.exec(v)?.[1] ?? '';
            const f = /filename="([^"]*)"/.exec(v);
            if (f) part.filename = f[1];
          } else if (k?.toLowerCase() === 'content-type') {
            part.contentType = v;
          }
        }
        this.#current = { part, hash: createHash('sha256'), text: [] };
        this.#inHeaders = false;
        continue;
      }
      const at = this.#buf.indexOf(this.#delimiter);
      const usable = at >= 0 ? at : Math.max(0, this.#buf.length - this.#delimiter.length + 1);
      if (this.#current && usable > 0) {
        const data = this.#buf.subarray(0, usable);
        const c = this.#current;
        c.hash.update(data);
        if (c.part.size + data.length <= TEXT_MAX) c.text.push(Buffer.from(data));
        c.part.size += data.length;
      }
      if (at < 0) {
        this.#buf = Buffer.from(this.#buf.subarray(usable));
        return;
      }
      // After the delimiter: `--` (the end) or CRLF (another part).
      const after = this.#buf.subarray(at + this.#delimiter.length);
      if (after.length < 2) {
        this.#buf = Buffer.from(this.#buf.subarray(at));
        return;
      }
      this.#finishPart();
      if (after[0] === 0x2d && after[1] === 0x2d) {
        this.#done = true;
        return;
      }
      this.#buf = after.subarray(2);
      this.#inHeaders = true;
    }
  }

  #finishPart(): void {
    const c = this.#current;
    if (!c) return;
    c.part.sha256 = c.hash.digest('hex');
    if (c.part.size <= TEXT_MAX) c.part.text = Buffer.concat(c.text).toString('utf8');
    this.parts.push(c.part);
    this.#current = undefined;
  }

  get complete(): boolean {
    return this.#done;
  }
}

/** `size` deterministic bytes, in 64 KiB chunks (each chunk differs: its index is in its first bytes). */
function* downloadChunks(size: number): Generator<Buffer> {
  const base = createHash('sha512').update('aiwire').digest();
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (base[i % base.length] as number) ^ (i >> 6);
  let sent = 0;
  for (let n = 0; sent < size; n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - sent)));
    chunk.writeUInt32LE(n, 0);
    sent += chunk.length;
    yield chunk;
  }
}

function downloadHash(size: number): string {
  const h = createHash('sha256');
  for (const c of downloadChunks(size)) h.update(c);
  return h.digest('hex');
}

/** Start an upload server on 127.0.0.1 (free port). */
export async function startUploadServer(): Promise<UploadServer> {
  const received: ReceivedUpload[] = [];
  const failedKeys = new Set<string>();
  const counters = { aborted: 0, written: 0 };

  const readBody = (req: IncomingMessage, record: ReceivedUpload): Promise<void> => {
    const type = req.headers['content-type'] ?? '';
    const boundary = /boundary=([^;]+)/.exec(type)?.[1];
    const parser =
      type.startsWith('multipart/form-data') && boundary ? new MultipartParser(boundary) : undefined;
    const hash = createHash('sha256');
    return new Promise((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        record.size += chunk.length;
        parser?.feed(chunk);
      });
      req.on('end', () => {
        record.sha256 = hash.digest('hex');
        if (parser) record.parts = parser.parts;
        resolve();
      });
      req.on('error', reject);
    });
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const download = (res: ServerResponse, size: number) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'x-sha256': downloadHash(size),
    });
    const chunks = downloadChunks(size);
    let finished = false;
    res.on('close', () => {
      if (!finished) counters.aborted++;
    });
    const write = () => {
      for (;;) {
        const next = chunks.next();
        if (next.done) {
          finished = true;
          res.end();
          return;
        }
        if (res.destroyed) return;
        counters.written += next.value.length;
        if (!res.write(next.value)) {
          res.once('drain', write);
          return;
        }
      }
    };
    write();
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/download') {
      req.resume();
      download(res, Number(url.searchParams.get('size') ?? '0'));
      return;
    }
    if (req.method === 'GET' && path === '/vectors') {
      req.resume();
      const b64 = Buffer.from(new Float32Array([1, -0.5]).buffer).toString('base64');
      json(res, 200, {
        data: [
          { i: 0, vec: [1.5, 2] },
          { i: 1, vec: b64 },
        ],
        embedding: 'kept',
      });
      return;
    }
    if (req.method === 'POST' && (path === '/upload' || path === '/raw' || path.startsWith('/fail-once/'))) {
      const record: ReceivedUpload = {
        method: req.method,
        path,
        headers: req.headers,
        size: 0,
        sha256: '',
        failed: false,
      };
      received.push(record);
      readBody(req, record).then(
        () => {
          if (path.startsWith('/fail-once/') && !failedKeys.has(path)) {
            failedKeys.add(path);
            record.failed = true;
            json(
              res,
              500,
              { error: { message: 'failing once' } },
              { 'x-should-retry': 'true', 'retry-after-ms': '10' },
            );
            return;
          }
          if (path === '/raw') json(res, 200, { size: record.size, sha256: record.sha256 });
          else json(res, 200, { parts: record.parts ?? [] });
        },
        () => res.destroy(),
      );
      return;
    }
    req.resume();
    json(res, 404, { error: { message: 'not found' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    get downloadsAborted() {
      return counters.aborted;
    },
    get downloadBytesWritten() {
      return counters.written;
    },
    reset() {
      received.length = 0;
      failedKeys.clear();
      counters.aborted = 0;
      counters.written = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
