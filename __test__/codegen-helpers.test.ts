// The Codegen client's helpers against the bundled mock (src/testing/mock-codegen.ts, mounted under
// /codegen of the mock server; real addon, loopback HTTP): agent runs whose status advances per poll
// (waitForCompletion: terminal statuses, the typed timeout, abort, never from the cache), `for await`
// over every agent run with filters kept on every page, FastAPI's 422 as UnprocessableEntityError,
// the health check and monitor (an outage switched on and off), bulk creation (1,000 items at
// concurrency 16, some refused), webhook deliveries verified by WebhookHandler, getStats/resetStats.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentRunTimeoutError,
  Codegen,
  type CodegenWebhookEvent,
  type HealthStatus,
  WebhookHandler,
} from '../src/codegen.js';
import {
  AiwireError,
  APIError,
  APIUserAbortError,
  PermissionDeniedError,
  UnprocessableEntityError,
} from '../src/core/errors.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';
import { MOCK_CODEGEN_ORG_ID, MOCK_CODEGEN_WEBHOOK_SECRET } from '../src/testing/mock-codegen.js';

let mock: MockServer;
beforeAll(async () => {
  mock = await startMockServer();
});
afterAll(async () => {
  await mock.close();
});

const client = (extra: Partial<ConstructorParameters<typeof Codegen>[0]> = {}) =>
  new Codegen({
    apiToken: 'cg-test',
    orgId: MOCK_CODEGEN_ORG_ID,
    baseURL: `${mock.url}/codegen`,
    maxRetries: 0,
    ...extra,
  });

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );

async function outage(status: number | null): Promise<void> {
  const res = await fetch(`${mock.url}/codegen/_mock/outage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  expect(res.status).toBe(200);
}

describe('agent runs and waitForCompletion', () => {
  it('create → retrieve advances one step per poll → waitForCompletion resolves on COMPLETE', async () => {
    const codegen = client();
    const run = await codegen.agentRuns.create({ prompt: 'Write fib', metadata: { mock_steps: 3 } });
    expect(run).toMatchObject({ organization_id: MOCK_CODEGEN_ORG_ID, status: 'ACTIVE', source_type: 'API' });
    expect((await codegen.agentRuns.retrieve(run.id)).status).toBe('ACTIVE');
    const seen: string[] = [];
    const done = await codegen.agentRuns.waitForCompletion(run.id, {
      pollIntervalMs: 5,
      onPoll: (r) => seen.push(String(r.status)),
    });
    expect(done.status).toBe('COMPLETE');
    expect(done.result).toBe('Done: Write fib');
    expect(seen).toEqual(['ACTIVE', 'COMPLETE']);
    const logs = await codegen.agentRuns.logs(run.id, { limit: 2 });
    expect(logs.id).toBe(run.id);
    expect(logs.logs).toHaveLength(2);
    expect(logs.total_logs).toBe(4);
  });

  it('a FAILED run ends the wait too (its state returned, not thrown)', async () => {
    const codegen = client();
    const run = await codegen.agentRuns.create({ prompt: 'please mock-fail', metadata: { mock_steps: 1 } });
    const done = await codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 5 });
    expect(done.status).toBe('FAILED');
  });

  it('a run that never ends within timeoutMs → AgentRunTimeoutError carrying the last state', async () => {
    const codegen = client();
    const run = await codegen.agentRuns.create({ prompt: 'slow', metadata: { mock_steps: 1_000_000 } });
    // generous: the first poll must come back before the timeout even on a loaded machine
    const err = await rejection(
      codegen.agentRuns.waitForCompletion(run.id, { timeoutMs: 2_000, pollIntervalMs: 20 }),
    );
    expect(err).toBeInstanceOf(AgentRunTimeoutError);
    expect(err).toBeInstanceOf(AiwireError);
    const e = err as AgentRunTimeoutError;
    expect(e.agentRunId).toBe(run.id);
    expect(e.timeoutMs).toBe(2_000);
    expect(e.lastRun?.status).toBe('ACTIVE');
    expect(e.message).toMatch(/within 2000 ms \(last status: ACTIVE\)/);
  });

  it("the caller's signal aborts the wait with APIUserAbortError; bad options are typed errors", async () => {
    const codegen = client();
    const run = await codegen.agentRuns.create({ prompt: 'slow', metadata: { mock_steps: 1_000_000 } });
    const controller = new AbortController();
    const waiting = codegen.agentRuns.waitForCompletion(run.id, {
      pollIntervalMs: 10,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect(await rejection(waiting)).toBeInstanceOf(APIUserAbortError);
    await expect(codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 0 })).rejects.toThrow(
      /pollIntervalMs must be a number of ms > 0/,
    );
  });

  it('a cached client still sees the status change (polls bypass the GET cache)', async () => {
    const codegen = client({ cache: { ttlMs: 60_000 } });
    const run = await codegen.agentRuns.create({ prompt: 'cached', metadata: { mock_steps: 2 } });
    const first = await codegen.agentRuns.retrieve(run.id);
    expect(first.status).toBe('ACTIVE');
    // a plain retrieve is now answered from the cache...
    expect((await codegen.agentRuns.retrieve(run.id)).status).toBe('ACTIVE');
    expect(codegen.cacheStats().hits).toBe(1);
    // ...but the wait goes to the server
    expect((await codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 5 })).status).toBe(
      'COMPLETE',
    );
  });

  it("resume, ban, unban, removeFromPR reach the run; a per-call org_id overrides the client's", async () => {
    const codegen = client();
    const run = await codegen.agentRuns.create({ prompt: 'first', metadata: { mock_steps: 0 } });
    await codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 5 });
    const resumed = await codegen.agentRuns.resume({ agent_run_id: run.id, prompt: 'again' });
    expect(resumed.status).toBe('ACTIVE');
    expect(await codegen.agentRuns.ban({ agent_run_id: run.id })).toEqual({});
    expect(await codegen.agentRuns.unban({ agent_run_id: run.id })).toEqual({});
    expect(await codegen.agentRuns.removeFromPR({ agent_run_id: run.id })).toEqual({});
    const err = await rejection(codegen.agentRuns.retrieve(run.id, { org_id: 999 }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as APIError).message).toMatch(/do not have access to this organization/);
  });

  it('no org id anywhere → AiwireError saying how to set one, before any request', async () => {
    const codegen = new Codegen({ apiToken: 'cg-test', baseURL: `${mock.url}/codegen`, maxRetries: 0 });
    expect(() => codegen.agentRuns.list()).toThrow(/CODEGEN_ORG_ID/);
    expect(await codegen.users.me()).toMatchObject({ id: 1, github_username: 'mock-user-1' });
  });

  it("a bad body → UnprocessableEntityError exposing FastAPI's validation detail", async () => {
    const err = await rejection(client().agentRuns.create({} as never));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const e = err as UnprocessableEntityError;
    expect(e.status).toBe(422);
    expect(e.error).toEqual({
      detail: [{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }],
    });
    expect(e.message).toContain('body.prompt: Field required');
  });
});

describe('pagination', () => {
  it('`for await` yields every agent run across skip/limit pages, the filters kept on every page', async () => {
    const codegen = client();
    const mine: number[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await codegen.agentRuns.create({
        prompt: `p${i}`,
        metadata: { mock_user_id: i % 2 ? 2 : 7 },
      });
      if (i % 2 === 0) mine.push(r.id);
    }
    const ids: number[] = [];
    for await (const run of codegen.agentRuns.list({ user_id: 7, limit: 2 })) ids.push(run.id);
    // newest first, only user 7's six runs: a page that lost the filter would bring other users' runs
    expect(ids).toEqual([...mine].reverse());
    const first = await codegen.agentRuns.list({ user_id: 7, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.total).toBe(6);
    expect(first.pages).toBe(3);
    const pages: number[] = [];
    for await (const p of first.iterPages()) pages.push(p.items.length);
    expect(pages).toEqual([2, 2, 2]);
  });

  it('users, organizations and repos lists are OffsetPages too', async () => {
    const codegen = client();
    const users: number[] = [];
    for await (const u of codegen.users.list({ limit: 1 })) users.push(u.id);
    expect(users).toEqual([1, 2, 3]);
    expect((await codegen.organizations.list()).items[0]?.id).toBe(MOCK_CODEGEN_ORG_ID);
    expect((await codegen.repos.list({ limit: 2 })).total).toBe(3);
    expect((await codegen.integrations.list()).total_active_integrations).toBe(1);
    expect((await codegen.users.retrieve(2)).github_username).toBe('mock-user-2');
  });
});

describe('health', () => {
  it('healthCheck: healthy, then unhealthy with the status during an outage (never throws)', async () => {
    const codegen = client();
    const ok = await codegen.healthCheck();
    expect(ok).toMatchObject({ healthy: true, status: 'healthy', statusCode: 200 });
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    await outage(503);
    try {
      const bad = await codegen.healthCheck();
      expect(bad).toMatchObject({ healthy: false, status: 'unhealthy', statusCode: 503 });
      expect(bad.error).toMatch(/503/);
    } finally {
      await outage(null);
    }
    // a port nobody listens on: bound, then closed
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = new Codegen({ apiToken: 'x', baseURL: `http://127.0.0.1:${port}/codegen`, maxRetries: 0 });
    expect(await down.healthCheck({ timeoutMs: 5_000 })).toMatchObject({ healthy: false });
  });

  it('createHealthMonitor: onHealthy / onUnhealthy on each change, stop() ends the checks', async () => {
    const codegen = client();
    const events: string[] = [];
    let checks = 0;
    let resolveNext: (() => void) | undefined;
    const nextCheck = () => new Promise<void>((r) => (resolveNext = r));
    let waiting = nextCheck();
    const monitor = codegen.createHealthMonitor({
      intervalMs: 10,
      onHealthy: () => events.push('healthy'),
      onCheck: () => {
        checks++;
        resolveNext?.();
      },
    });
    monitor.onUnhealthy((s: HealthStatus) => events.push(`unhealthy ${s.statusCode}`));
    try {
      await waiting;
      expect(events).toEqual(['healthy']);
      await outage(502);
      // wait for a check that saw the outage
      for (let i = 0; i < 200 && monitor.lastStatus?.healthy !== false; i++) {
        waiting = nextCheck();
        await waiting;
      }
      await outage(null);
      for (let i = 0; i < 200 && monitor.lastStatus?.healthy !== true; i++) {
        waiting = nextCheck();
        await waiting;
      }
      expect(events).toEqual(['healthy', 'unhealthy 502', 'healthy']);
    } finally {
      monitor.stop();
      await outage(null);
    }
    expect(monitor.running).toBe(false);
    const after = checks;
    await new Promise((r) => setTimeout(r, 100));
    expect(checks).toBe(after);
    expect(() => codegen.createHealthMonitor({ intervalMs: -1 })).toThrow(/intervalMs/);
  });
});

describe('bulk.createAgentRuns', () => {
  it('1,000 configs at concurrency 16, every 7th refused: 1,000 results in input order, failures with their error', async () => {
    const codegen = client();
    const configs = Array.from({ length: 1_000 }, (_, i) => ({
      prompt: i % 7 === 3 ? `item ${i} mock-error-402` : `item ${i}`,
      metadata: { i },
    }));
    const progress: number[] = [];
    let last = { completed: 0, total: 0, succeeded: 0, failed: 0 };
    const results = await codegen.bulk.createAgentRuns(configs, {
      concurrency: 16,
      onProgress: (p) => {
        progress.push(p.completed);
        last = p;
      },
    });
    expect(results).toHaveLength(1_000);
    const failures = configs.filter((_, i) => i % 7 === 3).length;
    for (const [i, r] of results.entries()) {
      expect(r.index).toBe(i);
      if (i % 7 === 3) {
        expect(r.success).toBe(false);
        expect(r.error).toBeInstanceOf(APIError);
        expect((r.error as APIError).status).toBe(402);
      } else {
        expect(r.success).toBe(true);
        expect(r.data?.metadata).toEqual({ i });
      }
    }
    expect(last).toEqual({ completed: 1_000, total: 1_000, succeeded: 1_000 - failures, failed: failures });
    expect(progress).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    // each success is a distinct run on the server
    expect(new Set(results.filter((r) => r.success).map((r) => r.data?.id)).size).toBe(1_000 - failures);
  });

  it('an abort ends every item not done as APIUserAbortError: still one result per input', async () => {
    const codegen = client();
    const controller = new AbortController();
    const results = await codegen.bulk.createAgentRuns(
      Array.from({ length: 50 }, (_, i) => ({ prompt: `abort ${i}` })),
      {
        concurrency: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.completed === 10) controller.abort();
        },
      },
    );
    expect(results).toHaveLength(50);
    // at the abort 10 items had ended and at most one more was in flight (indexes 0-10); none after started
    const ok = results.filter((r) => r.success).length;
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(11);
    expect(results.slice(11).every((r) => !r.success && r.error instanceof APIUserAbortError)).toBe(true);
    expect(results.every((r, i) => r.index === i)).toBe(true);
    await expect(codegen.bulk.createAgentRuns([], { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});

describe('WebhookHandler', () => {
  let receiver: Server;
  let hookURL: string;
  const deliveries: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  let arrived: (() => void) | undefined;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.end('ok');
        arrived?.();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookURL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it("verifies the mock's signed deliveries and dispatches typed events; tampering is InvalidWebhookSignatureError", async () => {
    const codegen = client();
    const got = new Promise<void>((r) => (arrived = r));
    const run = await codegen.agentRuns.create({
      prompt: 'hooked',
      metadata: { mock_steps: 1, webhook_url: hookURL },
    });
    await codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 5 });
    await got;
    const delivery = deliveries.at(-1) as (typeof deliveries)[number];
    const handler = new WebhookHandler(MOCK_CODEGEN_WEBHOOK_SECRET);
    const completed: number[] = [];
    const all: CodegenWebhookEvent[] = [];
    handler.on('agent_run.completed', (e) => {
      completed.push(e.data.id);
    });
    handler.on('agent_run.failed', () => {
      throw new Error('not a failure');
    });
    handler.on('*', (e) => {
      all.push(e);
    });
    const { event, handled } = await handler.handleRequest(delivery.body, delivery.headers);
    expect(handled).toBe(2);
    expect(event.type).toBe('agent_run.completed');
    expect(event.webhookId).toBe(delivery.headers['webhook-id']);
    expect(completed).toEqual([run.id]);
    expect(all).toHaveLength(1);

    const { InvalidWebhookSignatureError } = await import('../src/core/errors.js');
    const tampered = delivery.body.replace('hooked', 'HOOKED');
    await expect(handler.handleRequest(tampered, delivery.headers)).rejects.toBeInstanceOf(
      InvalidWebhookSignatureError,
    );
    const other = new WebhookHandler(`whsec_${Buffer.from('another secret').toString('base64')}`);
    await expect(other.handleRequest(delivery.body, delivery.headers)).rejects.toThrow(/does not match/);
    const stale = { ...delivery.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3_600) };
    await expect(handler.handleRequest(delivery.body, stale)).rejects.toThrow(/too old/);
    const { 'webhook-signature': _s, ...unsigned } = delivery.headers;
    await expect(handler.handleRequest(delivery.body, unsigned)).rejects.toThrow(/webhook-signature/);
    expect(() => new WebhookHandler('')).toThrow(/secret/);
  });
});

describe('getStats / resetStats', () => {
  it('counts requests, successes, failures, mean latency and the cache hit rate; resetStats starts again', async () => {
    const codegen = client({ cache: { ttlMs: 60_000 } });
    await codegen.users.me();
    await codegen.users.me(); // cache hit
    await codegen.organizations.list();
    await rejection(codegen.users.retrieve(99)); // 404
    const stats = codegen.getStats();
    expect(stats.totalRequests).toBe(4);
    expect(stats.successfulRequests).toBe(3);
    expect(stats.failedRequests).toBe(1);
    expect(stats.successRate).toBeCloseTo(0.75);
    expect(stats.errorRate).toBeCloseTo(0.25);
    expect(stats.cacheHitRate).toBeCloseTo(1 / 4); // 1 hit of 4 cacheable GETs
    expect(stats.cache).toMatchObject({ hits: 1, misses: 3 });
    expect(stats.meanLatencyMs).toBeGreaterThan(0);
    expect(stats.byOperation['GET /v1/users/me']).toEqual({ calls: 1, successes: 1, failures: 0 });
    codegen.resetStats();
    expect(codegen.getStats()).toMatchObject({
      totalRequests: 0,
      successRate: 0,
      cacheHitRate: 0,
      meanLatencyMs: 0,
    });
    await codegen.users.me(); // still cached: a hit after the reset
    expect(codegen.getStats()).toMatchObject({ totalRequests: 1, successfulRequests: 1, cacheHitRate: 1 });
    codegen.clearCache();
    expect(codegen.cacheStats().size).toBe(0);
  });
});
