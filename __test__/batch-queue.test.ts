// The `queue` executor of aiwire/batch against a real redis-server started here on 127.0.0.1 (Debian's
// `redis-server`, installed by `.ci/run`) and the bundled mock (aiwire/testing) as the API: `aiwire
// worker` child processes (the CLI, bundled from src with esbuild) take the items that `runBatch({ via:
// 'queue' })` enqueues. Checked: four workers, 20,000 items, one worker SIGKILLed mid-run: every id
// exactly once and the shared rate budget held; a rerun resumes from the results the workers published
// while no collector ran (nothing sent twice, a line published twice written once); failed items get
// their typed error; SIGTERM lets a worker finish its items in flight; a second collector on the same
// output is refused at once (the output's lock); bad options are refused.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchOutputLine,
  type BatchSummary,
  BatchUsageError,
  queueExecutor,
  runBatch,
  type WorkerSummary,
} from '../src/batch/index.js';
import { AiwireError } from '../src/index.js';
import { startMockServer } from '../src/testing/index.js';
import { readOutput, until } from './helpers/batch-queue.js';
import { bundleCli, type CliChild, startCli as startBundledCli } from './helpers/bundled-cli.js';
import { startRedis } from './helpers/redis.js';

let work: string;
let cli: string;
let bundled: { path: string; remove: () => void } | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'aiwire-batch-queue-'));
  bundled = await bundleCli('aiwire-batch-queue');
  cli = bundled.path;
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  bundled?.remove();
});

type Child = CliChild;
type Worker = Child;

/** `aiwire <args…>` (the CLI bundled from src) with the mock at `baseURL` as OpenAI's base URL. */
function startCli(args: string[], baseURL: string, timeoutMs = 220_000): Child {
  return startBundledCli(cli, args, { OPENAI_BASE_URL: baseURL }, timeoutMs);
}

/** `aiwire worker …` against the mock at `baseURL`. */
function startWorker(args: string[], baseURL: string, timeoutMs = 220_000): Worker {
  return startCli(['worker', ...args], baseURL, timeoutMs);
}

function writeInput(name: string, n: number, model: (i: number) => string = () => 'gpt-4o-mini'): string {
  const file = join(work, name);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        custom_id: `r${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: model(i), messages: [{ role: 'user', content: `item ${i}` }] },
      }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Every `r0 … r<n-1>` exactly once. */
function expectEveryIdOnce(lines: BatchOutputLine[], n: number): void {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.custom_id, (counts.get(l.custom_id) ?? 0) + 1);
  const twice = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
  const missing = Array.from({ length: n }, (_, i) => `r${i}`).filter((id) => !counts.has(id));
  expect(twice).toEqual([]);
  expect(missing).toEqual([]);
  expect(lines).toHaveLength(n);
}

/**
 * Windows in which the server saw more than the shared budget allows: for the whole run and every
 * window of at least `windowMs` between two samples (`[ms, requests so far]`), at most `rps` per
 * second plus one burst (one second's worth), plus 2 s of slack for arrivals bunched by busy event
 * loops (the workers' and this one's), plus `fallback`: the calls the workers paced with their local
 * fallback share while Redis was down (`sharedLimitFallbackCalls`: a connection error, or no answer to
 * a reservation within 2 s; a merely slow Redis is waited for and uses no fallback).
 */
function overBudget(
  samples: [number, number][],
  rps: number,
  windowMs: number,
  fallback: number,
): { over: string[]; worst: number } {
  let worst = 0;
  const over: string[] = [];
  const start = samples[0]?.[0] ?? 0;
  // Every window of `windowMs`, and the whole run (however short it was).
  const windows: [number, number][] = [[0, samples.length - 1]];
  for (let i = 0; i < samples.length; i++) {
    const t0 = (samples[i] as [number, number])[0];
    const j = samples.findIndex(([t]) => t - t0 >= windowMs);
    if (j < 0) break;
    windows.push([i, j]);
  }
  for (const [i, j] of windows) {
    const [t0, n0] = samples[i] as [number, number];
    const [t1, n1] = samples[j] as [number, number];
    const allowed = rps * ((t1 - t0) / 1000 + 2) + rps + fallback;
    worst = Math.max(worst, (n1 - n0) / allowed);
    if (n1 - n0 > allowed) {
      over.push(`${n1 - n0} requests from ${(t0 - start).toFixed(0)} ms over ${(t1 - t0).toFixed(0)} ms`);
    }
  }
  return { over, worst };
}

/** The most calls one worker paces locally in one Redis outage: 5 s and a burst at its 0.25 share. */
function oneOutage(rps: number): number {
  return Math.ceil(0.25 * rps * 6);
}

describe('batch via queue', () => {
  it('4 worker processes, 20,000 items, one worker SIGKILLed mid-run: every id exactly once, the shared budget held', async () => {
    const N = 20_000;
    // 500 requests/s for all workers together (burst: one second's worth). Each worker alone may send
    // 500/s: were the budget not shared, four would send up to 2,000/s.
    const RPS = 500;
    const redis = await startRedis();
    const mock = await startMockServer();
    const workers: Worker[] = [];
    try {
      const args = [
        '--redis',
        redis.url,
        '--concurrency',
        '32',
        '--rpm',
        String(RPS * 60),
        '--limit-key',
        'aiwire-test:queue-budget',
        '--lock-duration',
        '3000',
        '--stalled-interval',
        '1000',
      ];
      for (let i = 0; i < 4; i++) workers.push(startWorker(args, `${mock.url}/v1`));
      await until('4 workers ready', () => workers.every((w) => w.stderr.includes('worker taking items')));

      const input = writeInput('big.jsonl', N);
      const output = join(work, 'big.out.jsonl');
      // What the server has seen, sampled every 100 ms: [ms, requests so far].
      const samples: [number, number][] = [];
      const sampler = setInterval(() => samples.push([performance.now(), mock.requests]), 100);
      // The collector: `aiwire batch IN -o OUT --via queue --redis URL`.
      const batch = startCli(
        ['batch', input, '-o', output, '--via', 'queue', '--redis', redis.url, '--json'],
        '',
      );
      // Mid-run, with items in flight on every worker: kill one without warning.
      await until(
        'a third of the requests',
        () => {
          if (batch.child.exitCode !== null) throw new Error(`aiwire batch exited early: ${batch.stderr}`);
          return mock.requests >= N / 3;
        },
        120_000,
      );
      const killedAt = mock.requests;
      workers[0]?.child.kill('SIGKILL');
      expect(await workers[0]?.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await batch.exited).toEqual({ code: 0, signal: null });
      clearInterval(sampler);
      samples.push([performance.now(), mock.requests]);

      const summary = JSON.parse(batch.stdout) as BatchSummary;
      expect(summary).toMatchObject({ via: 'queue', total: N, succeeded: N, failed: 0, interrupted: false });
      // Progress on stderr while it ran (a line every 2 s when not on a terminal).
      expect(batch.stderr).toMatch(/aiwire: batch [\d,]+\/20,000 done/);
      const lines = readOutput(output);
      expectEveryIdOnce(lines, N);
      expect(lines.filter((l) => l.error !== null)).toEqual([]);
      expect(mock.requests).toBeGreaterThanOrEqual(N);

      // The others stop on SIGTERM, each printing what it did.
      for (const w of workers.slice(1)) w.child.kill('SIGTERM');
      let sent = 0;
      const summaries: WorkerSummary[] = [];
      for (const w of workers.slice(1)) {
        expect(await w.exited).toEqual({ code: 0, signal: null });
        const s = JSON.parse(w.stdout.trim().split('\n').pop() ?? '{}') as WorkerSummary;
        summaries.push(s);
        expect(s.failed).toBe(0);
        sent += s.succeeded;
      }
      // The survivors sent the killed worker's share too (it took its share before it died).
      expect(sent).toBeGreaterThan(N / 2);
      expect(sent).toBeLessThan(N);

      // The budget held: see `overBudget`. The killed worker's fallback calls are unknown: allow one
      // outage's worth for it.
      const fallback = summaries.reduce((n, w) => n + w.sharedLimitFallbackCalls, 0) + oneOutage(RPS);
      const { over, worst } = overBudget(samples, RPS, 4000, fallback);
      const secs = ((samples.at(-1)?.[0] ?? 0) - (samples[0]?.[0] ?? 0)) / 1000;
      console.log(
        `queue: ${N} items in ${secs.toFixed(1)} s (${(N / secs).toFixed(0)}/s, budget ${RPS}/s), ` +
          `${mock.requests} requests, worker killed after ${killedAt} requests, busiest 4 s window at ${(worst * 100).toFixed(0)}% of the bound ` +
          `(${fallback} calls allowed over it for Redis timeouts); ` +
          `workers: ${JSON.stringify(summaries)}`,
      );
      expect(over).toEqual([]);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await mock.close();
      await redis.kill();
    }
  }, 240_000);

  it('4 workers hold one budget of 60 requests/s between them (alone, each would send 60/s)', async () => {
    const N = 600;
    const RPS = 60;
    const redis = await startRedis();
    const mock = await startMockServer();
    const workers: Worker[] = [];
    try {
      const args = ['--redis', redis.url, '--concurrency', '16', '--rpm', String(RPS * 60)];
      for (let i = 0; i < 4; i++) workers.push(startWorker(args, `${mock.url}/v1`));
      await until('4 workers ready', () => workers.every((w) => w.stderr.includes('worker taking items')));
      const output = join(work, 'budget.out.jsonl');
      const samples: [number, number][] = [];
      const sampler = setInterval(() => samples.push([performance.now(), mock.requests]), 100);
      const summary = await runBatch({
        input: writeInput('budget.jsonl', N),
        output,
        via: 'queue',
        executorOptions: { redis: redis.url },
      });
      clearInterval(sampler);
      samples.push([performance.now(), mock.requests]);
      expect(summary.succeeded).toBe(N);
      expectEveryIdOnce(readOutput(output), N);
      for (const w of workers) w.child.kill('SIGTERM');
      const summaries: WorkerSummary[] = [];
      for (const w of workers) {
        expect(await w.exited).toEqual({ code: 0, signal: null });
        summaries.push(JSON.parse(w.stdout.trim().split('\n').pop() ?? '{}') as WorkerSummary);
      }
      // Every worker took part.
      for (const w of summaries) expect(w.succeeded).toBeGreaterThan(0);
      const fallback = summaries.reduce((n, w) => n + w.sharedLimitFallbackCalls, 0);
      const { over, worst } = overBudget(samples, RPS, 3000, fallback);
      console.log(
        `shared budget ${RPS}/s: ${N} items by 4 workers (${summaries.map((w) => w.succeeded).join(' + ')}), ` +
          `busiest 3 s window at ${(worst * 100).toFixed(0)}% of the bound (${fallback} fallback calls)`,
      );
      expect(over).toEqual([]);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await mock.close();
      await redis.kill();
    }
  }, 90_000);

  it('a rerun collects what the workers finished while no collector ran: nothing sent twice, a line published twice written once, errors typed', async () => {
    const N = 200;
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url);
    let worker: Worker | undefined;
    try {
      // Items 7, 77 and 177 get a 400 from the mock.
      const input = writeInput('resume.jsonl', N, (i) =>
        i % 100 === 77 || i === 7 ? 'mock-error-400' : 'm',
      );
      const output = join(work, 'resume.out.jsonl');
      // No worker yet: the collector enqueues everything, then is stopped (drain 0: it leaves at once).
      const stop = new AbortController();
      const first = runBatch({
        input,
        output,
        via: 'queue',
        executorOptions: { redis: redis.url },
        signal: stop.signal,
        drainTimeoutMs: 0,
      });
      await until('200 jobs waiting', async () => (await conn.llen('aiwire:aiwire-batch:wait')) === N);
      stop.abort();
      const s1 = await first;
      expect(s1.interrupted).toBe(true);
      expect(s1.succeeded + s1.failed).toBe(0);
      expect(readOutput(output)).toEqual([]);

      // A worker does them all while no collector runs; their lines wait in Redis.
      worker = startWorker(['--redis', redis.url, '--concurrency', '8'], `${mock.url}/v1`);
      const keys = async () => conn.keys('aiwire:aiwire-batch:results:*');
      await until('200 results published', async () => {
        const [key] = await keys();
        return key !== undefined && (await conn.xlen(key)) === N;
      });
      // One line published twice (a worker killed after publishing, before its job was marked done).
      const [key] = await keys();
      const [[, fields] = ['', []]] = (await conn.xrange(key as string, '-', '+', 'COUNT', 1)) as [
        string,
        string[],
      ][];
      await conn.xadd(key as string, '*', ...fields);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(JSON.parse(worker.stdout.trim())).toMatchObject({ succeeded: 197, failed: 3 });
      expect(mock.requests).toBe(N);

      // The rerun (same output, so the same run id) finds the lines there and sends nothing.
      const s2 = await runBatch({ input, output, via: 'queue', executorOptions: { redis: redis.url } });
      expect(s2.interrupted).toBe(false);
      expect(s2.succeeded).toBe(197);
      expect(s2.failed).toBe(3);
      const lines = readOutput(output);
      expectEveryIdOnce(lines, N);
      const failed = lines.filter((l) => l.error !== null);
      expect(failed.map((l) => l.custom_id).sort()).toEqual(['r177', 'r7', 'r77']);
      for (const l of failed) {
        expect(l.response?.status_code).toBe(400);
        expect(l.error).toMatchObject({ status: 400, type: 'BadRequestError', retryable: false });
      }
      expect(mock.requests).toBe(N);
      // A finished run leaves no results stream behind.
      expect(await keys()).toEqual([]);
    } finally {
      worker?.child.kill('SIGKILL');
      await worker?.exited;
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('SIGTERM: the worker finishes the items in flight, publishes their lines, then exits 0', async () => {
    const redis = await startRedis();
    const mock = await startMockServer({ latencyMs: 1500 });
    let worker: Worker | undefined;
    try {
      worker = startWorker(['--redis', redis.url, '--concurrency', '8'], `${mock.url}/v1`);
      await until('worker ready', () => worker?.stderr.includes('worker taking items') ?? false);
      const input = writeInput('term.jsonl', 8);
      const output = join(work, 'term.out.jsonl');
      const run = runBatch({ input, output, via: 'queue', executorOptions: { redis: redis.url } });
      await until('8 requests in flight', () => mock.requests === 8);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(worker.stderr).toContain('finishing the items in flight');
      expect(JSON.parse(worker.stdout.trim())).toMatchObject({ succeeded: 8, failed: 0 });
      const summary = await run;
      expect(summary.succeeded).toBe(8);
      expectEveryIdOnce(readOutput(output), 8);
    } finally {
      worker?.child.kill('SIGKILL');
      await worker?.exited;
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('an item whose workers keep dying gets a worker_lost line (retryable) instead of vanishing', async () => {
    const redis = await startRedis();
    // The mock never answers in time: each worker holds the item until it is killed.
    const mock = await startMockServer({ latencyMs: 60_000 });
    const args = [
      '--redis',
      redis.url,
      '--lock-duration',
      '1000',
      '--stalled-interval',
      '500',
      '--max-stalled',
      '1',
    ];
    const workers: Worker[] = [];
    try {
      const output = join(work, 'lost.out.jsonl');
      const run = runBatch({
        input: writeInput('lost.jsonl', 1),
        output,
        via: 'queue',
        executorOptions: { redis: redis.url },
      });
      // Two workers in turn take the item and die with it; the second death is one stall too many.
      for (let i = 1; i <= 2; i++) {
        const w = startWorker(args, `${mock.url}/v1`);
        workers.push(w);
        await until(`worker ${i} sending the item`, () => mock.requests === i);
        w.child.kill('SIGKILL');
        await w.exited;
      }
      // The next worker finds it stalled once more than allowed: its line says so.
      const last = startWorker(args, `${mock.url}/v1`);
      workers.push(last);
      const summary = await run;
      expect(summary.failed).toBe(1);
      const [line] = readOutput(output);
      expect(line?.custom_id).toBe('r0');
      expect(line?.response).toBeNull();
      expect(line?.error).toMatchObject({ code: 'worker_lost', type: 'WorkerLostError', retryable: true });
      expect(line?.error?.message).toMatch(/run the batch again/);
      expect(mock.requests).toBe(2);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('a second aiwire batch --via queue on the same output fails at once naming the lock, and leaves the first running', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const input = writeInput('twice.jsonl', 3);
    const output = join(work, 'twice.out.jsonl');
    const args = ['batch', input, '-o', output, '--via', 'queue', '--redis', redis.url];
    // No worker yet: the first collector waits for its lines.
    const first = startCli(args, `${mock.url}/v1`, 60_000);
    let worker: Worker | undefined;
    try {
      await until('the first collector to take the output', () => existsSync(`${output}.lock`));
      const second = startCli(args, `${mock.url}/v1`, 30_000);
      expect(await second.exited).toEqual({ code: 2, signal: null });
      expect(second.stderr).toContain(
        `${output} is being written by another aiwire batch (pid ${first.child.pid})`,
      );
      expect(second.stderr).toMatch(/wait for it to finish, or remove .*twice\.out\.jsonl\.lock/);
      // The first still owns the run: a worker comes, it finishes with every line once.
      worker = startWorker(['--redis', redis.url], `${mock.url}/v1`);
      expect(await first.exited).toEqual({ code: 0, signal: null });
      expectEveryIdOnce(readOutput(output), 3);
      expect(existsSync(`${output}.lock`)).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
      worker?.child.kill('SIGKILL');
      await Promise.all([first.exited, worker?.exited]);
      await mock.close();
      await redis.kill();
    }
  }, 90_000);

  it('refuses bad options with what to fix', async () => {
    expect(() => queueExecutor({ redis: 'http://127.0.0.1:6379' })).toThrow(AiwireError);
    expect(() => queueExecutor({ redis: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\/127.0.0.1:6379/);
    expect(() => queueExecutor({ redis: 'redis://127.0.0.1:1', queue: 'a:b' })).toThrow(/without ':'/);
    expect(() => queueExecutor({ redis: 'redis://127.0.0.1:1', runId: 'no spaces' })).toThrow(/runId/);
    const input = writeInput('bad.jsonl', 1);
    const output = join(work, 'bad.out.jsonl');
    await expect(runBatch({ input, output, via: 'queue' })).rejects.toThrow(BatchUsageError);
    await expect(runBatch({ input, output, via: 'queue' })).rejects.toThrow(/--redis URL/);
    const noRedis = startWorker([], 'http://127.0.0.1:1/v1', 20_000);
    expect((await noRedis.exited).code).toBe(2);
    expect(noRedis.stderr).toMatch(/--redis URL is required/);
    const badRedis = startWorker(['--redis', 'localhost:6379'], 'http://127.0.0.1:1/v1', 20_000);
    expect((await badRedis.exited).code).toBe(2);
    expect(badRedis.stderr).toMatch(/redis:\/\/host:port/);
    // `aiwire batch`: --redis belongs to --via queue; with the queue, the budget belongs to the workers.
    const stray = startCli(['batch', input, '-o', output, '--redis', 'redis://127.0.0.1:1'], '', 20_000);
    expect((await stray.exited).code).toBe(2);
    expect(stray.stderr).toMatch(/--redis goes with --via queue/);
    const rpm = startCli(
      ['batch', input, '-o', output, '--via', 'queue', '--redis', 'redis://127.0.0.1:1', '--rpm', '60'],
      '',
      20_000,
    );
    expect((await rpm.exited).code).toBe(2);
    expect(rpm.stderr).toMatch(/aiwire worker --rpm/);
    const noUrl = startCli(['batch', input, '-o', output, '--via', 'queue'], '', 20_000);
    expect((await noUrl.exited).code).toBe(2);
    expect(noUrl.stderr).toMatch(/--via queue needs --redis URL/);
  }, 60_000);
});
