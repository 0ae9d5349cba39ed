// What the queue's command-line user sees, from `aiwire worker` and `aiwire batch --via queue` child
// processes (the CLI bundled from src with esbuild) against a real redis-server started here on
// 127.0.0.1: the worker says on stderr which job it skipped and why (a job that is not an aiwire item)
// and goes on; a batch whose Redis never answers exits 1 after --redis-down-timeout, naming the Redis
// (password hidden) and the command that resumes; --redis-down-timeout goes with --via queue only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers/batch-queue.js';
import { bundleCli, type CliChild, startCli as startBundledCli } from './helpers/bundled-cli.js';
import { freePort, startRedis } from './helpers/redis.js';

let work: string;
let cli: string;
let bundled: { path: string; remove: () => void } | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'aiwire-batch-queue-cli-'));
  bundled = await bundleCli('aiwire-batch-queue-cli');
  cli = bundled.path;
}, 60_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  bundled?.remove();
});

type Child = CliChild;

/** `aiwire <args…>` (the CLI bundled from src), SIGKILLed after 60 s. */
function startCli(args: string[]): Child {
  return startBundledCli(cli, args, {}, 60_000);
}

describe('aiwire worker / aiwire batch --via queue on the command line', () => {
  it('the worker says which job it skipped and why, and goes on', async () => {
    const redis = await startRedis();
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('aiwire-batch', { connection: conn, prefix: 'aiwire' });
    let worker: Child | undefined;
    try {
      worker = startCli(['worker', '--redis', redis.url, '--concurrency', '2']);
      const w = worker;
      await until('the worker to be ready', () => w.stderr.includes('worker taking items'));
      // Another program's jobs on the queue: one with no run, one whose item has no custom_id.
      await queue.add('other', { hello: 'world' }, { jobId: 'alien-1' });
      await queue.add('other', { run: 'r', item: { url: '/v1/x' } }, { jobId: 'alien-2' });
      await until(
        'the worker to report both jobs',
        () => (w.stderr.match(/skipped a job/g) ?? []).length >= 2,
      );
      expect(w.stderr).toMatch(
        /aiwire: skipped a job: job alien-1 is not an item of aiwire batch --via queue: its "run" is undefined, not a run id\. .*run the collector \(aiwire batch\) and the workers \(aiwire worker\) on the same aiwire version/,
      );
      expect(w.stderr).toMatch(
        /skipped a job: job alien-2 is not an item .*its item has no string "custom_id"/,
      );
      // It went on: still running, and stops cleanly on SIGTERM with nothing sent.
      expect(w.child.exitCode).toBeNull();
      w.child.kill('SIGTERM');
      expect(await w.exited).toEqual({ code: 0, signal: null });
      expect(JSON.parse(w.stdout)).toMatchObject({ succeeded: 0, failed: 0 });
    } finally {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await worker?.exited;
      await queue.close();
      conn.disconnect();
      await redis.kill();
    }
  }, 90_000);

  it('a batch whose Redis never answers exits 1 after --redis-down-timeout, naming it (password hidden) and how to resume', async () => {
    const port = await freePort();
    const input = join(work, 'in.jsonl');
    writeFileSync(
      input,
      `${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } })}\n`,
    );
    const output = join(work, 'out.jsonl');
    const url = `redis://user:s3cret@127.0.0.1:${port}`;
    const args = [
      'batch',
      input,
      '-o',
      output,
      '--via',
      'queue',
      '--redis',
      url,
      '--redis-down-timeout',
      '1000',
    ];
    const batch = startCli([...args, '--quiet']);
    expect(await batch.exited).toEqual({ code: 1, signal: null });
    expect(batch.stderr).toContain(
      `the queue's Redis redis://user:***@127.0.0.1:${port} has been unreachable for`,
    );
    expect(batch.stderr).toMatch(/run the same command again \(same output\) to resume/);
    // The command that resumes, its password hidden too.
    expect(batch.stderr).toContain(
      `aiwire batch ${input} -o ${output} --via queue --redis redis://user:***@127.0.0.1:${port}`,
    );
    expect(batch.stderr).not.toContain('s3cret');

    const misplaced = startCli(['batch', input, '-o', output, '--redis-down-timeout', '1000']);
    expect(await misplaced.exited).toEqual({ code: 2, signal: null });
    expect(misplaced.stderr).toMatch(/--redis-down-timeout goes with --via queue/);
  }, 90_000);
});
