// The rate limits' figures (client.stats().rateLimit, client.metrics().rateLimit, metricsText()) and
// the token correction of streams, through the real addon over loopback HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalRateLimitError } from '../src/index.js';
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

const create = (c: ReturnType<typeof client>) => c.chat.completions.create({ model: 'm', messages });

/** Polls `read` until `done` holds (at most 5 s); returns the last value read. */
async function until<T>(read: () => T, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  let v = read();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    v = read();
  }
  return v;
}

describe('rateLimit figures', () => {
  it('count queued and refused calls, their waits, and the budget left', async () => {
    server.setFallback({ kind: 'json', body: completion });
    // 600 per minute: burst 10, then one per 100 ms; turns more than 250 ms away are refused.
    const c = client(server.url, { metrics: true, rateLimit: { requestsPerMinute: 600, maxQueueMs: 250 } });
    const fresh = c.stats().rateLimit;
    expect(fresh).toEqual({
      waitedCalls: 0,
      waitMsTotal: 0,
      waitMsMax: 0,
      refusedCalls: 0,
      requestsRemaining: 10,
      budgetSource: 'local',
      adaptive: [],
      redisOutages: 0,
      redisFallbackCalls: 0,
    });
    const results = await Promise.allSettled(Array.from({ length: 14 }, () => create(c)));
    const refused = results.filter((r) => r.status === 'rejected');
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LocalRateLimitError);
    const s = c.stats().rateLimit;
    // 10 at once, then turns 100 ms and 200 ms away are queued; 300 and 400 ms are refused.
    expect(s?.waitedCalls).toBe(2);
    expect(s?.refusedCalls).toBe(2);
    expect(refused).toHaveLength(2);
    expect(s?.waitMsMax).toBeGreaterThan(150);
    expect(s?.waitMsMax).toBeLessThanOrEqual(200);
    expect(s?.waitMsTotal).toBeGreaterThan(s?.waitMsMax ?? 0);
    expect(s?.requestsRemaining).toBeLessThan(10);
    expect(s?.tokensRemaining).toBeUndefined();

    const m = c.metrics();
    expect(m.rateLimit?.waitedCalls).toBe(2);
    expect(m.operations['POST /chat/completions']?.calls).toBe(14);
    const text = c.metricsText();
    parsePrometheus(text); // throws on a line that does not follow the format
    expect(text).toContain(
      '# TYPE aiwire_ratelimit_waited_total counter\naiwire_ratelimit_waited_total{provider="openai"} 2\n',
    );
    expect(text).toContain('aiwire_ratelimit_refused_total{provider="openai"} 2\n');
    expect(text).toMatch(/aiwire_ratelimit_wait_ms_total\{provider="openai"\} \d+(\.\d+)?\n/);
    expect(text).toMatch(
      /aiwire_ratelimit_remaining\{provider="openai",budget="requests",source="local"\} \d+\n/,
    );
    expect(text).not.toContain('aiwire_ratelimit_redis_outages_total');
  });

  it('no rateLimit: no figures in stats, metrics or the text', async () => {
    server.setFallback({ kind: 'json', body: completion });
    const c = client(server.url, { metrics: true });
    await create(c);
    expect(c.stats().rateLimit ?? undefined).toBeUndefined();
    expect(c.metrics().rateLimit).toBeUndefined();
    expect(c.metricsText()).not.toContain('aiwire_ratelimit');
  });

  it("adaptive: each origin's limit, remaining and reset as its headers said", async () => {
    server.setFallback({
      kind: 'json',
      body: completion,
      headers: {
        'x-ratelimit-limit-requests': '100',
        'x-ratelimit-remaining-requests': '42',
        'x-ratelimit-reset-requests': '20s',
      },
    });
    const c = client(server.url, { metrics: true, rateLimit: { adaptive: true } });
    await create(c);
    const [a] = c.stats().rateLimit?.adaptive ?? [];
    expect(a?.origin).toBe(server.url.replace(/\/$/, ''));
    expect(a?.limit).toBe(100);
    expect(a?.remaining).toBe(42);
    expect(a?.resetMs).toBeGreaterThan(15_000);
    expect(a?.resetMs).toBeLessThanOrEqual(20_000);
    expect(a?.blockedMs).toBeUndefined();
    await create(c);
    // The server said 42 again, counting the second call or not: the lower of 42 and 42 - 1 stands.
    expect(c.stats().rateLimit?.adaptive[0]?.remaining).toBe(41);
    const text = c.metricsText();
    parsePrometheus(text); // throws on a line that does not follow the format
    expect(text).toContain(`aiwire_ratelimit_server_limit{provider="openai",origin="${a?.origin}"} 100\n`);
    expect(text).toContain(`aiwire_ratelimit_server_remaining{provider="openai",origin="${a?.origin}"} 41\n`);
    expect(text).toMatch(/aiwire_ratelimit_server_reset_ms\{provider="openai",origin="[^"]+"\} \d+/);
  });

  it('circuit breaker states are in the text', async () => {
    server.setFallback({ kind: 'json', body: completion });
    const c = client(server.url, { metrics: true, circuitBreaker: { failureThreshold: 97 } });
    await create(c);
    const origin = server.url.replace(/\/$/, '');
    const text = c.metricsText();
    parsePrometheus(text); // throws on a line that does not follow the format
    expect(text).toContain(`aiwire_circuit_state{provider="openai",origin="${origin}",state="closed"} 1\n`);
    expect(text).toContain(`aiwire_circuit_state{provider="openai",origin="${origin}",state="open"} 0\n`);
  });
});

describe('token correction from usage', () => {
  // 6,000 tokens per minute: 100 per second, burst 100. A call of about 40 estimated tokens that used
  // 5,000 leaves nothing for ~49 s; without the correction 60 would be left.
  const usage = { prompt_tokens: 1000, completion_tokens: 4000, total_tokens: 5000 };

  it('of a buffered response', async () => {
    server.setFallback({ kind: 'json', body: { ...completion, usage } });
    const c = client(server.url, { rateLimit: { tokensPerMinute: 6000 } });
    await c.chat.completions.create({ model: 'm', messages, max_tokens: 10 });
    expect(c.stats().rateLimit?.tokensRemaining).toBe(0);
  });

  it('of an OpenAI stream, from its include_usage chunk', async () => {
    const last = `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [], usage })}\n\n`;
    server.enqueue({ kind: 'sse', events: [chunk('a'), last, 'data: [DONE]\n\n'] });
    const c = client(server.url, { rateLimit: { tokensPerMinute: 6000 } });
    const stream = await c.chat.completions.create({
      model: 'm',
      messages,
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // read to the end
    }
    const after = await until(
      () => c.stats().rateLimit?.tokensRemaining,
      (v) => v === 0,
    );
    expect(after).toBe(0);
  });

  it('of a stream that states no usage: the estimate stays', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), 'data: [DONE]\n\n'] });
    const c = client(server.url, { rateLimit: { tokensPerMinute: 6000 } });
    const stream = await c.chat.completions.create({ model: 'm', messages, max_tokens: 10, stream: true });
    for await (const _ of stream) {
      // read to the end
    }
    await until(
      () => c.stats().streamsOpen,
      (n) => n === 0,
    );
    expect(c.stats().rateLimit?.tokensRemaining).toBeGreaterThan(50);
  });
});
