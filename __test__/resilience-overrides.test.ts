// Per-request overrides of the client's resilience (`rateLimit: false | { maxQueueMs }`,
// `circuitBreaker: false`), through the real addon over loopback HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestOptions } from '../src/index.js';
import { AiwireError, CircuitOpenError, InternalServerError, LocalRateLimitError } from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { client, completion, messages } from './helpers/client.js';

let server: FaultServer;

beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
  server.setFallback({ kind: 'json', body: completion });
});

const create = (c: ReturnType<typeof client>, options?: RequestOptions) =>
  c.chat.completions.create({ model: 'm', messages }, options);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );

describe('rateLimit request option', () => {
  it('false: sent at once past calls queued by the limits, taking no turn', async () => {
    // 60 per minute: burst 1, then one a second.
    const c = client(server.url, { rateLimit: { requestsPerMinute: 60 } });
    await create(c, { headers: { 'x-call': 'first' } });
    const queued = create(c, { headers: { 'x-call': 'queued' } }); // waits ~1 s for its turn
    await create(c, { rateLimit: false, headers: { 'x-call': 'health' } });
    expect(server.requests.map((r) => r.headers['x-call'])).toEqual(['first', 'health']);
    await queued;
    expect(server.requests.map((r) => r.headers['x-call'])).toEqual(['first', 'health', 'queued']);
    const s = c.stats().rateLimit;
    expect(s?.waitedCalls).toBe(1); // the queued call only
    expect(s?.refusedCalls).toBe(0);
  });

  it('{ maxQueueMs } replaces the client’s for this request', async () => {
    const c = client(server.url, { rateLimit: { requestsPerMinute: 60 } }); // no maxQueueMs: wait as needed
    await create(c);
    const err = (await failure(create(c, { rateLimit: { maxQueueMs: 0 } }))) as LocalRateLimitError;
    expect(err).toBeInstanceOf(LocalRateLimitError);
    expect(err.retryAfterMs).toBeGreaterThan(500);
    expect(server.requests).toHaveLength(1);
    expect(c.stats().rateLimit?.refusedCalls).toBe(1);
    // A longer one than the client's: the client says 100 ms, this call waits its ~1 s turn.
    const strict = client(server.url, { rateLimit: { requestsPerMinute: 60, maxQueueMs: 100 } });
    await create(strict);
    expect(await failure(create(strict))).toBeInstanceOf(LocalRateLimitError);
    await create(strict, { rateLimit: { maxQueueMs: 5000 } });
    expect(strict.stats().rateLimit?.waitedCalls).toBe(1);
  });

  it('bad values are refused before sending, with what to pass instead', async () => {
    const c = client(server.url, { rateLimit: { requestsPerMinute: 60 } });
    const bad = [
      { rateLimit: true },
      { rateLimit: { maxQueueMs: -1 } },
      { circuitBreaker: true },
    ] as unknown as RequestOptions[];
    for (const options of bad) {
      const err = await failure(create(c, options));
      expect(err).toBeInstanceOf(AiwireError);
      expect(err.message).toMatch(/rateLimit|circuitBreaker/);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('circuitBreaker request option', () => {
  it('false: goes through an open breaker and leaves it open', async () => {
    const c = client(server.url, {
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    server.enqueue({ kind: 'json', status: 500, body: { error: { message: 'down' } } });
    expect(await failure(create(c))).toBeInstanceOf(InternalServerError);
    expect(await failure(create(c))).toBeInstanceOf(CircuitOpenError);
    expect(server.requests).toHaveLength(1);
    const probe = await create(c, { circuitBreaker: false });
    expect(probe.choices[0]?.message.content).toBe('ok');
    expect(server.requests).toHaveLength(2);
    // Its success is not recorded: the breaker stays open for the other calls.
    expect(c.stats().circuits.map((x) => x.state)).toEqual(['open']);
    expect(await failure(create(c))).toBeInstanceOf(CircuitOpenError);
    // A failing probe does not count either (nothing to reopen, no error other than the server's).
    server.enqueue({ kind: 'json', status: 500, body: { error: { message: 'down' } } });
    expect(await failure(create(c, { circuitBreaker: false }))).toBeInstanceOf(InternalServerError);
  });
});
