// Shared pieces of the fault suites (reliability*.test.ts): waiting helpers, a raw TCP server whose
// framing can be broken on purpose, a black-hole listener for connect timeouts, and `faultSuite()`,
// which starts the fault server for a file and checks after each test that no client left a task running.
import { createServer as createTcpServer, type Socket, connect as tcpConnect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import type { Stream } from '../../src/core/streaming.js';
import type { OpenAI } from '../../src/index.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
} from '../../src/providers/openai/resources/chat/completions.js';
import { type FaultServer, startFaultServer } from '../../src/testing/index.js';
import { client, completion, messages } from './client.js';

type ClientOpts = Parameters<typeof client>[1];

export const completionText = JSON.stringify(completion);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every 5 ms; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/**
 * For a file whose tests each start their own fault servers (failover): `start(n)` starts `n` of them,
 * answering `completion` unless `answer` is false; after each test they are closed and stubbed
 * environment variables restored.
 */
export function useFaultServers(answer = true): (n: number) => Promise<FaultServer[]> {
  const servers: FaultServer[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (n) => {
    const started = await Promise.all(Array.from({ length: n }, () => startFaultServer()));
    if (answer) for (const s of started) s.setFallback({ kind: 'json', body: completion });
    servers.push(...started);
    return started;
  };
}

/** The engine's task counters are back to zero (streams end asynchronously after a cancel). */
export async function drained(c: OpenAI): Promise<void> {
  await until(
    () => c.stats().requestsInFlight === 0 && c.stats().streamsOpen === 0,
    3_000,
    'engine counters back to zero',
  );
}

export interface RawServer {
  url: string;
  /** Requests whose head was read. */
  count(): number;
  close(): void;
}

/**
 * A raw HTTP/1.1 server that answers the n-th request head (0-based, over all connections) with
 * whatever `respond` writes on the socket: exact bytes, so framing can be broken on purpose.
 */
export function rawServer(respond: (socket: Socket, n: number) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  let n = 0;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      // Requests here have small JSON bodies that arrive with their head; answer once per head.
      while (head.includes('\r\n\r\n')) {
        const end = head.indexOf('\r\n\r\n') + 4;
        const length = /content-length:\s*(\d+)/i.exec(head.slice(0, end))?.[1];
        const total = end + Number(length ?? 0);
        if (head.length < total) return;
        head = head.slice(total);
        respond(socket, n++);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        count: () => n,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    });
  });
}

export const okResponse = (socket: Socket) =>
  socket.write(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(completionText)}\r\n\r\n${completionText}`,
  );

export interface BlackHole {
  url: string;
  /** True when a TCP connect to it really stays pending (the accept queue is full). */
  blocking: boolean;
  close(): Promise<void>;
}

/**
 * A listening socket on 127.0.0.1 whose accept queue is full, so a new TCP connect stays pending (the
 * kernel drops its SYNs): a worker thread listens with backlog 1 and then blocks its own event loop,
 * and filler connections take the queue's places. `blocking` says whether this platform behaves so
 * (Linux and macOS do; Windows refuses instead).
 */
export async function blackHole(): Promise<BlackHole> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const server = require('node:net').createServer((s) => s.destroy());
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: flag },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: Socket[] = [];
  for (let i = 0; i < 6; i++) {
    const s = tcpConnect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await sleep(100);
  const probe = tcpConnect(port, '127.0.0.1');
  probe.on('error', () => {});
  await sleep(250);
  const blocking = probe.connecting && !probe.destroyed;
  probe.destroy();
  return {
    url: `http://127.0.0.1:${port}`,
    blocking,
    close: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    },
  };
}

/** Reads a stream to its end; returns the contents seen and the error the loop threw, if any. */
export async function drain(
  stream: AsyncIterable<{ choices: Array<{ delta?: { content?: string | null } }> }>,
): Promise<{ seen: string[]; error: unknown }> {
  const seen: string[] = [];
  try {
    for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? '');
  } catch (error) {
    return { seen, error };
  }
  return { seen, error: undefined };
}

/** What a fault-suite file uses: the running fault server, and clients checked for leaked tasks. */
export interface FaultSuite {
  /** The fault server of this file (reset before each test). */
  readonly server: FaultServer;
  /** A client against `url` (default the fault server), checked for leaked tasks after each test. */
  make(opts?: ClientOpts, url?: string): OpenAI;
  /** `chat.completions.create` with a fixed body. */
  create(c: OpenAI, reqOpts?: object): Promise<ChatCompletion>;
  /** The same as a stream. */
  streamOf(c: OpenAI, reqOpts?: object): Promise<Stream<ChatCompletionChunk>>;
}

/** Registers the file's hooks (fault server up, reset per test, no leaked engine task) and returns its tools. */
export function faultSuite(): FaultSuite {
  let server: FaultServer | undefined;
  const clients: OpenAI[] = [];
  beforeAll(async () => {
    server = await startFaultServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    server?.reset();
  });
  afterEach(async () => {
    // No test may leave a request or a stream running in the engine.
    for (const c of clients.splice(0)) await drained(c);
  });
  const suite: FaultSuite = {
    get server(): FaultServer {
      if (!server) throw new Error('the fault server is not started yet (use it inside a test)');
      return server;
    },
    make(opts: ClientOpts = {}, url?: string): OpenAI {
      const c = client(url ?? suite.server.url, opts);
      clients.push(c);
      return c;
    },
    create: (c, reqOpts = {}) =>
      c.chat.completions.create({ model: 'm', messages }, reqOpts) as Promise<ChatCompletion>,
    streamOf: (c, reqOpts = {}) =>
      c.chat.completions.create({ model: 'm', messages, stream: true }, reqOpts) as never,
  };
  return suite;
}
