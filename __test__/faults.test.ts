// Retries, timeouts, resets and aborts through the real addon against the project's fault server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  InternalServerError,
  RateLimitError,
} from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, completion, messages } from './helpers/client.js';

let server: FaultServer;

beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
});

const create = (opts: Parameters<typeof client>[1] = {}, reqOpts = {}) =>
  client(server.url, opts).chat.completions.create({ model: 'm', messages }, reqOpts);

describe('retries', () => {
  it('500 then 200: one retry, the same Idempotency-Key both times', async () => {
    server.enqueue(
      { kind: 'json', status: 500, body: { error: { message: 'boom' } } },
      { kind: 'json', body: completion },
    );
    const res = await create();
    expect(res.choices[0]?.message.content).toBe('ok');
    expect(server.requests).toHaveLength(2);
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^aiwire-retry-[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('each logical request gets its own Idempotency-Key; a given key is sent as is', async () => {
    server.setFallback({ kind: 'json', body: completion });
    await create();
    await create();
    await create({}, { idempotencyKey: 'my-key-1' });
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('my-key-1');
  });

  it('429 with retry-after-ms waits that long, then succeeds', async () => {
    server.enqueue(
      {
        kind: 'json',
        status: 429,
        body: { error: { message: 'slow down' } },
        headers: { 'retry-after-ms': '300' },
      },
      { kind: 'json', body: completion },
    );
    await create();
    const [first, second] = server.requests;
    expect(second).toBeDefined();
    const waited = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
  });

  it('x-should-retry: false stops retries of a 500', async () => {
    server.enqueue({
      kind: 'json',
      status: 500,
      body: { error: { message: 'no' } },
      headers: { 'x-should-retry': 'false' },
    });
    const err = await create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after maxRetries and reports the last status', async () => {
    server.setFallback({
      kind: 'json',
      status: 429,
      body: { error: { message: 'limit' } },
      headers: { 'retry-after-ms': '10' },
    });
    const err = await create({ maxRetries: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).status).toBe(429);
    expect((err as RateLimitError).message).toBe('429 limit');
    expect(server.requests).toHaveLength(4);
  });

  it('maxRetries per request overrides the client', async () => {
    server.setFallback({ kind: 'json', status: 503, headers: { 'retry-after-ms': '5' } });
    await create({ maxRetries: 5 }, { maxRetries: 0 }).catch(() => undefined);
    expect(server.requests).toHaveLength(1);
  });

  it('a connection reset before headers is retried', async () => {
    server.enqueue({ kind: 'reset' }, { kind: 'json', body: completion });
    const res = await create();
    expect(res.id).toBe('chatcmpl-1');
    expect(server.requests).toHaveLength(2);
  });

  it('a reset on every attempt ends in APIConnectionError', async () => {
    server.setFallback({ kind: 'reset' });
    const err = await create({ maxRetries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect((err as APIConnectionError).status).toBeUndefined();
    // one free resend (the server saw no request: a stale pooled socket) + 1 attempt + 1 retry
    expect(server.requests).toHaveLength(3);
  });
});

describe('timeouts and aborts', () => {
  it('a server that never answers gives APIConnectionTimeoutError after the timeout', async () => {
    server.setFallback({ kind: 'hang' });
    const started = performance.now();
    const err = await create({ timeout: 200, maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('an AbortSignal aborts a pending request at once and frees its connection', async () => {
    server.setFallback({ kind: 'hang' });
    const controller = new AbortController();
    const pending = create({}, { signal: controller.signal }).catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = server.waitForClose(2000);
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await closed;
  });

  it('an already-aborted signal sends nothing', async () => {
    const err = await create({}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('abort during a retry back-off ends at once', async () => {
    server.setFallback({ kind: 'json', status: 429, headers: { 'retry-after': '5' } });
    const controller = new AbortController();
    const started = performance.now();
    const pending = create({}, { signal: controller.signal }).catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('streams', () => {
  const streamOf = (opts = {}, reqOpts = {}) =>
    client(server.url, opts).chat.completions.create({ model: 'm', messages, stream: true }, reqOpts);

  it('withResponse() on a stream gives the head and leaves the stream to iterate (as openai-node)', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), 'data: [DONE]\n\n'] });
    const { data, response, request_id } = await streamOf().withResponse();
    expect(response.status).toBe(200);
    expect(response.body).toBeNull();
    expect(request_id === null || typeof request_id === 'string').toBe(true);
    const seen: string[] = [];
    for await (const c of data) seen.push(c.choices[0]?.delta?.content ?? '');
    expect(seen).toEqual(['a', 'b']);
  });

  it('delivers chunks split at arbitrary bytes', async () => {
    const body = `${chunk('Hel')}${chunk('lo ')}${chunk('wörld')}data: [DONE]\n\n`;
    const pieces: string[] = [];
    for (let i = 0; i < body.length; i += 7) pieces.push(body.slice(i, i + 7));
    server.enqueue({ kind: 'sse', events: pieces });
    let text = '';
    for await (const c of await streamOf()) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello wörld');
  });

  it('leaving the loop early cancels the stream and closes the connection', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], hang: true });
    const stream = await streamOf();
    const closed = server.waitForClose(2000);
    let n = 0;
    for await (const _ of stream) {
      if (++n === 2) break;
    }
    expect(n).toBe(2);
    await closed;
  });

  // Aborting while the loop runs ends it quietly, as openai-node's streams do (decided in issue 17),
  // and nothing already received is handed out after the abort.
  it("aborting the request's signal mid-stream ends the loop quietly, hands out no buffered event, closes the connection", async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], hang: true });
    const controller = new AbortController();
    const stream = await streamOf({}, { signal: controller.signal });
    const closed = server.waitForClose(2000);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) {
        seen.push(c.choices[0]?.delta?.content ?? '');
        controller.abort();
      }
    })().catch((e: unknown) => e);
    // 'b' and 'c' arrived in the same write as 'a': they are not handed out after the abort.
    expect(seen).toEqual(['a']);
    expect(err).toBeUndefined();
    await closed;
  });

  it('stream.controller.abort() mid-stream ends the loop quietly and closes the connection', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], hang: true });
    const stream = await streamOf();
    const closed = server.waitForClose(2000);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) {
        seen.push(c.choices[0]?.delta?.content ?? '');
        stream.controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(err).toBeUndefined();
    await closed;
  });

  it('stream.controller.abort() before the loop starts: no item, a quiet end, connection closed', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a')], hang: true });
    const stream = await streamOf();
    const closed = server.waitForClose(2000);
    stream.controller.abort();
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([]);
    expect(err).toBeUndefined();
    await closed;
  });

  it('a reset after events were delivered throws APIConnectionError, never a clean end', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b')], thenReset: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of await streamOf()) seen.push(c.choices[0]?.delta?.content ?? '');
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a', 'b']);
    expect(err).toBeInstanceOf(APIConnectionError);
  });

  it('an in-stream error event is thrown as APIError', async () => {
    server.enqueue({
      kind: 'sse',
      events: [
        chunk('a'),
        `data: ${JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })}\n\n`,
      ],
    });
    const err = await (async () => {
      for await (const _ of await streamOf()) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toBe('overloaded');
  });

  it('a stream request answered 500 then 200 is retried before anything is delivered', async () => {
    server.enqueue({ kind: 'json', status: 500 }, { kind: 'sse', events: [chunk('x'), 'data: [DONE]\n\n'] });
    let text = '';
    for await (const c of await streamOf()) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('x');
    expect(server.requests).toHaveLength(2);
  });

  it('a non-2xx stream answer rejects create() with the typed error and body', async () => {
    server.enqueue({
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad stream', type: 'invalid_request_error' } },
    });
    const err = await streamOf().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(400);
    expect((err as APIError).message).toBe('400 bad stream');
  });

  it('an event whose data is not JSON: earlier events are delivered, then APIError with the bytes', async () => {
    server.enqueue({ kind: 'sse', events: [`${chunk('a')}${chunk('b')}data: {not json\n\n${chunk('c')}`] });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of await streamOf()) seen.push(c.choices[0]?.delta?.content ?? '');
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a', 'b']);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toContain('{not json');
  });

  it('[DONE] ends the stream even if the server sends more after it', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), 'data: [DONE]\n\n', chunk('after')], hang: true });
    const seen: string[] = [];
    for await (const c of await streamOf()) seen.push(c.choices[0]?.delta?.content ?? '');
    expect(seen).toEqual(['a']);
  });

  it('streamIdleTimeout fails a stream that goes silent with APIConnectionTimeoutError', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a')], hang: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of await streamOf({ streamIdleTimeout: 150 }))
        seen.push(c.choices[0]?.delta?.content ?? '');
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
  });
});

describe('engine counters', () => {
  it('return to zero after requests, finished streams and streams left early', async () => {
    const openai = client(server.url);
    server.setFallback({ kind: 'json', body: completion });
    await Promise.all(
      Array.from({ length: 20 }, () => openai.chat.completions.create({ model: 'm', messages })),
    );
    server.setFallback({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c')], hang: true });
    for (let i = 0; i < 5; i++) {
      for await (const _ of await openai.chat.completions.create({ model: 'm', messages, stream: true }))
        break;
    }
    const deadline = Date.now() + 2000;
    while (openai.stats().streamsOpen > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(openai.stats()).toMatchObject({
      requestsInFlight: 0,
      streamsOpen: 0,
      requestsTotal: 25,
      retriesTotal: 0,
    });
  });
});
