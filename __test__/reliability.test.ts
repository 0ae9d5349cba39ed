// Fault suite through the real addon (part 1: connecting, resets, silence, framing): every failure ends
// in a typed error without a hang, or in a retry when nothing had reached the caller yet. Wire-level
// faults the fault server can not script (broken HTTP framing) use a tiny raw TCP server on 127.0.0.1.

import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { APIConnectionError, APIConnectionTimeoutError, APIResponseDecodeError } from '../src/index.js';
import { startFaultServer } from '../src/testing/index.js';
import { chunk, completion } from './helpers/client.js';
import {
  blackHole,
  completionText,
  drain,
  failure,
  faultSuite,
  okResponse,
  rawServer,
} from './helpers/faults.js';

const s = faultSuite();
const { make, create, streamOf } = s;

describe('connecting', () => {
  it('connection refused: APIConnectionError at once; retried (maxRetries) before failing', async () => {
    const gone = await startFaultServer();
    const url = gone.url;
    await gone.close();
    const c = make({ maxRetries: 0 }, url);
    const started = performance.now();
    expect(await failure(create(c))).toBeInstanceOf(APIConnectionError);
    expect(performance.now() - started).toBeLessThan(1_000);

    const retrying = make({ maxRetries: 1 }, url);
    const err = await failure(create(retrying));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(retrying.stats().retriesTotal).toBe(1);
  });

  it('a connect that never completes: APIConnectionTimeoutError after connectTimeout, no hang', async () => {
    const hole = await blackHole();
    try {
      const c = make({ maxRetries: 0, connectTimeout: 300 }, hole.url);
      const started = performance.now();
      const err = await failure(create(c));
      const elapsed = performance.now() - started;
      if (hole.blocking) {
        expect(err).toBeInstanceOf(APIConnectionTimeoutError);
        expect(elapsed).toBeGreaterThanOrEqual(280);
      } else {
        expect(err).toBeInstanceOf(APIConnectionError);
      }
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      await hole.close();
    }
  });

  it('a server that never answers: APIConnectionTimeoutError per attempt, then the connection is closed', async () => {
    s.server.setFallback({ kind: 'hang' });
    const c = make({ maxRetries: 0, timeout: 250 });
    const started = performance.now();
    const closed = s.server.waitForClose(3_000);
    expect(await failure(create(c))).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    await closed;
    expect(s.server.requests).toHaveLength(1);
  });
});

describe('resets', () => {
  it('reset before headers: retried, the caller sees only the success', async () => {
    s.server.enqueue({ kind: 'reset' }, { kind: 'json', body: completion });
    const res = await create(make());
    expect(res.id).toBe('chatcmpl-1');
    expect(s.server.requests).toHaveLength(2);
  });

  it('reset mid-body (non-streaming): retried with the same Idempotency-Key, the caller saw nothing', async () => {
    s.server.enqueue(
      { kind: 'reset', afterBytes: completionText.slice(0, 20) },
      { kind: 'json', body: completion },
    );
    const c = make();
    const res = await create(c);
    expect(res).toEqual(completion);
    expect(s.server.requests).toHaveLength(2);
    const [first, second] = s.server.requests;
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
    expect(c.stats().retriesTotal).toBe(1);
  });

  it('reset mid-body with maxRetries 0: APIConnectionError, not a JSON error about half a body', async () => {
    s.server.enqueue({ kind: 'reset', afterBytes: completionText.slice(0, 20) });
    const err = await failure(create(make({ maxRetries: 0 })));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIResponseDecodeError);
  });

  it('reset mid-stream after events were delivered: the loop throws APIConnectionError, no retry', async () => {
    s.server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], thenReset: true });
    const { seen, error } = await drain(await streamOf(make({ maxRetries: 2 })));
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(s.server.requests).toHaveLength(1);
  });

  it('a stream whose chunked framing stops without its last chunk ends in APIConnectionError, not a clean end', async () => {
    const raw = await rawServer((socket) => {
      const event = chunk('a');
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
          `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`,
      );
      // A FIN, not a reset: the body is cut off cleanly at the TCP level, but HTTP framing says it is incomplete.
      setTimeout(() => socket.end(), 20);
    });
    try {
      const { seen, error } = await drain(await streamOf(make({ maxRetries: 0 }, raw.url)));
      expect(seen).toEqual(['a']);
      expect(error).toBeInstanceOf(APIConnectionError);
    } finally {
      raw.close();
    }
  });
});

describe('silence and slowness', () => {
  it('headers then silence (non-streaming): the per-attempt timeout fires, the connection is closed', async () => {
    s.server.setFallback({ kind: 'headersThenSilence' });
    const c = make({ maxRetries: 0, timeout: 250 });
    const closed = s.server.waitForClose(3_000);
    const started = performance.now();
    expect(await failure(create(c))).toBeInstanceOf(APIConnectionTimeoutError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(2_000);
    await closed;
  });

  it('headers then silence, retried: one timeout per attempt, then APIConnectionTimeoutError', async () => {
    s.server.setFallback({ kind: 'headersThenSilence' });
    const c = make({ maxRetries: 1, timeout: 150 });
    expect(await failure(create(c))).toBeInstanceOf(APIConnectionTimeoutError);
    expect(s.server.requests).toHaveLength(2);
  });

  it('a stream head then silence: streamIdleTimeout rejects create() with APIConnectionTimeoutError', async () => {
    // A stream is open (and no longer retried) once its first event is in, so the silence before it
    // fails the open itself.
    s.server.enqueue({ kind: 'sse', events: [], hang: true });
    const c = make({ maxRetries: 0, streamIdleTimeout: 250 });
    const closed = s.server.waitForClose(3_000);
    const started = performance.now();
    expect(await failure(streamOf(c))).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    await closed;
  });

  it('silence between stream events: the events before it are delivered, then APIConnectionTimeoutError', async () => {
    s.server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b')], hang: true });
    const { seen, error } = await drain(await streamOf(make({ streamIdleTimeout: 200 })));
    expect(seen).toEqual(['a', 'b']);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('a live stream longer than `timeout` and than streamIdleTimeout is not cut off', async () => {
    const events = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => chunk(s));
    s.server.enqueue({ kind: 'sse', events: [...events, 'data: [DONE]\n\n'], chunkDelayMs: 80 });
    const c = make({ timeout: 200, streamIdleTimeout: 300 });
    const { seen, error } = await drain(await streamOf(c));
    expect(error).toBeUndefined();
    expect(seen.join('')).toBe('abcdef');
  });

  it('a trickling body within the timeout arrives whole', async () => {
    s.server.enqueue({ kind: 'trickle', body: completionText, bytesPerTick: 16, tickMs: 10 });
    const res = await create(make({ timeout: 5_000 }));
    expect(res).toEqual(completion);
  });

  it('a trickling body slower than the per-attempt timeout: APIConnectionTimeoutError, connection closed', async () => {
    s.server.setFallback({ kind: 'trickle', body: completionText, bytesPerTick: 2, tickMs: 50 });
    const c = make({ timeout: 300, maxRetries: 0 });
    const closed = s.server.waitForClose(3_000);
    expect(await failure(create(c))).toBeInstanceOf(APIConnectionTimeoutError);
    await closed;
  });
});

describe('framing and bodies', () => {
  it('Connection: close on every response: no errors with maxRetries 0, one connection per request', async () => {
    s.server.setFallback({ kind: 'json', body: completion, headers: { connection: 'close' } });
    const c = make({ maxRetries: 0 });
    for (let i = 0; i < 30; i++) expect((await create(c)).id).toBe('chatcmpl-1');
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => create(c)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(s.server.requests).toHaveLength(60);
    expect(s.server.connections().accepted).toBe(60);
  });

  it('truncated chunked encoding: retried (nothing reached the caller); with maxRetries 0 APIConnectionError', async () => {
    const truncated = (socket: Socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n' +
          `10\r\n${completionText.slice(0, 10)}`,
      );
      socket.end();
    };
    const raw = await rawServer((socket, n) => (n === 0 || n === 2 ? truncated(socket) : okResponse(socket)));
    try {
      expect(await create(make({}, raw.url))).toEqual(completion);
      expect(raw.count()).toBe(2);
      expect(await failure(create(make({ maxRetries: 0 }, raw.url)))).toBeInstanceOf(APIConnectionError);
    } finally {
      raw.close();
    }
  });

  it('a content-length longer than the body (then EOF): APIConnectionError, retried when allowed', async () => {
    const short = (socket: Socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${completionText}`,
      );
      socket.end();
    };
    const raw = await rawServer((socket, n) => (n === 0 || n === 2 ? short(socket) : okResponse(socket)));
    try {
      expect(await create(make({}, raw.url))).toEqual(completion);
      expect(raw.count()).toBe(2);
      expect(await failure(create(make({ maxRetries: 0 }, raw.url)))).toBeInstanceOf(APIConnectionError);
    } finally {
      raw.close();
    }
  });

  it('a content-length longer than the body (connection kept open): the per-attempt timeout fires', async () => {
    const raw = await rawServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${completionText}`,
      );
    });
    try {
      const err = await failure(create(make({ maxRetries: 0, timeout: 300 }, raw.url)));
      expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    } finally {
      raw.close();
    }
  });

  it('a content-length shorter than the body: APIResponseDecodeError (status 200, first bytes); the client recovers', async () => {
    const raw = await rawServer((socket, n) => {
      if (n > 0) return okResponse(socket);
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n${completionText}`,
      );
    });
    try {
      const c = make({ maxRetries: 0 }, raw.url);
      const err = await failure(create(c));
      expect(err).toBeInstanceOf(APIResponseDecodeError);
      expect((err as APIResponseDecodeError).status).toBe(200);
      expect(err.message).toContain(JSON.stringify(completionText.slice(0, 12)));
      // The stray bytes left on that connection must not poison the next request.
      expect(await create(c)).toEqual(completion);
      expect(raw.count()).toBe(2);
    } finally {
      raw.close();
    }
  });

  it('a corrupt gzip body: APIResponseDecodeError, not retried', async () => {
    const gz = gzipSync(Buffer.from(completionText));
    for (let i = 12; i < gz.length - 8; i += 3) gz[i] = (gz[i] as number) ^ 0x5a;
    s.server.setFallback({
      kind: 'raw',
      body: gz,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    const err = await failure(create(make({ maxRetries: 2 })));
    expect(err).toBeInstanceOf(APIResponseDecodeError);
    expect(s.server.requests).toHaveLength(1);
  });

  it('a 200 whose body is not JSON: APIResponseDecodeError with the status, headers and first bytes', async () => {
    const html = `<html><body>${'Bad gateway. '.repeat(40)}</body></html>`;
    s.server.setFallback({ kind: 'raw', body: html, headers: { 'content-type': 'text/html' } });
    const err = await failure(create(make({ maxRetries: 2 })));
    expect(err).toBeInstanceOf(APIResponseDecodeError);
    const decodeErr = err as APIResponseDecodeError;
    expect(decodeErr.status).toBe(200);
    expect(decodeErr.headers?.get('x-request-id')).toBe('req_fault_1');
    expect(decodeErr.message).toContain('<html><body>Bad gateway.');
    // Only the first bytes: the message stays short for a big body.
    expect(decodeErr.message.length).toBeLessThan(400);
    expect(s.server.requests).toHaveLength(1);
  });
});
