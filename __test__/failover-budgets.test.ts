// The endpoints' own budgets (`endpoints[i].rateLimit`) through the real addon over loopback HTTP: a
// request's `rateLimit: { maxQueueMs }` bounds their wait (every endpoint further away: an immediate
// LocalRateLimitError with retryAfterMs), `rateLimit: false` takes no turn in them, and their figures
// in `stats().endpoints[i].rateLimit` and the Prometheus text (labelled `endpoint`, never a key).
import { describe, expect, it, vi } from 'vitest';
import { LocalRateLimitError, OpenAI } from '../src/index.js';
import { messages } from './helpers/client.js';
import { failure, useFaultServers } from './helpers/faults.js';
import { parsePrometheus } from './helpers/prometheus.js';

const start = useFaultServers();

describe('endpoint budgets', () => {
  it('a request’s own maxQueueMs bounds their wait; rateLimit: false takes no turn in them', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    vi.stubEnv('OPENAI_API_KEY', '');
    // One request a minute on each endpoint, and no client rateLimit (so no client maxQueueMs).
    const client = new OpenAI({
      endpoints: [
        { baseURL: `${a.url}/v1`, apiKey: 'sk-a', rateLimit: { requestsPerMinute: 1 } },
        { baseURL: `${b.url}/v1`, apiKey: 'sk-b', rateLimit: { requestsPerMinute: 1 } },
      ],
    });
    const create = (options?: Parameters<typeof client.chat.completions.create>[1]) =>
      client.chat.completions.create({ model: 'm', messages }, options);
    await create();
    await create();
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    // Both endpoints' next turn is a minute away: with maxQueueMs 1 s the call fails at once.
    const err = await failure(create({ rateLimit: { maxQueueMs: 1_000 } }));
    expect(err).toBeInstanceOf(LocalRateLimitError);
    expect((err as LocalRateLimitError).retryAfterMs).toBeGreaterThan(30_000);
    expect((err as LocalRateLimitError).retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(err.message).toMatch(/endpoints\[[01]\]\.rateLimit would make this call wait \d+ ms/);
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    // Outside the limits: sent at once, not counted by the budgets.
    const r = await create({ rateLimit: false });
    expect(r.choices[0]?.message.content).toBe('ok');
    expect(a.requests.length + b.requests.length).toBe(3);
    const budgets = client.stats().endpoints.map((e) => e.rateLimit);
    expect(budgets.map((x) => x?.refusedCalls ?? -1).reduce((x, y) => x + y)).toBe(1);
    for (const x of budgets) {
      expect(x).toMatchObject({ waitedCalls: 0, waitMsTotal: 0, requestsRemaining: 0 });
      expect(x?.tokensRemaining).toBeUndefined();
    }
    client.close();
  });

  it('the client’s maxQueueMs bounds them too; a request’s maxQueueMs replaces it', async () => {
    const [a] = await start(1);
    if (!a) throw new Error('server');
    a.setFallback({ kind: 'json', body: { object: 'list', data: [] } });
    // 20 a minute: one every 3 s. The client would rather fail than wait; one request waits up to 10 s.
    const client = new OpenAI({
      apiKey: 'sk-shared',
      endpoints: [{ baseURL: a.url, rateLimit: { requestsPerMinute: 20 } }],
      rateLimit: { maxQueueMs: 0 },
    });
    await client.models.list();
    const err = await failure(client.models.list());
    expect(err).toBeInstanceOf(LocalRateLimitError);
    expect((err as LocalRateLimitError).retryAfterMs).toBeGreaterThan(0);
    await client.models.list({ rateLimit: { maxQueueMs: 10_000 } });
    expect(a.requests).toHaveLength(2);
    const figures = client.stats().endpoints[0]?.rateLimit;
    expect(figures).toMatchObject({ waitedCalls: 1, refusedCalls: 1 });
    expect(figures?.waitMsMax).toBeGreaterThan(0);
    expect(figures?.waitMsTotal).toBe(figures?.waitMsMax);
    // The client's own limiter (maxQueueMs alone: no budget) reports nothing of the endpoint's.
    expect(client.stats().rateLimit).toBeUndefined();
    client.close();
  });

  it('their figures are in the Prometheus text, labelled by base URL, never a key', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    vi.stubEnv('OPENAI_API_KEY', '');
    const client = new OpenAI({
      metrics: true,
      endpoints: [
        { baseURL: `${a.url}/v1`, apiKey: 'sk-secret-a', rateLimit: { requestsPerMinute: 60 } },
        { baseURL: `${b.url}/v1`, apiKey: 'sk-secret-b', rateLimit: { tokensPerMinute: 600_000 } },
      ],
      rateLimit: { requestsPerMinute: 6_000 },
    });
    for (let i = 0; i < 4; i++) await client.chat.completions.create({ model: 'm', messages });
    const stats = client.stats();
    expect(stats.endpoints[0]?.rateLimit?.requestsRemaining).toBeTypeOf('number');
    expect(stats.endpoints[0]?.rateLimit?.tokensRemaining).toBeUndefined();
    expect(stats.endpoints[1]?.rateLimit?.tokensRemaining).toBeGreaterThan(0);
    expect(stats.endpoints[1]?.rateLimit?.requestsRemaining).toBeUndefined();
    const text = client.metricsText();
    expect(text).not.toContain('sk-secret');
    const samples = parsePrometheus(text);
    const at = (name: string, labels: string) => samples.get(`${name}{${labels}}`);
    const ea = `endpoint="${a.url}/v1",provider="openai"`;
    const eb = `endpoint="${b.url}/v1",provider="openai"`;
    // Counts of each budget; the client's own series keep only their `provider` label.
    expect(at('aiwire_ratelimit_waited_total', ea)).toBe(stats.endpoints[0]?.rateLimit?.waitedCalls);
    expect(at('aiwire_ratelimit_refused_total', eb)).toBe(0);
    expect(at('aiwire_ratelimit_waited_total', 'provider="openai"')).toBe(stats.rateLimit?.waitedCalls);
    expect(at('aiwire_ratelimit_wait_ms_max', eb)).toBeTypeOf('number');
    expect(at('aiwire_ratelimit_remaining', `budget="requests",${ea},source="local"`)).toBeTypeOf('number');
    // Budgets refill as time passes: a number within the burst (10,000 tokens; 100 requests).
    const tokens = at('aiwire_ratelimit_remaining', `budget="tokens",${eb},source="local"`);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(10_000);
    expect(at('aiwire_ratelimit_remaining', `budget="tokens",${ea},source="local"`)).toBeUndefined();
    const own = at('aiwire_ratelimit_remaining', 'budget="requests",provider="openai",source="local"');
    expect(own).toBeGreaterThan(90);
    expect(own).toBeLessThanOrEqual(100);
    client.close();
  });

  it('endpoint budgets alone (no client rateLimit) still give the ratelimit families', async () => {
    const [a] = await start(1);
    if (!a) throw new Error('server');
    a.setFallback({ kind: 'json', body: { object: 'list', data: [] } });
    const client = new OpenAI({
      apiKey: 'sk-k',
      metrics: true,
      circuitBreaker: false,
      endpoints: [{ baseURL: a.url, rateLimit: { requestsPerMinute: 600 } }],
    });
    await client.models.list();
    const samples = parsePrometheus(client.metricsText());
    const labels = `endpoint="${a.url}",provider="openai"`;
    expect(samples.get(`aiwire_ratelimit_refused_total{${labels}}`)).toBe(0);
    // A burst of 10 (one second's worth), one taken (given back as time passes).
    const left = samples.get(`aiwire_ratelimit_remaining{budget="requests",${labels},source="local"}`);
    expect(left).toBeGreaterThanOrEqual(9);
    expect(left).toBeLessThanOrEqual(10);
    expect(
      [...samples.keys()].some((k) => k.startsWith('aiwire_ratelimit_') && !k.includes('endpoint=')),
    ).toBe(false);
    client.close();
  });
});
