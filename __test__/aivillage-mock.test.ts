// The AIVillage client end to end against the bundled mock (TypeScript -> Node-API -> Rust engine ->
// loopback HTTP -> src/testing/mock-aivillage.ts under /aivillage): every operation's answer, auth
// schemes, Idempotency-Key reuse across a retry (the mock fails the first attempt with 500 and records
// the keys), idempotent replays, the typed errors, batchChat's order and per-item failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AIVillage,
  AIVillageRateLimitError,
  AIVillageServerError,
  AIVillageValidationError,
  AiwireError,
  BadRequestError,
  batchChat,
  type ChatParams,
  InternalServerError,
  isValidationError,
  NotFoundError,
  RateLimitError,
} from '../src/aivillage.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';
import { aiwire, useCliMock } from './helpers/cli.js';

let mock: MockServer;
let base: string;
let client: AIVillage;

beforeAll(async () => {
  mock = await startMockServer();
  base = `${mock.url}/aivillage/v1`;
  client = new AIVillage({ apiKey: 'av-test', baseURL: base, retryMinDelay: 10, retryMaxDelay: 20 });
});
afterAll(async () => {
  await mock?.close();
});

const rejection = (p: PromiseLike<unknown>): Promise<unknown> =>
  Promise.resolve(p).then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
const last = () => mock.aivillage.requests.at(-1);

describe('every AIVillage operation against the mock', () => {
  it('health(), chat(), query()', async () => {
    expect(await client.health()).toMatchObject({ status: 'healthy', version: '1.0.0' });
    const chat = await client.chat({
      message: 'How do I save battery?',
      agent_preference: 'navigator',
      mode: 'fast',
      user_context: { device_type: 'mobile', battery_level: 45, network_type: 'cellular' },
    });
    expect(chat.agent_used).toBe('navigator');
    expect(chat.response).toBe('Navigator (fast) answers: How do I save battery?');
    expect(chat.metadata?.features_used).toContain('mobile_optimization');
    expect(chat.conversation_id).toMatch(/^conv-mock-[0-9a-f]{8}$/);
    // deterministic: the same message gets the same answer
    const again = await client.chat({
      message: 'How do I save battery?',
      agent_preference: 'navigator',
      mode: 'fast',
    });
    expect(again.conversation_id).toBe(chat.conversation_id);
    const rag = await client.query({
      query: 'distributed AI best practices',
      mode: 'analytical',
      max_results: 2,
    });
    expect(rag.sources).toHaveLength(2);
    expect(rag.metadata?.mode).toBe('analytical');
    const conf = rag.metadata?.bayesian_confidence ?? -1;
    expect(conf).toBeGreaterThan(0);
    expect(conf).toBeLessThanOrEqual(1);
    expect((await client.query({ query: 'x', include_sources: false })).sources).toEqual([]);
  });

  it('agents.list() filters, agents.assignTask() accepts', async () => {
    const all = await client.agents.list({ available_only: false });
    expect(all.total).toBe(5);
    const knowledge = await client.agents.list({ category: 'knowledge' });
    expect(knowledge.agents?.map((a) => a.id)).toEqual(['magi-001']);
    expect(last()?.path).toBe('/agents');
    const task = await client.agents.assignTask('magi-001', {
      task_description: 'Survey edge inference papers',
      priority: 'high',
      timeout_seconds: 60,
    });
    expect(task).toMatchObject({ agent_id: 'magi-001', status: 'accepted', metadata: { priority: 'high' } });
    expect(last()?.path).toBe('/agents/magi-001/task');
  });

  it('p2p.status(), p2p.peers({ transport })', async () => {
    expect(await client.p2p.status()).toMatchObject({ status: 'connected', peer_count: 3 });
    const peers = await client.p2p.peers({ transport: 'betanet' });
    expect(peers.peers?.map((p) => p.transport)).toEqual(['betanet']);
    expect(peers.transports).toEqual({ bitchat: 2, betanet: 1 });
  });

  it('digitalTwin.profile.update() is reflected by retrieve()', async () => {
    mock.aivillage.clear();
    expect((await client.digitalTwin.profile.retrieve()).learning_stats?.total_interactions).toBe(0);
    const up = await client.digitalTwin.profile.update({
      data_type: 'interaction',
      data_points: [
        { timestamp: '2025-08-19T10:00:00Z', content: { user_satisfaction: 0.9 }, prediction_accuracy: 1 },
        { timestamp: '2025-08-19T10:01:00Z', content: {}, prediction_accuracy: 0.2 },
      ],
    });
    expect(up).toEqual({
      processed_points: 2,
      model_updated: true,
      privacy_preserved: true,
      surprise_scores: [0, 0.8],
    });
    const profile = await client.digitalTwin.profile.retrieve();
    expect(profile.learning_stats).toEqual({
      total_interactions: 2,
      surprise_based_improvements: 1,
      accuracy_score: 0.6,
    });
  });

  it('sends the key as Bearer by default, as x-api-key when asked; the mock refuses none', async () => {
    await client.p2p.status();
    expect(last()?.auth).toBe('bearer');
    const keyed = new AIVillage({ apiKey: 'av-test', baseURL: base, authScheme: 'x-api-key' });
    await keyed.p2p.status();
    expect(last()?.auth).toBe('x-api-key');
    const res = await fetch(`${base}/p2p/status`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error_code: 'unauthorized' });
  });

  it('reads AIVILLAGE_API_KEY and AIVILLAGE_API_URL; says how to fix a missing key', async () => {
    const saved = { key: process.env.AIVILLAGE_API_KEY, url: process.env.AIVILLAGE_API_URL };
    try {
      process.env.AIVILLAGE_API_KEY = 'av-env';
      process.env.AIVILLAGE_API_URL = base;
      const fromEnv = new AIVillage();
      expect(fromEnv.baseURL).toBe(base);
      expect((await fromEnv.health()).status).toBe('healthy');
      delete process.env.AIVILLAGE_API_KEY;
      expect(() => new AIVillage()).toThrow(/AIVILLAGE_API_KEY/);
      expect(() => new AIVillage({ apiKey: 'k', authScheme: 'basic' as never })).toThrow(AiwireError);
    } finally {
      for (const [k, v] of [
        ['AIVILLAGE_API_KEY', saved.key],
        ['AIVILLAGE_API_URL', saved.url],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  it('lives under /aivillage: the OpenAI routes of the same server are untouched', async () => {
    const openai = await fetch(`${mock.url}/v1/models`);
    expect(((await openai.json()) as { object: string }).object).toBe('list');
    const notHere = await fetch(`${base}/models`, { headers: { authorization: 'Bearer k' } });
    expect(notHere.status).toBe(404);
    expect(await notHere.json()).toMatchObject({ error_code: 'not_found' });
  });
});

describe('Idempotency-Key', () => {
  it('is the same on the retry of a chat whose first attempt failed with 500', async () => {
    mock.aivillage.clear();
    const chat = await client.chat({ message: 'mock-error-500-once' });
    expect(chat.response).toContain('mock-error-500-once');
    const seen = mock.aivillage.requests;
    expect(seen.map((r) => r.status)).toEqual([500, 200]);
    const key = seen[0]?.idempotencyKey;
    expect(key).toMatch(/^aiwire-retry-[0-9a-f]{32}$/);
    expect(seen[1]?.idempotencyKey).toBe(key);
  });

  it('is the same on the retry after a 429 (which waits for its retry-after)', async () => {
    mock.aivillage.clear();
    const task = await client.agents.assignTask('oracle-001', { task_description: 'mock-error-429-once' });
    expect(task.status).toBe('accepted');
    const seen = mock.aivillage.requests;
    expect(seen.map((r) => r.status)).toEqual([429, 200]);
    expect(seen[1]?.idempotencyKey).toBe(seen[0]?.idempotencyKey);
  });

  it('differs between calls, is absent on GETs, and a given one is sent as is', async () => {
    mock.aivillage.clear();
    await client.chat({ message: 'one' });
    await client.chat({ message: 'two' });
    await client.agents.list();
    const [a, b, get] = mock.aivillage.requests;
    expect(a?.idempotencyKey).not.toBe(b?.idempotencyKey);
    expect(get?.idempotencyKey).toBeUndefined();
    await client.agents.assignTask(
      'king-001',
      { task_description: 'x' },
      { idempotencyKey: 'my-key-0123456789' },
    );
    expect(last()?.idempotencyKey).toBe('my-key-0123456789');
  });

  it('a key sent again gets the first answer back (the server deduplicates)', async () => {
    const first = await client.chat({ message: 'first' }, { idempotencyKey: 'dedupe-key-0123456789' });
    const { data, response } = await client
      .chat({ message: 'second' }, { idempotencyKey: 'dedupe-key-0123456789' })
      .withResponse();
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(data.response).toBe(first.response);
  });
});

describe('typed errors', () => {
  it('429 → AIVillageRateLimitError (a RateLimitError) with retryAfterMs and the body fields', async () => {
    const err = await rejection(client.p2p.status({ headers: { 'x-mock-error': '429' }, maxRetries: 0 }));
    expect(err).toBeInstanceOf(AIVillageRateLimitError);
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as AIVillageRateLimitError;
    expect(e.status).toBe(429);
    expect(e.retryAfterMs).toBe(1000);
    expect([e.limit, e.windowSeconds, e.errorCode, e.code]).toEqual([
      100,
      60,
      'rate_limited',
      'rate_limited',
    ]);
    expect(e.requestID).toMatch(/^req_mock_\d+$/);
  });

  it('400 → AIVillageValidationError (a BadRequestError) naming each refused field', async () => {
    mock.aivillage.clear();
    const bad = {
      message: 'hi',
      mode: 'bogus',
      user_context: { battery_level: 200 },
    } as unknown as ChatParams;
    const err = await rejection(client.chat(bad));
    expect(err).toBeInstanceOf(AIVillageValidationError);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(isValidationError(err)).toBe(true);
    const e = err as AIVillageValidationError;
    expect(e.errorCode).toBe('validation_error');
    expect(e.fieldErrors.map((f) => [f.location, f.field, f.code])).toEqual([
      ['body', 'mode', 'enum'],
      ['body', 'user_context.battery_level', 'range'],
    ]);
    expect(e.message).toMatch(/^400 .*mode: must be equal to one of the allowed values/);
    const missing = (await rejection(client.query({} as never))) as AIVillageValidationError;
    expect(missing.fieldErrors).toEqual([
      { field: 'query', location: 'body', message: "must have required property 'query'", code: 'required' },
    ]);
    // one request each: a 400 is not retried
    expect(mock.aivillage.requests.map((r) => r.status)).toEqual([400, 400]);
  });

  it('a persistent 5xx → AIVillageServerError (an InternalServerError), not retried when the server says so', async () => {
    mock.aivillage.clear();
    const err = await rejection(client.chat({ message: 'mock-error-503' }));
    expect(err).toBeInstanceOf(AIVillageServerError);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as AIVillageServerError).status).toBe(503);
    expect(mock.aivillage.requests).toHaveLength(1);
  });

  it('404 for an unknown agent → NotFoundError with the body error_code', async () => {
    const err = await rejection(client.agents.assignTask('nobody-001', { task_description: 'x' }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('agent_not_found');
  });
});

describe('batchChat', () => {
  it('answers in input order, one typed failure per failing item', async () => {
    const messages = ['alpha', 'mock-error-400', 'gamma', 'mock-error-503', 'epsilon', 'zeta'];
    const results = await client.batchChat(messages, { concurrency: 2, defaults: { mode: 'fast' } });
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    results.forEach((r, i) => {
      if (r.status === 'fulfilled')
        expect(r.value.response).toMatch(new RegExp(`\\(fast\\) answers: ${messages[i]}$`));
    });
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(AIVillageValidationError);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(AIVillageServerError);
    expect(await client.batchChat([])).toEqual([]);
  });

  it('keeps at most `concurrency` chats in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const sender = {
      async chat(body: ChatParams) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { response: body.message };
      },
    };
    const results = await batchChat(
      sender,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(results.map((r) => (r as PromiseFulfilledResult<{ response: string }>).value.response)).toEqual(
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
  });

  it('refuses a concurrency that is not a whole number >= 1', async () => {
    await expect(client.batchChat(['a'], { concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(client.batchChat(['a'], { concurrency: 1.5 })).rejects.toBeInstanceOf(AiwireError);
  });
});

describe('aiwire mock (the bin, dist/cli.js)', () => {
  const cli = useCliMock();

  it('serves AIVillage under /aivillage/v1 and says so in --help', async () => {
    const viaCli = new AIVillage({ apiKey: 'any', baseURL: `${cli.url}/aivillage/v1` });
    expect((await viaCli.health()).status).toBe('healthy');
    expect((await viaCli.chat({ message: 'hello', agent_preference: 'king' })).response).toBe(
      'King (balanced) answers: hello',
    );
    const help = await aiwire(['mock', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('AIVillage: baseURL http://HOST:PORT/aivillage/v1');
  });
});
