import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { loopbackServer } from './server.js';

/** What `/echo` answers: the request as the server saw it. */
export interface Echo {
  method: string;
  path: string;
  contentType: string | null;
  contentLength: string | null;
  chunked: boolean;
  /** The body, base64. */
  body: string;
  /** With `?agent=1` only (they differ between fetch implementations). */
  userAgent?: string | null;
  idempotencyKey?: string | null;
  /** Request headers the tests set themselves (`x-*`), names lower case. */
  custom: Record<string, string | string[]>;
}

/** Deterministic bytes `i * 31 + 7 (mod 256)`, for bodies the tests compare. */
export function patternBytes(size: number): Buffer<ArrayBuffer> {
  const b = Buffer.alloc(size) as Buffer<ArrayBuffer>;
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** Counters the tests read: closed connections, and bytes written to `/slow` before the client stopped. */
export interface FetchServerState {
  readonly baseURL: string;
  /** Connections the server saw close (client-side closes included). */
  closed: number;
  /** Bytes `/big` managed to write (the client's reading holds it back). */
  bigWritten: number;
  /** Requests seen per path (retries counted). */
  hits: Map<string, number>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sockets whose close is already counted (keep-alive connections carry many requests). */
const seen = new WeakSet<object>();

async function route(state: FetchServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  state.hits.set(path, (state.hits.get(path) ?? 0) + 1);
  if (!seen.has(req.socket)) {
    seen.add(req.socket);
    req.socket.once('close', () => {
      state.closed++;
    });
  }
  const body = await readBody(req);
  if (path === '/echo') {
    const custom: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (k.startsWith('x-') && v !== undefined) custom[k] = v;
    const echo: Echo = {
      method: req.method ?? '',
      path: url.pathname + url.search,
      contentType: req.headers['content-type'] ?? null,
      contentLength: req.headers['content-length'] ?? null,
      chunked: req.headers['transfer-encoding'] === 'chunked',
      body: body.toString('base64'),
      custom,
    };
    if (url.searchParams.has('agent')) {
      echo.userAgent = req.headers['user-agent'] ?? null;
      echo.idempotencyKey = (req.headers['idempotency-key'] as string | undefined) ?? null;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(echo));
    return;
  }
  if (path.startsWith('/status/')) {
    const code = Number(path.slice('/status/'.length));
    res.statusCode = code;
    res.setHeader('x-status', String(code));
    if (code === 204 || code === 304 || code === 205) res.end();
    else res.end(`body of ${code}`);
    return;
  }
  if (path === '/cookies') {
    res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
    res.setHeader('x-multi', ['one', 'two']);
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('cookies');
    return;
  }
  if (path === '/bytes') {
    const size = Number(url.searchParams.get('size') ?? '0');
    res.setHeader('content-type', 'application/octet-stream');
    res.end(patternBytes(size));
    return;
  }
  if (path === '/utf8') {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('héllo ☃ 𝄞 \u{1F600}');
    return;
  }
  if (path === '/json') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ a: [1, 2, { b: 'c' }], n: null }));
    return;
  }
  if (path === '/compressed') {
    const enc = url.searchParams.get('enc') ?? 'gzip';
    const plain = Buffer.from('compressed body '.repeat(200));
    res.setHeader('content-type', 'text/plain');
    res.setHeader('content-encoding', enc);
    res.end(enc === 'br' ? brotliCompressSync(plain) : gzipSync(plain));
    return;
  }
  if (path.startsWith('/redirect/')) {
    res.statusCode = Number(path.slice('/redirect/'.length));
    res.setHeader('location', '/echo?from=redirect');
    res.end();
    return;
  }
  if (path === '/hang-head') return; // never answers: aborts and timeouts while waiting for the head
  if (path === '/hang-body') {
    res.setHeader('content-type', 'text/plain');
    res.write('first part;');
    return; // the body never ends
  }
  if (path === '/drop-body') {
    res.setHeader('content-length', '100');
    res.write('only ten b');
    setTimeout(() => req.socket.destroy(), 20);
    return;
  }
  if (path === '/big') {
    // 64 MiB in 64 KiB writes, each waiting for the socket to drain: `bigWritten` shows how far the
    // client's reading let the server get.
    const total = 64 * 1024 * 1024;
    const chunk = patternBytes(64 * 1024);
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(total));
    state.bigWritten = 0;
    const write = () => {
      while (state.bigWritten < total && !res.destroyed) {
        state.bigWritten += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', write);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    res.on('close', () => res.removeAllListeners('drain'));
    write();
    return;
  }
  if (path === '/hash') {
    res.end(createHash('sha256').update(body).digest('hex'));
    return;
  }
  res.statusCode = 404;
  res.end('no route');
}

/**
 * The loopback server the fetch tests share (one per test file; 127.0.0.1, free port): `/echo` (the
 * request as seen; `?agent=1` adds user-agent and idempotency-key), `/status/<code>`, `/cookies` (two `set-cookie`, a repeated header), `/bytes?size=`,
 * `/utf8`, `/json`, `/compressed?enc=gzip|br`, `/redirect/<code>` (→ `/echo?from=redirect`),
 * `/hang-head`, `/hang-body`, `/drop-body` (connection reset mid-body), `/big` (64 MiB honouring
 * backpressure), `/hash` (sha256 of the request body).
 */
export function fetchServer(): FetchServerState {
  const state = { closed: 0, bigWritten: 0, hits: new Map<string, number>() } as {
    closed: number;
    bigWritten: number;
    hits: Map<string, number>;
  };
  const server = loopbackServer((req, res) => {
    route(full, req, res).catch((e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  const full = Object.defineProperty(state, 'baseURL', { get: () => server.baseURL }) as FetchServerState;
  return full;
}
