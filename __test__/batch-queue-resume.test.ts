// The `queue` executor's rough edges around resuming and failures, against a real redis-server started
// here on 127.0.0.1 and the bundled mock (aiwire/testing) as the API, with the collector
// (`runBatch({ via: 'queue' })`) and a worker (`runWorker`) in this process:
// - an input line edited while the job of an earlier (stopped) run is still queued or running is
//   answered with its new request, once: the waiting job is removed, the running one's line dropped;
// - an `onItem` callback that throws does not make a second (queue_error) line: one line per item;
// - a job the collector no longer wants (its item's line already taken, or its line edited) is not sent;
// - a collector whose Redis dies (or never answers) fails after `redisDownTimeoutMs` with
//   QueueRedisDownError naming the URL, password hidden, and how to resume.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchOutputLine,
  jobIdOf,
  QueueRedisDownError,
  runBatch,
  runWorker,
} from '../src/batch/index.js';
import { startMockServer } from '../src/testing/index.js';
import { hashOf, readOutput, until } from './helpers/batch-queue.js';
import { freePort, startRedis } from './helpers/redis.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'aiwire-batch-queue-resume-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The input line of item `i`, asking the mock to echo `text`. */
function lineOf(i: number, text = `item ${i}`): string {
  return JSON.stringify({
    custom_id: `r${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] },
  });
}

/** The echoed text of a mock chat completion line. */
function echoOf(line: BatchOutputLine | undefined): unknown {
  const body = line?.response?.body as { choices?: { message?: { content?: string } }[] } | undefined;
  return body?.choices?.[0]?.message?.content;
}

describe('batch via queue: resuming and failing cleanly', () => {
  it('a line edited while its job from a stopped run is still queued or running is answered with its new request, once', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('aiwire-batch', { connection: conn, prefix: 'aiwire' });
    // Takes jobs by hand (BullMQ manual processing): stands for a worker of the first run that is busy
    // with one when the line is edited.
    const busyConn = new Redis(redis.url, { maxRetriesPerRequest: null });
    busyConn.on('error', () => {});
    const busy = new Worker('aiwire-batch', null, {
      connection: busyConn,
      prefix: 'aiwire',
      lockDuration: 300_000,
    });
    let worker: { stop: () => Promise<unknown> } | undefined;
    const runId = 'edited';
    try {
      const input = join(work, 'edit.jsonl');
      const output = join(work, 'edit.out.jsonl');
      const before = [0, 1, 2].map((i) => lineOf(i));
      writeFileSync(input, `${before.join('\n')}\n`);
      // First run, no worker: its three jobs wait in the queue; it is stopped.
      const ac = new AbortController();
      const first = runBatch({
        input,
        output,
        via: 'queue',
        executorOptions: { redis: redis.url, runId },
        signal: ac.signal,
        drainTimeoutMs: 0,
      });
      await until('the three jobs to be queued', async () => (await queue.getWaitingCount()) === 3);
      ac.abort();
      expect(await first).toMatchObject({ interrupted: true });
      expect(readOutput(output)).toEqual([]);
      // r0's job is taken by a worker (it goes on running), which publishes its line, made from the old
      // r0, while no collector runs.
      const r0 = await busy.getNextJob('busy-token');
      expect(r0?.data.item.custom_id).toBe('r0');
      expect(r0?.data.hash).toBe(hashOf(before[0] as string));
      await conn.xadd(
        `aiwire:aiwire-batch:results:${runId}`,
        '*',
        'line',
        JSON.stringify({
          id: 'batch_req_old',
          custom_id: 'r0',
          response: { status_code: 200, request_id: 'old', body: { old: true } },
          error: null,
          input_hash: r0?.data.hash,
        }),
      );

      // The user edits r0 (its job is running) and r1 (its job still waits), and runs again with a worker.
      const after = [lineOf(0, 'item 0 edited'), lineOf(1, 'item 1 edited'), lineOf(2)];
      writeFileSync(input, `${after.join('\n')}\n`);
      const rerun = runBatch({
        input,
        output,
        via: 'queue',
        executorOptions: { redis: redis.url, runId },
      });
      // Once the rerun has replaced the jobs of the edited lines, a worker comes.
      await until('the rerun to enqueue r1 again', async () => {
        return (await conn.hget(`aiwire:aiwire-batch:hashes:${runId}`, 'r1')) === hashOf(after[1] as string);
      });
      expect(await queue.getJob(jobIdOf(runId, 'r1', hashOf(before[1] as string)))).toBeUndefined();
      const ac2 = new AbortController();
      const running = runWorker({
        redis: redis.url,
        concurrency: 4,
        clientOptions: { openai: { apiKey: 'sk-test', baseURL: `${mock.url}/v1` } },
        signal: ac2.signal,
      });
      worker = {
        stop: async () => {
          ac2.abort();
          return running;
        },
      };
      const summary = await rerun;
      expect(summary).toMatchObject({ total: 3, succeeded: 3, failed: 0, interrupted: false });
      const lines = readOutput(output);
      expect(lines.map((l) => l.custom_id).sort()).toEqual(['r0', 'r1', 'r2']);
      const byId = new Map(lines.map((l) => [l.custom_id, l]));
      expect(echoOf(byId.get('r0'))).toBe('Echo: item 0 edited');
      expect(echoOf(byId.get('r1'))).toBe('Echo: item 1 edited');
      expect(echoOf(byId.get('r2'))).toBe('Echo: item 2');
      for (const [i, l] of after.entries()) expect(byId.get(`r${i}`)?.input_hash).toBe(hashOf(l));
      // r1's old job was removed before any worker sent it: the new r0, the new r1 and r2 only.
      expect(mock.requests).toBe(3);
      // The run is complete: its results stream and its record of job hashes are gone.
      expect(await conn.exists(`aiwire:aiwire-batch:results:${runId}`)).toBe(0);
      expect(await conn.exists(`aiwire:aiwire-batch:hashes:${runId}`)).toBe(0);
    } finally {
      await worker?.stop().catch(() => {});
      await busy.close(true).catch(() => {});
      busyConn.disconnect();
      await queue.close();
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 90_000);

  it('an onItem callback that throws goes to onError; the item keeps its one line (no queue_error line)', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('aiwire-batch', { connection: conn, prefix: 'aiwire' });
    const errors: Error[] = [];
    const ac = new AbortController();
    let running: ReturnType<typeof runWorker> | undefined;
    try {
      for (const i of [0, 1]) {
        const item = { ...(JSON.parse(lineOf(i)) as object), line: i + 1 };
        await queue.add('item', { run: 'cb', item }, { jobId: jobIdOf('cb', `r${i}`) });
      }
      running = runWorker({
        redis: redis.url,
        concurrency: 2,
        clientOptions: { openai: { apiKey: 'sk-test', baseURL: `${mock.url}/v1` } },
        signal: ac.signal,
        onItem: () => {
          throw new Error('the callback broke');
        },
        onError: (e) => errors.push(e),
      });
      await until('both callbacks to have thrown', () => errors.length >= 2);
      ac.abort();
      // Stopped: every line the worker was going to publish (queue_error ones included) is out.
      expect(await running).toMatchObject({ succeeded: 2, failed: 0 });
      expect(errors.map((e) => e.message)).toEqual(['the callback broke', 'the callback broke']);
      const entries = await conn.xrange('aiwire:aiwire-batch:results:cb', '-', '+');
      const published = entries.map(([, f]) => JSON.parse(f[1] as string) as BatchOutputLine);
      expect(published.map((l) => l.custom_id).sort()).toEqual(['r0', 'r1']);
      expect(published.every((l) => l.error === null)).toBe(true);
    } finally {
      ac.abort();
      await running?.catch(() => {});
      await queue.close();
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('a job the collector no longer wants (its line already taken, or its input line edited since) is done without sending it', async () => {
    const redis = await startRedis();
    const mock = await startMockServer();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('aiwire-batch', { connection: conn, prefix: 'aiwire' });
    const ac = new AbortController();
    let running: ReturnType<typeof runWorker> | undefined;
    try {
      const hashes = 'aiwire:aiwire-batch:hashes:gone';
      const add = async (i: number, line: string) => {
        const item = { ...(JSON.parse(line) as object), line: i + 1 };
        const hash = hashOf(line);
        await queue.add('item', { run: 'gone', item, hash }, { jobId: jobIdOf('gone', `r${i}`, hash) });
      };
      // r0: still wanted (the collector recorded its hash). r1: its line was taken already (no hash
      // left: a copy enqueued again after the first had finished). r2: made from a line edited since.
      await conn.hset(hashes, 'r0', hashOf(lineOf(0)), 'r2', hashOf(lineOf(2, 'edited')));
      for (const i of [0, 1, 2]) await add(i, lineOf(i));
      running = runWorker({
        redis: redis.url,
        concurrency: 2,
        clientOptions: { openai: { apiKey: 'sk-test', baseURL: `${mock.url}/v1` } },
        signal: ac.signal,
      });
      await until(
        'the three jobs to be done',
        async () => (await queue.getJobCounts('wait', 'active')).wait === 0,
      );
      await until('no job active', async () => (await queue.getJobCounts('active')).active === 0);
      ac.abort();
      expect(await running).toMatchObject({ succeeded: 1, failed: 0, skipped: 2 });
      expect(mock.requests).toBe(1);
      const entries = await conn.xrange('aiwire:aiwire-batch:results:gone', '-', '+');
      expect(entries.map(([, f]) => (JSON.parse(f[1] as string) as BatchOutputLine).custom_id)).toEqual([
        'r0',
      ]);
    } finally {
      ac.abort();
      await running?.catch(() => {});
      await queue.close();
      conn.disconnect();
      await mock.close();
      await redis.kill();
    }
  }, 60_000);

  it('a collector whose Redis is killed mid-collect fails after redisDownTimeoutMs, naming the Redis and how to resume', async () => {
    const redis = await startRedis();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      const input = join(work, 'down.jsonl');
      writeFileSync(input, `${[0, 1].map((i) => lineOf(i)).join('\n')}\n`);
      // No worker: the collector waits for lines.
      const run = runBatch({
        input,
        output: join(work, 'down.out.jsonl'),
        via: 'queue',
        executorOptions: { redis: redis.url, runId: 'down', redisDownTimeoutMs: 1500 },
      });
      run.catch(() => {});
      await until('the jobs to be queued', async () => (await conn.llen('aiwire:aiwire-batch:wait')) === 2);
      conn.disconnect();
      await redis.kill();
      const error = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(QueueRedisDownError);
      const e = error as QueueRedisDownError;
      expect(e.redis).toBe(redis.url);
      expect(e.downMs).toBeGreaterThanOrEqual(1500);
      expect(e.message).toContain(`the queue's Redis ${redis.url} has been unreachable for`);
      expect(e.message).toMatch(/ECONNREFUSED/);
      expect(e.message).toMatch(/run the same command again \(same output\) to resume/);
    } finally {
      conn.disconnect();
      await redis.kill();
    }
  }, 60_000);

  it('a collector whose Redis never answers fails the same way, the password hidden', async () => {
    const port = await freePort();
    const url = `redis://user:s3cret@127.0.0.1:${port}`;
    const error = await runBatch({
      input: (() => {
        const f = join(work, 'never.jsonl');
        writeFileSync(f, `${lineOf(0)}\n`);
        return f;
      })(),
      output: join(work, 'never.out.jsonl'),
      via: 'queue',
      executorOptions: { redis: url, runId: 'never', redisDownTimeoutMs: 1000 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QueueRedisDownError);
    const e = error as QueueRedisDownError;
    expect(e.redis).toBe(`redis://user:***@127.0.0.1:${port}`);
    expect(e.message).toContain(`redis://user:***@127.0.0.1:${port}`);
    expect(e.message).not.toContain('s3cret');
  }, 60_000);
});
