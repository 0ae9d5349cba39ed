// What the `queue` executor's user gets when something other than the API goes wrong, against a real
// redis-server started here on 127.0.0.1 and the bundled mock (aiwire/testing) as the API, with the
// collector (`runBatch({ via: 'queue' })`) and a worker (`runWorker`) in this process:
// - a job a worker cannot read (not an aiwire item: another program's, another version's) gets a
//   `queue_error` line naming what was wrong and what to do, and the worker goes on; a job naming no
//   item is reported to `onError`; a line Redis refuses (WRONGTYPE inside MULTI) is an error, not lost;
// - one collector per run: a second collector of the same run is refused at once with BatchLockedError
//   naming the Redis key and its holder; the lock is released at the end; a dead local holder's lock is
//   taken over.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchLockedError, jobIdOf, QueueJobError, runBatch, runWorker } from '../src/batch/index.js';
import { startMockServer } from '../src/testing/index.js';
import { hashOf, readOutput, until } from './helpers/batch-queue.js';
import { startRedis } from './helpers/redis.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'aiwire-batch-queue-errors-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function item(i: number) {
  return {
    custom_id: `r${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `item ${i}` }] },
  };
}

function writeInput(name: string, n: number): string {
  const file = join(work, name);
  writeFileSync(file, `${Array.from({ length: n }, (_, i) => JSON.stringify(item(i))).join('\n')}\n`);
  return file;
}

/** A worker in this process, sending to the mock; stop it with the returned `stop`. */
function startWorker(redis: string, baseURL: string, errors: Error[]) {
  const ac = new AbortController();
  const done = runWorker({
    redis,
    concurrency: 4,
    clientOptions: { openai: { apiKey: 'sk-test', baseURL } },
    signal: ac.signal,
    onError: (e) => errors.push(e),
  });
  return {
    done,
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}

describe('batch via queue: what the user gets when the queue fails', () => {
  it('a job a worker cannot read gets a queue_error line saying what was wrong and what to do; a refused line is an error, not lost', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('aiwire-batch', { connection: conn, prefix: 'aiwire' });
    const errors: Error[] = [];
    let worker: ReturnType<typeof startWorker> | undefined;
    try {
      // Before the collector starts: r1's job, as an aiwire of another version would have put it (a
      // method this worker does not know), under the id the collector gives r1 (its input line's hash
      // included): its own adds nothing.
      const runId = 'qerr';
      const r1Hash = hashOf(JSON.stringify(item(1)));
      await queue.add(
        'item',
        { run: runId, item: { ...item(1), method: 'QUERY', line: 2 } },
        { jobId: jobIdOf(runId, 'r1', r1Hash), removeOnComplete: true, removeOnFail: true },
      );
      // A job that names no run or item at all (another program's on this queue).
      await queue.add('other', { hello: 'world' }, { removeOnComplete: true, removeOnFail: true });
      // A valid job of a run whose results key something else has overwritten with a string.
      await conn.set('aiwire:aiwire-batch:results:clobbered', 'not a stream');
      await queue.add('item', { run: 'clobbered', item: { ...item(9), line: 1 } }, { removeOnFail: true });

      const output = join(work, 'qerr.out.jsonl');
      const run = runBatch({
        input: writeInput('qerr.jsonl', 3),
        output,
        via: 'queue',
        executorOptions: { redis: redis.url, runId },
      });
      worker = startWorker(redis.url, `${mock.url}/v1`, errors);
      const summary = await run;
      expect(summary).toMatchObject({ total: 3, succeeded: 2, failed: 1, interrupted: false });
      const lines = new Map(readOutput(output).map((l) => [l.custom_id, l]));
      expect([...lines.keys()].sort()).toEqual(['r0', 'r1', 'r2']);
      expect(lines.get('r0')?.error).toBeNull();
      const bad = lines.get('r1');
      expect(bad?.response).toBeNull();
      expect(bad?.error).toMatchObject({
        code: 'queue_error',
        type: 'QueueJobError',
        status: null,
        retryable: false,
      });
      // What was wrong, and what to do about it.
      expect(bad?.error?.message).toMatch(/"method" is "QUERY", not GET, POST, PUT, PATCH or DELETE/);
      expect(bad?.error?.message).toMatch(/same aiwire version/);

      // The worker went on, and told its owner about the jobs it could give no line to.
      await until('the worker to report the two other jobs', () => errors.length >= 2);
      const noItem = errors.find((e) => /"run" is undefined/.test(e.message));
      expect(noItem).toBeInstanceOf(QueueJobError);
      expect(noItem?.message).toMatch(/is not an item of aiwire batch --via queue/);
      const refused = errors.find((e) => /Redis refused the line of r9/.test(e.message));
      expect(refused?.message).toMatch(/WRONGTYPE/);
      const workerSummary = await worker.stop();
      // r0, r2 and r9 were sent (r9's line was refused); r1 never was.
      expect(mock.requests).toBe(3);
      expect(workerSummary).toMatchObject({ succeeded: 2, failed: 1 });
    } finally {
      await worker?.stop().catch(() => {});
      await queue.close();
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('one collector per run: a second one is refused at once naming the Redis lock and its holder; the lock goes at the end; a dead holder of this host is taken over', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const errors: Error[] = [];
    let worker: ReturnType<typeof startWorker> | undefined;
    const key = 'aiwire:aiwire-batch:collector:shared_run';
    const ac = new AbortController();
    try {
      const input = writeInput('lock.jsonl', 2);
      // No worker yet: the first collector waits for its lines, holding the run's lock.
      const first = runBatch({
        input,
        output: join(work, 'lock-a.out.jsonl'),
        via: 'queue',
        executorOptions: { redis: redis.url, runId: 'shared_run' },
        signal: ac.signal,
        drainTimeoutMs: 0,
      });
      await until('the first collector to hold the lock', async () => (await conn.exists(key)) === 1);
      expect(JSON.parse((await conn.get(key)) ?? '{}')).toMatchObject({ host: hostname(), pid: process.pid });
      // Another output with the same run (as a collector on another machine would be): refused.
      const second = runBatch({
        input,
        output: join(work, 'lock-b.out.jsonl'),
        via: 'queue',
        executorOptions: { redis: redis.url, runId: 'shared_run' },
      });
      await expect(second).rejects.toThrow(BatchLockedError);
      await expect(second).rejects.toThrow(
        new RegExp(`already has a collector \\(pid ${process.pid} on .+; Redis key ${key}\\)`),
      );
      await expect(second).rejects.toThrow(/Wait for that aiwire batch to finish or stop it/);
      // The first, stopped, releases the lock.
      ac.abort();
      expect(await first).toMatchObject({ interrupted: true });
      expect(await conn.exists(key)).toBe(0);

      // A lock left by a process of this host that is gone is taken over; the run completes.
      await conn.set(
        key,
        JSON.stringify({ host: hostname(), pid: 2 ** 22 + 7, token: 'gone' }),
        'PX',
        30_000,
      );
      worker = startWorker(redis.url, `${mock.url}/v1`, errors);
      const third = await runBatch({
        input,
        output: join(work, 'lock-c.out.jsonl'),
        via: 'queue',
        executorOptions: { redis: redis.url, runId: 'shared_run' },
      });
      expect(third).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
      expect(await conn.exists(key)).toBe(0);
      // A live holder on another host is never taken over.
      await conn.set(key, JSON.stringify({ host: 'elsewhere', pid: 1, token: 't' }), 'PX', 30_000);
      await expect(
        runBatch({
          input,
          output: join(work, 'lock-d.out.jsonl'),
          via: 'queue',
          executorOptions: { redis: redis.url, runId: 'shared_run' },
        }),
      ).rejects.toThrow(/pid 1 on elsewhere/);
    } finally {
      ac.abort();
      await worker?.stop().catch(() => {});
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 60_000);
});
