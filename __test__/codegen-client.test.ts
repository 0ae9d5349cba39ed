// `new Codegen()`: the seed's CODEGEN_* variables (in its units) and the presets, read by
// src/providers/codegen/lib/config.ts and core's presets; the token and org id checks; the
// `aiwire/codegen` entry point's exports. Clients talk to the bundled mock (/codegen) where a request
// shows the setting (cache hits, the token sent).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import CodegenDefault, { CODEGEN_PRESETS, Codegen, codegenEnvOptions, PRESETS } from '../src/codegen.js';
import { AiwireError } from '../src/core/errors.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

let mock: MockServer;
beforeAll(async () => {
  mock = await startMockServer();
});
afterAll(async () => {
  await mock.close();
});

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('CODEGEN_')) delete process.env[k];
  for (const [k, v] of Object.entries(saved)) if (k.startsWith('CODEGEN_')) process.env[k] = v;
});

describe('new Codegen() and the environment', () => {
  it('reads CODEGEN_API_TOKEN, CODEGEN_ORG_ID, CODEGEN_BASE_URL, CODEGEN_TIMEOUT (s), CODEGEN_MAX_RETRIES', async () => {
    process.env.CODEGEN_API_TOKEN = 'cg-env-token';
    process.env.CODEGEN_ORG_ID = '323';
    process.env.CODEGEN_BASE_URL = `${mock.url}/codegen`;
    process.env.CODEGEN_TIMEOUT = '30';
    process.env.CODEGEN_MAX_RETRIES = '4';
    const codegen = new Codegen();
    expect(codegen.orgId).toBe(323);
    expect(codegen.baseURL).toBe(`${mock.url}/codegen`);
    expect(codegen.timeout).toBe(30_000);
    expect(codegen.maxRetries).toBe(4);
    expect(codegen.apiToken).toBe('cg-env-token');
    expect(JSON.stringify(codegen)).not.toContain('cg-env-token');
    // the org id reaches the path: the mock knows org 323 only
    expect((await codegen.agentRuns.list()).total).toBeGreaterThanOrEqual(0);
    // options beat the environment
    const given = new Codegen({ apiToken: 'x', orgId: 7, timeout: 1_234, baseURL: 'http://127.0.0.1:1' });
    expect([given.orgId, given.timeout, given.baseURL]).toEqual([7, 1_234, 'http://127.0.0.1:1']);
  });

  it('no token → AiwireError naming CODEGEN_API_TOKEN; bad values are typed errors saying what was wrong', () => {
    delete process.env.CODEGEN_API_TOKEN;
    expect(() => new Codegen()).toThrow(AiwireError);
    expect(() => new Codegen()).toThrow(/CODEGEN_API_TOKEN/);
    process.env.CODEGEN_API_TOKEN = 't';
    process.env.CODEGEN_ORG_ID = 'acme';
    expect(() => new Codegen()).toThrow(/CODEGEN_ORG_ID must be a whole number, got "acme"/);
    delete process.env.CODEGEN_ORG_ID;
    process.env.CODEGEN_TIMEOUT = 'soon';
    expect(() => new Codegen()).toThrow(/CODEGEN_TIMEOUT must be a number of seconds > 0/);
    delete process.env.CODEGEN_TIMEOUT;
    process.env.CODEGEN_ENABLE_CACHING = 'maybe';
    expect(() => new Codegen()).toThrow(/CODEGEN_ENABLE_CACHING must be true or false/);
    delete process.env.CODEGEN_ENABLE_CACHING;
    process.env.CODEGEN_LOG_LEVEL = 'LOUD';
    expect(() => new Codegen()).toThrow(/CODEGEN_LOG_LEVEL must be DEBUG, INFO/);
    delete process.env.CODEGEN_LOG_LEVEL;
    expect(() => new Codegen({ orgId: 'x1' })).toThrow(/orgId must be a whole number/);
    expect(() => new Codegen({ preset: 'staging' as never })).toThrow(/preset must be/);
  });

  it('maps the seed variables: rate limit per window, caching with its TTL, Python log levels', () => {
    const env = {
      CODEGEN_RATE_LIMIT_REQUESTS: '100',
      CODEGEN_RATE_LIMIT_WINDOW: '30',
      CODEGEN_ENABLE_CACHING: 'true',
      CODEGEN_CACHE_TTL: '600',
      CODEGEN_LOG_LEVEL: 'WARNING',
    };
    expect(codegenEnvOptions({}, env)).toMatchObject({
      rateLimit: { requestsPerMinute: 200 },
      cache: { ttlMs: 600_000 },
      logLevel: 'warn',
      metrics: true,
    });
    expect(codegenEnvOptions({}, { CODEGEN_RATE_LIMIT_REQUESTS: '90' }).rateLimit).toEqual({
      requestsPerMinute: 90,
    });
    expect(codegenEnvOptions({}, { CODEGEN_ENABLE_CACHING: 'true' }).cache).toEqual({ ttlMs: 300_000 });
    expect(codegenEnvOptions({}, { CODEGEN_LOG_LEVEL: 'critical' }).logLevel).toBe('error');
    expect(codegenEnvOptions({}, { CODEGEN_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(codegenEnvOptions({ metrics: false }, {}).metrics).toBe(false);
    expect(codegenEnvOptions({}, { CODEGEN_METRICS: '0' }).metrics).toBeUndefined();
    // an option wins over its variable
    expect(codegenEnvOptions({ cache: { ttlMs: 5 } }, env).cache).toEqual({ ttlMs: 5 });
  });

  it("presets keep the seed's meaning: development lower limits, production higher limits + cache, testing none", () => {
    expect(codegenEnvOptions({ preset: 'development' }, {})).toMatchObject({
      rateLimit: { requestsPerMinute: 30 },
    });
    expect(codegenEnvOptions({ preset: 'development' }, {}).cache).toBeUndefined();
    expect(codegenEnvOptions({ preset: 'production' }, {})).toMatchObject({
      rateLimit: { requestsPerMinute: 120 },
      cache: { ttlMs: 60_000 },
    });
    expect(codegenEnvOptions({}, { CODEGEN_PRESET: 'testing' }).rateLimit).toBe(false);
    // CODEGEN_ENABLE_CACHING=false turns the production cache off
    expect(
      codegenEnvOptions({ preset: 'production' }, { CODEGEN_ENABLE_CACHING: 'false' }).cache,
    ).toBeUndefined();
    expect(CODEGEN_PRESETS.production.cache).toEqual({ ttlMs: 60_000 });
    // core's half of the presets: timeouts, retries, logs
    const dev = new Codegen({ apiToken: 't', preset: 'development' });
    const prod = new Codegen({ apiToken: 't', preset: 'production' });
    const test = new Codegen({ apiToken: 't', preset: 'testing' });
    expect(dev.timeout).toBeLessThan(prod.timeout);
    expect(test.timeout).toBeLessThan(dev.timeout);
    expect([dev.maxRetries, prod.maxRetries, test.maxRetries]).toEqual([
      PRESETS.development.maxRetries,
      PRESETS.production.maxRetries,
      0,
    ]);
  });

  it('a production client caches GETs (a repeated read is a cache hit); clearCache empties it', async () => {
    const codegen = new Codegen({
      apiToken: 't',
      orgId: 323,
      baseURL: `${mock.url}/codegen`,
      preset: 'production',
    });
    await codegen.users.me();
    await codegen.users.me();
    expect(codegen.cacheStats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
    expect(codegen.getStats().cacheHitRate).toBeCloseTo(0.5);
    codegen.clearCache();
    expect(codegen.cacheStats().size).toBe(0);
  });

  it('sends the token as a Bearer header; withOptions keeps token and org', async () => {
    const codegen = new Codegen({ apiToken: 't', orgId: 323, baseURL: `${mock.url}/codegen`, maxRetries: 0 });
    expect(await codegen.users.me()).toMatchObject({ id: 1 });
    const other = codegen.withOptions({ timeout: 2_000 });
    expect([other.orgId, other.timeout, other.apiToken]).toEqual([323, 2_000, 't']);
    expect(await other.integrations.list()).toMatchObject({ organization_id: 323 });
    expect(CodegenDefault).toBe(Codegen);
    expect(Codegen.AgentRunTimeoutError.name).toBe('AgentRunTimeoutError');
  });
});

describe('the mock server and `aiwire mock`', () => {
  it('serves Codegen under /codegen without touching the OpenAI routes', async () => {
    const openai = await fetch(`${mock.url}/v1/models`);
    expect(((await openai.json()) as { object: string }).object).toBe('list');
    const codegen = await fetch(`${mock.url}/codegen/v1/models`, { headers: { authorization: 'Bearer t' } });
    expect(codegen.status).toBe(404);
    expect(await codegen.json()).toEqual({ detail: 'Not Found' });
    const noToken = await fetch(`${mock.url}/codegen/v1/users/me`);
    expect(noToken.status).toBe(403);
  });

  it('`aiwire mock --help` names the Codegen base URL', async () => {
    const { MOCK_HELP } = await import('../src/cli/mock.js');
    expect(MOCK_HELP).toContain('Codegen:   baseURL http://HOST:PORT/codegen');
  });
});
