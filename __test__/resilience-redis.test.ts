// Shared rate limits (`rateLimit.redis`) through the real addon over loopback HTTP, against a real
// redis-server (Debian package `redis-server`; `.ci/run` installs it) that each test starts on a free
// port and kills after: four processes on one key hold one budget; a Redis killed mid-run leaves no
// call hanging or lost, and the clients fall back to their local share with one warning.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiwireError } from '../src/index.js';
import { platformKey } from '../src/native/index.js';
import { client, completion, messages } from './helpers/client.js';
import { startRedis } from './helpers/redis.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback HTTP server that answers every call with a completion and timestamps arrivals. */
let http: Server;
let baseURL: string;
const arrivals: { at: number; who: string }[] = [];

/** One worker process: a client on the shared key, 16 calls in flight until `RUN_MS` has passed. */
const CHILD = `
import { OpenAI } from './src/index.js';
const { BASE_URL, REDIS_URL, RUN_MS, WHO } = process.env;
const c = new OpenAI({
  apiKey: 'sk-test', baseURL: BASE_URL, maxRetries: 0, defaultHeaders: { 'x-who': WHO },
  rateLimit: { requestsPerMinute: 6000, redis: { url: REDIS_URL, key: 'aiwire-test:shared' } },
});
const end = performance.now() + Number(RUN_MS);
let ok = 0, failed = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (performance.now() < end) {
    try { await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }); ok++; }
    catch { failed++; }
  }
}));
console.log(JSON.stringify({ ok, failed, stats: c.stats() }));
`;

let work: string;
let bundle: string;

beforeAll(async () => {
  http = createServer((req, res) => {
    arrivals.push({ at: performance.timeOrigin + performance.now(), who: String(req.headers['x-who']) });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
  work = mkdtempSync(join(tmpdir(), 'aiwire-redis-'));
  const result = await build({
    stdin: { contents: CHILD, resolveDir: join(here, '..'), sourcefile: 'child.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  bundle = join(work, 'child.mjs');
  writeFileSync(bundle, result.outputFiles[0]?.text ?? '');
});
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  if (work) rmSync(work, { recursive: true, force: true });
});

function runChild(env: Record<string, string>): Promise<{ ok: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], {
      // The bundle lives in a temporary directory: point it at this checkout's addon.
      env: {
        ...process.env,
        AIWIRE_NATIVE_PATH: join(here, '..', 'src', 'native', `aiwire.${platformKey()}.node`),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`worker ${env.WHO} exited with ${code}: ${out}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}'));
    });
  });
}

describe('rateLimit.redis', () => {
  it('four processes on one key hold one budget of 100 calls/s (within 5% over the steady window)', async () => {
    const redis = await startRedis();
    try {
      arrivals.length = 0;
      const env = { BASE_URL: baseURL, REDIS_URL: redis.url, RUN_MS: '3500' };
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((WHO) => runChild({ ...env, WHO })));
      for (const r of results) expect(r.failed).toBe(0);
      const first = Math.min(...arrivals.map((a) => a.at));
      // Past the first burst (100 at once) and the later workers' start: 2.5 s of steady state.
      const from = first + 500;
      const to = first + 3000;
      const inWindow = arrivals.filter((a) => a.at >= from && a.at < to);
      const perSecond = inWindow.length / 2.5;
      const who = new Set(inWindow.map((a) => a.who));
      console.log(`shared budget: ${perSecond.toFixed(1)} calls/s over 2.5 s, from ${who.size} processes`);
      expect(Math.abs(perSecond - 100)).toBeLessThanOrEqual(5);
      expect(who.size).toBe(4);
    } finally {
      await redis.kill();
    }
  }, 20_000);

  it('Redis killed mid-run: every call settles within a bound, none is lost, the fallback is counted and warned once', async () => {
    const redis = await startRedis();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if ((w as { code?: string }).code === 'AIWIRE_SHARED_LIMIT_FALLBACK') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const c = client(baseURL, {
        maxRetries: 0,
        rateLimit: {
          requestsPerMinute: 6000,
          redis: { url: redis.url, key: 'aiwire-test:kill', fallbackShare: 0.5 },
        },
      });
      const end = performance.now() + 2500;
      let started = 0;
      let ok = 0;
      const errors: unknown[] = [];
      let slowest = 0;
      const killer = sleep(800).then(() => redis.kill());
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() < end) {
            started++;
            const t = performance.now();
            try {
              await c.chat.completions.create({ model: 'm', messages });
              ok++;
            } catch (e) {
              errors.push(e);
            }
            slowest = Math.max(slowest, performance.now() - t);
          }
        }),
      );
      await killer;
      console.log(`redis killed: ${ok} ok, ${errors.length} errors, slowest call ${slowest.toFixed(0)} ms`);
      expect(ok + errors.length).toBe(started);
      for (const e of errors) expect(e).toBeInstanceOf(AiwireError);
      expect(ok).toBeGreaterThan(100);
      expect(slowest).toBeLessThan(1000);
      const s = c.stats();
      expect(s.sharedLimitOutages).toBeGreaterThanOrEqual(1);
      expect(s.sharedLimitFallbackCalls).toBeGreaterThan(0);
      c.stats();
      await sleep(10);
      expect(warnings).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
      await redis.kill();
    }
  }, 20_000);

  it("rediss://: the budget kept in Redis over TLS, trusting the client's ca", async () => {
    const redis = await startRedis(true);
    try {
      const ca = readFileSync(join(here, 'fixtures', 'tls', 'ca.pem'));
      const limits = { requestsPerMinute: 600, redis: { url: redis.url, key: 'tls' } };
      const c = client(baseURL, { ca, rateLimit: limits });
      for (let i = 0; i < 3; i++) await c.chat.completions.create({ model: 'm', messages });
      const s = c.stats().rateLimit;
      expect(s?.budgetSource).toBe('redis');
      expect(s?.redisOutages).toBe(0);
      expect(s?.requestsRemaining).toBeLessThanOrEqual(7); // burst 10, 3 taken
      // Without the private CA the server is not trusted: the local fallback share admits the call.
      const untrusted = client(baseURL, { rateLimit: { ...limits, redis: { ...limits.redis, key: 'u' } } });
      await untrusted.chat.completions.create({ model: 'm', messages });
      expect(untrusted.stats().rateLimit?.redisOutages).toBe(1);
      expect(untrusted.stats().rateLimit?.budgetSource).toBe('local');
    } finally {
      await redis.kill();
    }
  }, 20_000);

  it('rejects a URL that is not redis:// and a fallbackShare outside (0, 1]', () => {
    const make = (redis: { url: string; fallbackShare?: number }) => () =>
      client(baseURL, { rateLimit: { requestsPerMinute: 60, redis } });
    expect(make({ url: 'http://127.0.0.1:6379' })).toThrow(/rateLimit.redis.url/);
    expect(make({ url: 'redis://127.0.0.1:1', fallbackShare: 0 })).toThrow(/fallbackShare/);
    expect(make({ url: 'redis://127.0.0.1:1', fallbackShare: 1.5 })).toThrow(/fallbackShare/);
    // Nothing connects at construction: an unreachable Redis is found on the first call.
    expect(make({ url: 'redis://127.0.0.1:1', fallbackShare: 1 })()).toBeTruthy();
  });
});
