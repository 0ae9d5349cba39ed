/**
 * A scriptable loopback HTTP/1.1 server for transport tests: each request
 * takes the next queued {@link FaultStep} (a JSON reply, exact bytes, a
 * server-sent-event stream, a connection reset, a hang, a slow trickle...),
 * and every request and TCP connection is recorded so a test can assert
 * what the client sent and when it closed its sockets.
 *
 * @module
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type FaultStep, validateStep } from './fault-steps.js';

export type { FaultStep } from './fault-steps.js';

/** One request as the fault server received it. */
export interface RecordedRequest {
  /** HTTP method, e.g. `'POST'`. */
  method: string;
  /** Request target as sent, path and query, e.g. `'/v1/chat/completions?x=1'`. */
  url: string;
  /** Request headers, names lower-cased (Node's `IncomingMessage.headers`). */
  headers: Record<string, string | string[] | undefined>;
  /**
   * Body as UTF-8 text, decoded first when the request had
   * `content-encoding: gzip | deflate | br` (left as received if decoding
   * fails). `''` when there was no body.
   */
  body: string;
  /** Body bytes exactly as received on the wire (after de-chunking, before any content decoding). */
  rawBody: Buffer;
  /** When the request head arrived, in ms from `performance.now()`. */
  receivedAt: number;
}

/** Options of {@link startFaultServer}. Every field is optional. */
export interface FaultServerOptions {
  /** Address to bind. Default `'127.0.0.1'`; an IPv6 address is bracketed in `url`. */
  host?: string;
  /** TCP port. Default `0`: an ephemeral port chosen by the operating system. */
  port?: number;
  /**
   * How long, in ms, the server keeps an idle keep-alive connection open
   * before closing it. Default `65000`.
   */
  keepAliveTimeoutMs?: number;
}

/** Connection counters returned by {@link FaultServer.connections}. */
export interface ConnectionStats {
  /** TCP connections open right now. */
  open: number;
  /** TCP connections accepted since the server started or the last {@link FaultServer.reset}. */
  accepted: number;
  /** TCP connections closed since the server started or the last {@link FaultServer.reset}. */
  closed: number;
}

/** A running fault server, as resolved by {@link startFaultServer}. */
export interface FaultServer {
  /** Base URL without a trailing slash, e.g. `'http://127.0.0.1:12345'`. Any path is accepted. */
  readonly url: string;
  /** The TCP port actually bound. */
  readonly port: number;
  /**
   * Requests received so far, in the order their bodies finished arriving.
   * The same array object for the server's whole life ({@link reset} empties it in place).
   */
  readonly requests: RecordedRequest[];
  /**
   * Queues steps: each incoming request takes the next queued step; once the
   * queue is empty the fallback step is used (default `{ kind: 'json', body: { ok: true } }`).
   * @throws {TypeError} for a step whose `kind` is unknown or whose fields have the wrong type.
   * @throws {RangeError} for a negative delay, a status outside 100–999, or a
   *   `trickle` step whose `bytesPerTick` is not an integer >= 1. Nothing is
   *   queued when any step is invalid.
   */
  enqueue(...steps: FaultStep[]): void;
  /**
   * Sets the step used when the queue is empty.
   * @throws {TypeError | RangeError} as {@link enqueue}.
   */
  setFallback(step: FaultStep): void;
  /** Current connection counters; see {@link ConnectionStats}. */
  connections(): ConnectionStats;
  /**
   * Resolves when a TCP connection closes. Each close satisfies one call:
   * a close that happened before the call (and after the last
   * {@link reset}) and was not yet awaited resolves it at once.
   * @param timeoutMs How long to wait, in ms. Default `5000`.
   * @throws {Error} Rejects after `timeoutMs` with no close, or when the server is closed first.
   */
  waitForClose(timeoutMs?: number): Promise<void>;
  /**
   * Destroys every open TCP connection (idle keep-alive ones included)
   * without closing the server, e.g. to make a client's pooled connection stale.
   */
  destroyConnections(): void;
  /**
   * Clears the step queue and the recorded requests, restores the default
   * fallback, and restarts the `accepted`/`closed` counters and the
   * {@link waitForClose} bookkeeping. Open connections are left alone.
   */
  reset(): void;
  /**
   * Destroys every open connection (hanging responses included), cancels
   * every pending timer, rejects pending {@link waitForClose} calls, and
   * resolves once the server has stopped listening. Calling it again
   * resolves immediately.
   */
  close(): Promise<void>;
}

const DEFAULT_FALLBACK: FaultStep = { kind: 'json', body: { ok: true } };

function decodeText(raw: Buffer, encoding: string | undefined): string {
  const enc = (encoding ?? '').trim().toLowerCase();
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw).toString('utf8');
    if (enc === 'deflate') return inflateSync(raw).toString('utf8');
    if (enc === 'br') return brotliDecompressSync(raw).toString('utf8');
  } catch {
    // Keep the bytes as received; the test can inspect rawBody.
  }
  return raw.toString('utf8');
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

interface CloseWaiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Starts a scriptable fault server on loopback.
 *
 * Each request is read in full, recorded in {@link FaultServer.requests},
 * then answered by the next queued {@link FaultStep} (or the fallback).
 * Timers are unref'd and cancelled by `close()`, and `close()` destroys
 * every socket, so a test runner can exit even after `hang` steps.
 *
 * @param opts Address and keep-alive timeout; see {@link FaultServerOptions}.
 * @returns The running server once it is listening.
 * @throws {Error} Rejects with the `listen` error (e.g. `EADDRINUSE`) when
 *   the address cannot be bound.
 */
export async function startFaultServer(opts: FaultServerOptions = {}): Promise<FaultServer> {
  const host = opts.host ?? '127.0.0.1';
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 65_000;

  const queue: FaultStep[] = [];
  let fallback: FaultStep = DEFAULT_FALLBACK;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: CloseWaiter[] = [];
  let accepted = 0;
  let closedCount = 0;
  let unclaimedCloses = 0;
  let shuttingDown = false;

  /** Resolves after `ms`; never resolves if close() cancels the timer first. */
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (shuttingDown) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      timers.add(timer);
    });

  /** Writes `chunk` and resolves once it is handed to the kernel (or the response is gone). */
  const writeFlushed = (res: ServerResponse, chunk: string | Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (res.destroyed) {
        resolve();
        return;
      }
      const done = (): void => {
        res.off('close', done);
        resolve();
      };
      res.once('close', done);
      res.write(chunk, done);
    });

  /** Destroys `socket` once everything written to it has reached the kernel (bounded wait). */
  const destroyAfterFlush = async (socket: Socket): Promise<void> => {
    for (let i = 0; i < 1_000 && !socket.destroyed && socket.writableLength > 0; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    socket.destroy();
  };

  const applyHeaders = (
    res: ServerResponse,
    n: number,
    defaults: Record<string, string>,
    given: Record<string, string> | undefined,
  ): void => {
    res.setHeader('x-request-id', `req_fault_${n}`);
    for (const [name, value] of Object.entries(defaults)) res.setHeader(name, value);
    if (given) for (const [name, value] of Object.entries(given)) res.setHeader(name, value);
  };

  const gone = (res: ServerResponse, socket: Socket): boolean => res.destroyed || socket.destroyed;

  const runStep = async (step: FaultStep, n: number, socket: Socket, res: ServerResponse): Promise<void> => {
    switch (step.kind) {
      case 'json': {
        if (step.delayMs) await sleep(step.delayMs);
        if (gone(res, socket)) return;
        const status = step.status ?? 200;
        if (status === 204 || status === 304) {
          applyHeaders(res, n, {}, step.headers);
          res.writeHead(status);
          res.end();
          return;
        }
        const text = step.body === undefined ? '{}' : JSON.stringify(step.body);
        applyHeaders(
          res,
          n,
          { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
          step.headers,
        );
        res.writeHead(status);
        res.end(text);
        return;
      }
      case 'raw': {
        if (step.delayMs) await sleep(step.delayMs);
        if (gone(res, socket)) return;
        applyHeaders(res, n, {}, step.headers);
        if (!res.hasHeader('content-length') && !res.hasHeader('transfer-encoding')) {
          res.setHeader('content-length', String(Buffer.byteLength(step.body)));
        }
        res.writeHead(step.status ?? 200);
        res.end(step.body);
        return;
      }
      case 'sse': {
        applyHeaders(
          res,
          n,
          { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
          step.headers,
        );
        res.writeHead(step.status ?? 200);
        res.flushHeaders();
        const delay = step.chunkDelayMs ?? 0;
        for (let i = 0; i < step.events.length; i++) {
          if (i > 0 && delay > 0) await sleep(delay);
          if (gone(res, socket)) return;
          const event = step.events[i] ?? '';
          if (step.thenReset && i === step.events.length - 1) await writeFlushed(res, event);
          else res.write(event);
        }
        if (gone(res, socket)) return;
        if (step.thenReset) {
          await destroyAfterFlush(socket);
        } else if (!step.hang) {
          res.end();
        }
        return;
      }
      case 'reset': {
        if (!step.afterHeaders && step.afterBytes === undefined) {
          socket.destroy();
          return;
        }
        applyHeaders(res, n, { 'content-type': 'application/json' }, step.headers);
        res.writeHead(step.status ?? 200);
        await writeFlushed(res, step.afterBytes ?? '');
        await destroyAfterFlush(socket);
        return;
      }
      case 'hang':
        return;
      case 'headersThenSilence': {
        applyHeaders(res, n, { 'content-type': 'application/json' }, step.headers);
        res.writeHead(step.status ?? 200);
        res.flushHeaders();
        return;
      }
      case 'trickle': {
        const bytes = Buffer.from(step.body, 'utf8');
        applyHeaders(
          res,
          n,
          { 'content-type': 'application/json', 'content-length': String(bytes.length) },
          step.headers,
        );
        res.writeHead(step.status ?? 200);
        res.flushHeaders();
        for (let off = 0; off < bytes.length; off += step.bytesPerTick) {
          if (off > 0) await sleep(step.tickMs);
          if (gone(res, socket)) return;
          res.write(bytes.subarray(off, off + step.bytesPerTick));
        }
        res.end();
        return;
      }
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const receivedAt = performance.now();
    const socket = req.socket;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => socket.destroy());
    req.on('end', () => {
      if (shuttingDown) {
        socket.destroy();
        return;
      }
      const rawBody = Buffer.concat(chunks);
      const contentEncoding = req.headers['content-encoding'];
      requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: { ...req.headers },
        body: decodeText(rawBody, contentEncoding),
        rawBody,
        receivedAt,
      });
      const n = requests.length;
      const step = queue.shift() ?? fallback;
      runStep(step, n, socket, res).catch((err: unknown) => {
        // A malformed step (e.g. an invalid header value) must not crash the test process.
        if (!res.headersSent && !res.destroyed) {
          const message = err instanceof Error ? err.message : String(err);
          const text = JSON.stringify({
            error: { message: `fault server: ${message}`, type: 'server_error' },
          });
          res.writeHead(500, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        } else {
          socket.destroy();
        }
      });
    });
  };

  const server: Server = createServer({ keepAlive: true }, onRequest);
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = Math.max(60_000, keepAliveTimeoutMs + 1_000);

  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    accepted++;
    socket.once('close', () => {
      sockets.delete(socket);
      closedCount++;
      const waiter = waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else {
        unclaimedCloses++;
      }
    });
  });
  server.on('clientError', (_err: Error, socket: Socket) => {
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(host)}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    requests,
    enqueue(...steps: FaultStep[]): void {
      const valid = steps.map((s) => validateStep(s));
      queue.push(...valid);
    },
    setFallback(step: FaultStep): void {
      fallback = validateStep(step);
    },
    connections(): ConnectionStats {
      return { open: sockets.size, accepted, closed: closedCount };
    },
    waitForClose(timeoutMs = 5_000): Promise<void> {
      if (unclaimedCloses > 0) {
        unclaimedCloses--;
        return Promise.resolve();
      }
      if (shuttingDown) return Promise.reject(new Error('fault server is closed'));
      return new Promise<void>((resolve, reject) => {
        const waiter: CloseWaiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters = waiters.filter((w) => w !== waiter);
            reject(new Error(`waitForClose: no connection closed within ${timeoutMs} ms`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    destroyConnections(): void {
      for (const socket of sockets) socket.destroy();
    },
    reset(): void {
      queue.length = 0;
      requests.length = 0;
      fallback = DEFAULT_FALLBACK;
      accepted = 0;
      closedCount = 0;
      unclaimedCloses = 0;
    },
    close(): Promise<void> {
      if (closing) return closing;
      shuttingDown = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const socketsClosed = [...sockets].map(
        (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
      );
      closing = Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
        }),
        ...socketsClosed,
      ]).then(() => {
        const pending = waiters;
        waiters = [];
        for (const w of pending) {
          clearTimeout(w.timer);
          w.reject(new Error('fault server closed before a connection closed'));
        }
      });
      return closing;
    },
  };
}
