// Hooks, metrics (snapshot and Prometheus text), deduplication, the cache and presets, through the
// real addon against the fault server. OpenTelemetry: observability-otel.test.ts.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Anthropic } from '../src/anthropic.js';
import {
  AiwireError,
  APIConnectionError,
  BadRequestError,
  type HookEvent,
  type StreamEndEvent,
} from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, completion, messages } from './helpers/client.js';
import { parsePrometheus } from './helpers/prometheus.js';

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

/** A base URL nothing listens on (a fault server's port, closed). */
async function deadURL(): Promise<string> {
  const gone = await startFaultServer();
  await gone.close();
  return `http://127.0.0.1:${gone.port}/v1`;
}

const fast = { retryMinDelay: 1, retryMaxDelay: 5 };
const withUsage = { ...completion, usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };

/** Every hook call, in order, as `[name, event]`. */
function recorder() {
  const calls: [string, HookEvent][] = [];
  const hooks = {
    onRequest: (e: HookEvent) => calls.push(['request', e]),
    onResponse: (e: HookEvent) => calls.push(['response', e]),
    onRetry: (e: HookEvent) => calls.push(['retry', e]),
    onError: (e: HookEvent) => calls.push(['error', e]),
    onStreamEnd: (e: StreamEndEvent) => calls.push(['streamEnd', e]),
  };
  return { calls, hooks };
}

describe('hooks', () => {
  it('onRequest, one onRetry per retried attempt (status, wait), onResponse with the request id; no query in the URL', async () => {
    server.enqueue(
      { kind: 'json', status: 500, body: { error: { message: 'boom' } } },
      { kind: 'json', status: 429, body: { error: { message: 'slow down' } } },
      { kind: 'json', body: completion },
    );
    const { calls, hooks } = recorder();
    const c = client(server.url, { ...fast, hooks });
    await c.chat.completions.create({ model: 'm', messages }, { query: { secret: 'k-123' } });
    expect(calls.map(([n]) => n)).toEqual(['request', 'retry', 'retry', 'response']);
    const url = `${server.url}/chat/completions`;
    expect(calls[0]?.[1]).toMatchObject({ method: 'POST', url, attempt: 1, durationMs: 0, stream: false });
    expect(calls[1]?.[1]).toMatchObject({
      url,
      status: 500,
      attempt: 1,
      operation: 'POST /chat/completions',
    });
    expect(calls[1]?.[1].retryInMs).toBeGreaterThanOrEqual(0);
    expect(calls[2]?.[1]).toMatchObject({ status: 429, attempt: 2 });
    expect(calls[3]?.[1]).toMatchObject({ status: 200, attempt: 3, requestId: 'req_fault_3' });
    expect(calls[3]?.[1].durationMs).toBeGreaterThan(0);
    for (const [, e] of calls) expect(e.url).not.toContain('?');
  });

  it('onError gets the error the call rejects with; a connection failure has no status', async () => {
    server.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad' } } });
    const { calls, hooks } = recorder();
    const c = client(server.url, { ...fast, maxRetries: 0, hooks });
    const err = await c.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(calls.map(([n]) => n)).toEqual(['request', 'error']);
    expect(calls[1]?.[1]).toMatchObject({ status: 400, attempt: 1 });
    expect(calls[1]?.[1].error).toBe(err);
    const dead = client(await deadURL(), { maxRetries: 0, hooks });
    await expect(dead.models.list()).rejects.toThrow(APIConnectionError);
    expect(calls[3]?.[0]).toBe('error');
    expect(calls[3]?.[1].status).toBeUndefined();
    expect(calls[3]?.[1].error).toBeInstanceOf(APIConnectionError);
  });

  it('a hook that throws never fails the call and is reported once', async () => {
    const warnings: string[] = [];
    const logger = { ...console, warn: (m: string) => warnings.push(m) };
    const c = client(server.url, {
      logger,
      hooks: {
        onRequest: () => {
          throw new Error('hook bug');
        },
      },
    });
    await c.models.retrieve('m');
    await c.models.retrieve('m');
    expect(warnings.filter((w) => w.includes('hook bug'))).toHaveLength(1);
  });

  it('streams: onResponse at the head, onStreamEnd with the events and time to first chunk', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), chunk('c'), 'data: [DONE]\n\n'] });
    const { calls, hooks } = recorder();
    const c = client(server.url, { hooks });
    const stream = await c.chat.completions.create({ model: 'm', messages, stream: true });
    expect(calls.map(([n]) => n)).toEqual(['request', 'response']);
    expect(calls[1]?.[1]).toMatchObject({ status: 200, stream: true });
    let n = 0;
    for await (const _ of stream) n++;
    expect(n).toBe(3);
    expect(calls.map(([name]) => name)).toEqual(['request', 'response', 'streamEnd']);
    const end = calls[2]?.[1] as StreamEndEvent;
    expect(end.events).toBe(3);
    expect(end.timeToFirstChunkMs).toBeGreaterThan(0);
    expect(end.error).toBeUndefined();
  });

  it('a stream left early: onStreamEnd once, without error', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b')], chunkDelayMs: 20, hang: true });
    const { calls, hooks } = recorder();
    const c = client(server.url, { hooks });
    const stream = await c.chat.completions.create({ model: 'm', messages, stream: true });
    for await (const _ of stream) break;
    await server.waitForClose(5_000);
    const ends = calls.filter(([n]) => n === 'streamEnd');
    expect(ends).toHaveLength(1);
    expect((ends[0]?.[1] as StreamEndEvent | undefined)?.events).toBeGreaterThanOrEqual(1);
    expect(ends[0]?.[1].error).toBeUndefined();
  });
});

describe('metrics', () => {
  it('counts calls, successes, failures by kind, retries, latency and tokens per operation', async () => {
    server.enqueue(
      { kind: 'json', status: 503, body: { error: { message: 'busy' } } },
      { kind: 'json', body: withUsage },
      { kind: 'json', body: withUsage },
      { kind: 'json', status: 404, body: { error: { message: 'no such model' } } },
    );
    const c = client(server.url, { ...fast, metrics: true });
    await c.chat.completions.create({ model: 'm', messages });
    const second = await c.chat.completions.create({ model: 'm', messages });
    expect(second.usage?.total_tokens).toBe(10); // the body parsed for metrics still reaches the caller
    await expect(c.models.retrieve('gpt-4o-2024-08-06')).rejects.toThrow();
    const { provider, operations } = c.metrics();
    expect(provider).toBe('openai');
    const chat = operations['POST /chat/completions'];
    expect(chat).toMatchObject({ calls: 2, successes: 2, failures: {}, retries: 1 });
    expect(chat?.tokens).toEqual({ prompt: 14, completion: 6, total: 20 });
    expect(chat?.latencyMs.count).toBe(2);
    expect(chat?.latencyMs.max).toBeGreaterThan(0);
    expect(chat?.latencyMs.p50).toBeLessThanOrEqual(chat?.latencyMs.max as number);
    expect(operations['GET /models/{id}']).toMatchObject({ calls: 1, successes: 0, failures: { '4xx': 1 } });
    const dead = client(await deadURL(), { ...fast, maxRetries: 1, metrics: true });
    await expect(dead.models.list()).rejects.toThrow(APIConnectionError);
    expect(dead.metrics().operations['GET /models']).toMatchObject({
      calls: 1,
      failures: { connection: 1 },
      retries: 1,
    });
    c.resetMetrics();
    expect(c.metrics().operations).toEqual({});
  });

  it('streams record the time to the first chunk', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), 'data: [DONE]\n\n'] });
    const c = client(server.url, { metrics: true });
    const stream = await c.chat.completions.create({ model: 'm', messages, stream: true });
    for await (const _ of stream) {
    }
    const op = c.metrics().operations['POST /chat/completions'];
    expect(op?.calls).toBe(1);
    expect(op?.timeToFirstChunkMs?.count).toBe(1);
  });

  it('metricsText is Prometheus text that parses, with consistent histograms', async () => {
    server.enqueue({ kind: 'json', body: withUsage }, { kind: 'json', status: 500, body: {} });
    const c = client(server.url, { metrics: true, maxRetries: 0 });
    await c.chat.completions.create({ model: 'm', messages });
    await expect(c.chat.completions.create({ model: 'm', messages })).rejects.toThrow();
    const samples = parsePrometheus(c.metricsText());
    const labels = 'operation="POST /chat/completions",provider="openai"';
    expect(samples.get(`aiwire_requests_total{${labels}}`)).toBe(2);
    expect(samples.get(`aiwire_request_failures_total{kind="5xx",${labels}}`)).toBe(1);
    expect(samples.get(`aiwire_tokens_total{${labels},type="prompt"}`)).toBe(7);
    expect(samples.get(`aiwire_request_duration_ms_count{${labels}}`)).toBe(2);
    expect(samples.get(`aiwire_request_duration_ms_bucket{le="+Inf",${labels}}`)).toBe(2);
  });

  it('metrics() without metrics: true throws', () => {
    expect(() => client(server.url).metrics()).toThrow(AiwireError);
  });
});

describe('dedupe', () => {
  it('100 identical GETs at once reach the server once; each caller gets its own copy', async () => {
    server.setFallback({ kind: 'json', delayMs: 150, body: { id: 'm', object: 'model', owned_by: 'x' } });
    const c = client(server.url, { dedupe: true });
    const all = await Promise.all(Array.from({ length: 100 }, () => c.models.retrieve('m')));
    expect(server.requests).toHaveLength(1);
    expect(all[0]).toEqual(all[99]);
    expect(all[0]).not.toBe(all[1]);
    (all[0] as { owned_by: string }).owned_by = 'changed';
    expect(all[1]?.owned_by).toBe('x');
    await c.models.retrieve('m'); // no longer in flight: a new request
    expect(server.requests).toHaveLength(2);
  });

  it("POSTs are shared only with dedupe: 'all'; calls with a signal never", async () => {
    server.setFallback({ kind: 'json', delayMs: 100, body: completion });
    const body = { model: 'm', messages };
    const gets = client(server.url, { dedupe: true });
    await Promise.all([gets.chat.completions.create(body), gets.chat.completions.create(body)]);
    expect(server.requests).toHaveLength(2);
    server.reset();
    server.setFallback({ kind: 'json', delayMs: 100, body: completion });
    const all = client(server.url, { dedupe: 'all' });
    await Promise.all([all.chat.completions.create(body), all.chat.completions.create(body)]);
    expect(server.requests).toHaveLength(1);
    const signal = new AbortController().signal;
    await Promise.all([
      all.chat.completions.create(body, { signal }),
      all.chat.completions.create(body, { signal }),
    ]);
    expect(server.requests).toHaveLength(3);
  });

  it('a shared failure rejects every caller', async () => {
    server.enqueue({ kind: 'json', delayMs: 100, status: 404, body: { error: { message: 'gone' } } });
    const c = client(server.url, { dedupe: true, maxRetries: 0 });
    const results = await Promise.allSettled([c.models.retrieve('x'), c.models.retrieve('x')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(server.requests).toHaveLength(1);
  });
});

describe('cache', () => {
  it('GETs answered within the TTL; stats; clearCache; expiry', async () => {
    const c = client(server.url, { cache: { ttlMs: 300 } });
    const a = await c.models.retrieve('m');
    const b = await c.models.retrieve('m');
    expect(server.requests).toHaveLength(1);
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
    expect(c.cacheStats()).toEqual({ hits: 1, misses: 1, size: 1 });
    c.clearCache();
    await c.models.retrieve('m');
    expect(server.requests).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 350));
    await c.models.retrieve('m');
    expect(server.requests).toHaveLength(3);
    expect(c.cacheStats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it('POSTs only with post: true; errors and streams never', async () => {
    const body = { model: 'm', messages, temperature: 0 };
    const getsOnly = client(server.url, { cache: { ttlMs: 10_000 } });
    await getsOnly.chat.completions.create(body);
    await getsOnly.chat.completions.create(body);
    expect(server.requests).toHaveLength(2);
    server.reset();
    const posts = client(server.url, { cache: { ttlMs: 10_000, post: true }, maxRetries: 0 });
    server.enqueue({ kind: 'json', status: 500, body: {} });
    await expect(posts.chat.completions.create(body)).rejects.toThrow();
    await posts.chat.completions.create(body);
    await posts.chat.completions.create(body);
    expect(server.requests).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      server.enqueue({ kind: 'sse', events: [chunk('a'), 'data: [DONE]\n\n'] });
      const s = await posts.chat.completions.create({ ...body, stream: true });
      for await (const _ of s) {
      }
    }
    expect(server.requests).toHaveLength(4);
  });

  it('refuses a bad ttlMs', () => {
    expect(() => client(server.url, { cache: { ttlMs: 0 } })).toThrow(/ttlMs/);
  });
});

describe('presets', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('testing: fast timeouts, no retries; explicit options win', () => {
    const c = client(server.url, { preset: 'testing' });
    expect(c.timeout).toBe(5_000);
    expect(c.maxRetries).toBe(0);
    expect(client(server.url, { preset: 'testing', maxRetries: 4 }).maxRetries).toBe(4);
  });

  it('production from <PREFIX>_PRESET: metrics on, dedupe on, more retries; <PREFIX>_TIMEOUT_MS wins over the preset', async () => {
    process.env.OPENAI_PRESET = 'production';
    process.env.OPENAI_TIMEOUT_MS = '1234';
    server.setFallback({ kind: 'json', delayMs: 100, body: { id: 'm', object: 'model' } });
    const c = client(server.url);
    expect(c.maxRetries).toBe(3);
    expect(c.timeout).toBe(1234);
    await Promise.all([c.models.retrieve('m'), c.models.retrieve('m')]);
    expect(server.requests).toHaveLength(1);
    expect(c.metrics().operations['GET /models/m']?.calls).toBe(1);
  });

  it('every provider: Anthropic reads ANTHROPIC_*; an unknown preset is refused', () => {
    process.env.ANTHROPIC_MAX_RETRIES = '5';
    const a = new Anthropic({ apiKey: 'k', baseURL: server.url, preset: 'development' });
    expect(a.maxRetries).toBe(5);
    expect(a.timeout).toBe(60_000);
    expect(() => client(server.url, { preset: 'staging' as 'testing' })).toThrow(/preset/);
  });
});
