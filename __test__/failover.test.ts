// Failover across `endpoints` through the real addon over loopback HTTP: the spread by weight, an
// endpoint killed mid-run (every call completes on the others, its breaker opens), a spent budget,
// each provider's credentials per endpoint (a client built from endpoints alone needs no key), and
// the option's errors.
import { describe, expect, it, vi } from 'vitest';
import { AIVillage } from '../src/aivillage.js';
import { Anthropic } from '../src/anthropic.js';
import { Codegen } from '../src/codegen.js';
import { AiwireError, APIConnectionError, AzureOpenAI, LocalRateLimitError, OpenAI } from '../src/index.js';
import { Replicate } from '../src/replicate.js';
import type { FaultServer } from '../src/testing/index.js';
import { messages } from './helpers/client.js';
import { useFaultServers } from './helpers/faults.js';

const start = useFaultServers();

/** Run `total` calls, at most `concurrency` at once; `onDone(n)` after the n-th completes. */
async function run(
  total: number,
  concurrency: number,
  call: () => Promise<unknown>,
  onDone?: (n: number) => unknown,
) {
  let started = 0;
  let done = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await call();
      done++;
      await onDone?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const auth = (s: FaultServer) => s.requests.map((r) => r.headers.authorization);

describe('failover across endpoints', () => {
  it('an endpoint killed mid-run: every call completes on the others, its breaker opens', async () => {
    const [a, b, c] = await start(3);
    if (!a || !b || !c) throw new Error('servers');
    vi.stubEnv('OPENAI_API_KEY', '');
    const client = new OpenAI({
      endpoints: [
        { baseURL: `${a.url}/v1`, apiKey: 'sk-a', weight: 2 },
        { baseURL: `${b.url}/v1`, apiKey: 'sk-b' },
        { baseURL: `${c.url}/v1`, apiKey: 'sk-c', weight: 1 },
      ],
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    expect(client.baseURL).toBe(`${a.url}/v1`);
    const results: string[] = [];
    const call = async () => {
      const r = await client.chat.completions.create({ model: 'm', messages });
      results.push(r.choices[0]?.message.content ?? '');
    };
    // Before the kill: 80 calls, 4 at a time, spread 2:1:1.
    await run(80, 4, call);
    const before = [a, b, c].map((s) => s.requests.length);
    expect(before.reduce((x, y) => x + y)).toBe(80);
    expect(before[0]).toBeGreaterThanOrEqual(36);
    expect(before[0]).toBeLessThanOrEqual(44);
    expect(before[1]).toBeGreaterThanOrEqual(16);
    expect(before[2]).toBeGreaterThanOrEqual(16);
    expect(auth(a).every((h) => h === 'Bearer sk-a')).toBe(true);
    expect(auth(b).every((h) => h === 'Bearer sk-b')).toBe(true);
    expect(a.requests.every((r) => r.url === '/v1/chat/completions')).toBe(true);

    // Kill `a` after the 20th of the next 120 calls (calls in flight on it included).
    let killed: Promise<void> | undefined;
    await run(120, 4, call, (n) => {
      if (n === 20) killed = a.close();
    });
    await killed;
    expect(results).toHaveLength(200);
    expect(results.every((r) => r === 'ok')).toBe(true);
    const stats = client.stats();
    expect(stats.endpoints.map((e) => e.baseURL)).toEqual([`${a.url}/v1`, `${b.url}/v1`, `${c.url}/v1`]);
    expect(stats.endpoints.map((e) => e.weight)).toEqual([2, 1, 1]);
    expect(stats.endpoints[0]?.state).toBe('open');
    expect(stats.endpoints[0]?.failures).toBeGreaterThanOrEqual(2);
    expect(stats.endpoints[1]?.state).toBe('closed');
    const served = stats.endpoints.map((e) => e.served);
    expect(served.reduce((x, y) => x + y)).toBe(200);
    // The others served the rest between them (every request they got was answered).
    expect(b.requests.length + c.requests.length).toBe(200 - (served[0] ?? 0));
    expect(stats.circuits).toContainEqual({ origin: a.url, state: 'open' });
    client.close();
  });

  it('with an endpoint’s budget spent (429, retry-after), calls go to the others at once', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    a.setFallback({
      kind: 'json',
      status: 429,
      body: { error: { message: 'quota', type: 'rate_limit' } },
      headers: { 'retry-after': '30' },
    });
    const events: string[] = [];
    const logs: string[] = [];
    const log = (m: string, ...rest: unknown[]) => logs.push(`${m} ${JSON.stringify(rest)}`);
    const client = new OpenAI({
      logLevel: 'debug',
      logger: { debug: log, info: log, warn: log, error: log },
      apiKey: 'sk-shared',
      endpoints: [{ baseURL: a.url }, { baseURL: `${b.url}/` }],
      rateLimit: { adaptive: true },
      hooks: {
        onRetry: (e) => events.push(`retry ${e.status} ${e.endpoint} wait ${e.retryInMs}`),
        onResponse: (e) => events.push(`response ${e.status} ${e.endpoint}`),
      },
      // A back-off of a minute: a call that completes did not wait for it (nor for the 30 s).
      retryMinDelay: 60_000,
      retryMaxDelay: 60_000,
    });
    for (let i = 0; i < 10; i++) {
      const r = await client.chat.completions.create({ model: 'm', messages });
      expect(r.choices[0]?.message.content).toBe('ok');
    }
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(10);
    // Hooks name the endpoint of each attempt.
    expect(events.slice(0, 3)).toEqual([
      `retry 429 ${a.url} wait 0`,
      `response 200 ${b.url}`,
      `response 200 ${b.url}`,
    ]);
    // Debug logs say which endpoint each attempt went to, and never print a key.
    expect(logs.some((l) => l.includes('failed with status 429 on endpoints[0]'))).toBe(true);
    expect(logs.some((l) => l.includes('last attempt on endpoints[1]'))).toBe(true);
    expect(logs.join('\n')).not.toContain('sk-shared');
    // Endpoints without their own key use the client's.
    expect([...auth(a), ...auth(b)].every((h) => h === 'Bearer sk-shared')).toBe(true);
    const [ea, eb] = client.stats().endpoints;
    expect([ea?.requests, ea?.failures, eb?.served]).toEqual([1, 1, 10]);
    client.close();
  });

  it('with an endpoint’s own rate budget spent, calls go to the others; all spent: LocalRateLimitError', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    vi.stubEnv('OPENAI_API_KEY', '');
    // One request per minute each: after one call an endpoint's next turn is a minute away.
    const client = new OpenAI({
      endpoints: [
        { baseURL: a.url, apiKey: 'sk-a', rateLimit: { requestsPerMinute: 1 } },
        { baseURL: b.url, apiKey: 'sk-b', weight: 3, rateLimit: { requestsPerMinute: 1 } },
      ],
      rateLimit: { maxQueueMs: 1_000 },
    });
    await client.chat.completions.create({ model: 'm', messages });
    await client.chat.completions.create({ model: 'm', messages });
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    const err = await client.chat.completions.create({ model: 'm', messages }).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(LocalRateLimitError);
    expect((err as LocalRateLimitError).retryAfterMs).toBeGreaterThan(30_000);
    expect(err.message).toContain('endpoints[');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    expect(
      () => new OpenAI({ endpoints: [{ baseURL: a.url, apiKey: 'k', rateLimit: { tokensPerMinute: 0 } }] }),
    ).toThrow(/endpoints\[0\]\.rateLimit\.tokensPerMinute must be a whole number >= 1/);
    client.close();
  });

  it('each provider sends each endpoint its own credentials, the path relative to its base URL', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    for (const name of [
      'ANTHROPIC_API_KEY',
      'ANTHROPIC_AUTH_TOKEN',
      'AZURE_OPENAI_API_KEY',
      'REPLICATE_API_TOKEN',
    ]) {
      vi.stubEnv(name, '');
    }
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', '');
    const two = (suffix: string) => [
      { baseURL: `${a.url}${suffix}`, apiKey: 'key-a' },
      { baseURL: `${b.url}${suffix}`, apiKey: 'key-b' },
    ];
    const anthropic = new Anthropic({ endpoints: two(''), circuitBreaker: false });
    const azure = new AzureOpenAI({ apiVersion: '2024-10-21', endpoints: two('/openai') });
    const replicate = new Replicate({ endpoints: two('/v1') });
    const page = { data: [], has_more: false, first_id: null, last_id: null };
    for (let i = 0; i < 2; i++) {
      a.enqueue({ kind: 'json', body: page });
      b.enqueue({ kind: 'json', body: page });
      await anthropic.models.list();
    }
    expect(a.requests.map((r) => [r.url, r.headers['x-api-key']])).toEqual([['/v1/models', 'key-a']]);
    expect(b.requests.map((r) => [r.url, r.headers['x-api-key']])).toEqual([['/v1/models', 'key-b']]);
    expect(a.requests[0]?.headers['anthropic-version']).toBe('2023-06-01');
    a.reset();
    b.reset();
    const vectors = { object: 'list', data: [], model: 'emb', usage: { prompt_tokens: 1, total_tokens: 1 } };
    for (const s of [a, b]) s.setFallback({ kind: 'json', body: vectors });
    for (let i = 0; i < 2; i++)
      await azure.embeddings.create({ model: 'emb', input: 'x', encoding_format: 'float' });
    const azureSeen = [...a.requests, ...b.requests].map((r) => [
      r.url,
      r.headers['api-key'],
      r.headers.authorization,
    ]);
    expect(azureSeen).toEqual([
      ['/openai/deployments/emb/embeddings?api-version=2024-10-21', 'key-a', undefined],
      ['/openai/deployments/emb/embeddings?api-version=2024-10-21', 'key-b', undefined],
    ]);
    a.reset();
    b.reset();
    for (let i = 0; i < 2; i++) await replicate.models.get('owner', 'model');
    expect([...auth(a), ...auth(b)]).toEqual(['Bearer key-a', 'Bearer key-b']);
    expect(a.requests[0]?.url).toBe('/v1/models/owner/model');
    for (const c of [anthropic, azure, replicate]) c.close();
  });

  it('Codegen and AIVillage clients built from endpoints alone send each endpoint its own key', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    for (const name of ['CODEGEN_API_TOKEN', 'AIVILLAGE_API_KEY', 'CODEGEN_BASE_URL', 'AIVILLAGE_API_URL']) {
      vi.stubEnv(name, '');
    }
    const two = (suffix: string) => [
      { baseURL: `${a.url}${suffix}`, apiKey: 'key-a' },
      { baseURL: `${b.url}${suffix}`, apiKey: 'key-b' },
    ];
    const codegen = new Codegen({ endpoints: two(''), orgId: 7 });
    const village = new AIVillage({ endpoints: two('/v1'), authScheme: 'x-api-key' });
    const user = {
      id: 1,
      email: null,
      github_user_id: 'g',
      github_username: 'u',
      avatar_url: null,
      full_name: null,
    };
    for (const s of [a, b]) s.setFallback({ kind: 'json', body: user });
    for (let i = 0; i < 2; i++) await codegen.users.me();
    expect([...auth(a), ...auth(b)]).toEqual(['Bearer key-a', 'Bearer key-b']);
    expect(a.requests[0]?.url).toBe('/v1/users/me');
    expect(a.requests[0]?.headers['user-agent']).toBe('aiwire-codegen');
    a.reset();
    b.reset();
    for (const s of [a, b]) s.setFallback({ kind: 'json', body: { agents: [], total_count: 0 } });
    for (let i = 0; i < 2; i++) await village.agents.list();
    const seen = [...a.requests, ...b.requests].map((r) => [
      r.url,
      r.headers['x-api-key'],
      r.headers.authorization,
    ]);
    expect(seen).toEqual([
      ['/v1/agents', 'key-a', undefined],
      ['/v1/agents', 'key-b', undefined],
    ]);
    for (const c of [codegen, village]) c.close();
  });

  it('bad endpoints fail at construction with what to fix, never echoing a key', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const make = (endpoints: unknown) => () => new OpenAI({ endpoints: endpoints as never });
    expect(make([{ baseURL: 'http://127.0.0.1:9/v1' }])).toThrow(/endpoints\[0\] has no apiKey/);
    expect(make([])).toThrow(/endpoints must be an array of 1 to 64/);
    expect(make([{ baseURL: 'ftp://x', apiKey: 'k' }])).toThrow(
      /endpoints\[0\]\.baseURL must be an absolute http/,
    );
    expect(make([{ baseURL: 'http://u:sk-secret@127.0.0.1/v1', apiKey: 'k' }])).toThrow(
      /must not hold credentials/,
    );
    expect(make([{ baseURL: 'http://127.0.0.1/v1', apiKey: 'k', weight: 0.5 }])).toThrow(
      /weight must be a whole number/,
    );
    expect(make([{ baseURL: 'http://127.0.0.1/v1', apiKey: '' }])).toThrow(AiwireError);
    // An invalid key value (a control character) is named by header, not echoed.
    const err = (() => {
      try {
        make([{ baseURL: 'http://127.0.0.1/v1', apiKey: 'sk-very-secret\nx' }])();
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a failure');
    })();
    expect(err).toBeInstanceOf(AiwireError);
    expect(err.message).not.toContain('sk-very-secret');
  });

  it('a connection error on every endpoint names no key and no URL credentials', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    const urls = [a.url, b.url];
    await Promise.all([a.close(), b.close()]);
    const client = new OpenAI({
      endpoints: urls.map((u) => ({ baseURL: u, apiKey: 'sk-leak-check' })),
      maxRetries: 1,
      retryMinDelay: 1,
    });
    const err = await client.models.list().then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(`${err.message} ${String(err.cause)}`).not.toContain('sk-leak-check');
    expect(client.stats().endpoints.map((e) => e.failures)).toEqual([1, 1]);
    client.close();
  });
});
