// Fault suite through the real addon (part 2: stale keep-alive sockets and the idle pool, aborts, load,
// and regression tests of fixed gaps). Shared pieces in helpers/faults.ts.
import { getEventListeners } from 'node:events';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { APIConnectionError, APIError, APIResponseDecodeError, APIUserAbortError } from '../src/index.js';
import { startFaultServer } from '../src/testing/index.js';
import { chunk, completion } from './helpers/client.js';
import {
  blackHole,
  completionText,
  failure,
  faultSuite,
  okResponse,
  rawServer,
  sleep,
  until,
} from './helpers/faults.js';

const s = faultSuite();
const { make, create, streamOf } = s;

describe('stale keep-alive sockets and the idle pool', () => {
  it('connections the server closed while idle in the pool: zero errors with maxRetries 0', async () => {
    s.server.setFallback({ kind: 'json', body: completion });
    const c = make({ maxRetries: 0 });
    let errors = 0;
    for (let i = 0; i < 100; i++) {
      await create(c);
      s.server.destroyConnections();
      // Send at once, on the next turn, or a little later: whenever the client notices the close.
      if (i % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
      if (i % 3 === 2) await sleep(1);
      await create(c).catch(() => errors++);
    }
    expect(errors).toBe(0);
  });

  it('idle pooled connections are closed by the client after poolIdleTimeout', async () => {
    s.server.setFallback({ kind: 'json', body: completion });
    const c = make({ poolIdleTimeout: 300 });
    await create(c);
    const started = performance.now();
    await s.server.waitForClose(3_000);
    const elapsed = performance.now() - started;
    // The fault server keeps idle connections for 65 s: this close is the client's.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('by default a connection idle for 4 s is never reused, before a Node server (keepAliveTimeout 5 s) drops it', async () => {
    // Clients share pools (one per transport settings), whose idle sweep runs on its own clock: the
    // socket may close a little later, but a connection idle past poolIdleTimeout (4 s) is not taken
    // again, so nothing is sent on a socket the server is about to close.
    const node = await startFaultServer({ keepAliveTimeoutMs: 5_000 });
    try {
      const c = make({}, node.url);
      await create(c);
      await create(c);
      expect(node.connections().accepted).toBe(1); // reused while fresh
      await sleep(4_300);
      await create(c);
      expect(node.connections().accepted).toBe(2); // idle 4.3 s: a new connection, not the old one
    } finally {
      await node.close();
    }
  });
});

describe('aborts', () => {
  it('one AbortSignal shared by 10,000 requests holds no listener once each has settled', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    // Successes, API errors and streams, each from its own server (the step queue is not per request).
    const failing = await startFaultServer();
    const streaming = await startFaultServer();
    try {
      s.server.setFallback({ kind: 'json', body: completion });
      failing.setFallback({ kind: 'json', status: 400, body: { error: { message: 'bad' } } });
      streaming.setFallback({
        kind: 'sse',
        events: [chunk('x'), chunk('y'), chunk('z'), 'data: [DONE]\n\n'],
      });
      const ok = make({ maxRetries: 0 });
      const bad = make({ maxRetries: 0 }, failing.url);
      const sse = make({ maxRetries: 0 }, streaming.url);
      const controller = new AbortController();
      const signal = controller.signal;
      const counts = { ok: 0, failed: 0, streams: 0 };
      let next = 0;
      let maxListeners = 0;
      // At most 8 in flight: a listener kept after settling would push the count past Node's default
      // limit of 10 and raise MaxListenersExceededWarning.
      const worker = async () => {
        while (next < 10_000) {
          const i = next++;
          if (i % 50 === 7) {
            // A stream, left early (break) or read to the end.
            const stream = await streamOf(sse, { signal });
            for await (const _ of stream) if (i % 100 === 7) break;
            counts.streams++;
          } else if (i % 50 === 31) {
            const err = await failure(create(bad, { signal }));
            expect(err).toBeInstanceOf(APIError);
            counts.failed++;
          } else {
            await create(ok, { signal });
            counts.ok++;
          }
          maxListeners = Math.max(maxListeners, getEventListeners(signal, 'abort').length);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(counts.ok + counts.failed + counts.streams).toBe(10_000);
      expect(counts).toMatchObject({ failed: 200, streams: 200 });
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      expect(maxListeners).toBeLessThanOrEqual(8);
      await sleep(10);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await failing.close();
      await streaming.close();
    }
  });

  it('an already-aborted signal sends nothing (no request, no connection)', async () => {
    const c = make();
    const signal = AbortSignal.abort();
    expect(await failure(create(c, { signal }))).toBeInstanceOf(APIUserAbortError);
    expect(await failure(streamOf(c, { signal }))).toBeInstanceOf(APIUserAbortError);
    await sleep(20);
    expect(s.server.requests).toHaveLength(0);
    expect(s.server.connections().accepted).toBe(0);
  });

  it('abort during connect ends at once', async () => {
    const hole = await blackHole();
    try {
      const c = make({ maxRetries: 0 }, hole.url);
      const controller = new AbortController();
      const pending = failure(create(c, { signal: controller.signal }));
      await sleep(150);
      const aborted = performance.now();
      controller.abort();
      const err = await pending;
      if (hole.blocking) {
        expect(err).toBeInstanceOf(APIUserAbortError);
        expect(performance.now() - aborted).toBeLessThan(150);
      } else {
        expect(err).toBeInstanceOf(APIConnectionError);
      }
    } finally {
      await hole.close();
    }
  });

  it('abort during a retry back-off ends at once, with no further attempt', async () => {
    s.server.setFallback({ kind: 'json', status: 503, headers: { 'retry-after': '10' } });
    const c = make({ maxRetries: 3 });
    const controller = new AbortController();
    const pending = failure(create(c, { signal: controller.signal }));
    await until(() => s.server.requests.length === 1);
    await sleep(50);
    const aborted = performance.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - aborted).toBeLessThan(150);
    expect(c.stats().requestsInFlight).toBe(0);
    await sleep(50);
    expect(s.server.requests).toHaveLength(1);
  });

  it('abort while waiting for a response frees the connection', async () => {
    s.server.setFallback({ kind: 'hang' });
    const c = make();
    const controller = new AbortController();
    const pending = failure(create(c, { signal: controller.signal }));
    await until(() => s.server.requests.length === 1);
    const closed = s.server.waitForClose(2_000);
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await closed;
  });

  it('abort while a body trickles in frees the connection', async () => {
    s.server.setFallback({ kind: 'trickle', body: completionText, bytesPerTick: 1, tickMs: 50 });
    const c = make();
    const controller = new AbortController();
    const pending = failure(create(c, { signal: controller.signal }));
    await until(() => s.server.requests.length === 1);
    await sleep(120);
    const closed = s.server.waitForClose(2_000);
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await closed;
  });

  it('abort while a stream waits for its head frees the connection', async () => {
    s.server.setFallback({ kind: 'hang' });
    const c = make();
    const controller = new AbortController();
    const pending = failure(streamOf(c, { signal: controller.signal }));
    await until(() => s.server.requests.length === 1);
    const closed = s.server.waitForClose(2_000);
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await closed;
  });

  it('abort mid-stream: the loop ends quietly (as openai-node) and the connection is freed', async () => {
    s.server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b')], hang: true });
    const c = make();
    const controller = new AbortController();
    const stream = await streamOf(c, { signal: controller.signal });
    const closed = s.server.waitForClose(2_000);
    const seen: string[] = [];
    for await (const item of stream) {
      seen.push(item.choices[0]?.delta?.content ?? '');
      if (seen.length === 2) controller.abort();
    }
    expect(seen).toEqual(['a', 'b']);
    await closed;
  });
});

describe('load', () => {
  it('1,000 requests in flight at once all succeed', async () => {
    // Long enough that no answer leaves the server before the last request has arrived.
    s.server.setFallback({ kind: 'json', body: completion, delayMs: 2_000 });
    const c = make({ maxRetries: 0 });
    const pending = Array.from({ length: 1_000 }, () => create(c));
    // Every request reached the server while none had been answered yet.
    await until(() => s.server.requests.length === 1_000, 10_000, '1,000 requests at the server');
    expect(c.stats().requestsInFlight).toBe(1_000);
    const results = await Promise.allSettled(pending);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(c.stats()).toMatchObject({ requestsInFlight: 0, requestsTotal: 1_000, retriesTotal: 0 });
  });

  it('a server that dies in the middle of 10,000 requests at concurrency 64: each settles once, typed', async () => {
    const doomed = await startFaultServer();
    doomed.setFallback({ kind: 'json', body: completion });
    const c = make({ maxRetries: 0 }, doomed.url);
    const settled = new Uint8Array(10_000);
    const outcomes = { ok: 0, connection: 0, other: [] as unknown[] };
    let next = 0;
    let killed: Promise<void> | undefined;
    const worker = async () => {
      while (next < 10_000) {
        const i = next++;
        if (i === 4_000) killed = doomed.close();
        try {
          await create(c);
          settled[i] = (settled[i] as number) + 1;
          outcomes.ok++;
        } catch (e) {
          settled[i] = (settled[i] as number) + 1;
          if (e instanceof APIConnectionError) outcomes.connection++;
          else outcomes.other.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    await killed;
    expect(settled.every((n) => n === 1)).toBe(true);
    expect(outcomes.other).toEqual([]);
    expect(outcomes.ok).toBeGreaterThanOrEqual(3_900);
    expect(outcomes.ok + outcomes.connection).toBe(10_000);
    expect(outcomes.connection).toBeGreaterThanOrEqual(5_900);
    expect(c.stats()).toMatchObject({ requestsInFlight: 0, requestsTotal: 10_000 });
  });
});

describe('fixed gaps (regression tests)', () => {
  // The response head had arrived when the body turned out corrupt: the decode error should carry the
  // status and headers (x-request-id for support), as the non-JSON-body error does.
  it('a corrupt gzip body: the APIResponseDecodeError carries the status (200) and the response headers', async () => {
    const gz = gzipSync(Buffer.from(completionText));
    for (let i = 12; i < gz.length - 8; i += 3) gz[i] = (gz[i] as number) ^ 0x5a;
    s.server.setFallback({
      kind: 'raw',
      body: gz,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    const err = await failure(create(make({ maxRetries: 0 })));
    expect(err).toBeInstanceOf(APIResponseDecodeError);
    expect((err as APIResponseDecodeError).status).toBe(200);
    expect((err as APIResponseDecodeError).headers?.get('x-request-id')).toBe('req_fault_1');
  });

  // The resend of a request that died before any response byte is for a *reused* connection (the
  // server may have closed it while idle, and then it never read the request). On a connection opened
  // for this request the server did read it (it may have acted on it) before resetting: with
  // maxRetries 0 it must not be sent again (Go's transport draws the same line: no resend on a fresh
  // connection).
  it('maxRetries 0 and no Idempotency-Key: a request reset before its response is sent exactly once', async () => {
    // The engine cannot yet tell a reused socket from a fresh one, so its one free resend is limited to
    // requests the server can deduplicate (an Idempotency-Key, sent by default) or safe methods.
    s.server.setFallback({ kind: 'reset' });
    const err = await failure(create(make({ maxRetries: 0 }), { idempotencyKey: '' }));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(s.server.requests).toHaveLength(1);
    s.server.reset();
    s.server.setFallback({ kind: 'reset' });
    await failure(create(make({ maxRetries: 0 })));
    expect(s.server.requests).toHaveLength(2);
    expect(s.server.requests[1]?.headers['idempotency-key']).toBe(
      s.server.requests[0]?.headers['idempotency-key'],
    );
  });

  // A pooled connection the server closes while idle, just as the next request goes out on it: the
  // server never reads that request, the client gets a reset / "connection closed before message
  // completed" with no response byte. curl resends such a request once on a fresh connection (a reused
  // connection that died with nothing received); the issue asks for zero errors with maxRetries 0.
  it('a server keep-alive timeout shorter than the pool idle timeout, requests spaced across it: zero errors with maxRetries 0', async () => {
    const short = await startFaultServer({ keepAliveTimeoutMs: 100 });
    try {
      short.setFallback({ kind: 'json', body: completion });
      // Calibrate: when does this server really close an idle connection (Node adds a grace period)?
      const probe = make({ maxRetries: 0 }, short.url);
      await create(probe);
      const started = performance.now();
      await short.waitForClose(5_000);
      const closesAfter = performance.now() - started;
      expect(closesAfter).toBeLessThan(3_500); // shorter than the pool's idle timeout (4 s)
      // 128 clients (one pooled connection each), each sending 4 requests spaced by a period from
      // 6 ms below to 2 ms above that close: many go out on a socket the server is closing right then.
      const errors: string[] = [];
      await Promise.all(
        Array.from({ length: 128 }, async (_, j) => {
          const c = make({ maxRetries: 0 }, short.url);
          const spacing = closesAfter - 6 + (8 * j) / 128;
          for (let round = 0; round < 4; round++) {
            await create(c).catch((e: unknown) => errors.push(String(e)));
            await sleep(spacing);
          }
        }),
      );
      expect(errors).toEqual([]);
      // Every request reached the application exactly once.
      expect(short.requests).toHaveLength(1 + 128 * 4);
    } finally {
      await short.close();
    }
  });

  // The same race made deterministic: the server drops the idle connection in the same event-loop turn
  // the next request is issued, so it never reads it. Nothing was received on that reused connection, the
  // request carries an Idempotency-Key: it should go out again on a fresh connection.
  it('a reused connection the server closes as the next request goes out is replaced, the request resent (maxRetries 0)', async () => {
    let current: Socket | undefined;
    const raw = await rawServer((socket) => {
      current = socket;
      okResponse(socket);
    });
    try {
      const c = make({ maxRetries: 0 }, raw.url);
      const errors: string[] = [];
      for (let i = 0; i < 20; i++) {
        await create(c);
        const idle = current as Socket;
        const next = create(c);
        setImmediate(() => idle.destroy());
        await next.catch((e: unknown) => errors.push(String(e)));
      }
      expect(errors).toEqual([]);
      expect(raw.count()).toBe(40);
    } finally {
      raw.close();
    }
  });
});
